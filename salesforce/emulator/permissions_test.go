package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPermissionSetRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	for _, tc := range []struct {
		name     string
		body     map[string]any
		wantCode string
	}{
		{"double underscore", map[string]any{"Name": "Bad__Name", "Label": "x"}, "FIELD_INTEGRITY_EXCEPTION"},
		{"trailing underscore", map[string]any{"Name": "Bad_", "Label": "x"}, "FIELD_INTEGRITY_EXCEPTION"},
		{"starts with a digit", map[string]any{"Name": "1Bad", "Label": "x"}, "FIELD_INTEGRITY_EXCEPTION"},
		{"space", map[string]any{"Name": "Bad Name", "Label": "x"}, "FIELD_INTEGRITY_EXCEPTION"},
		{"name longer than 80", map[string]any{"Name": "A" + strings.Repeat("b", 80), "Label": "x"}, "STRING_TOO_LONG"},
		{"name taken, other case", map[string]any{"Name": "sales_ops", "Label": "x"}, "DUPLICATE_VALUE"},
		{"label missing", map[string]any{"Name": "No_Label"}, "REQUIRED_FIELD_MISSING"},
		{"label longer than 80", map[string]any{"Name": "Long_Label", "Label": strings.Repeat("x", 81)}, "STRING_TOO_LONG"},
		{"unknown licence", map[string]any{"Name": "Lic", "Label": "x", "LicenseId": makeID("100", 99999)}, "INVALID_CROSS_REFERENCE_KEY"},
		{"read-only IsOwnedByProfile", map[string]any{"Name": "Own", "Label": "x", "IsOwnedByProfile": true}, "INVALID_FIELD_FOR_INSERT_UPDATE"},
	} {
		status, _, body := h.do("POST", v+"/sobjects/PermissionSet", tc.body)
		wantError(t, tc.name, status, body, 400, tc.wantCode)
	}

	created := decode(t, mustDo(t, h, "POST", v+"/sobjects/PermissionSet", map[string]any{"Name": "Field_Sales", "Label": "Field Sales"}, 201)).(map[string]any)
	ps := h.e.Get("PermissionSet", created["id"].(string))
	if !strings.HasPrefix(ps["Id"].(string), "0PS") || ps["IsOwnedByProfile"] != false || ps["Type"] != "Regular" || ps["IsCustom"] != true {
		t.Errorf("new permission set = %v", ps)
	}
	mustDo(t, h, "PATCH", v+"/sobjects/PermissionSet/"+ps["Id"].(string), map[string]any{"Label": "Field Sales Team"}, 204)

	profilePS := ""
	for _, r := range h.e.List("PermissionSet") {
		if r["IsOwnedByProfile"] == true {
			profilePS = r["Id"].(string)
			if r["ProfileId"] == nil || r["Type"] != "Profile" {
				t.Errorf("profile-owned permission set = %v", r)
			}
		}
	}
	status, _, body := h.do("PATCH", v+"/sobjects/PermissionSet/"+profilePS, map[string]any{"Label": "x"})
	wantError(t, "modify a profile-owned permission set", status, body, 400, "INSUFFICIENT_ACCESS_OR_READONLY")

	user := h.createUser("ps@example.com", "Standard User")
	mustDo(t, h, "POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": user, "PermissionSetId": ps["Id"]}, 201)
	status, _, body = h.do("DELETE", v+"/sobjects/PermissionSet/"+ps["Id"].(string), nil)
	wantError(t, "delete an assigned permission set", status, body, 400, "DELETE_FAILED")
	unassigned := h.idOf("PermissionSet", "Name", "Marketing_User")
	mustDo(t, h, "DELETE", v+"/sobjects/PermissionSet/"+unassigned, nil, 204)
	if h.e.Get("PermissionSet", unassigned) != nil {
		t.Errorf("deleted permission set still exists")
	}
}

func TestPermissionSetAssignmentRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	user := h.createUser("a@example.com", "Standard User")
	chatter := h.createUser("chatter@example.com", "Chatter Free User")
	salesOps := h.idOf("PermissionSet", "Name", "Sales_Ops")
	salesCloud := h.idOf("PermissionSet", "Name", "Sales_Cloud_User")
	group := h.idOf("PermissionSetGroup", "DeveloperName", "Sales_Team")
	var profilePS string
	for _, r := range h.e.List("PermissionSet") {
		if r["IsOwnedByProfile"] == true {
			profilePS = r["Id"].(string)
		}
	}

	created := decode(t, mustDo(t, h, "POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": user, "PermissionSetId": salesOps}, 201)).(map[string]any)
	psa := created["id"].(string)
	if !strings.HasPrefix(psa, "0Pa") {
		t.Errorf("assignment id %s lacks prefix 0Pa", psa)
	}
	for _, tc := range []struct {
		name     string
		body     map[string]any
		wantCode string
		wantMsg  string
	}{
		{"duplicate", map[string]any{"AssigneeId": user, "PermissionSetId": salesOps[:15]}, "DUPLICATE_VALUE",
			"Duplicate PermissionSetAssignment. Assignee: " + user + "; Permission Set: " + salesOps},
		{"profile-owned permission set", map[string]any{"AssigneeId": user, "PermissionSetId": profilePS}, "INVALID_CROSS_REFERENCE_KEY", ""},
		{"licence mismatch", map[string]any{"AssigneeId": chatter, "PermissionSetId": salesCloud}, "FIELD_INTEGRITY_EXCEPTION",
			"The user license doesn't allow the permission: Sales Cloud User"},
		{"unknown assignee", map[string]any{"AssigneeId": makeID("005", 99999), "PermissionSetId": salesOps}, "INVALID_CROSS_REFERENCE_KEY", ""},
		{"unknown permission set", map[string]any{"AssigneeId": user, "PermissionSetId": makeID("0PS", 99999)}, "INVALID_CROSS_REFERENCE_KEY", ""},
		{"both set and group", map[string]any{"AssigneeId": user, "PermissionSetId": salesOps, "PermissionSetGroupId": group}, "FIELD_INTEGRITY_EXCEPTION", ""},
		{"neither set nor group", map[string]any{"AssigneeId": user}, "FIELD_INTEGRITY_EXCEPTION", ""},
		{"no assignee", map[string]any{"PermissionSetId": salesOps}, "REQUIRED_FIELD_MISSING", ""},
	} {
		status, _, body := h.do("POST", v+"/sobjects/PermissionSetAssignment", tc.body)
		first := wantError(t, tc.name, status, body, 400, tc.wantCode)
		if tc.wantMsg != "" && first["message"] != tc.wantMsg {
			t.Errorf("%s: message = %q; want %q", tc.name, first["message"], tc.wantMsg)
		}
	}
	mustDo(t, h, "POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": user, "PermissionSetId": salesCloud}, 201)

	// A group assignment points PermissionSetId at the group's aggregate permission set.
	g := decode(t, mustDo(t, h, "POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": user, "PermissionSetGroupId": group}, 201)).(map[string]any)
	row := h.e.Get("PermissionSetAssignment", g["id"].(string))
	if agg := h.e.Get("PermissionSet", row["PermissionSetId"].(string)); agg == nil || agg["PermissionSetGroupId"] != group || agg["Type"] != "Group" {
		t.Errorf("group assignment's PermissionSetId = %v", agg)
	}
	status, _, body := h.do("POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": user, "PermissionSetGroupId": group})
	wantError(t, "duplicate group assignment", status, body, 400, "DUPLICATE_VALUE")

	status, _, body = h.do("PATCH", v+"/sobjects/PermissionSetAssignment/"+psa, map[string]any{"AssigneeId": chatter})
	wantError(t, "change the assignee", status, body, 400, "INVALID_FIELD_FOR_INSERT_UPDATE")
	mustDo(t, h, "PATCH", v+"/sobjects/PermissionSetAssignment/"+psa, map[string]any{"ExpirationDate": "2027-01-01T00:00:00.000+0000"}, 204)

	hidden := ""
	for _, r := range h.e.List("PermissionSetAssignment") {
		if r["AssigneeId"] == user && h.e.Get("PermissionSet", r["PermissionSetId"].(string))["IsOwnedByProfile"] == true {
			hidden = r["Id"].(string)
		}
	}
	status, _, body = h.do("DELETE", v+"/sobjects/PermissionSetAssignment/"+hidden, nil)
	wantError(t, "delete the profile assignment", status, body, 400, "INVALID_CROSS_REFERENCE_KEY")
	mustDo(t, h, "DELETE", v+"/sobjects/PermissionSetAssignment/"+psa, nil, 204)
	status, _, body = h.do("DELETE", v+"/sobjects/PermissionSetAssignment/"+psa, nil)
	wantError(t, "delete twice", status, body, 404, "NOT_FOUND")

	q := url.QueryEscape("SELECT Id, (SELECT PermissionSet.Name FROM PermissionSetAssignments WHERE PermissionSet.IsOwnedByProfile = false) FROM User WHERE Id = '" + user + "'")
	rec := decode(t, mustDo(t, h, "GET", v+"/query?q="+q, nil, 200)).(map[string]any)["records"].([]any)[0].(map[string]any)
	if n := rec["PermissionSetAssignments"].(map[string]any)["totalSize"]; n != float64(2) {
		t.Errorf("non-profile assignments = %v; want 2 (Sales_Cloud_User and the group)", n)
	}
}

func TestQuirks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Quirks: Quirks{
		ProfilePermissionSetErrorCode:   "FIELD_INTEGRITY_EXCEPTION",
		OmitUserLoginRows:               true,
		DeleteAssignedPermissionSetCode: "CANNOT_DELETE_ASSIGNED",
		LicenseLimitMessage:             "No more seats",
	}})
	u := h.newUser("q1@example.com", "Standard User")
	u["FederationIdentifier"] = "fed-1"
	id := decode(t, mustDo(t, h, "POST", v+"/sobjects/User", u, 201)).(map[string]any)["id"].(string)
	for _, r := range h.e.List("UserLogin") {
		if r["UserId"] == id {
			t.Errorf("UserLogin row created despite OmitUserLoginRows")
		}
	}
	u2 := h.newUser("q2@example.com", "Standard User")
	u2["FederationIdentifier"] = "fed-1"
	status, _, body := h.do("POST", v+"/sobjects/User", u2)
	wantError(t, "repeated FederationIdentifier", status, body, 400, "DUPLICATE_VALUE")

	var profilePS string
	for _, r := range h.e.List("PermissionSet") {
		if r["IsOwnedByProfile"] == true {
			profilePS = r["Id"].(string)
		}
	}
	status, _, body = h.do("POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": profilePS})
	wantError(t, "profile-owned assignment", status, body, 400, "FIELD_INTEGRITY_EXCEPTION")
	ops := h.idOf("PermissionSet", "Name", "Sales_Ops")
	mustDo(t, h, "POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": ops}, 201)
	status, _, body = h.do("DELETE", v+"/sobjects/PermissionSet/"+ops, nil)
	wantError(t, "delete assigned", status, body, 400, "CANNOT_DELETE_ASSIGNED")

	for i := 0; i < 5; i++ {
		h.createUser("chat"+string(rune('a'+i))+"@example.com", "Chatter Free User")
	}
	status, _, body = h.do("POST", v+"/sobjects/User", h.newUser("chatf@example.com", "Chatter Free User"))
	if first := wantError(t, "licence limit", status, body, 400, "LICENSE_LIMIT_EXCEEDED"); first["message"] != "No more seats" {
		t.Errorf("licence message = %v", first["message"])
	}
}

// A permission set that needs a permission set licence can only go to a user who holds it; the
// licence has seats; it cannot be taken away while such a permission set is assigned.
func TestPermissionSetLicences(t *testing.T) {
	t.Parallel()
	seed := DefaultSeed()
	seed.PermissionSetLicenses[0].TotalLicenses = 1
	h := newHarness(t, Config{Seed: seed})
	ps := h.idOf("PermissionSet", "Name", "CRM_Analytics_Explorer")
	psl := h.idOf("PermissionSetLicense", "DeveloperName", "CRM_Analytics_Plus")
	u := h.createUser("analyst@example.com", "Standard User")

	status, _, body := h.do("POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": u, "PermissionSetId": ps})
	e := wantError(t, "assignment without the licence", status, body, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION")
	if msg := e["message"].(string); !strings.Contains(msg, "CRM Analytics Plus") || !strings.Contains(msg, "CRM Analytics Explorer") {
		t.Errorf("message %q names neither licence nor permission set", msg)
	}
	status, _, body = h.do("POST", v+"/sobjects/PermissionSetLicenseAssign", map[string]any{"AssigneeId": u, "PermissionSetLicenseId": psl})
	if status != http.StatusCreated {
		t.Fatalf("licence assignment = %d %s", status, body)
	}
	pla := decode(t, body).(map[string]any)["id"].(string)
	if used := h.e.Get("PermissionSetLicense", psl)["UsedLicenses"]; used != 1 {
		t.Errorf("UsedLicenses = %v; want 1", used)
	}
	status, _, body = h.do("POST", v+"/sobjects/PermissionSetLicenseAssign", map[string]any{"AssigneeId": u, "PermissionSetLicenseId": psl})
	wantError(t, "the same licence twice", status, body, http.StatusBadRequest, "DUPLICATE_VALUE")
	other := h.createUser("other.analyst@example.com", "Standard User")
	status, _, body = h.do("POST", v+"/sobjects/PermissionSetLicenseAssign", map[string]any{"AssigneeId": other, "PermissionSetLicenseId": psl})
	wantError(t, "a licence without free seats", status, body, http.StatusBadRequest, "LICENSE_LIMIT_EXCEEDED")

	if status, _, body = h.do("POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": u, "PermissionSetId": ps}); status != http.StatusCreated {
		t.Fatalf("assignment with the licence = %d %s", status, body)
	}
	status, _, body = h.do("DELETE", v+"/sobjects/PermissionSetLicenseAssign/"+pla, nil)
	wantError(t, "removing a licence a permission set needs", status, body, http.StatusBadRequest, "DELETE_FAILED")

	custom := newHarness(t, Config{Quirks: Quirks{MissingPermissionSetLicenseCode: "INSUFFICIENT_ACCESS"}})
	status, _, body = custom.do("POST", v+"/sobjects/PermissionSetAssignment", map[string]any{
		"AssigneeId": custom.createUser("x@example.com", "Standard User"), "PermissionSetId": custom.idOf("PermissionSet", "Name", "CRM_Analytics_Explorer")})
	wantError(t, "configured code", status, body, http.StatusBadRequest, "INSUFFICIENT_ACCESS")
}

// A permission set group being recalculated (Status Updating, Outdated or Failed) cannot be
// assigned; the test hook sets the status.
func TestPermissionSetGroupStatusBlocksAssignments(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	psg := h.idOf("PermissionSetGroup", "DeveloperName", "Sales_Team")
	u := h.createUser("psg.status@example.com", "Standard User")
	status, _, body := h.do("POST", "/__emulator/permission-set-group-status", map[string]any{"id": psg, "status": "Updating"})
	if status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("hook = %d %s", status, body)
	}
	status, _, body = h.do("POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": u, "PermissionSetGroupId": psg})
	wantError(t, "assigning an updating group", status, body, http.StatusBadRequest, "FIELD_INTEGRITY_EXCEPTION")
	if err := h.e.SetPermissionSetGroupStatus(psg, "Updated"); err != nil {
		t.Fatal(err)
	}
	if status, _, body = h.do("POST", v+"/sobjects/PermissionSetAssignment", map[string]any{"AssigneeId": u, "PermissionSetGroupId": psg}); status != http.StatusCreated {
		t.Errorf("assigning the updated group = %d %s", status, body)
	}
	if err := h.e.SetPermissionSetGroupStatus(psg, "Busy"); err == nil {
		t.Error("an unknown status was accepted")
	}
}
