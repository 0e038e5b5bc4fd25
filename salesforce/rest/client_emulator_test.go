package rest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

const (
	testClientID     = "3MVG9-test-client"
	testClientSecret = "test-client-secret-value"
	testRefreshToken = "5Aep861-test-refresh-token"
	adminUsername    = "admin@emulator.example.com"
)

// org is an emulator served over HTTP on loopback, with a per-path request counter.
type org struct {
	emu *emulator.Emulator
	url string

	mu    sync.Mutex
	calls map[string]int // "METHOD /path" → requests seen
}

func newOrg(t testing.TB, cfg emulator.Config) *org {
	t.Helper()
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = testClientID, testClientSecret
	}
	if cfg.RefreshToken == "" {
		cfg.RefreshToken = testRefreshToken
	}
	profile, err := emulator.ProfileFromEnv(os.Getenv) // SCIM_BRIDGE_TEST_EMULATOR_PROFILE
	if err != nil {
		t.Fatal(err)
	}
	cfg.Profile = profile
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("emulator.New() error = %v", err)
	}
	o := &org{emu: emu, calls: map[string]int{}}
	h := emu.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.calls[r.Method+" "+r.URL.Path]++
		o.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	o.url = srv.URL
	return o
}

func (o *org) count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[key]
}

func (o *org) tokenCalls() int { return o.count("POST /services/oauth2/token") }

// client returns a refresh-token client against the org with fast retries.
func (o *org) client(t testing.TB, opts ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		URL: o.url, Flow: FlowRefreshToken, ClientID: testClientID, ClientSecret: testClientSecret,
		RefreshToken: testRefreshToken,
		Retry:        RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 10 * time.Millisecond},
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return c
}

func newUser(t testing.TB, c *Client, username string) Record {
	t.Helper()
	res, err := c.Query(context.Background(), mustSOQL(t, Select("Id").From("Profile").Where(Eq("Name", "Standard User"))), 0)
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("profile lookup = %v, %v", res, err)
	}
	return Record{
		"Username": username, "LastName": "Tester", "Email": username, "Alias": "tester",
		"TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
		"LanguageLocaleKey": "en_US", "ProfileId": res.Records[0]["Id"],
	}
}

func mustSOQL(t testing.TB, q *Query) string {
	t.Helper()
	s, err := q.String()
	if err != nil {
		t.Fatalf("String() error = %v", err)
	}
	return s
}

func adminQuery(t testing.TB) string {
	return mustSOQL(t, Select("Id", "Username").From("User").Where(Eq("Username", adminUsername)))
}

func TestRefreshTokenFlow(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	ctx := context.Background()
	if err := c.Token(ctx); err != nil {
		t.Fatalf("Token() error = %v", err)
	}
	res, err := c.Query(ctx, adminQuery(t), 0)
	if err != nil || res.TotalSize != 1 || res.Records[0]["Username"] != adminUsername {
		t.Fatalf("Query() = %+v, %v", res, err)
	}
	if err := c.Token(ctx); err != nil {
		t.Fatalf("Token() error = %v", err)
	}
	if got := o.tokenCalls(); got != 1 {
		t.Errorf("token calls = %d; want 1 (the token is kept until refused)", got)
	}
}

func TestStartingAccessTokenUsedUntilRefused(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	ctx := context.Background()
	// Obtain a real access token from a first client, then hand it to a second one.
	first := o.client(t)
	if err := first.Token(ctx); err != nil {
		t.Fatal(err)
	}
	access, _, _ := first.tokens.current(ctx)
	second := o.client(t, func(cfg *Config) { cfg.AccessToken = access })
	if _, err := second.Query(ctx, adminQuery(t), 0); err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	if got := o.tokenCalls(); got != 1 {
		t.Errorf("token calls = %d; want 1 (the starting token needs none)", got)
	}
	o.emu.ExpireTokens()
	if _, err := second.Query(ctx, adminQuery(t), 0); err != nil {
		t.Fatalf("Query() after expiry error = %v", err)
	}
	if got := o.tokenCalls(); got != 2 {
		t.Errorf("token calls = %d; want 2 (one refresh after the 401)", got)
	}
}

func TestUnauthorizedRefreshesAndRetriesOnce(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	reg := prometheus.NewRegistry()
	c := o.client(t, func(cfg *Config) { cfg.AccessToken = "00D000000000001!garbage"; cfg.Registerer = reg })
	ctx := context.Background()
	path := "/services/data/v66.0/sobjects/User"
	id, err := c.Create(ctx, "User", newUser(t, c, "once@example.com"))
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	if got := o.count("POST " + path); got != 1 {
		t.Errorf("creates sent = %d; want 1 (the 401 came on the profile query)", got)
	}
	// A write refused with 401 is repeated exactly once after one refresh.
	o.emu.ExpireTokens()
	if err := c.Update(ctx, "User", id, Record{"Title": "Engineer"}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	if got := o.count("PATCH " + path + "/" + id); got != 2 {
		t.Errorf("PATCH sent %d times; want 2 (401, then the retry)", got)
	}
	if got := o.tokenCalls(); got != 2 {
		t.Errorf("token calls = %d; want 2", got)
	}
	if got := o.emu.Get("User", id)["Title"]; got != "Engineer" {
		t.Errorf("Title = %v; want Engineer", got)
	}
	// A session that stays refused is an auth error after one refresh and one retry, not a loop.
	o.emu.InjectFault(emulator.Fault{PathPattern: "/services/data/v66.0/query*", Status: 401, Times: -1})
	before, tokensBefore := o.count("GET /services/data/v66.0/query"), o.tokenCalls()
	_, err = c.Query(ctx, adminQuery(t), 0)
	if KindOf(err) != KindAuth || !IsCode(err, "INVALID_SESSION_ID") {
		t.Errorf("Query() error = %v; want KindAuth INVALID_SESSION_ID", err)
	}
	if got := o.count("GET /services/data/v66.0/query") - before; got != 2 {
		t.Errorf("queries sent = %d; want 2", got)
	}
	if got := o.tokenCalls() - tokensBefore; got != 1 {
		t.Errorf("token calls = %d; want 1", got)
	}
	if got := testutil.ToFloat64(c.metrics.refreshes.WithLabelValues("ok")); got != 3 {
		t.Errorf("token_refreshes_total{ok} = %v; want 3", got)
	}
}

func TestConcurrentUnauthorizedShareOneRefresh(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	ctx := context.Background()
	if err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	o.emu.ExpireTokens()
	q := adminQuery(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.Query(ctx, q, 0)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Query() error = %v", err)
		}
	}
	if got := o.tokenCalls(); got != 2 {
		t.Errorf("token calls = %d; want 2 (the first token, then one shared refresh)", got)
	}
}

func TestRefreshTokenRotationSurvivesRestart(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{RotateRefreshTokens: true})
	tokenFile := filepath.Join(t.TempDir(), "sf-refresh-token")
	ctx := context.Background()
	withFile := func(cfg *Config) { cfg.TokenFile = tokenFile }

	first := o.client(t, withFile)
	if _, err := first.Query(ctx, adminQuery(t), 0); err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	stored, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatalf("token file not written: %v", err)
	}
	rotated := strings.TrimSpace(string(stored))
	if rotated == "" || rotated == testRefreshToken {
		t.Fatalf("token file holds %q; want the rotated refresh token", rotated)
	}
	if info, _ := os.Stat(tokenFile); info.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v; want 0600", info.Mode().Perm())
	}

	// The original refresh token is dead now: a client without the file cannot log in.
	stale := o.client(t)
	err = stale.Token(ctx)
	if KindOf(err) != KindAuth || !IsCode(err, "invalid_grant") {
		t.Errorf("Token() with the rotated-out refresh token error = %v; want KindAuth invalid_grant", err)
	}

	// A "restart" with the same token file (and the stale configured token) keeps working and
	// keeps rotating.
	restarted := o.client(t, withFile)
	if _, err := restarted.Query(ctx, adminQuery(t), 0); err != nil {
		t.Fatalf("Query() after restart error = %v", err)
	}
	again, _ := os.ReadFile(tokenFile)
	if strings.TrimSpace(string(again)) == rotated {
		t.Error("token file was not updated by the second rotation")
	}
	o.emu.ExpireTokens()
	if _, err := restarted.Query(ctx, adminQuery(t), 0); err != nil {
		t.Fatalf("Query() after expiry error = %v", err)
	}
}

func TestInvalidGrantIsAuthError(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	reg := prometheus.NewRegistry()
	c := o.client(t, func(cfg *Config) { cfg.Registerer = reg })
	o.emu.InjectFault(emulator.Fault{PathPattern: "/services/oauth2/token", ForceInvalidGrant: true})
	_, err := c.Query(context.Background(), adminQuery(t), 0)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindAuth || e.Code != "invalid_grant" || e.Status != 400 {
		t.Fatalf("Query() error = %#v; want KindAuth invalid_grant", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "refresh token expired or revoked") {
		t.Errorf("error %q does not say what to fix", msg)
	}
	for _, secret := range []string{testRefreshToken, testClientSecret} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q contains a secret", msg)
		}
	}
	if got := testutil.ToFloat64(c.metrics.refreshes.WithLabelValues("error")); got != 1 {
		t.Errorf("token_refreshes_total{error} = %v; want 1", got)
	}

	wrongSecret := o.client(t, func(cfg *Config) { cfg.ClientSecret = "wrong-secret-value" })
	err = wrongSecret.Token(context.Background())
	if KindOf(err) != KindAuth || !strings.Contains(err.Error(), "salesforce.client_secret") || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("Token() with a wrong secret error = %v; want KindAuth naming the setting", err)
	}
}

func TestClientCredentialsFlow(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t, func(cfg *Config) { cfg.Flow = FlowClientCredentials; cfg.RefreshToken = "" })
	ctx := context.Background()
	if _, err := c.Query(ctx, adminQuery(t), 0); err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	o.emu.ExpireTokens()
	if _, err := c.Query(ctx, adminQuery(t), 0); err != nil {
		t.Fatalf("Query() after expiry error = %v", err)
	}
	if got := o.tokenCalls(); got != 2 {
		t.Errorf("token calls = %d; want 2", got)
	}
}

func TestJWTFlow(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	o := newOrg(t, emulator.Config{JWTCertificatePEM: pubPEM})
	jwtConfig := func(cfg *Config) {
		cfg.Flow, cfg.RefreshToken, cfg.ClientSecret = FlowJWT, "", ""
		cfg.JWTUsername, cfg.JWTPrivateKeyPEM = adminUsername, privPEM
	}
	c := o.client(t, jwtConfig)
	ctx := context.Background()
	if err := c.Token(ctx); err != nil {
		t.Fatalf("Token() error = %v", err)
	}
	if _, err := c.Query(ctx, adminQuery(t), 0); err != nil {
		t.Fatalf("Query() error = %v", err)
	}

	unknown := o.client(t, jwtConfig, func(cfg *Config) { cfg.JWTUsername = "nobody@example.com" })
	if err := unknown.Token(ctx); KindOf(err) != KindAuth || !strings.Contains(err.Error(), "salesforce.jwt.username") {
		t.Errorf("Token() for an unknown user error = %v; want KindAuth naming salesforce.jwt.username", err)
	}
}

func TestCompositeWithReferences(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	ctx := context.Background()
	ps, err := c.Query(ctx, mustSOQL(t, Select("Id").From("PermissionSet").Where(Eq("Name", "Sales_Ops"))), 0)
	if err != nil || len(ps.Records) != 1 {
		t.Fatalf("permission set lookup = %v, %v", ps, err)
	}
	subs := []Subrequest{
		{Method: "POST", Path: "sobjects/User", ReferenceID: "newUser", Body: newUser(t, c, "composite@example.com")},
		{Method: "POST", Path: "sobjects/PermissionSetAssignment", ReferenceID: "psa",
			Body: Record{"AssigneeId": "@{newUser.id}", "PermissionSetId": ps.Records[0]["Id"]}},
		{Method: "GET", Path: "sobjects/User/@{newUser.id}?fields=Id,Username", ReferenceID: "readBack"},
		{Method: "GET", Path: QueryPath("SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '@{newUser.id}'"), ReferenceID: "assignments"},
	}
	before := o.emu.Stats().APICalls
	res, err := c.Composite(ctx, true, subs)
	if err != nil {
		t.Fatalf("Composite() error = %v", err)
	}
	if got := o.emu.Stats().APICalls - before; got != 1 {
		t.Errorf("composite cost %d API calls; want 1", got)
	}
	if len(res) != 4 {
		t.Fatalf("Composite() returned %d responses; want 4", len(res))
	}
	for i, want := range []int{201, 201, 200, 200} {
		if res[i].Status != want || res[i].Err != nil || res[i].ReferenceID != subs[i].ReferenceID {
			t.Errorf("response %d = %+v (body %s); want status %d", i, res[i], res[i].Body, want)
		}
	}
	var created struct{ ID string }
	var read struct{ Id, Username string }
	json.Unmarshal(res[0].Body, &created)
	json.Unmarshal(res[2].Body, &read)
	if created.ID == "" || read.Id != created.ID || read.Username != "composite@example.com" {
		t.Errorf("created %q, read back %+v", created.ID, read)
	}

	// allOrNone: a failing subrequest rolls everything back and halts the rest.
	bad := []Subrequest{
		{Method: "POST", Path: "sobjects/User", ReferenceID: "u2", Body: newUser(t, c, "rollback@example.com")},
		{Method: "POST", Path: "sobjects/User", ReferenceID: "dup", Body: newUser(t, c, "composite@example.com")},
	}
	res, err = c.Composite(ctx, true, bad)
	if err != nil {
		t.Fatalf("Composite() error = %v", err)
	}
	if res[1].Err == nil || res[1].Err.Kind != KindConflict || res[1].Err.Code != "DUPLICATE_USERNAME" {
		t.Errorf("duplicate subrequest = %+v; want DUPLICATE_USERNAME conflict", res[1])
	}
	if res[0].Err == nil || res[0].Err.Code != "PROCESSING_HALTED" {
		t.Errorf("rolled-back subrequest = %+v; want PROCESSING_HALTED", res[0])
	}
	for _, u := range o.emu.List("User") {
		if u["Username"] == "rollback@example.com" {
			t.Error("allOrNone composite left the first user behind")
		}
	}
}

func TestCollectionsChunkingAndPaging(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	ctx := context.Background()
	if err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 450
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{"attributes": map[string]any{"type": "PermissionSet"}, "Name": fmt.Sprintf("Bulk_%03d", i), "Label": fmt.Sprintf("Bulk %d", i)}
	}
	before := o.emu.Stats().APICalls
	res, err := c.CreateRecords(ctx, false, recs)
	if err != nil {
		t.Fatalf("CreateRecords() error = %v", err)
	}
	if got := o.emu.Stats().APICalls - before; got != 3 {
		t.Errorf("CreateRecords(%d) cost %d API calls; want 3", n, got)
	}
	ids := make([]string, 0, n)
	for i, r := range res {
		if !r.Success || !validID(r.ID) {
			t.Fatalf("result %d = %+v", i, r)
		}
		ids = append(ids, r.ID)
	}

	// Paging: at least 450 rows with batches of 200 walk several pages, one page in memory.
	var seen int
	q := mustSOQL(t, Select("Id", "Name").From("PermissionSet").Where(Like("Name", LikeEscape("Bulk_")+"%")))
	total, err := c.QueryEach(ctx, q, 200, func(r Record) error {
		if !strings.HasPrefix(r["Name"].(string), "Bulk_") {
			t.Errorf("LIKE matched %v", r["Name"])
		}
		seen++
		return nil
	})
	if err != nil || total != n || seen != n {
		t.Errorf("QueryEach() = %d, %v after %d records; want %d", total, err, seen, n)
	}
	if got := o.count("GET /services/data/v66.0/query"); got != 1 {
		t.Errorf("query calls = %d; want 1 (then query-more pages)", got)
	}

	updates := make([]Record, n)
	for i, id := range ids {
		updates[i] = Record{"attributes": map[string]any{"type": "PermissionSet"}, "id": id, "Description": "bulk"}
	}
	if res, err := c.UpdateRecords(ctx, true, updates); err != nil || len(res) != n || !res[n-1].Success {
		t.Fatalf("UpdateRecords() = %d results, %v", len(res), err)
	}
	if got := o.emu.Get("PermissionSet", ids[n-1])["Description"]; got != "bulk" {
		t.Errorf("Description = %v; want bulk", got)
	}

	before = o.emu.Stats().APICalls
	res, err = c.DeleteRecords(ctx, false, append(ids, "0PS000000000000AAA"))
	if err != nil {
		t.Fatalf("DeleteRecords() error = %v", err)
	}
	if got := o.emu.Stats().APICalls - before; got != 3 {
		t.Errorf("DeleteRecords(%d) cost %d API calls; want 3", n+1, got)
	}
	if len(res) != n+1 || !res[0].Success || res[n].Success || len(res[n].Errors) == 0 {
		t.Errorf("DeleteRecords() results: len %d, first %+v, last %+v", len(res), res[0], res[n])
	}
}

func TestErrorKindsFromEmulator(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t, func(cfg *Config) { cfg.Retry = RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond} })
	ctx := context.Background()
	user := newUser(t, c, "kinds@example.com")
	id, err := c.Create(ctx, "User", user)
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	missing := Record{"LastName": "x"}
	tests := []struct {
		name string
		call func() error
		kind Kind
		code string
	}{
		{"unknown id", func() error { _, err := c.Get(ctx, "User", "005000000000099AAA"); return err }, KindNotFound, "NOT_FOUND"},
		{"duplicate username", func() error { _, err := c.Create(ctx, "User", user); return err }, KindConflict, "DUPLICATE_USERNAME"},
		{"missing required fields", func() error { _, err := c.Create(ctx, "User", missing); return err }, KindInvalid, "REQUIRED_FIELD_MISSING"},
		{"bad picklist", func() error { return c.Update(ctx, "User", id, Record{"TimeZoneSidKey": "Mars/Base"}) }, KindInvalid, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
		{"bad soql", func() error { _, err := c.Query(ctx, "SELECT FROM", 0); return err }, KindInvalid, "MALFORMED_QUERY"},
		{"users cannot be deleted", func() error { return c.Delete(ctx, "User", id) }, KindOther, "METHOD_NOT_ALLOWED"},
		{"lock contention persists", func() error {
			o.emu.InjectFault(emulator.Fault{Method: "PATCH", PathPattern: "/services/data/v66.0/sobjects/User/*", ErrorCode: "UNABLE_TO_LOCK_ROW", Times: 2})
			return c.Update(ctx, "User", id, Record{"Title": "x"})
		}, KindLocked, "UNABLE_TO_LOCK_ROW"},
		{"html gateway", func() error {
			o.emu.InjectFault(emulator.Fault{PathPattern: "/services/data/v66.0/sobjects/User/*", HTML: true, Times: 2})
			_, err := c.Get(ctx, "User", id)
			return err
		}, KindUnavailable, ""},
	}
	for _, tt := range tests {
		err := tt.call()
		if KindOf(err) != tt.kind || (tt.code != "" && !IsCode(err, tt.code)) {
			t.Errorf("%s: error = %v (kind %v); want kind %v code %q", tt.name, err, KindOf(err), tt.kind, tt.code)
		}
	}
}

func TestLimitHeaderAndLimitExceeded(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{APILimit: 3})
	c := o.client(t)
	ctx := context.Background()
	q := adminQuery(t)
	var err error
	calls := 0
	for ; calls < 10 && err == nil; calls++ {
		_, err = c.Query(ctx, q, 0)
	}
	if KindOf(err) != KindLimited || !IsCode(err, "REQUEST_LIMIT_EXCEEDED") {
		t.Fatalf("Query() after %d calls error = %v; want KindLimited", calls, err)
	}
	if got := o.count("GET /services/data/v66.0/query"); got != calls {
		t.Errorf("queries sent = %d for %d calls; REQUEST_LIMIT_EXCEEDED must not be retried", got, calls)
	}
	u := c.Usage()
	if !u.Known || u.Max != 3 || u.Used < 3 {
		t.Errorf("Usage() = %+v; want max 3, used ≥ 3", u)
	}
	if _, err := c.Versions(ctx); err != nil {
		t.Errorf("Versions() (not counted) error = %v", err)
	}
}

func TestRetriesAgainstEmulator(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	ctx := context.Background()
	q := adminQuery(t)
	if _, err := c.Query(ctx, q, 0); err != nil {
		t.Fatal(err)
	}
	o.emu.InjectFault(emulator.Fault{PathPattern: "/services/data/v66.0/query", Status: 503, Times: 2})
	before := o.count("GET /services/data/v66.0/query")
	if _, err := c.Query(ctx, q, 0); err != nil {
		t.Errorf("Query() under two 503s error = %v", err)
	}
	if got := o.count("GET /services/data/v66.0/query") - before; got != 3 {
		t.Errorf("queries sent = %d; want 3", got)
	}

	id, err := c.Create(ctx, "User", newUser(t, c, "locked@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	o.emu.InjectFault(emulator.Fault{Method: "PATCH", PathPattern: "/services/data/v66.0/sobjects/User/*", ErrorCode: "UNABLE_TO_LOCK_ROW"})
	if err := c.Update(ctx, "User", id, Record{"Title": "Retried"}); err != nil {
		t.Errorf("Update() under UNABLE_TO_LOCK_ROW error = %v", err)
	}
	if got := o.count("PATCH /services/data/v66.0/sobjects/User/" + id); got != 2 {
		t.Errorf("PATCH sent %d times; want 2", got)
	}
	if got := o.emu.Get("User", id)["Title"]; got != "Retried" {
		t.Errorf("Title = %v; want Retried", got)
	}

	// A JSON 503 SERVER_UNAVAILABLE proves the create was not applied: it is repeated.
	o.emu.InjectFault(emulator.Fault{Method: "POST", PathPattern: "/services/data/v66.0/sobjects/User", Status: 503, ErrorCode: "SERVER_UNAVAILABLE"})
	if _, err := c.Create(ctx, "User", newUser(t, c, "maintenance@example.com")); err != nil {
		t.Errorf("Create() under 503 SERVER_UNAVAILABLE error = %v", err)
	}
}

func TestCreateNotRetriedAfterDroppedConnection(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	ctx := context.Background()
	user := newUser(t, c, "dropped@example.com")
	o.emu.InjectFault(emulator.Fault{Method: "POST", PathPattern: "/services/data/v66.0/sobjects/User", DropConnection: true, AfterApply: true})
	_, err := c.Create(ctx, "User", user)
	if KindOf(err) != KindUnavailable {
		t.Fatalf("Create() error = %v; want KindUnavailable", err)
	}
	if got := o.count("POST /services/data/v66.0/sobjects/User"); got != 1 {
		t.Errorf("creates sent = %d; want exactly 1", got)
	}
	n := 0
	for _, u := range o.emu.List("User") {
		if u["Username"] == "dropped@example.com" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("users named dropped@example.com = %d; want exactly 1", n)
	}
	// The caller reconciles with a read, which is retried through a dropped connection.
	o.emu.InjectFault(emulator.Fault{PathPattern: "/services/data/v66.0/query", DropConnection: true})
	res, err := c.Query(ctx, mustSOQL(t, Select("Id").From("User").Where(Eq("Username", "dropped@example.com"))), 0)
	if err != nil || res.TotalSize != 1 {
		t.Errorf("reconciling Query() = %+v, %v", res, err)
	}
}

func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(emulator.Config{ClientID: testClientID, ClientSecret: testClientSecret, RefreshToken: testRefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	var inFlight, peak atomic.Int64
	h := emu.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(context.Background(), Config{URL: srv.URL, Flow: FlowRefreshToken, ClientID: testClientID,
		ClientSecret: testClientSecret, RefreshToken: testRefreshToken, MaxConcurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	q := adminQuery(t)
	var wg sync.WaitGroup
	for range 15 {
		wg.Go(func() {
			if _, err := c.Query(context.Background(), q, 0); err != nil {
				t.Errorf("Query() error = %v", err)
			}
		})
	}
	wg.Wait()
	if got := peak.Load(); got > 3 || got < 2 {
		t.Errorf("peak concurrent requests = %d; want 2..3 with MaxConcurrency 3", got)
	}
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	if err := c.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.emu.InjectFault(emulator.Fault{PathPattern: "/services/data/v66.0/query", Latency: 10 * time.Second, Times: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Query(ctx, adminQuery(t), 0)
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Query() returned after %v; want promptly after the deadline", elapsed)
	}
	if KindOf(err) != KindUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Query() error = %v; want KindUnavailable wrapping DeadlineExceeded", err)
	}
}

func TestVersionsAndDescribe(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	ctx := context.Background()
	vs, err := c.Versions(ctx)
	if err != nil || len(vs) == 0 {
		t.Fatalf("Versions() = %v, %v", vs, err)
	}
	found := false
	for _, v := range vs {
		found = found || v.Version == c.APIVersion()
	}
	if !found {
		t.Errorf("Versions() = %+v; lacks %s", vs, c.APIVersion())
	}
	if o.tokenCalls() != 0 {
		t.Errorf("Versions() fetched a token; it needs none")
	}
	d, err := c.Describe(ctx, "User")
	if err != nil || d.Name != "User" {
		t.Fatalf("Describe() = %+v, %v", d, err)
	}
	var tz *DescribeField
	for i := range d.Fields {
		if d.Fields[i].Name == "TimeZoneSidKey" {
			tz = &d.Fields[i]
		}
	}
	if tz == nil || !tz.RestrictedPicklist || len(tz.PicklistValues) == 0 {
		t.Errorf("TimeZoneSidKey describe = %+v; want a restricted picklist with values", tz)
	}
}

// An expired or invalidated cursor (INVALID_QUERY_LOCATOR) runs the query again, once, without
// handing a record twice; a second one is KindUnavailable (503 to the IdP), never "not found".
func TestQueryEachRerunsTheQueryOnceWhenTheCursorIsGone(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	for i := range 250 {
		if _, err := o.emu.Insert("PermissionSet", map[string]any{"Name": fmt.Sprintf("Many_%03d", i), "Label": fmt.Sprintf("Many %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	c := o.client(t)
	q := mustSOQL(t, Select("Id", "Name").From("PermissionSet").Where(Like("Name", "Many_%")).OrderBy("Name", false))
	locatorGone := emulator.Fault{Method: "GET", PathPattern: "/services/data/*/query/*", Status: 404, ErrorCode: "INVALID_QUERY_LOCATOR", Message: "invalid query locator"}

	o.emu.InjectFault(locatorGone)
	seen := map[string]int{}
	total, err := c.QueryEach(context.Background(), q, 200, func(r Record) error { seen[r["Name"].(string)]++; return nil })
	if err != nil || total != 250 || len(seen) != 250 {
		t.Fatalf("QueryEach = %d, %v, %d distinct records; want 250, nil, 250", total, err, len(seen))
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s handed %d times", name, n)
		}
	}

	locatorGone.Times = 2
	o.emu.InjectFault(locatorGone)
	_, err = c.QueryEach(context.Background(), q, 200, func(Record) error { return nil })
	if KindOf(err) != KindUnavailable {
		t.Errorf("QueryEach with the cursor gone twice: %v (kind %v); want KindUnavailable", err, KindOf(err))
	}
}
