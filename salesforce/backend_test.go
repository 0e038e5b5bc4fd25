package salesforce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/scim2/filter-parser/v2"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// harness is an emulator on 127.0.0.1, a real Client with OAuth against it, and a Backend.
type harness struct {
	t    testing.TB
	e    *emulator.Emulator
	url  string // the emulator's base URL
	bcfg BackendConfig
	c    *rest.Client
	b    *Backend
	log  *syncBuffer
	ctx  context.Context
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func defaultBackendConfig() BackendConfig {
	return BackendConfig{
		Provisioning: ProvisioningConfig{
			CreateUsers: true, UpdateUsers: true, DisableUsers: true, DeprovisionUsers: true,
			DisableAction: Deactivate, PermissionSets: Merge,
		},
		Users: scimschema.UserMappingConfig{Defaults: map[string]string{
			"profile": "Standard User", "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
			"LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8",
		}},
		Groups: GroupsConfig{Source: PermissionSets, Include: []string{"*"}, AllowCreate: true, AllowDelete: true},
		// Coalescing on, as configured by default (salesforce.batch_window: 5ms).
		BatchWindow: 5 * time.Millisecond,
	}
}

type harnessOption struct {
	backend  func(*BackendConfig)
	emulator func(*emulator.Config)
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	ecfg := emulator.Config{ClientID: "test-client", ClientSecret: "test-secret", RefreshToken: "test-refresh", Profile: testProfile(t)}
	bcfg := defaultBackendConfig()
	for _, o := range opts {
		if o.emulator != nil {
			o.emulator(&ecfg)
		}
		if o.backend != nil {
			o.backend(&bcfg)
		}
	}
	e, err := emulator.New(ecfg)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, err := rest.New(ctx, rest.Config{
		Flow: "refresh_token", URL: srv.URL,
		ClientID: "test-client", ClientSecret: "test-secret", RefreshToken: "test-refresh",
		Retry: rest.RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("New client: %v", err)
	}
	h := &harness{t: t, e: e, url: srv.URL, c: c, log: &syncBuffer{}}
	bcfg.Logger = zerolog.New(h.log)
	h.bcfg = bcfg
	b, err := NewBackend(c, bcfg)
	if err != nil {
		t.Fatalf("NewBackend: %v", err)
	}
	h.b = b
	h.ctx = scimschema.WithActor(zerolog.New(h.log).WithContext(ctx), "test-idp")
	if err := b.Ready(h.ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	return h
}

// renewContext gives the harness a fresh 30-second context (same logger and actor): for tests
// whose seeding under -race on a loaded machine may use up most of the first one.
func (h *harness) renewContext() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h.t.Cleanup(cancel)
	h.ctx = scimschema.WithActor(zerolog.New(h.log).WithContext(ctx), "test-idp")
}

// replica starts another Backend, with its own Client and catalog, on the same org: what a second
// replica behind a load balancer is. Its catalog is loaded now.
func (h *harness) replica() *Backend {
	h.t.Helper()
	return h.replicaWith(nil)
}

// replicaWith is replica with its own backend configuration (changed from the harness's by
// configure).
func (h *harness) replicaWith(configure func(*BackendConfig)) *Backend {
	h.t.Helper()
	c, err := rest.New(h.ctx, rest.Config{
		Flow: "refresh_token", URL: h.url,
		ClientID: "test-client", ClientSecret: "test-secret", RefreshToken: "test-refresh",
		Retry: rest.RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: 5 * time.Millisecond},
	})
	if err != nil {
		h.t.Fatalf("New client: %v", err)
	}
	bcfg := h.bcfg
	bcfg.Users.Defaults = maps.Clone(h.bcfg.Users.Defaults)
	if configure != nil {
		configure(&bcfg)
	}
	b, err := NewBackend(c, bcfg)
	if err != nil {
		h.t.Fatalf("NewBackend: %v", err)
	}
	if err := b.Ready(h.ctx); err != nil {
		h.t.Fatalf("Ready: %v", err)
	}
	return b
}

func withBackend(f func(*BackendConfig)) harnessOption { return harnessOption{backend: f} }
func withEmulator(f func(*emulator.Config)) harnessOption {
	return harnessOption{emulator: f}
}

// calls runs f and returns how many Salesforce API calls it made.
func (h *harness) calls(f func()) int {
	h.t.Helper()
	before := h.e.Stats().APICalls
	f()
	return h.e.Stats().APICalls - before
}

// find returns the emulator row of object whose field equals value (case-insensitive), or nil.
func (h *harness) find(object, field, value string) map[string]any {
	h.t.Helper()
	for _, r := range h.e.List(object) {
		if s, _ := r[field].(string); strings.EqualFold(s, value) {
			return r
		}
	}
	return nil
}

func (h *harness) profileID(name string) string {
	h.t.Helper()
	p := h.find("Profile", "Name", name)
	if p == nil {
		h.t.Fatalf("no profile %q", name)
	}
	return p["Id"].(string)
}

func (h *harness) permSetID(name string) string {
	h.t.Helper()
	p := h.find("PermissionSet", "Name", name)
	if p == nil {
		h.t.Fatalf("no permission set %q", name)
	}
	return p["Id"].(string)
}

// insertUser creates a user directly in the emulator (not an API call).
func (h *harness) insertUser(username, profile string, extra map[string]any) string {
	h.t.Helper()
	local, _, _ := strings.Cut(username, "@")
	f := map[string]any{
		"Username": username, "LastName": "Test", "Email": username, "Alias": truncateRunes(local, 8),
		"CommunityNickname": local, "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
		"LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8", "ProfileId": h.profileID(profile),
	}
	for k, v := range extra {
		f[k] = v
	}
	id, err := h.e.Insert("User", f)
	if err != nil {
		h.t.Fatalf("Insert user %s: %v", username, err)
	}
	return id
}

func (h *harness) assign(userID, permSetID string) string {
	h.t.Helper()
	id, err := h.e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": userID, "PermissionSetId": permSetID})
	if err != nil {
		h.t.Fatalf("Insert assignment: %v", err)
	}
	return id
}

// login returns the UserLogin row of a user.
func (h *harness) login(userID string) map[string]any {
	h.t.Helper()
	for _, r := range h.e.List("UserLogin") {
		if rest.SameID(str(r["UserId"]), userID) {
			return r
		}
	}
	return nil
}

// assignees returns the users assigned to a permission set.
func (h *harness) assignees(permSetID string) map[string]bool {
	out := map[string]bool{}
	for _, r := range h.e.List("PermissionSetAssignment") {
		if rest.SameID(str(r["PermissionSetId"]), permSetID) {
			out[str(r["AssigneeId"])] = true
		}
	}
	return out
}

func parseFilter(t testing.TB, s string) filter.Expression {
	t.Helper()
	expr, err := filter.ParseFilter([]byte(s))
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", s, err)
	}
	return expr
}

func parsePath(t testing.TB, s string) *filter.Path {
	t.Helper()
	p, err := filter.ParsePath([]byte(s))
	if err != nil {
		t.Fatalf("ParsePath(%q): %v", s, err)
	}
	return &p
}

// wantKind fails unless err is a *scimschema.Error of kind k.
func wantKind(t testing.TB, err error, k scimschema.Kind) *scimschema.Error {
	t.Helper()
	var se *scimschema.Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v; want a *scimschema.Error of kind %d", err, k)
	}
	if se.Kind != k {
		t.Fatalf("error kind = %d (%q, cause %v); want %d", se.Kind, se.Detail, se.Err, k)
	}
	return se
}

func newUserAttrs(userName, given, family string) map[string]any {
	return map[string]any{
		"userName": userName,
		"name":     map[string]any{"givenName": given, "familyName": family},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	}
}

func TestNewBackendValidates(t *testing.T) {
	t.Parallel()
	cfg := defaultBackendConfig()
	cfg.Provisioning.DisableAction = DisableAction(7)
	cfg.Provisioning.PermissionSets = MembershipMode(-1)
	cfg.Groups.Source = GroupSource(3)
	cfg.Groups.Include = []string{"["}
	_, err := NewBackend(&rest.Client{}, cfg)
	if err == nil {
		t.Fatal("NewBackend accepted an invalid config")
	}
	for _, key := range []string{"provisioning.disable_action", "provisioning.permission_sets", "groups.source", "groups.include[0]"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("NewBackend error %q does not name %s", err, key)
		}
	}
}

func TestReadyLoadsCatalogOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if n := h.calls(func() {
		if err := h.b.Ready(h.ctx); err != nil {
			t.Fatalf("Ready: %v", err)
		}
	}); n != 0 {
		t.Errorf("Ready with a cached catalog made %d calls; want 0", n)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	steps := h.b.Check(h.ctx)
	if len(steps) != 7 {
		t.Fatalf("Check returned %d steps; want 7: %+v", len(steps), steps)
	}
	for _, s := range steps {
		if !s.OK {
			t.Errorf("step %q failed: %s", s.Name, s.Detail)
		}
	}

	cfg := defaultBackendConfig()
	cfg.Users.Defaults["profile"] = "No Such Profile"
	b, err := NewBackend(h.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range b.Check(h.ctx) {
		if s.Name == "default profile found" && (s.OK || !strings.Contains(s.Detail, "users.defaults.profile")) {
			t.Errorf("default profile step = %+v; want a failure naming users.defaults.profile", s)
		}
	}

	cfg = defaultBackendConfig()
	cfg.Users.Defaults["TimeZoneSidKey"] = "Mars/Olympus_Mons"
	cfg.Users.Defaults["Favourite_Colour"] = "blue"
	cfg.Users.Mapping = []scimschema.MappingEntry{{SCIM: "title", Salesforce: "No_Such_Field__c"}}
	if b, err = NewBackend(h.c, cfg); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range b.Check(h.ctx) {
		if s.Name == "user defaults and mapping valid" {
			found = true
			if s.OK || !strings.Contains(s.Detail, "users.defaults.TimeZoneSidKey") || !strings.Contains(s.Detail, "users.defaults.Favourite_Colour") ||
				!strings.Contains(s.Detail, "users.mapping[0].salesforce") {
				t.Errorf("defaults step = %+v; want a failure naming both bad defaults and the bad mapping entry", s)
			}
		}
	}
	if !found {
		t.Error("Check has no user defaults step")
	}
}

func TestCheckStopsWhenTokenFails(t *testing.T) {
	t.Parallel()
	e, err := emulator.New(emulator.Config{ClientID: "test-client", ClientSecret: "test-secret", RefreshToken: "test-refresh"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	c, err := rest.New(context.Background(), rest.Config{Flow: "refresh_token", URL: srv.URL, ClientID: "test-client", ClientSecret: "wrong-secret", RefreshToken: "test-refresh"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBackend(c, defaultBackendConfig())
	if err != nil {
		t.Fatal(err)
	}
	steps := b.Check(context.Background())
	if len(steps) == 0 || steps[0].OK || steps[0].Name != "token obtained" {
		t.Fatalf("Check = %+v; want the token step first, failed", steps)
	}
	for _, s := range steps[1:] {
		if !s.Skipped || !strings.Contains(s.Detail, `"token obtained"`) {
			t.Errorf("step after the failed token = %+v; want it skipped, naming the token step", s)
		}
	}
	if strings.Contains(steps[0].Detail, "wrong-secret") || strings.Contains(steps[0].Detail, "test-refresh") {
		t.Errorf("token step detail leaks a secret: %q", steps[0].Detail)
	}
}

func TestRequestLimitIsLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withEmulator(func(c *emulator.Config) { c.APILimit = 3 }))
	var err error
	for range 5 {
		if _, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 10}); err != nil {
			break
		}
	}
	se := wantKind(t, err, scimschema.KindLimited)
	if se.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %v; want > 0", se.RetryAfter)
	}
}

func TestOutageIsUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.e.InjectFault(emulator.Fault{Method: "POST", PathPattern: "/services/data/*", Status: 503, ErrorCode: "SERVER_UNAVAILABLE", Times: -1})
	_, err := h.b.GetUser(h.ctx, h.find("User", "Username", "admin@emulator.example.com")["Id"].(string), scimschema.ReadOptions{})
	se := wantKind(t, err, scimschema.KindUnavailable)
	if se.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %v; want > 0", se.RetryAfter)
	}
	if strings.Contains(se.Detail, "SERVER_UNAVAILABLE") {
		t.Errorf("Detail %q shows Salesforce's text", se.Detail)
	}
}

func TestRejectedCredentialsAreUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.e.ExpireTokens()
	h.e.InjectFault(emulator.Fault{PathPattern: "/services/oauth2/token", ForceInvalidGrant: true, Times: -1})
	for name, read := range map[string]func() error{
		"ListUsers": func() error {
			_, err := h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 1})
			return err
		},
		"ListGroups": func() error { // groups are never served from the catalog cache
			_, err := h.b.ListGroups(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 1, ExcludedAttributes: []string{"members"}})
			return err
		},
	} {
		se := wantKind(t, read(), scimschema.KindUnavailable)
		if strings.Contains(se.Detail, "test-refresh") || strings.Contains(se.Detail, "test-secret") {
			t.Errorf("%s: Detail %q leaks a secret", name, se.Detail)
		}
	}
}

func TestConcurrentOperationsShareTheCatalog(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.CatalogTTL = time.Nanosecond }))
	id := h.insertUser("conc@example.com", "Standard User", nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Go(func() {
			if _, err := h.b.GetUser(h.ctx, id, scimschema.ReadOptions{}); err != nil {
				errs <- err
			}
			if _, err := h.b.ListGroups(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 10}); err != nil {
				errs <- err
			}
			if i%2 == 0 {
				if _, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "T"}}, ""); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent operation: %v", err)
	}
}

// Every client Kind reaches the SCIM kind the server answers with, and no Detail carries
// Salesforce's message (it can echo submitted values).
func TestFailMapsEveryClientKind(t *testing.T) {
	t.Parallel()
	b, err := NewBackend(&rest.Client{}, defaultBackendConfig())
	if err != nil {
		t.Fatal(err)
	}
	const secret = "jdoe@secret.example"
	for _, tc := range []struct {
		name string
		err  error
		want scimschema.Kind
	}{
		{"not found", &rest.Error{Status: 404, Code: "NOT_FOUND", Message: secret, Kind: rest.KindNotFound}, scimschema.KindNotFound},
		{"conflict", &rest.Error{Status: 400, Code: "DUPLICATE_VALUE", Message: "duplicate value found: " + secret, Kind: rest.KindConflict}, scimschema.KindUniqueness},
		{"invalid", &rest.Error{Status: 400, Code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: secret, Kind: rest.KindInvalid}, scimschema.KindInvalidValue},
		{"limited", &rest.Error{Status: 403, Code: "REQUEST_LIMIT_EXCEEDED", Message: secret, Kind: rest.KindLimited}, scimschema.KindLimited},
		{"unavailable", &rest.Error{Status: 503, Code: "SERVER_UNAVAILABLE", Message: secret, Kind: rest.KindUnavailable}, scimschema.KindUnavailable},
		{"auth", &rest.Error{Status: 401, Code: "INVALID_SESSION_ID", Message: secret, Kind: rest.KindAuth}, scimschema.KindUnavailable},
		{"locked", &rest.Error{Status: 400, Code: "UNABLE_TO_LOCK_ROW", Message: secret, Kind: rest.KindLocked}, scimschema.KindUnavailable},
		{"other", &rest.Error{Status: 403, Code: "INSUFFICIENT_ACCESS", Message: secret, Kind: rest.KindOther}, scimschema.KindInternal},
		{"wrapped", fmt.Errorf("reading: %w", &rest.Error{Status: 400, Code: "DUPLICATE_USERNAME", Message: secret, Kind: rest.KindConflict}), scimschema.KindUniqueness},
		{"cancelled", context.Canceled, scimschema.KindUnavailable},
	} {
		se := wantKind(t, b.fail(context.Background(), tc.err), tc.want)
		if strings.Contains(se.Detail, secret) || se.Detail == "" {
			t.Errorf("%s: Detail %q is empty or shows Salesforce's message", tc.name, se.Detail)
		}
		if (tc.want == scimschema.KindLimited || tc.want == scimschema.KindUnavailable) && se.RetryAfter <= 0 {
			t.Errorf("%s: RetryAfter = %v; want > 0", tc.name, se.RetryAfter)
		}
	}
}

// With the daily allowance used up, check blames the allowance, not the integration user's permissions.
func TestCheckNamesAnExhaustedAllowance(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withEmulator(func(c *emulator.Config) { c.APILimit = 1 }))
	steps := h.b.Check(h.ctx)
	blamed := false
	for _, s := range steps {
		if !s.OK && strings.Contains(s.Detail, "permission") {
			t.Errorf("step %q blames permissions for the API limit: %s", s.Name, s.Detail)
		}
		if !s.OK && strings.Contains(s.Detail, "allowance is used up") {
			blamed = true
		}
	}
	if !blamed {
		t.Errorf("no step names the exhausted allowance: %+v", steps)
	}
}

// testProfile is the emulator profile SCIM_BRIDGE_TEST_EMULATOR_PROFILE names (.ci/run runs the
// package's tests under both).
func testProfile(t testing.TB) emulator.Profile {
	t.Helper()
	p, err := emulator.ProfileFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
