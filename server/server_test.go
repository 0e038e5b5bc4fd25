package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

func TestMain(m *testing.M) {
	// Entra sends booleans as strings ("False"); the lead enables this once at process start.
	schema.SetAllowStringValues(true)
	os.Exit(m.Run())
}

const (
	entraToken = "entra-secret-token"
	oktaToken  = "okta-secret-token"
)

// syncBuffer collects log output written from server goroutines.
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

// lines returns the JSON log lines.
func (b *syncBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

type testEnv struct {
	srv     *httptest.Server
	backend *fakeBackend
	logs    *syncBuffer
	reg     *prometheus.Registry
}

func newEnv(t testing.TB, configure func(*Config)) *testEnv {
	t.Helper()
	env := &testEnv{backend: newFakeBackend(), logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
	cfg := Config{
		Users:      env.backend,
		Groups:     env.backend,
		Tokens:     []Token{{Name: "entra", Token: entraToken}, {Name: "okta", Token: oktaToken}},
		Logger:     zerolog.New(env.logs).Level(zerolog.DebugLevel),
		Registerer: env.reg,
		Gatherer:   env.reg,
	}
	if configure != nil {
		configure(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	env.srv = httptest.NewServer(h)
	t.Cleanup(env.srv.Close)
	return env
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// do sends a request with the entra token unless headers set Authorization ("" removes it).
func (e *testEnv) do(t testing.TB, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+entraToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, req)
}

func send(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantSCIMError checks an RFC 7644 error response.
func wantSCIMError(t testing.TB, r response, status int, scimType string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d; want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("Content-Type = %q; want application/scim+json", ct)
	}
	body := r.json(t)
	if diff := cmp.Diff([]any{"urn:ietf:params:scim:api:messages:2.0:Error"}, body["schemas"]); diff != "" {
		t.Errorf("schemas (-want +got):\n%s", diff)
	}
	if body["status"] != strconv.Itoa(status) {
		t.Errorf("body status = %v; want %q", body["status"], strconv.Itoa(status))
	}
	got, _ := body["scimType"].(string)
	if got != scimType {
		t.Errorf("scimType = %q; want %q", got, scimType)
	}
	return body
}

const userBody = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com",
	"name":{"givenName":"Alice","familyName":"Smith"},"emails":[{"value":"alice@example.com","type":"work","primary":true}],
	"active":true}`

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	var readyErr error
	var mu sync.Mutex
	env := newEnv(t, func(c *Config) {
		c.Ready = func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return readyErr
		}
	})
	setReady := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		readyErr = err
	}

	noAuth := []string{"Authorization", ""}
	if r := env.do(t, "GET", "/healthz", "", noAuth...); r.status != 200 || r.json(t)["status"] != "ok" {
		t.Errorf("GET /healthz = %d %s; want 200 ok", r.status, r.body)
	}
	if r := env.do(t, "GET", "/readyz", "", noAuth...); r.status != 200 || r.json(t)["status"] != "ready" {
		t.Errorf("GET /readyz = %d %s; want 200 ready", r.status, r.body)
	}

	setReady(errors.New("dial tcp 10.0.0.1:443: secret-host refused"))
	r := env.do(t, "GET", "/readyz", "", noAuth...)
	if diff := cmp.Diff(map[string]any{"status": "not ready", "reason": "internal error"}, r.json(t)); r.status != 503 || diff != "" {
		t.Errorf("GET /readyz with a raw error = %d, body (-want +got):\n%s", r.status, diff)
	}
	setReady(&scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "Salesforce is unreachable", Err: errors.New("secret")})
	r = env.do(t, "GET", "/readyz", "", noAuth...)
	if diff := cmp.Diff(map[string]any{"status": "not ready", "reason": "Salesforce is unreachable"}, r.json(t)); r.status != 503 || diff != "" {
		t.Errorf("GET /readyz with a seam error = %d, body (-want +got):\n%s", r.status, diff)
	}

	env.do(t, "GET", "/scim/v2/Users?filter=userName%20eq%20%22x%22", "")
	env.do(t, "GET", "/scim/v2/Users/does-not-exist", "")
	env.do(t, "GET", "/scim/v2/some/raw/path", "")
	r = env.do(t, "GET", "/metrics", "", noAuth...)
	if r.status != 200 {
		t.Fatalf("GET /metrics = %d; want 200", r.status)
	}
	for _, want := range []string{
		`scim_bridge_scim_requests_total{method="GET",resource="Users",status="200"} 1`,
		`scim_bridge_scim_requests_total{method="GET",resource="Users",status="404"} 1`,
		`scim_bridge_scim_requests_total{method="GET",resource="other",status="404"} 1`,
		`scim_bridge_scim_request_duration_seconds_count{method="GET",resource="Users"} 2`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(r.body), "raw/path") {
		t.Errorf("/metrics has a raw path label")
	}
}

func TestMetricsWithoutGathererIs404(t *testing.T) {
	t.Parallel()
	env := newEnv(t, func(c *Config) { c.Gatherer, c.Registerer = nil, nil })
	if r := env.do(t, "GET", "/metrics", ""); r.status != http.StatusNotFound {
		t.Errorf("GET /metrics = %d; want 404", r.status)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Tokens: []Token{{Name: "", Token: ""}}, PublicURL: "scim.example.com"})
	if err == nil {
		t.Fatal("New(bad config) = nil error")
	}
	for _, want := range []string{"Users:", "Groups:", "Tokens[0].Name", "Tokens[0].Token", "PublicURL:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New() error %q does not name %q", err, want)
		}
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	tests := []struct {
		name       string
		auth       string
		wantStatus int
		wantActor  string
	}{
		{"missing header", "", 401, ""},
		{"wrong token", "Bearer not-the-token", 401, ""},
		{"prefix of a token", "Bearer " + entraToken[:5], 401, ""},
		{"basic scheme", "Basic " + entraToken, 401, ""},
		{"first token", "Bearer " + entraToken, 200, "entra"},
		{"second token, lower-case scheme", "bearer " + oktaToken, 200, "okta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(t, "GET", "/scim/v2/Users", "", "Authorization", tt.auth)
			if tt.wantStatus == 401 {
				wantSCIMError(t, r, 401, "")
				if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="scim-bridge"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				return
			}
			if r.status != tt.wantStatus {
				t.Fatalf("GET /Users = %d; want %d", r.status, tt.wantStatus)
			}
			if got := env.backend.recorded().actor; got != tt.wantActor {
				t.Errorf("actor in context = %q; want %q", got, tt.wantActor)
			}
		})
	}
	if strings.Contains(env.logs.String(), entraToken) || strings.Contains(env.logs.String(), oktaToken) {
		t.Errorf("a token appears in the logs")
	}
}

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind         scimschema.Kind
		wantStatus   int
		wantScimType string
	}{
		{scimschema.KindInvalidValue, 400, "invalidValue"},
		{scimschema.KindInvalidSyntax, 400, "invalidSyntax"},
		{scimschema.KindInvalidFilter, 400, "invalidFilter"},
		{scimschema.KindInvalidPath, 400, "invalidPath"},
		{scimschema.KindNoTarget, 400, "noTarget"},
		{scimschema.KindMutability, 400, "mutability"},
		{scimschema.KindTooMany, 400, "tooMany"},
		{scimschema.KindUniqueness, 409, "uniqueness"},
		{scimschema.KindConflict, 409, ""},
		{scimschema.KindNotFound, 404, ""},
		{scimschema.KindForbidden, 403, ""},
		{scimschema.KindPrecondition, 412, ""},
		{scimschema.KindNotImplemented, 501, ""},
	}
	for _, tt := range tests {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/scim/v2/Users/u1", ""},
			{"POST", "/scim/v2/Users", userBody},
			{"DELETE", "/scim/v2/Users/u1", ""},
		} {
			t.Run(strconv.Itoa(tt.wantStatus)+" "+tt.wantScimType+" "+req.method, func(t *testing.T) {
				t.Parallel()
				env := newEnv(t, nil)
				env.backend.putUser(map[string]any{"userName": "bob@example.com"})
				env.backend.setFail(func(string) error {
					return &scimschema.Error{Kind: tt.kind, Detail: "the detail", Err: errors.New("raw cause text")}
				})
				r := env.do(t, req.method, req.path, req.body)
				body := wantSCIMError(t, r, tt.wantStatus, tt.wantScimType)
				if body["detail"] != "the detail" {
					t.Errorf("detail = %v; want %q", body["detail"], "the detail")
				}
				if strings.Contains(string(r.body), "raw cause") {
					t.Errorf("the body shows the cause: %s", r.body)
				}
			})
		}
	}
}

func TestInternalErrorHidesCauseAndLogsIt(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	env.backend.setFail(func(string) error { return errors.New("INVALID_FIELD: secret raw text") })
	r := env.do(t, "GET", "/scim/v2/Users?filter=userName%20eq%20%22x%22", "", "X-Request-Id", "req-internal-1")
	body := wantSCIMError(t, r, 500, "")
	if body["detail"] != "internal error" {
		t.Errorf("detail = %v; want \"internal error\"", body["detail"])
	}
	if strings.Contains(string(r.body), "secret") {
		t.Errorf("the body shows the cause: %s", r.body)
	}
	found := false
	for _, line := range env.logs.lines(t) {
		if line["level"] == "error" && line["request_id"] == "req-internal-1" && strings.Contains(line["cause"].(string), "secret raw text") {
			found = true
		}
	}
	if !found {
		t.Errorf("no error log line with the cause and request id:\n%s", env.logs.String())
	}
}

func TestLimitedAndUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		err            *scimschema.Error
		wantStatus     int
		wantRetryAfter string
	}{
		{"limited, default back-off", &scimschema.Error{Kind: scimschema.KindLimited, Detail: "the Salesforce API limit is used up"}, 429, "30"},
		{"limited, given back-off", &scimschema.Error{Kind: scimschema.KindLimited, Detail: "limit", RetryAfter: 90 * time.Second}, 429, "90"},
		{"limited, sub-second back-off rounds up", &scimschema.Error{Kind: scimschema.KindLimited, Detail: "limit", RetryAfter: 1500 * time.Millisecond}, 429, "2"},
		{"unavailable, default back-off", &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "Salesforce is unavailable"}, 503, "10"},
		{"unavailable, given back-off", &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "down", RetryAfter: 5 * time.Second}, 503, "5"},
	}
	for _, tt := range tests {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/scim/v2/Users?filter=userName%20eq%20%22x%22", ""},
			{"GET", "/scim/v2/Groups/g1", ""},
			{"POST", "/scim/v2/Users", userBody},
			{"PATCH", "/scim/v2/Users/u1", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`},
		} {
			t.Run(tt.name+" "+req.method, func(t *testing.T) {
				t.Parallel()
				env := newEnv(t, nil)
				env.backend.putUser(map[string]any{"userName": "bob@example.com"})
				e := *tt.err
				e.Err = errors.New("REQUEST_LIMIT_EXCEEDED raw salesforce text")
				env.backend.setFail(func(string) error { return &e })
				r := env.do(t, req.method, req.path, req.body)
				body := wantSCIMError(t, r, tt.wantStatus, "")
				if got := r.header.Get("Retry-After"); got != tt.wantRetryAfter {
					t.Errorf("Retry-After = %q; want %q", got, tt.wantRetryAfter)
				}
				if body["detail"] != tt.err.Detail {
					t.Errorf("detail = %v; want %q", body["detail"], tt.err.Detail)
				}
				if strings.Contains(string(r.body), "raw") {
					t.Errorf("the body shows raw text: %s", r.body)
				}
			})
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	env := newEnv(t, func(c *Config) { c.MaxBodyBytes = 512 })
	big := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","title":"` + strings.Repeat("x", 1024) + `"}`

	t.Run("declared length", func(t *testing.T) {
		r := env.do(t, "POST", "/scim/v2/Users", big)
		wantSCIMError(t, r, 413, "")
	})
	t.Run("chunked body, detected while reading", func(t *testing.T) {
		req, err := http.NewRequest("POST", env.srv.URL+"/scim/v2/Groups", io.MultiReader(strings.NewReader(big)))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+entraToken)
		wantSCIMError(t, send(t, req), 413, "")
	})
	t.Run("bulk", func(t *testing.T) {
		req, err := http.NewRequest("POST", env.srv.URL+"/scim/v2/Bulk", io.MultiReader(strings.NewReader(big)))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+entraToken)
		wantSCIMError(t, send(t, req), 413, "")
	})
	if r := env.do(t, "POST", "/scim/v2/Users", userBody); r.status != 201 {
		t.Errorf("POST /Users with a small body = %d; want 201", r.status)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	tests := []struct {
		method, path, wantAllow string
	}{
		{"POST", "/scim/v2/ServiceProviderConfig", "GET"},
		{"PUT", "/scim/v2/ServiceProviderConfig", "GET"},
		{"POST", "/scim/v2/Schemas", "GET"},
		{"DELETE", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "GET"},
		{"POST", "/scim/v2/ResourceTypes", "GET"},
		{"PATCH", "/scim/v2/ResourceTypes/User", "GET"},
		{"PUT", "/scim/v2/Users", "GET, POST"},
		{"DELETE", "/scim/v2/Groups", "GET, POST"},
		{"POST", "/scim/v2/Users/u1", "GET, PUT, PATCH, DELETE"},
		{"GET", "/scim/v2/Users/.search", "POST"},
		{"GET", "/scim/v2/Bulk", "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := env.do(t, tt.method, tt.path, "")
			wantSCIMError(t, r, 405, "")
			if got := r.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q; want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestMeIsNotImplemented(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	for _, method := range []string{"GET", "POST", "PATCH"} {
		wantSCIMError(t, env.do(t, method, "/scim/v2/Me", ""), 501, "")
	}
}

func TestUnknownEndpointIs404(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	wantSCIMError(t, env.do(t, "GET", "/scim/v2/Widgets", ""), 404, "")
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	env := newEnv(t, func(c *Config) {
		c.PublicURL = "https://scim.example.com/base/"
		c.MaxBodyBytes = 4096
		c.MaxResults = 50
	})
	r := env.do(t, "GET", "/scim/v2/ServiceProviderConfig", "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("GET /ServiceProviderConfig = %d %q", r.status, r.header.Get("Content-Type"))
	}
	spc := r.json(t)
	want := map[string]any{
		"schemas":        []any{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": true, "maxOperations": 100.0, "maxPayloadSize": 4096.0},
		"filter":         map[string]any{"supported": true, "maxResults": 50.0},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": true},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token",
			"description": "Authentication with a bearer token configured in scim-bridge (auth.tokens)",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750", "primary": true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": "https://scim.example.com/base/scim/v2/ServiceProviderConfig"},
	}
	if diff := cmp.Diff(want, spc); diff != "" {
		t.Errorf("ServiceProviderConfig (-want +got):\n%s", diff)
	}

	for _, path := range []string{"/scim/v2/Schemas", "/scim/v2/ResourceTypes", "/scim/v2/ResourceTypes/User",
		"/scim/v2/Schemas/" + scimschema.UserSchemaURN, "/scim/v2/Schemas/" + scimschema.SalesforceUserURN} {
		r := env.do(t, "GET", path, "")
		if r.status != 200 {
			t.Errorf("GET %s = %d; want 200 (%s)", path, r.status, r.body)
			continue
		}
		if p := nullPath(r.json(t), ""); p != "" {
			t.Errorf("GET %s has a null at %s (Entra rejects nulls)", path, p)
		}
	}
	r = env.do(t, "GET", "/scim/v2/ResourceTypes", "")
	if got := r.json(t)["totalResults"]; got != 2.0 {
		t.Errorf("ResourceTypes totalResults = %v; want 2", got)
	}
}

// nullPath returns the path of the first null in v, or "".
func nullPath(v any, at string) string {
	switch t := v.(type) {
	case nil:
		return at
	case map[string]any:
		for k, e := range t {
			if p := nullPath(e, at+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range t {
			if p := nullPath(e, at+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
	}
	return ""
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	tests := []struct {
		name, incoming string
		echoed         bool
	}{
		{"sane id echoed", "abc-DEF_123.x", true},
		{"none", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"bad characters", "abc def", false},
		{"injection", `a"}{`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(t, "GET", "/healthz", "", "X-Request-Id", tt.incoming)
			got := r.header.Get("X-Request-Id")
			if tt.echoed {
				if got != tt.incoming {
					t.Errorf("X-Request-Id = %q; want %q", got, tt.incoming)
				}
				return
			}
			if got == tt.incoming || !validRequestID(got) || len(got) != 32 {
				t.Errorf("X-Request-Id = %q; want a fresh 32-character id", got)
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	r := env.do(t, "GET", `/scim/v2/Users?filter=userName%20eq%20%22secret.person%40example.com%22`, "", "X-Request-Id", "req-log-1")
	if r.status != 200 {
		t.Fatalf("GET /Users = %d; want 200", r.status)
	}
	if strings.Contains(env.logs.String(), "secret.person") {
		t.Errorf("a filter value reached the logs:\n%s", env.logs.String())
	}
	var access map[string]any
	for _, line := range env.logs.lines(t) {
		if line["message"] == "request" && line["request_id"] == "req-log-1" {
			access = line
		}
	}
	if access == nil {
		t.Fatalf("no access line:\n%s", env.logs.String())
	}
	for k, want := range map[string]any{"method": "GET", "path": "/scim/v2/Users", "status": 200.0, "token_name": "entra", "level": "info"} {
		if access[k] != want {
			t.Errorf("access line %s = %v; want %v", k, access[k], want)
		}
	}
	for _, k := range []string{"bytes", "duration_ms", "remote"} {
		if _, ok := access[k]; !ok {
			t.Errorf("access line lacks %s", k)
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	env.backend.putUser(map[string]any{"userName": "bob@example.com"})
	env.backend.setFail(func(string) error { panic("boom in backend") })
	r := env.do(t, "GET", "/scim/v2/Users/u1", "")
	body := wantSCIMError(t, r, 500, "")
	if body["detail"] != "internal error" {
		t.Errorf("detail = %v; want internal error", body["detail"])
	}
	if !strings.Contains(env.logs.String(), "handler panicked") || !strings.Contains(env.logs.String(), "boom in backend") {
		t.Errorf("no panic log line:\n%s", env.logs.String())
	}
	// The server keeps serving.
	env.backend.setFail(nil)
	if r := env.do(t, "GET", "/scim/v2/Users/u1", ""); r.status != 200 {
		t.Errorf("GET after a panic = %d; want 200", r.status)
	}
}
