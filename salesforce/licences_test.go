package salesforce

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// The default org's CRM Analytics Explorer needs the permission set licence CRM Analytics Plus.

func TestPermissionSetNeedingALicenceTheUserLacks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ps := h.permSetID("CRM_Analytics_Explorer")
	u := h.insertUser("no.licence@example.com", "Standard User", nil)
	_, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": u}}}}, "")
	se := wantKind(t, err, scimschema.KindInvalidValue)
	for _, want := range []string{"CRM Analytics Explorer", "CRM Analytics Plus", "member " + u, "groups.assign_permission_set_licenses"} {
		if !strings.Contains(se.Detail, want) {
			t.Errorf("Detail %q does not name %q", se.Detail, want)
		}
	}
	attrs := newUserAttrs("new.no.licence@example.com", "New", "Analyst")
	attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": []any{map[string]any{"value": "CRM_Analytics_Explorer"}}}
	_, err = h.b.CreateUser(h.ctx, attrs)
	se = wantKind(t, err, scimschema.KindInvalidValue)
	if !strings.Contains(se.Detail, "CRM Analytics Plus") || !strings.Contains(se.Detail, "CRM Analytics Explorer") {
		t.Errorf("create: Detail %q does not name the permission set and the licence", se.Detail)
	}
	if h.find("User", "Username", "new.no.licence@example.com") != nil {
		t.Error("the refused create left a user behind")
	}
}

func TestAssignPermissionSetLicenses(t *testing.T) {
	t.Parallel()
	h := newHarness(t,
		withBackend(func(c *BackendConfig) { c.Groups.AssignPermissionSetLicenses = true }),
		withEmulator(func(c *emulator.Config) {
			seed := emulator.DefaultSeed()
			seed.PermissionSetLicenses[0].TotalLicenses = 3
			c.Seed = seed
		}))
	ps := h.permSetID("CRM_Analytics_Explorer")
	psl := h.find("PermissionSetLicense", "DeveloperName", "CRM_Analytics_Plus")["Id"].(string)
	holds := func(user string) int {
		n := 0
		for _, a := range h.e.List("PermissionSetLicenseAssign") {
			if rest.SameID(str(a["AssigneeId"]), user) && rest.SameID(str(a["PermissionSetLicenseId"]), psl) {
				n++
			}
		}
		return n
	}
	member := h.insertUser("member.analyst@example.com", "Standard User", nil)
	holder := h.insertUser("holder.analyst@example.com", "Standard User", nil)
	if _, err := h.e.Insert("PermissionSetLicenseAssign", map[string]any{"AssigneeId": holder, "PermissionSetLicenseId": psl}); err != nil {
		t.Fatal(err)
	}
	_, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"),
		Value: []any{map[string]any{"value": member}, map[string]any{"value": holder}}}}, "")
	if err != nil {
		t.Fatalf("adding members to a licensed permission set: %v", err)
	}
	if a := h.assignees(ps); !a[member] || !a[holder] || holds(member) != 1 || holds(holder) != 1 {
		t.Errorf("assignees %v, licences member %d holder %d; want both assigned, one licence each", a, holds(member), holds(holder))
	}

	attrs := newUserAttrs("created.analyst@example.com", "Created", "Analyst")
	attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": []any{map[string]any{"value": "CRM_Analytics_Explorer"}}}
	res, err := h.b.CreateUser(h.ctx, attrs)
	if err != nil {
		t.Fatalf("creating a user with a licensed permission set: %v", err)
	}
	if !h.assignees(ps)[res.ID] || holds(res.ID) != 1 {
		t.Errorf("created user: assigned %v, licences %d", h.assignees(ps)[res.ID], holds(res.ID))
	}

	// The three seats are taken: the next assignment says so and changes nothing.
	late := h.insertUser("late.analyst@example.com", "Standard User", nil)
	_, err = h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": late}}}}, "")
	se := wantKind(t, err, scimschema.KindInvalidValue)
	if !strings.Contains(se.Detail, "CRM Analytics Plus") || !strings.Contains(se.Detail, "no free seat") {
		t.Errorf("Detail %q; want the licence and no free seat", se.Detail)
	}
	if h.assignees(ps)[late] {
		t.Error("assigned without a licence")
	}
	// Removing the member leaves the licence assignment alone.
	if _, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, `members[value eq "`+member+`"]`)}}, ""); err != nil {
		t.Fatal(err)
	}
	if holds(member) != 1 {
		t.Error("the bridge removed a licence assignment")
	}
}

// A permission set group Salesforce is recalculating refuses assignments: 503 with Retry-After
// while it is Updating (it ends by itself), 400 when the recalculation Failed. Decided by the
// group's Status, not by the refusal's code.
func TestPermissionSetGroupBeingRecalculated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Groups.Source = PermissionSetsAndGroups }))
	psg := h.find("PermissionSetGroup", "DeveloperName", "Sales_Team")["Id"].(string)
	u := h.insertUser("recalc@example.com", "Standard User", nil)
	add := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": u}}}}

	if err := h.e.SetPermissionSetGroupStatus(psg, "Updating"); err != nil {
		t.Fatal(err)
	}
	_, err := h.b.PatchGroup(h.ctx, psg, add, "")
	se := wantKind(t, err, scimschema.KindUnavailable)
	if se.RetryAfter <= 0 || !strings.Contains(se.Detail, "recalculated") {
		t.Errorf("Detail %q RetryAfter %v; want a recalculation and a Retry-After", se.Detail, se.RetryAfter)
	}
	attrs := newUserAttrs("recalc.new@example.com", "Re", "Calc")
	attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": []any{map[string]any{"value": psg}}}
	_, err = h.b.CreateUser(h.ctx, attrs)
	wantKind(t, err, scimschema.KindUnavailable)

	if err := h.e.SetPermissionSetGroupStatus(psg, "Failed"); err != nil {
		t.Fatal(err)
	}
	_, err = h.b.PatchGroup(h.ctx, psg, add, "")
	se = wantKind(t, err, scimschema.KindInvalidValue)
	if !strings.Contains(se.Detail, "Failed") {
		t.Errorf("Detail %q does not say the recalculation failed", se.Detail)
	}

	if err := h.e.SetPermissionSetGroupStatus(psg, "Updated"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.b.PatchGroup(h.ctx, psg, add, ""); err != nil {
		t.Fatalf("adding a member to the recalculated group: %v", err)
	}
}

// The same explanations and the licence assignment hold when member additions are coalesced
// (salesforce.batch_window): two PATCHes arriving together go out in one batch. With
// groups.assign_permission_set_licenses an addition that needs a licence is not coalesced
// (addMembersCoalesced leaves it to writeGroup, which assigns the licence first): the two PATCHes
// then run side by side and nothing waits in a batch.
func TestLicencesWithCoalescedMemberAdds(t *testing.T) {
	t.Parallel()
	for _, assign := range []bool{false, true} {
		h := newHarness(t, withBackend(func(c *BackendConfig) {
			c.BatchWindow = time.Hour
			c.Groups.AssignPermissionSetLicenses = assign
		}))
		ps := h.permSetID("CRM_Analytics_Explorer")
		users := []string{
			h.insertUser("coalesced.one@example.com", "Standard User", nil),
			h.insertUser("coalesced.two@example.com", "Standard User", nil),
		}
		errs := make([]error, len(users))
		var ops []func()
		for i, u := range users {
			ops = append(ops, func() {
				_, errs[i] = h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": u}}}}, "")
			})
		}
		if assign {
			var wg sync.WaitGroup
			for _, op := range ops {
				wg.Go(op)
			}
			wg.Wait()
		} else {
			together(h, ops...)
		}
		for i, u := range users {
			if assign {
				if errs[i] != nil || !h.assignees(ps)[u] {
					t.Errorf("with assign_permission_set_licenses: %v, assigned %v", errs[i], h.assignees(ps)[u])
				}
				continue
			}
			se := wantKind(t, errs[i], scimschema.KindInvalidValue)
			if !strings.Contains(se.Detail, "CRM Analytics Plus") {
				t.Errorf("Detail %q does not name the licence", se.Detail)
			}
		}
	}
}
