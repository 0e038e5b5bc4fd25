package conformance

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// These tests check the suite itself against fakeServer: it must pass a conformant server, fail
// the check that covers each injected fault, and accept a deviation only when switched on.

func runAgainstFake(t *testing.T, deviations []Deviation, faults ...string) Report {
	t.Helper()
	fake := newFakeServer("fake-token", faults...)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	rep, err := Execute(t.Context(), Target{BaseURL: srv.URL + "/scim/v2", Token: "fake-token", HTTPClient: srv.Client(), Deviations: deviations})
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return rep
}

func byStatus(rep Report, st Status) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Status == st {
			out = append(out, r.Check)
		}
	}
	return out
}

func TestSuitePassesConformantServer(t *testing.T) {
	t.Parallel()
	rep := runAgainstFake(t, nil)
	for _, r := range rep.Results {
		if r.Status == Failed {
			t.Errorf("%s failed: %s", r.Check, r.Detail)
		}
	}
	wantSkipped := []string{"RFC7644-3.7/bulk-create-user", "RFC7644-3.5.2/change-password"}
	if got := byStatus(rep, Skipped); !slices.Equal(got, wantSkipped) {
		t.Errorf("skipped = %v; want %v (the capabilities the fake does not advertise)", got, wantSkipped)
	}
	if rep.Requests >= 400 {
		t.Errorf("the suite made %d requests; the budget is < 400", rep.Requests)
	}
	if len(rep.Results) < 100 {
		t.Errorf("only %d checks ran", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.Check == "suite/cleanup" && r.Status != Passed {
			t.Errorf("cleanup: %s", r.Detail)
		}
	}
}

func TestSuiteCleansUp(t *testing.T) {
	t.Parallel()
	fake := newFakeServer("fake-token")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	if _, err := Execute(t.Context(), Target{BaseURL: srv.URL + "/scim/v2", Token: "fake-token"}); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.users) != 0 || len(fake.groups) != 0 {
		t.Errorf("after the run the fake still holds %d users and %d groups; want none", len(fake.users), len(fake.groups))
	}
}

func TestSuiteDetectsFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault    string
		mustFail []string
	}{
		{faultEmptyFilter404, []string{"RFC7644-3.4.2/filter-no-match-200-empty", "RFC7643-3.1/filter-externalId-caseExact", "IdP-replay/entra-validator", "IdP-replay/okta"}},
		{faultEchoPassword, []string{"RFC7643-4.1.1/password-never-returned", "IdP-replay/okta"}},
		{faultIgnoreIfMatch, []string{"RFC7644-3.14/if-match-stale-412", "RFC7644-3.14/put-if-match-stale-412"}},
		{faultNumericStatus, []string{"RFC7644-2/401-without-token", "RFC7644-3.12/404-get-user", "RFC7644-3.3/duplicate-userName-409", "RFC7644-3.12/413-payload-too-large", "IdP-replay/entra-validator"}},
		{faultOrLeftToRight, []string{"RFC7644-3.4.2.2/filter-and-binds-tighter-than-or"}},
		{faultIgnoreStartIndex, []string{"RFC7644-3.4.2.4/pagination-pages", "RFC7644-3.4.2.4/pagination-past-end"}},
		{faultPatchAddReplaces, []string{"RFC7644-3.5.2.1/add-multivalued-appends"}},
		{faultDeleteKeepsUser, []string{"RFC7644-3.6/delete-user"}},
		{faultMembershipMerge, []string{"RFC7644-3.5.1/replace-group", "RFC7644-3.5.2.3/group-replace-members", "IdP-replay/okta"}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			t.Parallel()
			rep := runAgainstFake(t, nil, tt.fault)
			failed := byStatus(rep, Failed)
			for _, want := range tt.mustFail {
				if !slices.Contains(failed, want) {
					t.Errorf("with fault %s, %s did not fail; failed: %v", tt.fault, want, failed)
				}
			}
			if !strings.Contains(rep.Summary(), " failed") || rep.Failed == 0 {
				t.Errorf("summary %q; want failures", rep.Summary())
			}
		})
	}
}

func TestDeviationOnlyWhenSwitchedOn(t *testing.T) {
	t.Parallel()
	all := []Deviation{DeleteDeactivates, MembershipMerge, GroupDeleteForbidden}
	t.Run("needed", func(t *testing.T) {
		t.Parallel()
		rep := runAgainstFake(t, all, faultDeleteKeepsUser, faultMembershipMerge)
		want := map[string]Deviation{
			"RFC7644-3.6/delete-user":               DeleteDeactivates,
			"RFC7644-3.5.1/replace-group":           MembershipMerge,
			"RFC7644-3.5.2.3/group-replace-members": MembershipMerge,
			"IdP-replay/okta":                       MembershipMerge,
		}
		for _, r := range rep.Results {
			if r.Status == Failed {
				t.Errorf("%s failed: %s", r.Check, r.Detail)
			}
			if r.Deviation != want[r.Check] {
				t.Errorf("%s passed by deviation %q; want %q", r.Check, r.Deviation, want[r.Check])
			}
		}
	})
	t.Run("not needed", func(t *testing.T) {
		t.Parallel()
		rep := runAgainstFake(t, all)
		for _, r := range rep.Results {
			if r.Status == Failed || r.Deviation != "" {
				t.Errorf("%s: %s by deviation %q against a conformant server", r.Check, r.Status, r.Deviation)
			}
		}
	})
}

func TestReportFormats(t *testing.T) {
	t.Parallel()
	rep := Report{Target: "http://x/scim/v2", Passed: 2, Failed: 1, Skipped: 1, Results: []Result{
		{Check: "RFC7644-3.3/create-user", Requirement: "RFC7644-3.3", Status: Passed},
		{Check: "RFC7644-3.6/delete-user", Requirement: "RFC7644-3.6", Status: Passed, Deviation: DeleteDeactivates},
		{Check: "RFC7644-3.14/if-match-stale-412", Requirement: "RFC7644-3.14", Status: Failed, Detail: "PATCH → 200"},
		{Check: "RFC7644-3.7/bulk-create-user", Requirement: "RFC7644-3.7", Status: Skipped, Detail: "bulk not advertised"},
	}}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 passed, 1 failed, 1 skipped", "FAILED   RFC7644-3.14/if-match-stale-412", "by deviation delete-deactivates", "SKIPPED"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Failed != 1 || len(back.Results) != 4 || back.Results[1].Deviation != DeleteDeactivates {
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
