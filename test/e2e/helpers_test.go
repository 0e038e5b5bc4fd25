// Package e2e holds the end-to-end acceptance tests: each test starts the bridge in front of the
// in-process Salesforce emulator (app.StartDemo, both talking real HTTP on loopback), replays what
// an identity provider sends, and asserts what Salesforce received by reading the emulator's
// records and API-call counter.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app"
	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	salesforceURN = "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User"
	patchURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	errorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"

	// adminUsername is the emulator's seeded integration user.
	adminUsername = "admin@emulator.example.com"
	// unknownUserID is a well-formed (case-safe) User id that no org holds (Entra's "Test
	// connection" probe); unknownGroupID the same for a PermissionSet.
	unknownUserID  = "005000000000zZZAAY"
	unknownGroupID = "0PS000000000zZZGAY"
)

// bridge is one running bridge + emulator pair.
type bridge struct {
	*app.Demo
	client *http.Client
}

// start runs a bridge whose configuration is the demo's plus configYAML (DESIGN.md key names).
func start(t *testing.T, configYAML string) *bridge {
	t.Helper()
	return startWith(t, app.DemoOptions{ConfigYAML: configYAML})
}

// startWith runs a bridge with the given options; the token is always set here.
func startWith(t *testing.T, opts app.DemoOptions) *bridge {
	t.Helper()
	opts.Token = "e2e-bearer-token-0123456789"
	opts.Emulator = withTestProfile(t, opts.Emulator)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := app.StartDemo(ctx, opts)
	if err != nil {
		t.Fatalf("StartDemo: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Demo.Close: %v", err)
		}
	})
	return &bridge{Demo: d, client: &http.Client{Timeout: 20 * time.Second}}
}

// bigSeed is the default org with enough Salesforce licences for tests that need many users.
func bigSeed(seats int) func(*emulator.Config) {
	return func(c *emulator.Config) {
		s := emulator.DefaultSeed()
		for i := range s.Licenses {
			s.Licenses[i].TotalLicenses = seats
		}
		c.Seed = s
	}
}

// do sends one SCIM request. body is nil, a string (sent verbatim) or a value marshalled to JSON.
// It returns the status and the decoded JSON object (nil when the body is empty).
func (b *bridge) do(t testing.TB, method, path string, body any) (int, map[string]any) {
	t.Helper()
	status, _, doc := b.doHeader(t, method, path, body)
	return status, doc
}

func (b *bridge) doHeader(t testing.TB, method, path string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %s %s body: %v", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.BaseURL+path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+b.Token)
	req.Header.Set("Accept", "application/scim+json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return resp.StatusCode, resp.Header, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s %s = %d with a body that is not a JSON object: %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, doc
}

// must sends a request and fails the test unless the status is one of want.
func (b *bridge) must(t testing.TB, want []int, method, path string, body any) map[string]any {
	t.Helper()
	status, doc := b.do(t, method, path, body)
	if !slices.Contains(want, status) {
		t.Fatalf("%s %s = %d; want %v; body %v", method, path, status, want, doc)
	}
	return doc
}

var (
	ok200     = []int{http.StatusOK}
	created   = []int{http.StatusCreated}
	noContent = []int{http.StatusNoContent}
	// patched is what a PATCH may answer: the resource, or nothing (RFC 7644 §3.5.2).
	patched = []int{http.StatusOK, http.StatusNoContent}
)

// calls returns how many Salesforce API calls fn cost (token calls are not API calls).
func (b *bridge) calls(fn func()) int {
	before := b.Emulator.Stats().APICalls
	fn()
	return b.Emulator.Stats().APICalls - before
}

// within runs one SCIM request and fails when it costs more Salesforce calls than budget
// (reference salesforce-api.md §7.11). It returns the status and body.
func (b *bridge) within(t testing.TB, budget int, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var status int
	var doc map[string]any
	n := b.calls(func() { status, doc = b.do(t, method, path, body) })
	if n > budget {
		t.Errorf("%s %s cost %d Salesforce API calls; budget is %d", method, path, n, budget)
	}
	return status, doc
}

// warm loads the bridge's catalog (profiles, permission sets, picklists) so that later call counts
// measure only the operation.
func (b *bridge) warm(t testing.TB) {
	t.Helper()
	b.must(t, ok200, http.MethodGet, "/Groups?excludedAttributes=members", nil)
}

// user returns the emulator's User row; the test fails when there is none.
func (b *bridge) user(t testing.TB, id string) map[string]any {
	t.Helper()
	row := b.Emulator.Get("User", id)
	if row == nil {
		t.Fatalf("Salesforce has no User %s", id)
	}
	return row
}

// frozen reports UserLogin.IsFrozen of a user; the test fails when the user has no UserLogin row.
func (b *bridge) frozen(t testing.TB, userID string) bool {
	t.Helper()
	for _, row := range b.Emulator.List("UserLogin") {
		if sameID(str(row["UserId"]), userID) {
			v, _ := row["IsFrozen"].(bool)
			return v
		}
	}
	t.Fatalf("Salesforce has no UserLogin row for User %s", userID)
	return false
}

// userCount is the number of User rows in the org.
func (b *bridge) userCount() int { return len(b.Emulator.List("User")) }

// profileOwned is the set of permission set ids owned by profiles.
func (b *bridge) profileOwned() map[string]bool {
	out := map[string]bool{}
	for _, ps := range b.Emulator.List("PermissionSet") {
		if owned, _ := ps["IsOwnedByProfile"].(bool); owned {
			out[id15(str(ps["Id"]))] = true
		}
	}
	return out
}

// assignedSets returns the ids (18 characters, sorted) of the non-profile permission sets assigned
// to a user.
func (b *bridge) assignedSets(userID string) []string {
	owned := b.profileOwned()
	out := []string{}
	for _, a := range b.Emulator.List("PermissionSetAssignment") {
		ps := str(a["PermissionSetId"])
		if sameID(str(a["AssigneeId"]), userID) && ps != "" && !owned[id15(ps)] {
			out = append(out, ps)
		}
	}
	slices.Sort(out)
	return out
}

// members returns the ids (sorted) of the users assigned a permission set.
func (b *bridge) members(psID string) []string {
	out := []string{}
	for _, a := range b.Emulator.List("PermissionSetAssignment") {
		if sameID(str(a["PermissionSetId"]), psID) {
			out = append(out, str(a["AssigneeId"]))
		}
	}
	slices.Sort(out)
	return out
}

// permissionSet returns the id of the permission set with that Label.
func (b *bridge) permissionSet(t testing.TB, label string) string {
	t.Helper()
	for _, ps := range b.Emulator.List("PermissionSet") {
		if ps["Label"] == label {
			return str(ps["Id"])
		}
	}
	t.Fatalf("Salesforce has no permission set labelled %q", label)
	return ""
}

// profile returns the id of the profile with that Name.
func (b *bridge) profile(t testing.TB, name string) string {
	t.Helper()
	for _, p := range b.Emulator.List("Profile") {
		if p["Name"] == name {
			return str(p["Id"])
		}
	}
	t.Fatalf("Salesforce has no profile %q", name)
	return ""
}

// profilePermissionSet returns the id of the permission set owned by the named profile.
func (b *bridge) profilePermissionSet(t testing.TB, profileName string) string {
	t.Helper()
	prof := b.profile(t, profileName)
	for _, ps := range b.Emulator.List("PermissionSet") {
		if owned, _ := ps["IsOwnedByProfile"].(bool); owned && sameID(str(ps["ProfileId"]), prof) {
			return str(ps["Id"])
		}
	}
	t.Fatalf("Salesforce has no permission set owned by profile %q", profileName)
	return ""
}

// adminID is the id of the seeded integration user.
func (b *bridge) adminID(t testing.TB) string {
	t.Helper()
	return b.userByUsername(t, adminUsername)
}

// userByUsername returns the id of the User with that Username.
func (b *bridge) userByUsername(t testing.TB, username string) string {
	t.Helper()
	for _, u := range b.Emulator.List("User") {
		if strings.EqualFold(str(u["Username"]), username) {
			return str(u["Id"])
		}
	}
	t.Fatalf("Salesforce has no User %q", username)
	return ""
}

// insertUser creates a User directly in Salesforce (as an admin would), with the Standard User
// profile unless profile is given, and returns its id.
func (b *bridge) insertUser(t testing.TB, local string, profile ...string) string {
	t.Helper()
	prof := "Standard User"
	if len(profile) > 0 {
		prof = profile[0]
	}
	alias := local
	if len(alias) > 8 {
		alias = alias[:8]
	}
	id, err := b.Emulator.Insert("User", map[string]any{
		"Username": local + "@e2e.example.com", "LastName": local, "Email": local + "@e2e.example.com",
		"Alias": alias, "CommunityNickname": local, "ProfileId": b.profile(t, prof), "TimeZoneSidKey": "America/Los_Angeles",
		"LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8",
	})
	if err != nil {
		t.Fatalf("inserting User %s: %v", local, err)
	}
	return id
}

// assign makes a permission set assignment directly in Salesforce (not through the bridge).
func (b *bridge) assign(t testing.TB, userID, psID string) {
	t.Helper()
	if _, err := b.Emulator.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": userID, "PermissionSetId": psID}); err != nil {
		t.Fatalf("assigning %s to %s in Salesforce: %v", psID, userID, err)
	}
}

// assertFields compares the fields named in want with got; a nil want means "empty or absent".
func assertFields(t testing.TB, what string, got, want map[string]any) {
	t.Helper()
	sub := map[string]any{}
	for k := range want {
		v := got[k]
		if s, ok := v.(string); ok && s == "" {
			v = nil
		}
		sub[k] = v
	}
	if diff := cmp.Diff(want, sub); diff != "" {
		t.Errorf("%s fields (-want +got):\n%s", what, diff)
	}
}

// assertError checks a SCIM error response: the status, the scimType when want has one, and that
// the detail mentions every string in mentions (case-insensitively; "a|b" accepts either).
func assertError(t testing.TB, op string, status int, doc map[string]any, wantStatus int, scimType string, mentions ...string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s = %d; want %d (body %v)", op, status, wantStatus, doc)
		return
	}
	if doc == nil {
		t.Errorf("%s = %d with no body; want a SCIM error body", op, status)
		return
	}
	if !hasSchema(doc, errorURN) {
		t.Errorf("%s error body schemas = %v; want %s", op, doc["schemas"], errorURN)
	}
	if got := fmt.Sprint(doc["status"]); got != fmt.Sprint(wantStatus) {
		t.Errorf("%s error body status = %q; want %q", op, got, fmt.Sprint(wantStatus))
	}
	if scimType != "" && doc["scimType"] != scimType {
		t.Errorf("%s scimType = %v; want %q (detail %q)", op, doc["scimType"], scimType, doc["detail"])
	}
	detail := strings.ToLower(str(doc["detail"]))
	for _, m := range mentions {
		// "a|b" accepts either wording.
		if !slices.ContainsFunc(strings.Split(m, "|"), func(alt string) bool { return strings.Contains(detail, strings.ToLower(alt)) }) {
			t.Errorf("%s detail = %q; want it to mention %q", op, doc["detail"], m)
		}
	}
}

func hasSchema(doc map[string]any, urn string) bool {
	list, _ := doc["schemas"].([]any)
	for _, s := range list {
		if s == urn {
			return true
		}
	}
	return false
}

// resources returns a ListResponse's Resources, failing on anything else.
func resources(t testing.TB, doc map[string]any) []map[string]any {
	t.Helper()
	if !hasSchema(doc, "urn:ietf:params:scim:api:messages:2.0:ListResponse") {
		t.Fatalf("not a ListResponse: %v", doc)
	}
	var out []map[string]any
	list, _ := doc["Resources"].([]any)
	for _, r := range list {
		m, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("ListResponse resource is not an object: %v", r)
		}
		out = append(out, m)
	}
	return out
}

// total returns a ListResponse's totalResults.
func total(t testing.TB, doc map[string]any) int {
	t.Helper()
	n, ok := doc["totalResults"].(float64)
	if !ok {
		t.Fatalf("ListResponse without totalResults: %v", doc)
	}
	return int(n)
}

// filterPath is path?filter=<f>&<extra>, with the filter URL-encoded.
func filterPath(path, f string, extra ...string) string {
	q := "filter=" + url.QueryEscape(f)
	for _, e := range extra {
		q += "&" + e
	}
	return path + "?" + q
}

// patch builds a PatchOp message from operations.
func patch(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, op := range ops {
		list[i] = op
	}
	return map[string]any{"schemas": []any{patchURN}, "Operations": list}
}

// op is one PATCH operation; a nil value is omitted, path "" is a path-less operation.
func op(name, path string, value any) map[string]any {
	m := map[string]any{"op": name}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

// memberValues is the SCIM members/value array for ids.
func memberValues(ids ...string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

// memberIDs returns the sorted member values of a SCIM Group.
func memberIDs(doc map[string]any) []string {
	out := []string{}
	list, _ := doc["members"].([]any)
	for _, m := range list {
		if mm, ok := m.(map[string]any); ok {
			out = append(out, str(mm["value"]))
		}
	}
	slices.Sort(out)
	return out
}

// ids returns the given ids sorted, for comparison with members and assignedSets.
func ids(list ...string) []string {
	out := slices.Clone(list)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

// assertIDs compares two id lists regardless of 15/18-character form.
func assertIDs(t testing.TB, what string, got, want []string) {
	t.Helper()
	norm := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = id15(s)
		}
		slices.Sort(out)
		return out
	}
	if diff := cmp.Diff(norm(want), norm(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func id15(id string) string {
	if len(id) == 18 {
		return id[:15]
	}
	return id
}

func sameID(a, b string) bool { return a != "" && id15(a) == id15(b) }

// containsID reports whether text mentions id in its 15- or 18-character form.
func containsID(text, id string) bool { return strings.Contains(text, id15(id)) }

// appOptions is the demo options for a configuration overlay and an emulator tweak.
func appOptions(configYAML string, emu func(*emulator.Config)) app.DemoOptions {
	return app.DemoOptions{ConfigYAML: configYAML, Emulator: emu}
}

// boolAttr reads a boolean SCIM attribute, failing when it is missing or not a boolean.
func boolAttr(t testing.TB, doc map[string]any, name string) bool {
	t.Helper()
	v, ok := doc[name].(bool)
	if !ok {
		t.Fatalf("resource attribute %q = %#v; want a boolean", name, doc[name])
	}
	return v
}

// userStep is one write to /Users/{id} and the Salesforce User fields it must leave behind.
type userStep struct {
	name   string
	method string // "" = PATCH
	body   any
	budget int            // Salesforce API calls allowed (salesforce-api.md §7.11); 0 = 1
	want   map[string]any // User fields after the step
	frozen *bool          // UserLogin.IsFrozen after the step; nil = not checked
	active *bool          // SCIM active read back with GET; nil = not checked
}

// runUserSteps applies the steps to one user in order; each is a subtest.
func (b *bridge) runUserSteps(t *testing.T, id string, steps []userStep) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			method, want := s.method, patched
			if method == "" {
				method = http.MethodPatch
			}
			if method == http.MethodPut {
				want = ok200
			}
			budget := s.budget
			if budget == 0 {
				budget = 1
			}
			status, doc := b.within(t, budget, method, "/Users/"+id, s.body)
			if !slices.Contains(want, status) {
				t.Fatalf("%s /Users/%s = %d; want %v; body %v", method, id, status, want, doc)
			}
			assertFields(t, "User", b.user(t, id), s.want)
			if s.frozen != nil {
				if got := b.frozen(t, id); got != *s.frozen {
					t.Errorf("UserLogin.IsFrozen = %v; want %v", got, *s.frozen)
				}
			}
			if s.active != nil {
				doc := b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)
				if got := boolAttr(t, doc, "active"); got != *s.active {
					t.Errorf("GET /Users/%s active = %v; want %v", id, got, *s.active)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// assertAlias checks the Salesforce rule: Alias is set and at most 8 characters.
func assertAlias(t testing.TB, row map[string]any) {
	t.Helper()
	alias := str(row["Alias"])
	if alias == "" || len([]rune(alias)) > 8 {
		t.Errorf("User.Alias = %q; want 1 to 8 characters", alias)
	}
}

// assertMatch runs an IdP's match-before-create query and checks it finds exactly wantIDs.
func (b *bridge) assertMatch(t testing.TB, path, f string, extra []string, wantIDs ...string) {
	t.Helper()
	p := filterPath(path, f, extra...)
	status, doc := b.within(t, 1, http.MethodGet, p, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200 (a ListResponse, never 404); body %v", p, status, doc)
	}
	if got := total(t, doc); got != len(wantIDs) {
		t.Errorf("GET %s totalResults = %d; want %d", p, got, len(wantIDs))
	}
	var got []string
	for _, r := range resources(t, doc) {
		got = append(got, str(r["id"]))
	}
	assertIDs(t, "GET "+p+" ids", got, wantIDs)
}

// withTestProfile runs the emulator under the profile SCIM_BRIDGE_TEST_EMULATOR_PROFILE names
// (.ci/run runs the suite under both), then applies tweak.
func withTestProfile(t testing.TB, tweak func(*emulator.Config)) func(*emulator.Config) {
	t.Helper()
	profile, err := emulator.ProfileFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *emulator.Config) {
		c.Profile = profile
		if tweak != nil {
			tweak(c)
		}
	}
}
