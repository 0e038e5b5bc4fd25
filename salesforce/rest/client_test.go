package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// fakeOrg starts a small Salesforce stand-in: the token endpoint issues "tok-N" access tokens
// for the client-credentials grant; every other path goes to rest after the bearer token is
// checked. It returns a client (fast retries) configured against it.
func fakeOrg(t testing.TB, rest http.HandlerFunc, opts ...func(*Config)) *Client {
	t.Helper()
	var issued atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		n := issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","instance_url":"https://elsewhere.example","token_type":"Bearer","issued_at":"1"}`, n)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") && r.URL.Path != "/services/data/" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
			return
		}
		rest(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := Config{
		URL: srv.URL, Flow: FlowClientCredentials, ClientID: "id", ClientSecret: "secret",
		Retry: RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond},
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return c
}

func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := New(context.Background(), Config{
		URL:              "http://acme.my.salesforce.com",
		LoginURL:         "ftp://login",
		APIVersion:       "v66",
		Flow:             FlowJWT,
		JWTPrivateKeyPEM: []byte("not a key"),
		MaxConcurrency:   -1,
		Timeout:          -time.Second,
	})
	if err == nil {
		t.Fatal("New() error = nil; want problems")
	}
	for _, want := range []string{
		"salesforce.url: must be https unless it is a loopback address",
		"salesforce.login_url: must be https unless it is a loopback address",
		"salesforce.api_version:",
		"salesforce.client_id: is required",
		"salesforce.jwt.username: is required with flow jwt",
		"salesforce.jwt.private_key_file: not a PEM-encoded RSA private key",
		"salesforce.max_concurrency: must be between 1 and 100",
		"salesforce.timeout: must be a positive duration",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New() error lacks %q:\n%v", want, err)
		}
	}
}

func TestNewFlowRequirements(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string // "" = valid
	}{
		{"missing flow", Config{URL: "https://a.my.salesforce.com", ClientID: "x"}, "salesforce.flow: must be refresh_token, client_credentials or jwt"},
		{"unknown flow", Config{URL: "https://a.my.salesforce.com", Flow: "password", ClientID: "x"}, "salesforce.flow: must be refresh_token, client_credentials or jwt"},
		{"refresh without token", Config{URL: "https://a.my.salesforce.com", Flow: FlowRefreshToken, ClientID: "x"}, "salesforce.refresh_token: is required with flow refresh_token"},
		{"client credentials without secret", Config{URL: "https://a.my.salesforce.com", Flow: FlowClientCredentials, ClientID: "x"}, "salesforce.client_secret: is required with flow client_credentials"},
		{"missing url", Config{Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}, "salesforce.url: is required"},
		{"url with query", Config{URL: "https://a.my.salesforce.com?x=1", Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}, "salesforce.url: must not carry"},
		{"loopback http is fine", Config{URL: "http://127.0.0.1:8080", Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}, ""},
		{"localhost http is fine", Config{URL: "http://localhost:8080/", Flow: FlowRefreshToken, ClientID: "x", RefreshToken: "r"}, ""},
		{"ipv6 loopback", Config{URL: "http://[::1]:8080", Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}, ""},
		// Salesforce: invalid_grant "request not supported on this domain" (My Domain only).
		{"client credentials on login.salesforce.com", Config{URL: "https://a.my.salesforce.com", LoginURL: "https://login.salesforce.com", Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}, "salesforce.login_url: flow client_credentials needs the org's My Domain"},
		{"client credentials on test.salesforce.com", Config{URL: "https://a.my.salesforce.com", LoginURL: "https://Test.Salesforce.com/", Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}, "salesforce.login_url: flow client_credentials"},
		{"client credentials with url login.salesforce.com", Config{URL: "https://login.salesforce.com", Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}, "salesforce.url: flow client_credentials"},
		{"refresh token on login.salesforce.com is fine", Config{URL: "https://a.my.salesforce.com", LoginURL: "https://login.salesforce.com", Flow: FlowRefreshToken, ClientID: "x", RefreshToken: "r"}, ""},
		{"client credentials on My Domain is fine", Config{URL: "https://a.my.salesforce.com", LoginURL: "https://a.my.salesforce.com", Flow: FlowClientCredentials, ClientID: "x", ClientSecret: "y"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(context.Background(), tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("New() error = %v; want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("New() error = %v; want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNewErrorNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	_, err := New(context.Background(), Config{URL: "http://evil.example", Flow: FlowRefreshToken,
		ClientID: "cid", ClientSecret: "s3cr3t-value", RefreshToken: "r3fr3sh-value", AccessToken: "acc3ss-value"})
	if err == nil {
		t.Fatal("New() error = nil")
	}
	for _, secret := range []string{"s3cr3t-value", "r3fr3sh-value", "acc3ss-value"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("New() error %q contains a secret", err)
		}
	}
}

func TestAPIVersionDefault(t *testing.T) {
	t.Parallel()
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {})
	if got := c.APIVersion(); got != "66.0" {
		t.Errorf("APIVersion() = %q; want 66.0", got)
	}
}

func TestQueryEachWalksPages(t *testing.T) {
	t.Parallel()
	var batchHeader atomic.Value
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/services/data/v66.0/query":
			batchHeader.Store(r.Header.Get("Sforce-Query-Options"))
			if got := r.URL.Query().Get("q"); got != "SELECT Id FROM User" {
				t.Errorf("q = %q", got)
			}
			fmt.Fprint(w, `{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v66.0/query/01gX-2","records":[{"Id":"1"},{"Id":"2"}]}`)
		case "/services/data/v66.0/query/01gX-2":
			fmt.Fprint(w, `{"totalSize":3,"done":true,"records":[{"Id":"3"}]}`)
		default:
			t.Errorf("unexpected path %s", r.URL.Path)
			w.WriteHeader(404)
		}
	})
	var ids []string
	total, err := c.QueryEach(context.Background(), "SELECT Id FROM User", 50, func(r Record) error {
		ids = append(ids, r["Id"].(string))
		return nil
	})
	if err != nil || total != 3 {
		t.Fatalf("QueryEach() = %d, %v; want 3, nil", total, err)
	}
	if diff := cmp.Diff([]string{"1", "2", "3"}, ids); diff != "" {
		t.Errorf("records mismatch (-want +got):\n%s", diff)
	}
	if got := batchHeader.Load(); got != "batchSize=200" {
		t.Errorf("Sforce-Query-Options = %q; want batchSize=200 (the minimum)", got)
	}
	stop := errors.New("stop")
	n := 0
	_, err = c.QueryEach(context.Background(), "SELECT Id FROM User", 0, func(Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("QueryEach() with a failing fn = %v after %d records; want stop after 1", err, n)
	}
}

func TestQueryMoreStaysOnTheOrg(t *testing.T) {
	t.Parallel()
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected call %s", r.URL) })
	for _, next := range []string{"https://evil.example/services/data/v66.0/query/01g-2", "//evil.example/x", "/other/path", "/services/data/../../x", "/services/data/v66.0/query/01g?x=1"} {
		if _, err := c.QueryMore(context.Background(), next); err == nil {
			t.Errorf("QueryMore(%q) error = nil; want a refusal", next)
		}
	}
}

func TestIDsAreValidatedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected call %s", r.URL) })
	ctx := context.Background()
	for _, id := range []string{"", "005", "005000000000001AAA/../x", "005000000000001AA%", "005000000000001AAAB"} {
		if _, err := c.Get(ctx, "User", id); KindOf(err) != KindNotFound || !IsCode(err, "MALFORMED_ID") {
			t.Errorf("Get(%q) error = %v; want MALFORMED_ID / not found", id, err)
		}
		if err := c.Update(ctx, "User", id, Record{}); KindOf(err) != KindNotFound {
			t.Errorf("Update(%q) error = %v; want not found", id, err)
		}
		if err := c.Delete(ctx, "User", id); KindOf(err) != KindNotFound {
			t.Errorf("Delete(%q) error = %v; want not found", id, err)
		}
	}
	if _, err := c.Get(ctx, "User/../x", "005000000000001AAA"); err == nil {
		t.Error("Get with a bad sObject name error = nil")
	}
	if _, err := c.Get(ctx, "User", "005000000000001AAA", "Id,Password"); err == nil {
		t.Error("Get with a bad field list error = nil")
	}
}

func TestGetSendsFields(t *testing.T) {
	t.Parallel()
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/data/v66.0/sobjects/User/005000000000001AAA" || r.URL.Query().Get("fields") != "Id,Username" {
			t.Errorf("Get called %s", r.URL)
		}
		fmt.Fprint(w, `{"attributes":{"type":"User"},"Id":"005000000000001AAA","Username":"a@b.c"}`)
	})
	rec, err := c.Get(context.Background(), "User", "005000000000001AAA", "Id", "Username")
	if err != nil || rec["Username"] != "a@b.c" {
		t.Errorf("Get() = %v, %v", rec, err)
	}
}

func TestLimitInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   Usage
	}{
		{"api-usage=10018/100000", Usage{Used: 10018, Max: 100000, Known: true}},
		{"api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)", Usage{Used: 18, Max: 5000, Known: true}},
		{"per-app-api-usage=17/250(appName=x); api-usage=3/15000", Usage{Used: 3, Max: 15000, Known: true}},
		{"per-app-api-usage=17/250(appName=x)", Usage{}},
		{"", Usage{}},
		{"api-usage=abc/1", Usage{}},
	}
	for _, tt := range tests {
		if got, _ := parseLimitInfo(tt.header); got != tt.want {
			t.Errorf("parseLimitInfo(%q) = %+v; want %+v", tt.header, got, tt.want)
		}
	}
}

func TestUsageAndMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage=42/15000; per-app-api-usage=2/250(appName=x)")
		fmt.Fprint(w, `{"name":"User","fields":[{"name":"TimeZoneSidKey","type":"picklist","length":40,"restrictedPicklist":true,"picklistValues":[{"value":"GMT","label":"GMT","active":true,"defaultValue":false}]}]}`)
	}, func(cfg *Config) { cfg.Registerer = reg })
	if u := c.Usage(); u.Known {
		t.Errorf("Usage() before any call = %+v; want unknown", u)
	}
	d, err := c.Describe(context.Background(), "User")
	if err != nil {
		t.Fatalf("Describe() error = %v", err)
	}
	want := &Describe{Name: "User", Fields: []DescribeField{{Name: "TimeZoneSidKey", Type: "picklist", Length: 40, RestrictedPicklist: true,
		PicklistValues: []PicklistValue{{Value: "GMT", Label: "GMT", Active: true}}}}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Describe() mismatch (-want +got):\n%s", diff)
	}
	if got, want := c.Usage(), (Usage{Used: 42, Max: 15000, Known: true}); got != want {
		t.Errorf("Usage() = %+v; want %+v", got, want)
	}
	expected := `
# HELP scim_bridge_salesforce_api_usage The org's daily API usage from Sforce-Limit-Info (kind=used|max).
# TYPE scim_bridge_salesforce_api_usage gauge
scim_bridge_salesforce_api_usage{kind="max"} 15000
scim_bridge_salesforce_api_usage{kind="used"} 42
# HELP scim_bridge_salesforce_requests_total Salesforce HTTP calls by operation and HTTP status ("error" when no answer came).
# TYPE scim_bridge_salesforce_requests_total counter
scim_bridge_salesforce_requests_total{operation="describe",status="200"} 1
scim_bridge_salesforce_requests_total{operation="token",status="200"} 1
# HELP scim_bridge_salesforce_token_refreshes_total OAuth token requests by result (ok|error).
# TYPE scim_bridge_salesforce_token_refreshes_total counter
scim_bridge_salesforce_token_refreshes_total{result="ok"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected),
		"scim_bridge_salesforce_api_usage", "scim_bridge_salesforce_requests_total", "scim_bridge_salesforce_token_refreshes_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "scim_bridge_salesforce_request_duration_seconds"); n != 2 {
		t.Errorf("duration histogram series = %d; want 2 (describe, token)", n)
	}
	// A second client on the same registry reuses the collectors instead of failing.
	if _, err := New(context.Background(), Config{URL: "http://127.0.0.1:1", Flow: FlowClientCredentials, ClientID: "a", ClientSecret: "b", Registerer: reg}); err != nil {
		t.Errorf("New() with an already used registry error = %v", err)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		call      func(*Client) error
		failures  []string // status:body of the first answers, then success
		wantCalls int
		wantKind  Kind // KindOther with wantOK
		wantOK    bool
	}{
		{"get retried on 500", func(c *Client) error { _, err := c.Get(context.Background(), "User", "005000000000001AAA"); return err },
			[]string{`500:[{"errorCode":"UNKNOWN_EXCEPTION","message":"x"}]`, `502:<html></html>`}, 3, 0, true},
		{"get gives up after attempts", func(c *Client) error { _, err := c.Get(context.Background(), "User", "005000000000001AAA"); return err },
			[]string{`503:<html></html>`, `503:<html></html>`, `503:<html></html>`}, 3, KindUnavailable, false},
		{"create not retried on 500", func(c *Client) error { _, err := c.Create(context.Background(), "User", Record{}); return err },
			[]string{`500:[{"errorCode":"UNKNOWN_EXCEPTION","message":"x"}]`}, 1, KindUnavailable, false},
		{"create not retried on html 503", func(c *Client) error { _, err := c.Create(context.Background(), "User", Record{}); return err },
			[]string{`503:<html></html>`}, 1, KindUnavailable, false},
		{"create retried on 503 SERVER_UNAVAILABLE", func(c *Client) error { _, err := c.Create(context.Background(), "User", Record{}); return err },
			[]string{`503:[{"errorCode":"SERVER_UNAVAILABLE","message":"Server Unavailable"}]`}, 2, 0, true},
		{"update retried on lock", func(c *Client) error {
			return c.Update(context.Background(), "User", "005000000000001AAA", Record{"Title": "x"})
		},
			[]string{`400:[{"errorCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access"}]`}, 2, 0, true},
		{"limit not retried", func(c *Client) error { _, err := c.Query(context.Background(), "SELECT Id FROM User", 0); return err },
			[]string{`403:[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]`}, 1, KindLimited, false},
		{"validation not retried", func(c *Client) error { _, err := c.Query(context.Background(), "SELECT Id FROM User", 0); return err },
			[]string{`400:[{"errorCode":"MALFORMED_QUERY","message":"x"}]`}, 1, KindInvalid, false},
		{"do idempotent retried", func(c *Client) error {
			return c.Do(context.Background(), http.MethodPatch, "sobjects/UserLogin/0Yw000000000001AAA", map[string]bool{"IsFrozen": true}, nil, true)
		}, []string{`500:<html></html>`}, 2, 0, true},
		{"do non-idempotent not retried", func(c *Client) error {
			return c.Do(context.Background(), http.MethodPost, "sobjects/Foo", map[string]bool{"x": true}, nil, false)
		}, []string{`500:<html></html>`}, 1, KindUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				if n <= len(tt.failures) {
					status, body, _ := strings.Cut(tt.failures[n-1], ":")
					var code int
					fmt.Sscan(status, &code)
					w.WriteHeader(code)
					fmt.Fprint(w, body)
					return
				}
				switch r.Method {
				case http.MethodPost:
					w.WriteHeader(201)
					fmt.Fprint(w, `{"id":"005000000000001AAA","success":true,"errors":[]}`)
				case http.MethodPatch:
					w.WriteHeader(204)
				default:
					fmt.Fprint(w, `{"totalSize":0,"done":true,"records":[]}`)
				}
			})
			err := tt.call(c)
			if got := int(calls.Load()); got != tt.wantCalls {
				t.Errorf("calls = %d; want %d", got, tt.wantCalls)
			}
			if tt.wantOK {
				if err != nil {
					t.Errorf("error = %v; want success", err)
				}
				return
			}
			if KindOf(err) != tt.wantKind {
				t.Errorf("error = %v (kind %v); want kind %v", err, KindOf(err), tt.wantKind)
			}
		})
	}
}

func TestBackoffHonoursCancellation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cancel()
		w.WriteHeader(503)
	}, func(cfg *Config) { cfg.Retry = RetryPolicy{Attempts: 5, Base: time.Hour, Max: time.Hour} })
	start := time.Now()
	_, err := c.Query(ctx, "SELECT Id FROM User", 0)
	if time.Since(start) > 5*time.Second {
		t.Errorf("Query() took %v; the backoff ignored cancellation", time.Since(start))
	}
	if KindOf(err) != KindUnavailable || calls.Load() != 1 {
		t.Errorf("Query() = %v after %d calls; want KindUnavailable after 1", err, calls.Load())
	}
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{}.withDefaults()
	if p.Attempts != 3 || p.Base != 200*time.Millisecond || p.Max != 5*time.Second {
		t.Fatalf("defaults = %+v", p)
	}
	for n := 1; n <= 10; n++ {
		ceiling := min(p.Base<<(n-1), p.Max)
		for range 50 {
			if d := p.backoff(n); d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v; want within [0, %v]", n, d, ceiling)
			}
		}
	}
}

func TestTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, func(cfg *Config) {
		cfg.Timeout = 50 * time.Millisecond
		cfg.Retry = RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}
	})
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for handlers
	_, err := c.Create(context.Background(), "User", Record{})
	if KindOf(err) != KindUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Create() on a hung server error = %v; want KindUnavailable wrapping DeadlineExceeded", err)
	}
}

func TestDoPaths(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery)
		fmt.Fprint(w, `{"ok":true}`)
	})
	ctx := context.Background()
	var out struct{ OK bool }
	for path, want := range map[string]string{
		"limits":                              "GET /services/data/v66.0/limits?",
		"/services/data/v66.0/query/01g-2000": "GET /services/data/v66.0/query/01g-2000?",
		"query?q=SELECT+Id+FROM+User":         "GET /services/data/v66.0/query?q=SELECT+Id+FROM+User",
	} {
		if err := c.Do(ctx, http.MethodGet, path, nil, &out, false); err != nil || !out.OK {
			t.Errorf("Do(%q) = %v", path, err)
		}
		if got.Load() != want {
			t.Errorf("Do(%q) requested %q; want %q", path, got.Load(), want)
		}
	}
	for _, bad := range []string{"https://evil.example/x", "//evil.example/x", "../../x"} {
		if err := c.Do(ctx, http.MethodGet, bad, nil, nil, false); err == nil {
			t.Errorf("Do(%q) error = nil; want a refusal", bad)
		}
	}
}

func TestLogsCarryNoSecretsOrValues(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := zerolog.New(&syncWriter{w: &buf}).Level(zerolog.DebugLevel)
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(201)
			fmt.Fprint(w, `{"id":"005000000000001AAA","success":true,"errors":[]}`)
			return
		}
		fmt.Fprint(w, `{"totalSize":0,"done":true,"records":[]}`)
	}, func(cfg *Config) { cfg.ClientSecret = "the-client-secret" })
	ctx := logger.With().Str("request_id", "rid-1").Logger().WithContext(context.Background())
	if _, err := c.Query(ctx, "SELECT Id FROM User WHERE Email = 'private@example.com'", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "User", Record{"LastName": "PrivateLastName"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"private@example.com", "PrivateLastName", "the-client-secret", "tok-1"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, `"request_id":"rid-1"`) || !strings.Contains(out, `"operation":"query"`) || !strings.Contains(out, `"operation":"create"`) {
		t.Errorf("log lacks the request id or operations:\n%s", out)
	}
}

// syncWriter serialises writes from concurrent goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestTokenStoreAtomicWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "refresh")
	if _, ok, err := readTokenFile(path); ok || err != nil {
		t.Fatalf("readTokenFile(missing) = %v, %v; want not ok, nil", ok, err)
	}
	for _, tok := range []string{"first", "second"} {
		if err := writeTokenFile(path, tok); err != nil {
			t.Fatalf("writeTokenFile() error = %v", err)
		}
		got, ok, err := readTokenFile(path)
		if got != tok || !ok || err != nil {
			t.Errorf("readTokenFile() = %q, %v, %v; want %q", got, ok, err, tok)
		}
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries; want only the token file (no temp leftovers)", len(entries))
	}
	if err := os.WriteFile(path, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readTokenFile(path); err == nil {
		t.Error("readTokenFile(empty file) error = nil")
	}
	_, err = New(context.Background(), Config{URL: "https://a.my.salesforce.com", Flow: FlowRefreshToken, ClientID: "x", TokenFile: path, RefreshToken: "r"})
	if err == nil || !strings.Contains(err.Error(), "salesforce.token_file: the file is empty") {
		t.Errorf("New() with an empty token file error = %v", err)
	}
}

func TestCompositeValidation(t *testing.T) {
	t.Parallel()
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) { t.Errorf("unexpected call %s", r.URL) })
	ctx := context.Background()
	many := make([]Subrequest, 26)
	for i := range many {
		many[i] = Subrequest{Method: "GET", Path: "limits", ReferenceID: fmt.Sprint("r", i)}
	}
	queries := make([]Subrequest, 6)
	for i := range queries {
		path := QueryPath("SELECT Id FROM User")
		if i == 5 {
			path = "composite/sobjects"
		}
		queries[i] = Subrequest{Method: "GET", Path: path, ReferenceID: fmt.Sprint("q", i)}
	}
	for name, subs := range map[string][]Subrequest{
		"none":           nil,
		"too many":       many,
		"six queries":    queries, // at most 5 may be queries or sObject Collections (D-COMP)
		"bad method":     {{Method: "get", Path: "limits", ReferenceID: "a"}},
		"bad reference":  {{Method: "GET", Path: "limits", ReferenceID: "a-b"}},
		"duplicate ref":  {{Method: "GET", Path: "limits", ReferenceID: "a"}, {Method: "GET", Path: "limits", ReferenceID: "a"}},
		"absolute path":  {{Method: "GET", Path: "/services/data/v66.0/limits", ReferenceID: "a"}},
		"foreign host":   {{Method: "GET", Path: "https://x/y", ReferenceID: "a"}},
		"forbidden head": {{Method: "GET", Path: "limits", ReferenceID: "a", Headers: map[string]string{"Authorization": "x"}}},
	} {
		if _, err := c.Composite(ctx, false, subs); err == nil {
			t.Errorf("Composite(%s) error = nil", name)
		}
	}
	if _, err := c.CreateRecords(ctx, false, []Record{{"LastName": "x"}}); err == nil {
		t.Error("CreateRecords without attributes.type error = nil")
	}
	if _, err := c.UpdateRecords(ctx, false, []Record{{"attributes": map[string]any{"type": "User"}}}); err == nil {
		t.Error("UpdateRecords without id error = nil")
	}
	if _, err := c.DeleteRecords(ctx, false, []string{"bad"}); KindOf(err) != KindNotFound {
		t.Errorf("DeleteRecords(bad id) error = %v; want MALFORMED_ID", err)
	}
}

func TestQueryPath(t *testing.T) {
	t.Parallel()
	got := QueryPath("SELECT Id FROM User WHERE Username = 'a+b@c.d'")
	if want := "query?q=SELECT+Id+FROM+User+WHERE+Username+%3D+%27a%2Bb%40c.d%27"; got != want {
		t.Errorf("QueryPath() = %q; want %q", got, want)
	}
}

func TestCollectionsChunkingAgainstFake(t *testing.T) {
	t.Parallel()
	var sizes []int
	var mu sync.Mutex
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			AllOrNone bool              `json:"allOrNone"`
			Records   []json.RawMessage `json:"records"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		sizes = append(sizes, len(body.Records))
		n := len(sizes)
		mu.Unlock()
		res := make([]string, len(body.Records))
		for i := range res {
			if n == 2 && i == 0 {
				res[i] = `{"success":false,"errors":[{"statusCode":"DUPLICATE_VALUE","message":"dup","fields":[]}]}`
				continue
			}
			res[i] = `{"id":"0Pa000000000001AAA","success":true,"errors":[]}`
		}
		fmt.Fprint(w, "["+strings.Join(res, ",")+"]")
	})
	recs := make([]Record, 450)
	for i := range recs {
		recs[i] = Record{"attributes": map[string]any{"type": "PermissionSetAssignment"}, "AssigneeId": "005000000000001AAA"}
	}
	res, err := c.CreateRecords(context.Background(), true, recs)
	if err != nil {
		t.Fatalf("CreateRecords() error = %v", err)
	}
	if diff := cmp.Diff([]int{200, 200}, sizes); diff != "" {
		t.Errorf("chunk sizes (-want +got):\n%s", diff)
	}
	if len(res) != 450 || !res[0].Success || res[200].Success || res[200].Errors[0].Code != "DUPLICATE_VALUE" ||
		res[200].Errors[0].Kind != KindConflict || res[449].Success || res[449].Errors[0].Code != "PROCESSING_HALTED" {
		t.Errorf("results: len %d, [0]=%+v [200]=%+v [449]=%+v", len(res), res[0], res[200], res[449])
	}
}

// Every composite body says collateSubrequests false: Salesforce (v49+) may otherwise run
// unrelated subrequests out of order, and the backend's read-backs and conditional writes rely on
// the order it sends.
func TestCompositeBodyDisablesCollation(t *testing.T) {
	t.Parallel()
	const recorded = `{"allOrNone":true,"collateSubrequests":false,"compositeRequest":[
	 {"method":"PATCH","url":"/services/data/v66.0/sobjects/User/005000000000001AAA","referenceId":"upd","body":{"Title":"x"}},
	 {"method":"GET","url":"/services/data/v66.0/query?q=SELECT+Id+FROM+User","referenceId":"get"}]}`
	var got []byte
	c := fakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/services/data/v66.0/composite" {
			t.Errorf("composite sent to %s", r.URL.Path)
		}
		got, _ = io.ReadAll(r.Body)
		fmt.Fprint(w, `{"compositeResponse":[{"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"upd"},
		 {"body":{"totalSize":0,"done":true,"records":[]},"httpHeaders":{},"httpStatusCode":200,"referenceId":"get"}]}`)
	})
	_, err := c.Composite(context.Background(), true, []Subrequest{
		{Method: "PATCH", Path: "sobjects/User/005000000000001AAA", ReferenceID: "upd", Body: map[string]any{"Title": "x"}},
		{Method: "GET", Path: "query?q=SELECT+Id+FROM+User", ReferenceID: "get"},
	})
	if err != nil {
		t.Fatalf("Composite() error = %v", err)
	}
	var want, sent any
	if err := json.Unmarshal([]byte(recorded), &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &sent); err != nil {
		t.Fatalf("composite body is not JSON: %v", err)
	}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("composite body (-recorded +sent):\n%s", diff)
	}
}
