// Package robustness throws bad input at the whole bridge (app.StartDemo: the production server in
// front of the in-process Salesforce emulator, over loopback HTTP) and holds it to the house rule:
// every bad input gets a clear SCIM error with a 4xx and loses nothing; never a 5xx (except 503 for
// an injected outage, 429 for the API limit), a panic, or raw Go or Salesforce error text; secrets
// and attribute values never reach logs or responses.
package robustness

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/test/harness"
)

// leakedText is what must never appear in an error detail: raw Go error text and Salesforce error
// codes or messages (the emulator speaks Salesforce's).
var leakedText = []string{
	"json:", "strconv.", "runtime error", "invalid character", "unexpected EOF", "panic", "goroutine",
	"cannot unmarshal", "dial tcp", "connection refused", "connection reset", "context deadline",
	"127.0.0.1", "/services/", "<html", "<br>",
	"STRING_TOO_LONG", "FIELD_INTEGRITY_EXCEPTION", "INVALID_", "MALFORMED_", "REQUIRED_FIELD_MISSING",
	"DUPLICATE_", "UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION",
	"JSON_PARSER_ERROR", "LICENSE_LIMIT_EXCEEDED", "NOT_FOUND", "INSUFFICIENT_ACCESS", "PRECONDITION_FAILED",
	"TotalRequests Limit exceeded", "unable to obtain exclusive access", "An unexpected error occurred",
	"ErrorId", "data value too large", "No such column", "sObject type", "Didn't understand",
	"invalid cross reference id", "The requested resource does not exist",
}

// scimTypes are RFC 7644 §3.12's scimType values.
var scimTypes = []string{
	"invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax", "invalidPath", "noTarget",
	"invalidValue", "invalidVers", "sensitive",
}

// salesforceAccessToken matches the emulator's (and Salesforce's) access tokens: "<org id>!<secret>".
var salesforceAccessToken = regexp.MustCompile(`00D[0-9A-Za-z]{12}![0-9A-Za-z._]{20,}`)

// bridge is one running bridge + emulator (test/harness) with the secrets and markers that must
// not leak.
type bridge struct {
	*harness.Bridge

	mu      sync.Mutex
	secrets []string // never in a log or a response
	markers []string // submitted attribute values: never in a log or an error
}

type options struct {
	configYAML string
	emulator   func(*emulator.Config)
}

// start runs a bridge on a roomy org (many licences, a large API allowance) and, when the test and
// its subtests are done and the bridge has stopped, checks the captured log for secrets and
// submitted values.
func start(t *testing.T, opts options) *bridge {
	t.Helper()
	var b *bridge
	// Registered before harness.Start's own cleanup, so it runs after the bridge has stopped.
	t.Cleanup(func() {
		if b != nil {
			b.checkLog(t)
		}
	})
	hb := harness.Start(t, harness.Options{
		Token:    "rb-bearer-" + randomHex(16),
		Config:   opts.configYAML,
		Seats:    2000,
		APILimit: 1_000_000,
		Emulator: opts.emulator,
		Logs:     true,
		LogLevel: zerolog.DebugLevel,
	})
	b = &bridge{Bridge: hb, secrets: slices.Clone(hb.Secrets), markers: []string{}}
	return b
}

// checkLog fails when the captured log holds a secret, a Salesforce access token or a submitted
// attribute value.
func (b *bridge) checkLog(t *testing.T) {
	t.Helper()
	logs := b.Logs.String()
	if logs == "" {
		t.Errorf("the bridge logged nothing; the log checks would be vacuous")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log contains a secret (%.6s…)", s)
		}
	}
	if m := salesforceAccessToken.FindString(logs); m != "" {
		t.Errorf("the log contains a Salesforce access token (%.18s…)", m)
	}
	leaked := 0
	for _, m := range b.markers {
		if strings.Contains(logs, m) {
			if leaked < 10 {
				t.Errorf("the log contains the submitted value %q: %s", m, lineWith(logs, m))
			}
			leaked++
		}
	}
	if leaked > 10 {
		t.Errorf("… and %d more submitted values in the log", leaked-10)
	}
}

func lineWith(logs, s string) string {
	for line := range strings.Lines(logs) {
		if strings.Contains(line, s) {
			if len(line) > 600 {
				line = line[:600] + "…"
			}
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// marker returns a fresh alphanumeric value (no '_' or '%', so SOQL LIKE tests stay meaningful) and
// remembers it as one that must not leak.
func (b *bridge) marker(prefix string) string {
	m := "mk" + prefix + randomHex(6)
	b.mu.Lock()
	b.markers = append(b.markers, m)
	b.mu.Unlock()
	return m
}

// secret remembers a value that must reach neither a log nor a response.
func (b *bridge) secret(s string) {
	b.mu.Lock()
	b.secrets = append(b.secrets, s)
	b.mu.Unlock()
}

func randomHex(n int) string {
	p := make([]byte, n)
	_, _ = rand.Read(p)
	return hex.EncodeToString(p)
}

// send sends one raw request and fails the test when no answer comes.
func (b *bridge) send(t testing.TB, req harness.Request) harness.Response {
	t.Helper()
	resp, err := b.SCIM.Send(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, harness.Shorten(req.Path), err)
	}
	return resp
}

// do sends a JSON-marshalled (or, for []byte and string, verbatim) body.
func (b *bridge) do(t testing.TB, method, path string, body any) harness.Response {
	t.Helper()
	return b.SCIM.Do(t, method, path, body)
}

// expect describes an acceptable answer.
type expect struct {
	status   []int    // acceptable statuses; nil = any 4xx
	scimType []string // acceptable scimType values of a 400 (nil = any RFC 7644 value)
}

func (e expect) accepts(status int) bool {
	if e.status == nil {
		return status >= 400 && status < 500
	}
	return slices.Contains(e.status, status)
}

// check applies the house rule to one answer: an acceptable status, SCIM content type, and for an
// error a proper RFC 7644 body without raw Go or Salesforce text, secrets or submitted values.
func (b *bridge) check(t testing.TB, what string, resp harness.Response, want expect) {
	t.Helper()
	if !want.accepts(resp.Status) {
		t.Errorf("%s = %s; want status %v", what, resp, statusList(want))
	}
	if resp.Status >= 500 && resp.Status != http.StatusServiceUnavailable && resp.Status != http.StatusNotImplemented {
		t.Errorf("%s answered %d: a server error for client input", what, resp.Status)
	}
	b.checkNoSecrets(t, what, resp.Raw)
	if resp.Status == http.StatusNoContent || (len(resp.Raw) == 0 && resp.Status < 300) {
		return
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, harness.SCIMJSON) {
		t.Errorf("%s = %d with Content-Type %q; want %s", what, resp.Status, ct, harness.SCIMJSON)
	}
	if resp.Status < 400 {
		if resp.Doc == nil {
			t.Errorf("%s = %s: the body is not a JSON object", what, resp)
		}
		return
	}
	b.checkErrorBody(t, what, resp.Status, resp.Header, resp.Raw, want)
}

// checkErrorBody checks one RFC 7644 §3.12 error body (also those embedded in Bulk answers).
func (b *bridge) checkErrorBody(t testing.TB, what string, status int, header http.Header, raw []byte, want expect) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Errorf("%s = %d with a body that is not a JSON object: %.300q", what, status, raw)
		return
	}
	schemas, _ := doc["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != harness.ErrorURN {
		t.Errorf("%s = %d: schemas = %v; want [%s]", what, status, doc["schemas"], harness.ErrorURN)
	}
	if s, ok := doc["status"].(string); !ok || s != strconv.Itoa(status) {
		t.Errorf("%s = %d: body status = %#v; want the string %q", what, status, doc["status"], strconv.Itoa(status))
	}
	detail, _ := doc["detail"].(string)
	if strings.TrimSpace(detail) == "" {
		t.Errorf("%s = %d: the error has no detail", what, status)
	}
	for _, bad := range leakedText {
		if strings.Contains(detail, bad) {
			t.Errorf("%s = %d: detail %q contains raw error text %q", what, status, detail, bad)
		}
	}
	scimType, _ := doc["scimType"].(string)
	switch {
	case status == http.StatusBadRequest && want.scimType != nil && !slices.Contains(want.scimType, scimType):
		t.Errorf("%s = 400 scimType %q (%s); want one of %v", what, scimType, detail, want.scimType)
	case status == http.StatusBadRequest && !slices.Contains(scimTypes, scimType):
		t.Errorf("%s = 400 scimType %q (%s); want an RFC 7644 scimType", what, scimType, detail)
	case status == http.StatusConflict && want.scimType != nil && !slices.Contains(want.scimType, scimType):
		t.Errorf("%s = 409 scimType %q; want one of %v", what, scimType, want.scimType)
	case status == http.StatusConflict && want.scimType == nil && scimType != "uniqueness":
		t.Errorf("%s = 409 scimType %q; want uniqueness", what, scimType)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if header == nil {
			return
		}
		if n, err := strconv.Atoi(header.Get("Retry-After")); err != nil || n <= 0 {
			t.Errorf("%s = %d with Retry-After %q; want a positive number of seconds", what, status, header.Get("Retry-After"))
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.markers {
		if strings.Contains(string(raw), m) {
			t.Errorf("%s = %d: the error echoes the submitted value %q: %s", what, status, m, raw)
		}
	}
}

func (b *bridge) checkNoSecrets(t testing.TB, what string, raw []byte) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.secrets {
		if s != "" && bytes.Contains(raw, []byte(s)) {
			t.Errorf("%s: the answer contains a secret (%.6s…)", what, s)
		}
	}
	if salesforceAccessToken.Match(raw) {
		t.Errorf("%s: the answer contains a Salesforce access token", what)
	}
}

func statusList(e expect) string {
	if e.status == nil {
		return "4xx"
	}
	return fmt.Sprint(e.status)
}

var (
	bad400 = expect{status: []int{http.StatusBadRequest}}
	// soft data is normalised, defaulted, truncated or left unresolved, never refused.
	softCreated = expect{status: []int{http.StatusCreated}}
	softOK      = expect{status: []int{http.StatusOK, http.StatusNoContent}}
	filter400   = expect{status: []int{http.StatusBadRequest}, scimType: []string{"invalidFilter"}}
	badOr404    = expect{status: []int{http.StatusBadRequest, http.StatusNotFound}}
)

// validUser is a complete, valid POST /Users body whose every string carries marker m.
func validUser(m string) map[string]any {
	return map[string]any{
		"schemas":             []any{harness.UserURN, harness.EnterpriseURN},
		"userName":            m + "@example.com",
		"externalId":          m + "ext",
		"name":                map[string]any{"givenName": m + "gn", "familyName": m + "fn"},
		"emails":              []any{map[string]any{"value": m + "@example.com", "type": "work", "primary": true}},
		"displayName":         m + "dn",
		"title":               m + "title",
		"active":              true,
		harness.EnterpriseURN: map[string]any{"department": m + "dep"},
	}
}

// createUser makes a user through SCIM and returns its id.
func (b *bridge) createUser(t testing.TB, m string) string {
	t.Helper()
	resp := b.do(t, http.MethodPost, "/Users", validUser(m))
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /Users (fixture) = %s; want 201", resp)
	}
	id, _ := resp.Doc["id"].(string)
	if id == "" {
		t.Fatalf("POST /Users (fixture) = %s: no id", resp)
	}
	return id
}

// groupID returns the SCIM id of the seeded permission set with that label.
func (b *bridge) groupID(t testing.TB, label string) string {
	t.Helper()
	return b.Org.PermissionSet(t, label)
}

// assertUnchanged fails when a rejected request changed Salesforce's state.
func assertUnchanged(t testing.TB, what string, before, after map[string]any) {
	t.Helper()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("%s was rejected but changed Salesforce (-before +after):\n%s", what, diff)
	}
}
