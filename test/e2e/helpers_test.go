// Package e2e holds the end-to-end acceptance tests: each test starts the bridge in front of the
// in-process Salesforce emulator (app.StartDemo, both talking real HTTP on loopback), replays what
// an identity provider sends, and asserts what Salesforce received by reading the emulator's
// records and API-call counter.
package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

const (
	// adminUsername is the emulator's seeded integration user.
	adminUsername = "admin@emulator.example.com"
	// unknownUserID is a well-formed (case-safe) User id that no org holds (Entra's "Test
	// connection" probe); unknownGroupID the same for a PermissionSet.
	unknownUserID  = "005000000000zZZAAY"
	unknownGroupID = "0PS000000000zZZGAY"
)

// bridge is one running bridge + emulator pair (test/harness) with the e2e dialect: requests
// whose answers must be JSON objects, call budgets, Salesforce-side fixtures.
type bridge struct {
	*harness.Bridge
}

// start runs a bridge whose configuration is the demo's plus configYAML (DESIGN.md key names).
func start(t *testing.T, configYAML string) *bridge {
	t.Helper()
	return startWith(t, harness.Options{Config: configYAML})
}

// startWith runs a bridge with the given options; the token is always set here.
func startWith(t *testing.T, opts harness.Options) *bridge {
	t.Helper()
	opts.Token = "e2e-bearer-token-0123456789"
	return &bridge{harness.Start(t, opts)}
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
	r := b.SCIM.Do(t, method, path, body)
	if r.DecodeErr != nil {
		t.Fatalf("%s %s = %d with a body that is not a JSON object: %q", method, path, r.Status, r.Raw)
	}
	return r.Status, r.Header, r.Doc
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
	before := b.Org.APICalls()
	fn()
	return b.Org.APICalls() - before
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

// userCount is the number of User rows in the org.
func (b *bridge) userCount() int { return len(b.Org.List("User")) }

// adminID is the id of the seeded integration user.
func (b *bridge) adminID(t testing.TB) string {
	t.Helper()
	return b.Org.UserByUsername(t, adminUsername)
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
	id, err := b.Org.Insert("User", map[string]any{
		"Username": local + "@e2e.example.com", "LastName": local, "Email": local + "@e2e.example.com",
		"Alias": alias, "CommunityNickname": local, "ProfileId": b.Org.Profile(t, prof), "TimeZoneSidKey": "America/Los_Angeles",
		"LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8",
	})
	if err != nil {
		t.Fatalf("inserting User %s: %v", local, err)
	}
	return id
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
	if !hasSchema(doc, harness.ErrorURN) {
		t.Errorf("%s error body schemas = %v; want %s", op, doc["schemas"], harness.ErrorURN)
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
	if !hasSchema(doc, harness.ListURN) {
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

// patch, op and memberValues are harness.Patch, harness.Op and harness.Members.
func patch(ops ...map[string]any) map[string]any     { return harness.Patch(ops...) }
func op(name, path string, value any) map[string]any { return harness.Op(name, path, value) }
func memberValues(ids ...string) []any               { return harness.Members(ids...) }

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

func str(v any) string        { return harness.Str(v) }
func id15(id string) string   { return harness.ID15(id) }
func sameID(a, b string) bool { return harness.SameID(a, b) }

// containsID reports whether text mentions id in its 15- or 18-character form.
func containsID(text, id string) bool { return strings.Contains(text, id15(id)) }

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
			assertFields(t, "User", b.Org.User(t, id), s.want)
			if s.frozen != nil {
				if got := b.Org.Frozen(t, id); got != *s.frozen {
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
