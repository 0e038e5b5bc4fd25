package emulator

import (
	"fmt"
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

func TestStrictRefusesInListsOver500Values(t *testing.T) {
	t.Parallel()
	ids := make([]string, 501)
	for i := range ids {
		ids[i] = "'" + makeID("005", 100000+i) + "'"
	}
	q := "SELECT Id FROM User WHERE Id IN (" + strings.Join(ids, ",") + ")"
	status, body := query(strictHarness(t), q)
	wantError(t, "strict IN (501 ids)", status, body, http.StatusBadRequest, "MALFORMED_QUERY")
	if status, body := query(strictHarness(t), "SELECT Id FROM User WHERE Id IN ("+strings.Join(ids[:500], ",")+")"); status != http.StatusOK {
		t.Errorf("strict IN (500 ids) = %d %s; want 200", status, body)
	}
	if status, body := query(newHarness(t, Config{}), q); status != http.StatusOK {
		t.Errorf("default IN (501 ids) = %d %s; want 200", status, body)
	}
}

// bigGroupOrg is a strict org whose permission set "Big" has 210 assignees and which has more
// than 200 permission sets in all.
func bigGroupOrg(t *testing.T) *harness {
	t.Helper()
	seed := DefaultSeed()
	for i := range seed.Licenses {
		seed.Licenses[i].TotalLicenses = 1000
	}
	h := newHarness(t, Config{Profile: ProfileStrict, Seed: seed})
	big, err := h.e.Insert("PermissionSet", map[string]any{"Name": "AAA_Big", "Label": "Big"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 210 {
		u := h.newUser(fmt.Sprintf("member%03d@big.example.com", i), "Standard User")
		u["CommunityNickname"] = fmt.Sprintf("member%03d", i)
		id, err := h.e.Insert("User", u)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": big}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		if _, err := h.e.Insert("PermissionSet", map[string]any{"Name": fmt.Sprintf("P%03d", i), "Label": fmt.Sprintf("P%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// Child subqueries come in batches of 200 with their own locator (SOAP API queryMore(): "the
// child relationship results are … returned in batches"; a queryMore on the parent invalidates
// the previous batch's child cursors).
func TestStrictPagesChildSubqueries(t *testing.T) {
	t.Parallel()
	h := bigGroupOrg(t)
	status, _, body := h.do("GET", v+"/query?q="+url.QueryEscape("SELECT Name, (SELECT Id FROM Assignments) FROM PermissionSet ORDER BY Name"), nil,
		"Sforce-Query-Options", "batchSize=200")
	if status != http.StatusOK {
		t.Fatalf("query = %d %s", status, body)
	}
	page := decode(t, body).(map[string]any)
	if page["done"] != false {
		t.Fatalf("parent done = %v; want a paged parent", page["done"])
	}
	first := page["records"].([]any)[0].(map[string]any)
	if first["Name"] != "AAA_Big" {
		t.Fatalf("first row %v; want Big", first["Name"])
	}
	child := first["Assignments"].(map[string]any)
	if child["done"] != false || len(child["records"].([]any)) != 200 || child["totalSize"] != float64(210) {
		t.Fatalf("child = done %v, %d records, totalSize %v; want false, 200, 210", child["done"], len(child["records"].([]any)), child["totalSize"])
	}
	childNext := child["nextRecordsUrl"].(string)
	status, _, body = h.do("GET", childNext, nil)
	if status != http.StatusOK {
		t.Fatalf("child queryMore = %d %s", status, body)
	}
	if more := decode(t, body).(map[string]any); more["done"] != true || len(more["records"].([]any)) != 10 {
		t.Fatalf("child queryMore = done %v, %d records; want true, 10", more["done"], len(more["records"].([]any)))
	}
	// The parent moves on: the first batch's child cursors are gone.
	if status, _, body = h.do("GET", page["nextRecordsUrl"].(string), nil); status != http.StatusOK {
		t.Fatalf("parent queryMore = %d %s", status, body)
	}
	status, _, body = h.do("GET", childNext, nil)
	wantError(t, "child queryMore after the parent's", status, body, http.StatusNotFound, "INVALID_QUERY_LOCATOR")

	// The default profile returns children whole.
	d := newHarness(t, Config{})
	status, _, body = d.do("GET", v+"/query?q="+url.QueryEscape("SELECT Name, (SELECT Id FROM Assignments) FROM PermissionSet"), nil)
	if status != http.StatusOK || strings.Contains(string(body), `"done":false`) {
		t.Errorf("default query = %d %s", status, body)
	}
}

// References resolve in a subrequest's url and in a single record's body (D-COMP) under both
// profiles; inside sObject Collections records only under the default.
func TestStrictLeavesReferencesInCollectionsRecords(t *testing.T) {
	t.Parallel()
	for _, profile := range []Profile{ProfileDefault, ProfileStrict} {
		h := newHarness(t, Config{Profile: profile})
		ps := h.idOf("PermissionSet", "Name", "Marketing_User")
		ps2 := h.idOf("PermissionSet", "Name", "Support_Agent")
		status, _, body := h.do("POST", v+"/composite", map[string]any{"allOrNone": false, "compositeRequest": []any{
			map[string]any{"method": "POST", "url": v + "/sobjects/User", "referenceId": "u", "body": h.newUser("refs-"+profile.String()+"@example.com", "Standard User")},
			map[string]any{"method": "POST", "url": v + "/sobjects/PermissionSetAssignment", "referenceId": "one",
				"body": map[string]any{"AssigneeId": "@{u.id}", "PermissionSetId": ps}},
			map[string]any{"method": "POST", "url": v + "/composite/sobjects", "referenceId": "many", "body": map[string]any{"allOrNone": true,
				"records": []any{map[string]any{"attributes": map[string]any{"type": "PermissionSetAssignment"}, "AssigneeId": "@{u.id}", "PermissionSetId": ps2}}}},
		}})
		if status != http.StatusOK {
			t.Fatalf("%s composite = %d %s", profile, status, body)
		}
		res := decode(t, body).(map[string]any)["compositeResponse"].([]any)
		if one := res[1].(map[string]any); one["httpStatusCode"] != float64(201) {
			t.Errorf("%s: single-record POST with a reference = %v; want 201", profile, one)
		}
		many := res[2].(map[string]any)["body"].([]any)[0].(map[string]any)
		if ok := many["success"] == true; ok != (profile == ProfileDefault) {
			t.Errorf("%s: collection record with a reference = %v", profile, many)
		}
	}
}

func TestStrictRefusesDeactivatingOrFreezingTheRunningUserAndFreezingAnInactiveOne(t *testing.T) {
	t.Parallel()
	for _, profile := range []Profile{ProfileDefault, ProfileStrict} {
		h := newHarness(t, Config{Profile: profile})
		admin := h.idOf("User", "Username", "admin@emulator.example.com")
		// The client-credentials token runs as the first seeded user (the integration user).
		adminLogin := ""
		for _, l := range h.e.List("UserLogin") {
			if sameRecord(l["UserId"].(string), admin) {
				adminLogin = l["Id"].(string)
			}
		}
		status, _, body := h.do("PATCH", v+"/sobjects/User/"+admin, map[string]any{"IsActive": false})
		if profile == ProfileStrict {
			wantError(t, "strict: deactivating the running user", status, body, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION")
		} else if status != http.StatusNoContent {
			t.Fatalf("default: deactivating the running user = %d %s", status, body)
		}
		if profile == ProfileDefault {
			continue // the running user is gone; the rest needs it
		}
		status, _, body = h.do("PATCH", v+"/sobjects/UserLogin/"+adminLogin, map[string]any{"IsFrozen": true})
		wantError(t, "strict: freezing the running user", status, body, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION")

		other := h.createUser("inactive@example.com", "Standard User")
		if status, _, body := h.do("PATCH", v+"/sobjects/User/"+other, map[string]any{"IsActive": false}); status != http.StatusNoContent {
			t.Fatalf("deactivating another user = %d %s", status, body)
		}
		var login string
		for _, l := range h.e.List("UserLogin") {
			if sameRecord(l["UserId"].(string), other) {
				login = l["Id"].(string)
			}
		}
		status, _, body = h.do("PATCH", v+"/sobjects/UserLogin/"+login, map[string]any{"IsFrozen": true})
		wantError(t, "strict: freezing an inactive user", status, body, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION")
	}
}
