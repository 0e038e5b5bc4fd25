package salesforce

import (
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// With groups.assign_permission_set_licenses, a PATCH that adds a member to a permission set
// needing a licence costs one Salesforce call more than the same PATCH on a permission set without
// one: the licence insert, made once (it was made twice when the addition ran alone: before the
// add batch and again in the write the lone addition fell back to).
func TestLicensedMemberAddAssignsTheLicenceOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Groups.AssignPermissionSetLicenses = true }))
	plain, licensed := h.permSetID("Sales_Ops"), h.permSetID("CRM_Analytics_Explorer")
	add := func(ps, user string) {
		t.Helper()
		if _, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": user}}}}, ""); err != nil {
			t.Fatalf("adding member %s: %v", user, err)
		}
	}
	warm := h.insertUser("licence.warm@example.com", "Standard User", nil)
	add(plain, warm)
	add(licensed, warm)
	one := h.insertUser("licence.one@example.com", "Standard User", nil)
	two := h.insertUser("licence.two@example.com", "Standard User", nil)
	plainCalls := h.calls(func() { add(plain, one) })
	licensedCalls := h.calls(func() { add(licensed, two) })
	if licensedCalls != plainCalls+1 {
		t.Errorf("adding a member to a licensed permission set made %d calls, to a plain one %d; want exactly one more (the licence insert)", licensedCalls, plainCalls)
	}
	psl := h.find("PermissionSetLicense", "DeveloperName", "CRM_Analytics_Plus")["Id"].(string)
	n := 0
	for _, a := range h.e.List("PermissionSetLicenseAssign") {
		if rest.SameID(str(a["AssigneeId"]), two) && rest.SameID(str(a["PermissionSetLicenseId"]), psl) {
			n++
		}
	}
	if !h.assignees(licensed)[two] || n != 1 {
		t.Errorf("member assigned %v with %d licences; want assigned with one", h.assignees(licensed)[two], n)
	}
}
