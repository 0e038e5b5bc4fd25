package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// These tests check the suite itself against fakeServer: it must pass a conforming server whichever
// choices the RFCs leave to it, fail the check that covers each injected fault, contain the
// cascade a fault would cause, stop at once with a plain message on a setup error, and accept a
// deviation only when switched on.

func runAgainstFake(t *testing.T, choices fakeChoices, deviations []Deviation, faults ...string) Report {
	t.Helper()
	srv := httptest.NewServer(newFakeServer("fake-token", choices, faults...))
	t.Cleanup(srv.Close)
	rep, err := Execute(t.Context(), Target{BaseURL: srv.URL + "/scim/v2", Token: "fake-token", HTTPClient: srv.Client(), Deviations: deviations})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return rep
}

// checks lists the names of the results in section sec ("" = both) with status st.
func checks(rep Report, sec Section, st Status) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Status == st && (sec == "" || r.Section == sec) {
			out = append(out, r.Check)
		}
	}
	return out
}

func result(rep Report, name string) Result {
	for _, r := range rep.Results {
		if r.Check == name {
			return r
		}
	}
	return Result{}
}

const okta405 = "IdP-okta/01-discovery-endpoints-answer-405-to-post"

func TestSuitePassesPermissiveServer(t *testing.T) {
	t.Parallel()
	rep := runAgainstFake(t, permissive, nil)
	for _, r := range rep.Results {
		if r.Status == Failed && r.Section == SectionRFC {
			t.Errorf("%s failed: %s", r.Check, r.Detail)
		}
	}
	if rep.RFC.Failed != 0 || rep.RFC.NotRun != 0 || !rep.OK(false) {
		t.Errorf("RFC tally %s; want no failures", rep.RFC)
	}
	// The only IdP step a conforming server may fail here is one that asks for more than the RFCs.
	if got := checks(rep, SectionIdP, Failed); !slices.Equal(got, []string{okta405}) {
		t.Errorf("IdP failures = %v; want only %s (the fake answers 404, Okta's test wants 405)", got, okta405)
	}
	if r := result(rep, okta405); r.Step != StepIdPSpecific {
		t.Errorf("%s is marked %q; want %q", okta405, r.Step, StepIdPSpecific)
	}
	wantSkipped := []string{"RFC7644-3.7/bulk-create-user", "RFC7644-3.5.2/change-password"}
	if got := checks(rep, "", Skipped); !slices.Equal(got, wantSkipped) {
		t.Errorf("skipped = %v; want %v (the capabilities the fake does not advertise)", got, wantSkipped)
	}
	if w := result(rep, "RFC7643-4.1.2/user-groups-reflect-membership"); w.Status != Passed || w.Warning == "" {
		t.Errorf("user-groups-reflect-membership = %s with warning %q; want passed with a warning (no groups on User)", w.Status, w.Warning)
	}
	if w := result(rep, "RFC7644-4/resource-type-by-name"); w.Status != Passed || w.Warning == "" {
		t.Errorf("resource-type-by-name = %s with warning %q; want passed with a warning (404)", w.Status, w.Warning)
	}
	if rep.Requests >= 400 {
		t.Errorf("the suite made %d requests; the budget is < 400", rep.Requests)
	}
	if len(rep.Results) < 150 {
		t.Errorf("only %d checks ran", len(rep.Results))
	}
	if r := result(rep, "suite/cleanup"); r.Status != Passed {
		t.Errorf("cleanup: %s", r.Detail)
	}
}

// The strict server makes the other choice everywhere the RFCs allow one, and refuses the IdPs'
// non-standard forms with 400: the RFC result stays clean; only IdP-specific steps fail.
func TestSuitePassesStrictServer(t *testing.T) {
	t.Parallel()
	rep := runAgainstFake(t, strict, nil)
	for _, r := range rep.Results {
		if r.Status == Failed && r.Section == SectionRFC {
			t.Errorf("%s failed: %s", r.Check, r.Detail)
		}
		if r.Status == Failed && r.Section == SectionIdP && r.Step != StepIdPSpecific {
			t.Errorf("standard step %s failed: %s", r.Check, r.Detail)
		}
	}
	for _, want := range []string{
		"IdP-entra-legacy/11-deprovision-with-the-string-boolean-false",
		"IdP-entra-flag/04-path-less-replace-with-dotted-and-urn-keys",
		"IdP-entra-flag/06-set-manager-as-a-bare-id",
		"IdP-entra-validator/07-update-attributes",
		"IdP-entra/no-null-in-discovery-documents",
	} {
		if r := result(rep, want); r.Status != Failed {
			t.Errorf("%s = %s; want failed (the strict server refuses the form)", want, r.Status)
		}
	}
	// A step that only makes sense after a refused one does not run; it does not fail again.
	if r := result(rep, "IdP-entra-legacy/12-deprovisioned-user-stays-readable"); r.Status != NotRun ||
		!strings.Contains(r.Detail, "depends on IdP-entra-legacy/11-") {
		t.Errorf("deprovisioned-user-stays-readable = %s %q; want not run, depending on step 11", r.Status, r.Detail)
	}
	if !rep.OK(false) || rep.OK(true) {
		t.Errorf("OK(false) = %v, OK(true) = %v; want true, false", rep.OK(false), rep.OK(true))
	}
}

func TestReplaysLeaveOutTheEnterpriseExtensionWhenNotAdvertised(t *testing.T) {
	t.Parallel()
	choices := permissive
	choices.noEnterprise = true
	rep := runAgainstFake(t, choices, nil)
	for _, r := range rep.Results {
		if r.Status == Failed && r.Check != okta405 {
			t.Errorf("%s failed: %s", r.Check, r.Detail)
		}
	}
	if r := result(rep, "IdP-entra-legacy/02-create-user"); r.Status != Passed || !strings.Contains(r.Warning, "enterprise") {
		t.Errorf("entra-legacy create = %s, warning %q; want passed, noting the extension data left out", r.Status, r.Warning)
	}
	if r := result(rep, "IdP-entra-flag/06-set-manager-as-a-bare-id"); r.Status != Skipped {
		t.Errorf("set manager = %s; want skipped (only extension data)", r.Status)
	}
}

func TestUserSchemaWithoutGroupsSkipsTheReadOnlyCheck(t *testing.T) {
	t.Parallel()
	choices := permissive
	choices.noGroupsAttr = true
	rep := runAgainstFake(t, choices, nil)
	if got := checks(rep, SectionRFC, Failed); len(got) != 0 {
		t.Errorf("RFC failures = %v; want none", got)
	}
	if r := result(rep, "RFC7644-3.5.2/readOnly-attribute-mutability"); r.Status != Skipped {
		t.Errorf("readOnly-attribute-mutability = %s; want skipped (no readOnly attribute to try)", r.Status)
	}
}

func TestSuiteCleansUp(t *testing.T) {
	t.Parallel()
	for name, choices := range map[string]fakeChoices{"permissive": permissive, "strict": strict} {
		fake := newFakeServer("fake-token", choices)
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)
		if _, err := Execute(t.Context(), Target{BaseURL: srv.URL + "/scim/v2", Token: "fake-token"}); err != nil {
			t.Fatal(err)
		}
		fake.mu.Lock()
		if len(fake.users) != 0 || len(fake.groups) != 0 {
			t.Errorf("%s: after the run the fake still holds %d users and %d groups; want none", name, len(fake.users), len(fake.groups))
		}
		fake.mu.Unlock()
	}
}

// Each fault named in issue 16 (and a few more) is injected into the permissive server; the RFC
// checks that cover it must fail.
func TestSuiteDetectsFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault    string
		mustFail []string
	}{
		{faultPatchIgnored, []string{"RFC7644-3.5.2.3/replace-simple", "RFC7644-3.5.2.3/replace-active"}},
		{faultFilterIgnored, []string{"RFC7644-3.4.2.2/filter-eq-userName", "RFC7644-3.4.2/filter-no-match-200-empty"}},
		{faultGhost200, []string{"RFC7644-3.12/404-get-user", "RFC7644-3.12/404-get-group", "RFC7644-3.12/404-patch-user"}},
		{faultDuplicateAccepted, []string{"RFC7644-3.3/duplicate-userName-409"}},
		{faultIgnoreIfMatch, []string{"RFC7644-3.14/if-match-stale-412", "RFC7644-3.14/put-if-match-stale-412"}},
		{faultDeleteNoop, []string{"RFC7644-3.6/delete-user", "RFC7644-3.6/delete-group"}},
		{faultEchoPassword, []string{"RFC7643-4.1.1/password-never-returned"}},
		{faultPagingIgnored, []string{"RFC7644-3.4.2.4/pagination-pages", "RFC7644-3.4.2.4/pagination-count-0"}},
		{faultMemberRemovalNoop, []string{"RFC7644-3.5.2.2/group-remove-member-filtered"}},
		{faultAnyToken, []string{"RFC7644-2/401-wrong-token", "RFC7644-2/401-without-token"}},
		{faultWrongContentType, []string{"RFC7644-3.1/content-type-every-response"}},
		{faultEmptyFilter404, []string{"RFC7644-3.4.2/filter-no-match-200-empty", "RFC7643-3.1/filter-externalId-caseExact"}},
		{faultNumericStatus, []string{"RFC7644-2/401-without-token", "RFC7644-3.12/404-get-user", "RFC7644-3.3/duplicate-userName-409"}},
		{faultOrLeftToRight, []string{"RFC7644-3.4.2.2/filter-and-binds-tighter-than-or"}},
		{faultIgnoreStartIndex, []string{"RFC7644-3.4.2.4/pagination-pages", "RFC7644-3.4.2.4/pagination-past-end"}},
		{faultPatchAddReplaces, []string{"RFC7644-3.5.2.1/add-multivalued-appends"}},
		{faultDeleteKeepsUser, []string{"RFC7644-3.6/delete-user"}},
		{faultMembershipMerge, []string{"RFC7644-3.5.1/replace-group", "RFC7644-3.5.2.3/group-replace-members"}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			t.Parallel()
			rep := runAgainstFake(t, permissive, nil, tt.fault)
			failed := checks(rep, SectionRFC, Failed)
			for _, want := range tt.mustFail {
				if !slices.Contains(failed, want) {
					t.Errorf("with fault %s, %s did not fail; RFC failures: %v", tt.fault, want, failed)
				}
			}
			if rep.OK(false) {
				t.Errorf("RFC summary %q; want failures", rep.RFC)
			}
		})
	}
}

// One accepted duplicate is one failure: the duplicate is deleted at once, so no later filter or
// count sees two users.
func TestAcceptedDuplicateDoesNotCascade(t *testing.T) {
	t.Parallel()
	rep := runAgainstFake(t, permissive, nil, faultDuplicateAccepted)
	if got := checks(rep, SectionRFC, Failed); !slices.Equal(got, []string{"RFC7644-3.3/duplicate-userName-409"}) {
		t.Errorf("RFC failures = %v; want only the duplicate check", got)
	}
	if got := checks(rep, SectionIdP, Failed); !slices.Equal(got, []string{"IdP-entra-validator/06-create-the-same-user-again", okta405}) {
		t.Errorf("IdP failures = %v; want only Okta's 405 and the validator's duplicate step", got)
	}
}

// When users cannot be created, the checks that need one report "not run: depends on …" instead
// of failing one by one.
func TestFailedFixtureMakesDependentsNotRun(t *testing.T) {
	t.Parallel()
	rep := runAgainstFake(t, permissive, nil, faultCreateUserRefused)
	if r := result(rep, checkCreateUser); r.Status != Failed {
		t.Fatalf("create-user = %s; want failed", r.Status)
	}
	for _, name := range []string{"RFC7644-3.4.1/get-user", "RFC7644-3.4.2.2/filter-eq-userName", "RFC7644-3.5.2.3/replace-simple", "RFC7644-3.3/create-group"} {
		if r := result(rep, name); r.Status != NotRun || r.Detail != "not run: depends on "+checkCreateUser {
			t.Errorf("%s = %s %q; want not run: depends on %s", name, r.Status, r.Detail, checkCreateUser)
		}
	}
	if r := result(rep, "RFC7644-3.5.2.2/remove-simple"); r.Detail != "not run: depends on "+checkCreateUser {
		t.Errorf("remove-simple (after add-simple, after replace-simple) = %q; want the root of the chain named", r.Detail)
	}
	if r := result(rep, "IdP-okta/04-read-back"); r.Status != NotRun || !strings.Contains(r.Detail, "IdP-okta/03-create-with-password") {
		t.Errorf("okta read back = %s %q; want not run, depending on the create step", r.Status, r.Detail)
	}
	if rep.RFC.Failed > 10 {
		t.Errorf("%d RFC failures from one refused create (%v); want the cascade contained", rep.RFC.Failed, checks(rep, SectionRFC, Failed))
	}
	if !strings.Contains(rep.SummaryLines()[0], " not run") {
		t.Errorf("summary %q; want the not-run count", rep.SummaryLines()[0])
	}
}

func TestSetupErrorsStopTheRunWithAPlainMessage(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(newFakeServer("fake-token", permissive))
	t.Cleanup(fake.Close)
	notSCIM := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok","service":"something else"}`))
	}))
	t.Cleanup(notSCIM.Close)
	tests := []struct {
		name, url, token, want string
	}{
		{"wrong token", fake.URL + "/scim/v2", "not-the-token", "the token was rejected"},
		{"wrong path", fake.URL + "/scim", "fake-token", "no SCIM service at this URL"},
		{"not SCIM", notSCIM.URL + "/scim/v2", "fake-token", "no SCIM service at this URL"},
	}
	for _, tt := range tests {
		rep, err := Execute(t.Context(), Target{BaseURL: tt.url, Token: tt.token})
		var se *SetupError
		if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want a SetupError starting %q", tt.name, err, tt.want)
		}
		if len(rep.Results) != 0 {
			t.Errorf("%s: %d checks ran; want none", tt.name, len(rep.Results))
		}
	}
}

func TestDeviationOnlyWhenSwitchedOn(t *testing.T) {
	t.Parallel()
	all := []Deviation{DeleteDeactivates, MembershipMerge, GroupDeleteForbidden}
	t.Run("needed", func(t *testing.T) {
		t.Parallel()
		rep := runAgainstFake(t, permissive, all, faultDeleteKeepsUser, faultMembershipMerge)
		want := map[string]Deviation{
			"RFC7644-3.6/delete-user":                          DeleteDeactivates,
			"RFC7644-3.5.1/replace-group":                      MembershipMerge,
			"RFC7644-3.5.2.3/group-replace-members":            MembershipMerge,
			"IdP-okta/14-empty-the-group-with-replace-members": MembershipMerge,
		}
		for _, r := range rep.Results {
			if r.Status == Failed && r.Check != okta405 {
				t.Errorf("%s failed: %s", r.Check, r.Detail)
			}
			if r.Deviation != want[r.Check] {
				t.Errorf("%s passed by deviation %q; want %q", r.Check, r.Deviation, want[r.Check])
			}
		}
	})
	t.Run("not needed", func(t *testing.T) {
		t.Parallel()
		rep := runAgainstFake(t, permissive, all)
		for _, r := range rep.Results {
			if r.Status == Failed && r.Check != okta405 || r.Deviation != "" {
				t.Errorf("%s: %s by deviation %q against a conformant server", r.Check, r.Status, r.Deviation)
			}
		}
	})
}

func TestReportFormats(t *testing.T) {
	t.Parallel()
	results := []Result{
		{Check: "RFC7644-3.3/create-user", Requirement: "RFC7644-3.3", Section: SectionRFC, Status: Passed},
		{Check: "RFC7644-3.6/delete-user", Requirement: "RFC7644-3.6", Section: SectionRFC, Status: Passed, Deviation: DeleteDeactivates},
		{Check: "RFC7644-3.14/if-match-stale-412", Requirement: "RFC7644-3.14", Section: SectionRFC, Status: Failed, Detail: "PATCH → 200"},
		{Check: "RFC7644-3.7/bulk-create-user", Requirement: "RFC7644-3.7", Section: SectionRFC, Status: Skipped, Detail: "bulk not advertised"},
		{Check: "IdP-okta/01-discovery-endpoints-answer-405-to-post", Requirement: "IdP-okta", Section: SectionIdP, Step: StepIdPSpecific, Status: Failed, Detail: "→ 404"},
		{Check: "IdP-okta/02-lookup-before-create", Requirement: "IdP-okta", Section: SectionIdP, Step: StepStandard, Status: Passed},
	}
	rep := Report{Target: "http://x/scim/v2", Results: results}
	for _, r := range results {
		if r.Section == SectionIdP {
			rep.IdP.add(r)
		} else {
			rep.RFC.add(r)
		}
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{"FAILED   RFC7644-3.14/if-match-stale-412", "by deviation delete-deactivates", "SKIPPED",
		"IdP-okta/01-discovery-endpoints-answer-405-to-post [idp-specific]", "IdP-okta/02-lookup-before-create [standard]"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	wantEnd := "RFC: 2 passed, 1 failed, 1 skipped\nIdP compatibility: 1 passed, 1 failed (1 IdP-specific), 0 skipped\n"
	if !strings.HasSuffix(out, wantEnd) {
		t.Errorf("text report ends\n%s\nwant the summary lines last:\n%s", out[max(0, len(out)-200):], wantEnd)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.RFC.Failed != 1 || back.IdP.IdPSpecificFailed != 1 || len(back.Results) != 6 || back.Results[1].Deviation != DeleteDeactivates || back.Results[4].Step != StepIdPSpecific {
		t.Errorf("JSON round trip = %+v", back)
	}
}

func TestParseDeviations(t *testing.T) {
	t.Parallel()
	got, err := ParseDeviations(" delete-deactivates, group-delete-forbidden ,")
	if err != nil || !slices.Equal(got, []Deviation{DeleteDeactivates, GroupDeleteForbidden}) {
		t.Errorf("ParseDeviations = %v, %v", got, err)
	}
	if _, err := ParseDeviations("delete-deactivates,nonsense"); err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("ParseDeviations(unknown) error = %v; want one naming it", err)
	}
}

func TestFixturesAreValid(t *testing.T) {
	t.Parallel()
	flows, err := loadFlows()
	if err != nil {
		t.Fatal(err)
	}
	specific := 0
	for _, f := range flows {
		for _, st := range f.Steps {
			if st.IdPSpecific {
				specific++
			}
		}
	}
	if len(flows) != 5 || specific == 0 {
		t.Errorf("%d flows with %d IdP-specific steps; want 5 flows and some IdP-specific steps", len(flows), specific)
	}
}
func TestLookup(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	_ = json.Unmarshal([]byte(`{"userName":"a","Name":{"givenName":"G"},
		"emails":[{"type":"home","value":"h"},{"type":"work","value":"w"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}},
		"Resources":[{"id":"r0"}],"empty":null}`), &doc)
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"userName", "a", true},
		{"name.givenName", "G", true},
		{"emails[type=work].value", "w", true},
		{"emails[type=other].value", nil, false},
		{"emails.1.type", "work", true},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value", "m1", true},
		{"Resources.0.id", "r0", true},
		{"Resources.1.id", nil, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		got, ok := lookup(doc, tt.path)
		if ok != tt.ok || got != tt.want {
			t.Errorf("lookup(%q) = %v, %v; want %v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}
