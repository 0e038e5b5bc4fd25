package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The strict profile: only what public Salesforce documentation confirms, plus what real orgs do
// that the default lacks. Each test names the behaviour and checks both profiles where they differ.

func strictHarness(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, Config{Profile: ProfileStrict})
}

func query(h *harness, soql string) (int, []byte) {
	h.t.Helper()
	status, _, body := h.do("GET", v+"/query?q="+url.QueryEscape(soql), nil)
	return status, body
}

func TestStrictHasNoUndocumentedChildRelationships(t *testing.T) {
	t.Parallel()
	for _, q := range []string{
		"SELECT Id, (SELECT Id FROM Assignments) FROM PermissionSetGroup",
		"SELECT Id, (SELECT Id FROM UserLogins) FROM User",
	} {
		status, body := query(strictHarness(t), q)
		wantError(t, "strict "+q, status, body, http.StatusBadRequest, "INVALID_TYPE")
		if status, body := query(newHarness(t, Config{}), q); status != http.StatusOK {
			t.Errorf("default %s = %d %s; want 200", q, status, body)
		}
	}
	// Documented (O-PS, reference §2.4): both profiles have them.
	for _, q := range []string{
		"SELECT Id, (SELECT Id FROM Assignments) FROM PermissionSet",
		"SELECT Id, (SELECT Id FROM PermissionSetAssignments) FROM User",
	} {
		if status, body := query(strictHarness(t), q); status != http.StatusOK {
			t.Errorf("strict %s = %d %s; want 200", q, status, body)
		}
	}
}

func TestStrictWordsAnUnresolvedReferenceDifferently(t *testing.T) {
	t.Parallel()
	for _, profile := range []Profile{ProfileDefault, ProfileStrict} {
		h := newHarness(t, Config{Profile: profile})
		status, _, body := h.do("POST", v+"/composite", map[string]any{"allOrNone": false, "compositeRequest": []any{
			map[string]any{"method": "GET", "url": v + "/query?q=" + url.QueryEscape("SELECT Id FROM User WHERE Username = 'nobody@example.com'"), "referenceId": "q"},
			map[string]any{"method": "PATCH", "url": v + "/sobjects/User/@{q.records[0].Id}", "referenceId": "upd", "body": map[string]any{"Title": "x"}},
		}})
		if status != http.StatusOK {
			t.Fatalf("%s composite = %d %s", profile, status, body)
		}
		upd := decode(t, body).(map[string]any)["compositeResponse"].([]any)[1].(map[string]any)
		first := upd["body"].([]any)[0].(map[string]any)
		if first["errorCode"] != "PROCESSING_HALTED" {
			t.Fatalf("%s: %v; want PROCESSING_HALTED", profile, first)
		}
		if has := strings.Contains(first["message"].(string), "No value for"); has != (profile == ProfileDefault) {
			t.Errorf("%s message %q", profile, first["message"])
		}
	}
}
