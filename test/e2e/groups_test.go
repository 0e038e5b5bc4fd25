package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// Groups ⇄ permission sets (DESIGN.md): every membership operation under merge and overwrite,
// assignments made directly in Salesforce, the call budgets of salesforce-api.md §7.11, the
// allow_create / allow_delete switches and the errors IdPs must be able to read.

func TestMembershipModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"merge", "overwrite"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := start(t, "provisioning:\n  permission_sets: "+mode+"\n")
			b.warm(t)
			u1, u2, u3 := b.insertUser(t, "member1"), b.insertUser(t, "member2"), b.insertUser(t, "member3")
			gid := b.Org.PermissionSet(t, "Marketing User")
			// u3 was given the permission set by a Salesforce admin, not by the IdP.
			b.Org.Assign(t, u3, gid)

			steps := []struct {
				name        string
				method      string // "" = PATCH
				body        any
				budget      int      // salesforce-api.md §7.11
				merge, over []string // assignees afterwards, per mode
			}{
				{name: "add members", budget: 1,
					body:  patch(op("add", "members", memberValues(u1))),
					merge: ids(u1, u3), over: ids(u1, u3)},
				{name: "replace members", budget: 2,
					body:  patch(op("replace", "members", memberValues(u2))),
					merge: ids(u1, u2, u3), over: ids(u2)},
				{name: "PUT members", method: http.MethodPut, budget: 2,
					body:  map[string]any{"schemas": []any{harness.GroupURN}, "id": gid, "displayName": "Marketing User", "members": memberValues(u1)},
					merge: ids(u1, u2, u3), over: ids(u1)},
				{name: "Okta replace members []", budget: 2,
					body:  patch(op("replace", "members", []any{})),
					merge: ids(u1, u2, u3), over: ids()},
				{name: "path-less replace members", budget: 2,
					body:  patch(op("replace", "", map[string]any{"members": memberValues(u3)})),
					merge: ids(u1, u2, u3), over: ids(u3)},
				{name: "add everyone back", budget: 1,
					body:  patch(op("add", "members", memberValues(u1, u2, u3))),
					merge: ids(u1, u2, u3), over: ids(u1, u2, u3)},
				{name: "Okta remove members[value eq] without value", budget: 2,
					body:  patch(op("remove", fmt.Sprintf("members[value eq %q]", u1), nil)),
					merge: ids(u2, u3), over: ids(u2, u3)},
				{name: "Entra Remove members with a value array, naming the Salesforce-made assignment", budget: 2,
					body:  patch(op("Remove", "members", memberValues(u2, u3))),
					merge: ids(), over: ids()},
			}
			for _, s := range steps {
				method := s.method
				if method == "" {
					method = http.MethodPatch
				}
				want := s.merge
				if mode == "overwrite" {
					want = s.over
				}
				status, doc := b.within(t, s.budget, method, "/Groups/"+gid, s.body)
				if status != http.StatusOK && status != http.StatusNoContent {
					t.Fatalf("step %q: %s /Groups/%s = %d; want 200 or 204; body %v", s.name, method, gid, status, doc)
				}
				assertIDs(t, fmt.Sprintf("step %q: assignees of Marketing User", s.name), b.Org.Members(gid), want)

				status, doc = b.within(t, 1, http.MethodGet, "/Groups/"+gid, nil)
				if status != http.StatusOK {
					t.Fatalf("step %q: GET /Groups/%s = %d; body %v", s.name, gid, status, doc)
				}
				assertIDs(t, fmt.Sprintf("step %q: GET /Groups members", s.name), memberIDs(doc), want)
			}
		})
	}
}

func TestUserPermissionSetsModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"merge", "overwrite"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := start(t, "provisioning:\n  permission_sets: "+mode+"\n")
			b.warm(t)
			salesOps, support, analytics, marketing :=
				b.Org.PermissionSet(t, "Sales Operations"), b.Org.PermissionSet(t, "Support Agent"),
				b.Org.PermissionSet(t, "Analytics Viewer"), b.Org.PermissionSet(t, "Marketing User")
			user := func(sets ...string) map[string]any {
				u := simpleUser("ps.user@example.com", "Perm", "Sets")
				u["schemas"] = []any{harness.UserURN, harness.SalesforceURN}
				u[harness.SalesforceURN] = map[string]any{"permissionSets": memberValues(sets...)}
				return u
			}

			// Created with a permission set named by its API name: one call.
			status, doc := b.within(t, 1, http.MethodPost, "/Users", user("Sales_Ops"))
			if status != http.StatusCreated {
				t.Fatalf("POST /Users with permissionSets = %d; want 201; body %v", status, doc)
			}
			id := str(doc["id"])
			assertIDs(t, "assignments after create", b.Org.AssignedSets(id), ids(salesOps))
			// A Salesforce admin assigns Support Agent directly.
			b.Org.Assign(t, id, support)

			// The IdP's PUT names only Analytics Viewer: merge keeps the others, overwrite removes them.
			status, doc = b.within(t, 2, http.MethodPut, "/Users/"+id, user(analytics))
			if status != http.StatusOK {
				t.Fatalf("PUT /Users/%s = %d; body %v", id, status, doc)
			}
			want := ids(salesOps, support, analytics)
			if mode == "overwrite" {
				want = ids(analytics)
			}
			assertIDs(t, "assignments after PUT", b.Org.AssignedSets(id), want)

			status, doc = b.within(t, 2, http.MethodPatch, "/Users/"+id,
				patch(op("add", harness.SalesforceURN+":permissionSets", memberValues(marketing))))
			if status != http.StatusOK && status != http.StatusNoContent {
				t.Fatalf("PATCH add permissionSets = %d; body %v", status, doc)
			}
			assertIDs(t, "assignments after PATCH add", b.Org.AssignedSets(id), append(ids(want...), marketing))

			status, doc = b.within(t, 2, http.MethodPatch, "/Users/"+id,
				patch(op("remove", fmt.Sprintf("%s:permissionSets[value eq %q]", harness.SalesforceURN, marketing), nil)))
			if status != http.StatusOK && status != http.StatusNoContent {
				t.Fatalf("PATCH remove permissionSets[value eq] = %d; body %v", status, doc)
			}
			assertIDs(t, "assignments after PATCH remove", b.Org.AssignedSets(id), want)

			// User.groups (read-only) shows the exposed assignments.
			doc = b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)
			var groups []string
			list, _ := doc["groups"].([]any)
			for _, g := range list {
				groups = append(groups, str(g.(map[string]any)["value"]))
			}
			assertIDs(t, "GET /Users groups", groups, want)
		})
	}
}

func TestGroupCallBudgets(t *testing.T) {
	t.Parallel()
	const k = 200
	b := startWith(t, harness.Options{Config: "provisioning:\n  permission_sets: overwrite\ngroups:\n  allow_delete: true\n", Seats: k + 20})
	b.warm(t)
	var users []string
	for i := range k {
		users = append(users, b.insertUser(t, fmt.Sprintf("bulk%03d", i)))
	}

	if n := b.calls(func() { b.must(t, ok200, http.MethodGet, "/Groups", nil) }); n > 1 {
		t.Errorf("GET /Groups cost %d calls; budget 1 (0 with a cached catalog)", n)
	}

	status, doc := b.within(t, 1, http.MethodPost, "/Groups", map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "Bulk Group"})
	if status != http.StatusCreated {
		t.Fatalf("POST /Groups = %d; body %v", status, doc)
	}
	gid := str(doc["id"])

	status, doc = b.within(t, 1, http.MethodPatch, "/Groups/"+gid, patch(op("add", "members", memberValues(users...))))
	if status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("PATCH add %d members = %d; body %v", k, status, doc)
	}
	assertIDs(t, "assignees after adding 200", b.Org.Members(gid), users)

	status, doc = b.within(t, 1, http.MethodGet, "/Groups/"+gid, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /Groups/%s = %d; body %v", gid, status, doc)
	}
	assertIDs(t, "GET /Groups members", memberIDs(doc), users)

	status, doc = b.within(t, 2, http.MethodPatch, "/Groups/"+gid, patch(op("remove", "members", memberValues(users[:50]...))))
	if status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("PATCH remove 50 members = %d; body %v", status, doc)
	}
	assertIDs(t, "assignees after removing 50", b.Org.Members(gid), users[50:])

	// PUT swaps 50 members in and 100 out: still two calls.
	want := append(append([]string{}, users[:50]...), users[150:]...)
	status, doc = b.within(t, 2, http.MethodPut, "/Groups/"+gid, map[string]any{
		"schemas": []any{harness.GroupURN}, "displayName": "Bulk Group Renamed", "members": memberValues(want...),
	})
	if status != http.StatusOK {
		t.Fatalf("PUT /Groups/%s = %d; body %v", gid, status, doc)
	}
	assertIDs(t, "assignees after PUT", b.Org.Members(gid), want)
	if got := b.Emulator.Get("PermissionSet", gid)["Label"]; got != "Bulk Group Renamed" {
		t.Errorf("PermissionSet.Label after PUT = %v; want Bulk Group Renamed", got)
	}

	// An empty permission set is deleted in one call.
	status, doc = b.within(t, 1, http.MethodPost, "/Groups", map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "Short Lived"})
	if status != http.StatusCreated {
		t.Fatalf("POST /Groups = %d; body %v", status, doc)
	}
	empty := str(doc["id"])
	status, doc = b.within(t, 1, http.MethodDelete, "/Groups/"+empty, nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE /Groups/%s = %d; want 204; body %v", empty, status, doc)
	}
	if b.Emulator.Get("PermissionSet", empty) != nil {
		t.Errorf("DELETE /Groups/%s left the permission set in Salesforce", empty)
	}
	status, doc = b.do(t, http.MethodGet, "/Groups/"+empty, nil)
	assertError(t, "GET a deleted group", status, doc, http.StatusNotFound, "")

	// A group with members is deleted with its assignments (query + delete collection + delete).
	status, doc = b.within(t, 3, http.MethodDelete, "/Groups/"+gid, nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE /Groups/%s with members = %d; want 204; body %v", gid, status, doc)
	}
	if b.Emulator.Get("PermissionSet", gid) != nil || len(b.Org.Members(gid)) != 0 {
		t.Errorf("DELETE /Groups/%s left the permission set or its assignments", gid)
	}
}

// The budget of a user operation with a warm catalog, from salesforce-api.md §7.11.
func TestUserCallBudgets(t *testing.T) {
	t.Parallel()
	b := start(t, "provisioning:\n  disable_action: freeze\n")
	b.warm(t)
	salesOps := b.Org.PermissionSet(t, "Sales Operations")
	support := b.Org.PermissionSet(t, "Support Agent")

	body := simpleUser("budget@example.com", "Bud", "Get")
	body["schemas"] = []any{harness.UserURN, harness.SalesforceURN}
	body[harness.SalesforceURN] = map[string]any{"permissionSets": memberValues(salesOps, support)}
	status, doc := b.within(t, 1, http.MethodPost, "/Users", body)
	if status != http.StatusCreated {
		t.Fatalf("POST /Users = %d; body %v", status, doc)
	}
	id := str(doc["id"])
	assertIDs(t, "assignments after create", b.Org.AssignedSets(id), ids(salesOps, support))

	requests := []struct {
		method, path string
		body         any
		budget       int
	}{
		{http.MethodGet, "/Users/" + id, nil, 1},
		{http.MethodGet, "/Users?excludedAttributes=groups", nil, 1},
		{http.MethodGet, filterPath("/Users", `userName eq "budget@example.com"`), nil, 1},
		{http.MethodGet, filterPath("/Users", `active eq true and emails[type eq "work"].value eq "budget@example.com"`), nil, 1},
		{http.MethodPatch, "/Users/" + id, patch(op("replace", "title", "Budgeteer")), 1},
		{http.MethodPatch, "/Users/" + id, patch(op("replace", "active", false)), 2}, // + the deprovision brake's count
		{http.MethodPatch, "/Users/" + id, patch(op("replace", "active", true)), 1},
		{http.MethodPut, "/Users/" + id, simpleUser("budget@example.com", "Bud", "Geted"), 1},
		{http.MethodDelete, "/Users/" + id, nil, 2}, // + the deprovision brake's count
	}
	for _, r := range requests {
		status, doc := b.within(t, r.budget, r.method, r.path, r.body)
		if status >= 300 {
			t.Errorf("%s %s = %d; body %v", r.method, r.path, status, doc)
		}
	}
}

func TestGroupSwitches(t *testing.T) {
	t.Parallel()
	b := start(t, "groups:\n  allow_create: false\n  allow_delete: false\n")
	b.warm(t)
	before := len(b.Emulator.List("PermissionSet"))

	var status int
	var doc map[string]any
	n := b.calls(func() {
		status, doc = b.do(t, http.MethodPost, "/Groups", map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "Not Allowed"})
	})
	assertError(t, "POST /Groups with allow_create off", status, doc, http.StatusForbidden, "", "allow_create")
	if n != 0 {
		t.Errorf("POST /Groups with allow_create off cost %d calls; want 0", n)
	}

	gid := b.Org.PermissionSet(t, "Analytics Viewer")
	status, doc = b.do(t, http.MethodDelete, "/Groups/"+gid, nil)
	assertError(t, "DELETE /Groups with allow_delete off", status, doc, http.StatusForbidden, "", "allow_delete")
	if b.Emulator.Get("PermissionSet", gid) == nil {
		t.Errorf("DELETE /Groups with allow_delete off deleted the permission set")
	}
	if got := len(b.Emulator.List("PermissionSet")); got != before {
		t.Errorf("Salesforce has %d permission sets; want %d", got, before)
	}
}

func TestGroupErrorsNameTheirCause(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	standard := b.insertUser(t, "licensed")
	chatter := b.insertUser(t, "chatter", "Chatter Free User")
	salesCloud := b.Org.PermissionSet(t, "Sales Cloud User") // needs the Salesforce licence

	t.Run("partial failure names the failed members and keeps the rest", func(t *testing.T) {
		status, doc := b.do(t, http.MethodPatch, "/Groups/"+salesCloud, patch(op("add", "members", memberValues(standard, chatter, unknownUserID))))
		assertError(t, "PATCH add members with a licence mismatch and an unknown user", status, doc, http.StatusBadRequest, "", id15(chatter), id15(unknownUserID))
		if detail := str(doc["detail"]); containsID(detail, standard) {
			t.Errorf("detail %q names %s, which was assigned", detail, standard)
		}
		assertIDs(t, "Sales Cloud User assignees", b.Org.Members(salesCloud), ids(standard))
	})

	t.Run("profile-owned permission set is refused, named", func(t *testing.T) {
		owned := b.Org.ProfilePermissionSet(t, "Standard User")
		body := patch(op("add", harness.SalesforceURN+":permissionSets", memberValues(owned)))
		status, doc := b.do(t, http.MethodPatch, "/Users/"+standard, body)
		assertError(t, "PATCH /Users add a profile-owned permission set", status, doc, http.StatusBadRequest, "", id15(owned)+"|permissionSets[0]")

		status, doc = b.do(t, http.MethodGet, "/Groups/"+owned, nil)
		assertError(t, "GET /Groups/<profile-owned permission set>", status, doc, http.StatusNotFound, "")
	})

	t.Run("displayName must be unique", func(t *testing.T) {
		status, doc := b.do(t, http.MethodPost, "/Groups", map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "Support Agent"})
		assertError(t, "POST /Groups with an existing displayName", status, doc, http.StatusConflict, "uniqueness")
	})
}

func TestExcludedMembersReadsNoAssignments(t *testing.T) {
	t.Parallel()
	// More than one query page of members (2,000) makes any member read cost at least two calls.
	const k = 2001
	b := startWith(t, harness.Options{Seats: k + 20})
	b.warm(t)
	gid := b.Org.PermissionSet(t, "Analytics Viewer")
	for i := range k {
		b.Org.Assign(t, b.insertUser(t, fmt.Sprintf("crowd%04d", i)), gid)
	}

	full := b.calls(func() {
		doc := b.must(t, ok200, http.MethodGet, "/Groups/"+gid, nil)
		if got := len(memberIDs(doc)); got != k {
			t.Errorf("GET /Groups/%s has %d members; want %d", gid, got, k)
		}
	})
	if full < 2 {
		t.Fatalf("reading %d members cost %d calls; the test assumes at least 2 (2,000 rows per query page)", k, full)
	}

	for _, p := range []string{
		"/Groups/" + gid + "?excludedAttributes=members",
		"/Groups?excludedAttributes=members",
		filterPath("/Groups", `displayName eq "Analytics Viewer"`, "excludedAttributes=members"),
	} {
		var doc map[string]any
		n := b.calls(func() { doc = b.must(t, ok200, http.MethodGet, p, nil) })
		if n > 1 {
			t.Errorf("GET %s cost %d calls; want at most 1: excludedAttributes=members must not read assignments", p, n)
		}
		if _, has := doc["members"]; has {
			t.Errorf("GET %s returned members", p)
		}
		if list, ok := doc["Resources"].([]any); ok {
			for _, r := range list {
				if _, has := r.(map[string]any)["members"]; has {
					t.Errorf("GET %s returned members", p)
				}
			}
		}
	}
}
