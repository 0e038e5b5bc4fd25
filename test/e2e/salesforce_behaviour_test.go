package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// Behaviours the bridge must not take for granted (docs/salesforce-behaviour.md), end to end.
// .ci/run runs this package under both emulator profiles; the strict one has no
// PermissionSetGroup.Assignments relationship and pages child subqueries.

// Permission set groups and their members are listed whatever the org's child relationships.
func TestPermissionSetGroupsAreListedWithTheirMembers(t *testing.T) {
	t.Parallel()
	b := start(t, "groups: {source: both}\n")
	member := b.insertUser(t, "psg.member")
	var psg string
	for _, g := range b.Emulator.List("PermissionSetGroup") {
		if g["DeveloperName"] == "Sales_Team" {
			psg = g["Id"].(string)
		}
	}
	if psg == "" {
		t.Fatal("the emulator's default org has no Sales_Team permission set group")
	}
	if _, err := b.Emulator.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": member, "PermissionSetGroupId": psg}); err != nil {
		t.Fatal(err)
	}
	doc := b.must(t, []int{http.StatusOK}, http.MethodGet, "/Groups?count=100", nil)
	var found map[string]any
	for _, g := range resources(t, doc) {
		if sameID(str(g["id"]), psg) {
			found = g
		}
	}
	if found == nil {
		t.Fatalf("GET /Groups lists no permission set group (%d groups)", total(t, doc))
	}
	assertIDs(t, "listed permission set group members", memberIDs(found), ids(member))
	one := b.must(t, []int{http.StatusOK}, http.MethodGet, "/Groups/"+psg, nil)
	assertIDs(t, "permission set group members", memberIDs(one), ids(member))
}

// A permission set that needs a permission set licence: without groups.assign_permission_set_licenses
// the IdP learns which licence is missing; with it, the bridge assigns the licence first.
func TestPermissionSetLicenceThroughSCIM(t *testing.T) {
	t.Parallel()
	for _, assign := range []bool{false, true} {
		cfg := ""
		if assign {
			cfg = "groups: {assign_permission_set_licenses: true}\n"
		}
		b := start(t, cfg)
		ps := b.Org.PermissionSet(t, "CRM Analytics Explorer")
		u := b.insertUser(t, "analyst")
		status, doc := b.do(t, http.MethodPatch, "/Groups/"+ps, patch(op("add", "members", memberValues(u))))
		if !assign {
			assertError(t, "adding a member without the licence", status, doc, http.StatusBadRequest, "", "CRM Analytics Plus", "CRM Analytics Explorer")
			continue
		}
		if status != http.StatusNoContent && status != http.StatusOK {
			t.Fatalf("adding a member with assign_permission_set_licenses = %d %v", status, doc)
		}
		if members := b.Org.Members(ps); len(members) != 1 || !sameID(members[0], u) {
			t.Errorf("members = %v; want the analyst", members)
		}
		held := false
		for _, a := range b.Emulator.List("PermissionSetLicenseAssign") {
			held = held || sameID(str(a["AssigneeId"]), u)
		}
		if !held {
			t.Error("no licence assignment for the analyst")
		}
		if strings.Contains(str(doc["detail"]), "licence") {
			t.Errorf("unexpected detail %v", doc["detail"])
		}
	}
}
