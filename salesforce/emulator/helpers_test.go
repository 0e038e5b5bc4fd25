package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testClientID     = "test-client"
	testClientSecret = "test-secret"
	testRefreshToken = "5Aep-test-refresh"
	v                = "/services/data/v66.0"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is an emulator behind a loopback server with a client-credentials token.
type harness struct {
	t     testing.TB
	e     *Emulator
	srv   *httptest.Server
	token string
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = testClientID, testClientSecret
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	h := &harness{t: t, e: e, srv: srv}
	h.token = h.clientCredentialsToken()
	return h
}

func (h *harness) clientCredentialsToken() string {
	h.t.Helper()
	status, body := h.tokenCall(url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testClientSecret}})
	if status != http.StatusOK {
		h.t.Fatalf("client_credentials = %d %v", status, body)
	}
	return body["access_token"].(string)
}

// tokenCall posts a form to the token endpoint and decodes the JSON answer.
func (h *harness) tokenCall(form url.Values) (int, map[string]any) {
	h.t.Helper()
	resp, err := http.PostForm(h.srv.URL+"/services/oauth2/token", form)
	if err != nil {
		h.t.Fatalf("token call: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		h.t.Fatalf("token answer: %v", err)
	}
	return resp.StatusCode, body
}

// do sends a REST request with the harness token; body may be a string, []byte or any JSON value.
func (h *harness) do(method, path string, body any, headers ...string) (int, http.Header, []byte) {
	h.t.Helper()
	return h.doToken(h.token, method, path, body, headers...)
}

func (h *harness) doToken(token, method, path string, body any, headers ...string) (int, http.Header, []byte) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

// decode parses JSON into a generic value.
func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// wantError checks a Salesforce error array's first element.
func wantError(t testing.TB, what string, status int, body []byte, wantStatus int, wantCode string) map[string]any {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s = %d %s; want %d %s", what, status, body, wantStatus, wantCode)
	}
	arr, ok := decode(t, body).([]any)
	if !ok || len(arr) == 0 {
		t.Fatalf("%s body = %s; want an error array", what, body)
	}
	first := arr[0].(map[string]any)
	if first["errorCode"] != wantCode {
		t.Fatalf("%s errorCode = %v (%v); want %s", what, first["errorCode"], first["message"], wantCode)
	}
	return first
}

// ids of seeded records.
func (h *harness) idOf(object, field, value string) string {
	h.t.Helper()
	for _, r := range h.e.List(object) {
		if r[field] == value {
			return r["Id"].(string)
		}
	}
	h.t.Fatalf("no %s with %s=%s", object, field, value)
	return ""
}

// newUser is a valid User body with the given username on the given profile.
func (h *harness) newUser(username, profile string) map[string]any {
	return map[string]any{
		"Username": username, "LastName": "Tester", "FirstName": "Tess", "Email": username, "Alias": "tess",
		"TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
		"LanguageLocaleKey": "en_US", "ProfileId": h.idOf("Profile", "Name", profile),
	}
}

// createUser creates a user over REST and returns its id.
func (h *harness) createUser(username, profile string) string {
	h.t.Helper()
	status, _, body := h.do("POST", v+"/sobjects/User", h.newUser(username, profile))
	if status != http.StatusCreated {
		h.t.Fatalf("create user %s = %d %s", username, status, body)
	}
	return decode(h.t, body).(map[string]any)["id"].(string)
}
