// Package robustness throws bad input at the whole bridge (app.StartDemo: the production server in
// front of the in-process Salesforce emulator, over loopback HTTP) and holds it to the house rule:
// every bad input gets a clear SCIM error with a 4xx and loses nothing; never a 5xx (except 503 for
// an injected outage, 429 for the API limit), a panic, or raw Go or Salesforce error text; secrets
// and attribute values never reach logs or responses.
package robustness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app"
	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	salesforceURN = "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User"
	patchURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	bulkURN       = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	errorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimJSON      = "application/scim+json"
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

// syncBuffer is the log sink: zerolog writes from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// bridge is one running bridge + emulator with its captured log and the secrets and markers that
// must not leak.
type bridge struct {
	*app.Demo
	client *http.Client
	log    *syncBuffer

	mu      sync.Mutex
	secrets []string // never in a log or a response
	markers []string // submitted attribute values: never in a log or an error
}

type options struct {
	configYAML string
	emulator   func(*emulator.Config)
}

// start runs a bridge on a roomy org (many licences, a large API allowance) and, when the test and
// its subtests are done, checks the captured log for secrets and submitted values.
func start(t *testing.T, opts options) *bridge {
	t.Helper()
	logs := &syncBuffer{}
	logger := zerolog.New(logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	b := &bridge{log: logs, secrets: []string{}, markers: []string{}}
	token := "rb-bearer-" + randomHex(16)
	var emuSecret, emuRefresh string
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := app.StartDemo(ctx, app.DemoOptions{
		Token:      token,
		Logger:     &logger,
		ConfigYAML: opts.configYAML,
		Emulator: func(c *emulator.Config) {
			seed := emulator.DefaultSeed()
			for i := range seed.Licenses {
				seed.Licenses[i].TotalLicenses = 2000
			}
			c.Seed = seed
			c.APILimit = 1_000_000
			c.Profile = testProfile(t)
			if opts.emulator != nil {
				opts.emulator(c)
			}
			emuSecret, emuRefresh = c.ClientSecret, c.RefreshToken
		},
	})
	if err != nil {
		t.Fatalf("StartDemo: %v", err)
	}
	b.Demo = d
	b.client = &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	b.secrets = append(b.secrets, token, emuSecret, emuRefresh)
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Demo.Close: %v", err)
		}
		b.checkLog(t)
	})
	return b
}

// checkLog fails when the captured log holds a secret, a Salesforce access token or a submitted
// attribute value.
func (b *bridge) checkLog(t *testing.T) {
	t.Helper()
	logs := b.log.String()
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

// request is one raw HTTP request to the SCIM base.
type request struct {
	method      string
	path        string // under BaseURL, query included
	body        []byte // nil = no body
	contentType string // "" = application/scim+json when there is a body; "-" = none
	token       string // "" = the bridge's token; "-" = no Authorization header
}

// response is what came back.
type response struct {
	status int
	header http.Header
	raw    []byte
	doc    map[string]any // nil when the body is empty or not a JSON object
}

func (r response) String() string {
	raw := string(r.raw)
	if len(raw) > 800 {
		raw = raw[:800] + "…"
	}
	return fmt.Sprintf("%d %s", r.status, raw)
}

func (b *bridge) send(t testing.TB, req request) response {
	t.Helper()
	var rd io.Reader
	if req.body != nil {
		rd = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequest(req.method, b.BaseURL+req.path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	switch req.token {
	case "":
		hr.Header.Set("Authorization", "Bearer "+b.Token)
	case "-":
	default:
		hr.Header.Set("Authorization", "Bearer "+req.token)
	}
	hr.Header.Set("Accept", scimJSON)
	switch {
	case req.contentType == "-":
	case req.contentType != "":
		hr.Header.Set("Content-Type", req.contentType)
	case req.body != nil:
		hr.Header.Set("Content-Type", scimJSON)
	}
	resp, err := b.client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, shorten(req.path), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.method, shorten(req.path), err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		_ = json.Unmarshal(raw, &out.doc)
	}
	return out
}

// do sends a JSON-marshalled (or, for []byte and string, verbatim) body.
func (b *bridge) do(t testing.TB, method, path string, body any) response {
	t.Helper()
	req := request{method: method, path: path}
	switch v := body.(type) {
	case nil:
	case []byte:
		req.body = v
	case string:
		req.body = []byte(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		req.body = raw
	}
	return b.send(t, req)
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
func (b *bridge) check(t testing.TB, what string, resp response, want expect) {
	t.Helper()
	if !want.accepts(resp.status) {
		t.Errorf("%s = %s; want status %v", what, resp, statusList(want))
	}
	if resp.status >= 500 && resp.status != http.StatusServiceUnavailable && resp.status != http.StatusNotImplemented {
		t.Errorf("%s answered %d: a server error for client input", what, resp.status)
	}
	b.checkNoSecrets(t, what, resp.raw)
	if resp.status == http.StatusNoContent || (len(resp.raw) == 0 && resp.status < 300) {
		return
	}
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, scimJSON) {
		t.Errorf("%s = %d with Content-Type %q; want %s", what, resp.status, ct, scimJSON)
	}
	if resp.status < 400 {
		if resp.doc == nil {
			t.Errorf("%s = %s: the body is not a JSON object", what, resp)
		}
		return
	}
	b.checkErrorBody(t, what, resp.status, resp.header, resp.raw, want)
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
	if len(schemas) != 1 || schemas[0] != errorURN {
		t.Errorf("%s = %d: schemas = %v; want [%s]", what, status, doc["schemas"], errorURN)
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

func shorten(s string) string {
	if len(s) > 120 {
		return s[:120] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
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
		"schemas":     []any{userURN, enterpriseURN},
		"userName":    m + "@example.com",
		"externalId":  m + "ext",
		"name":        map[string]any{"givenName": m + "gn", "familyName": m + "fn"},
		"emails":      []any{map[string]any{"value": m + "@example.com", "type": "work", "primary": true}},
		"displayName": m + "dn",
		"title":       m + "title",
		"active":      true,
		enterpriseURN: map[string]any{"department": m + "dep"},
	}
}

// createUser makes a user through SCIM and returns its id.
func (b *bridge) createUser(t testing.TB, m string) string {
	t.Helper()
	resp := b.do(t, http.MethodPost, "/Users", validUser(m))
	if resp.status != http.StatusCreated {
		t.Fatalf("POST /Users (fixture) = %s; want 201", resp)
	}
	id, _ := resp.doc["id"].(string)
	if id == "" {
		t.Fatalf("POST /Users (fixture) = %s: no id", resp)
	}
	return id
}

// usersWith returns the ids of Salesforce Users any of whose text fields contains s.
func (b *bridge) usersWith(s string) []string {
	var ids []string
	for _, row := range b.Emulator.List("User") {
		for _, v := range row {
			if str, ok := v.(string); ok && strings.Contains(strings.ToLower(str), strings.ToLower(s)) {
				ids = append(ids, fmt.Sprint(row["Id"]))
				break
			}
		}
	}
	return ids
}

// userState is everything Salesforce holds about one user: the User row, its UserLogin and its
// permission-set assignments.
func (b *bridge) userState(id string) map[string]any {
	state := map[string]any{"User": b.Emulator.Get("User", id)}
	for _, row := range b.Emulator.List("UserLogin") {
		if sameID(fmt.Sprint(row["UserId"]), id) {
			state["UserLogin"] = row
		}
	}
	var assigned []string
	for _, row := range b.Emulator.List("PermissionSetAssignment") {
		if sameID(fmt.Sprint(row["AssigneeId"]), id) {
			assigned = append(assigned, fmt.Sprint(row["PermissionSetId"]))
		}
	}
	slices.Sort(assigned)
	state["assignments"] = assigned
	return state
}

// groupState is a permission set's row and its assignee ids.
func (b *bridge) groupState(id string) map[string]any {
	state := map[string]any{"PermissionSet": b.Emulator.Get("PermissionSet", id)}
	var assignees []string
	for _, row := range b.Emulator.List("PermissionSetAssignment") {
		if sameID(fmt.Sprint(row["PermissionSetId"]), id) {
			assignees = append(assignees, fmt.Sprint(row["AssigneeId"]))
		}
	}
	slices.Sort(assignees)
	state["assignees"] = assignees
	return state
}

// sameID compares Salesforce ids by their case-sensitive 15-character form.
func sameID(a, b string) bool {
	return len(a) >= 15 && len(b) >= 15 && a[:15] == b[:15]
}

// groupID returns the SCIM id of the seeded permission set with that label.
func (b *bridge) groupID(t testing.TB, label string) string {
	t.Helper()
	for _, row := range b.Emulator.List("PermissionSet") {
		if row["Label"] == label {
			return fmt.Sprint(row["Id"])
		}
	}
	t.Fatalf("the emulator has no permission set %q", label)
	return ""
}

// assertUnchanged fails when a rejected request changed Salesforce's state.
func assertUnchanged(t testing.TB, what string, before, after map[string]any) {
	t.Helper()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("%s was rejected but changed Salesforce (-before +after):\n%s", what, diff)
	}
}

// testProfile is the emulator profile SCIM_BRIDGE_TEST_EMULATOR_PROFILE names (.ci/run runs the
// suite under both).
func testProfile(t testing.TB) emulator.Profile {
	t.Helper()
	p, err := emulator.ProfileFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
