package salesforce

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

func displayNames(p scimschema.Page) []string {
	var out []string
	for _, r := range p.Resources {
		out = append(out, fmt.Sprint(r.Attributes["displayName"]))
	}
	slices.Sort(out)
	return out
}

func TestListGroupsReadsSalesforce(t *testing.T) {
	t.Parallel()
	allPS := []string{"Analytics Viewer", "CRM Analytics Explorer", "Marketing User", "Sales Cloud User", "Sales Operations", "Support Agent"}
	for _, tc := range []struct {
		name    string
		source  string
		include []string
		want    []string
	}{
		{"permission sets", "permission_sets", []string{"*"}, allPS},
		{"include by API name", "permission_sets", []string{"Sales_*"}, []string{"Sales Cloud User", "Sales Operations"}},
		{"include by label", "permission_sets", []string{"Support*"}, []string{"Support Agent"}},
		{"groups only", "permission_set_groups", []string{"*"}, []string{"Sales Team"}},
		{"both", "both", []string{"*"}, append(slices.Clone(allPS[:5]), "Sales Team", "Support Agent")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) {
				c.Groups.Source, c.Groups.Include = must(ParseGroupSource(tc.source)), tc.include
			}))
			var page scimschema.Page
			n := h.calls(func() {
				var err error
				page, err = h.b.ListGroups(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 100, ExcludedAttributes: []string{"members"}})
				if err != nil {
					t.Fatalf("ListGroups: %v", err)
				}
			})
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if got := displayNames(page); !slices.Equal(got, want) || page.TotalResults != len(want) {
				t.Errorf("ListGroups = %v (total %d); want %v", got, page.TotalResults, want)
			}
			if n != 1 {
				t.Errorf("ListGroups without members made %d calls; want 1 (groups are read fresh, never from the catalog cache)", n)
			}
		})
	}
}

func TestListGroupsFiltersAndMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := h.insertUser("member@example.com", "Standard User", nil)
	h.assign(u, h.permSetID("Support_Agent"))
	for _, tc := range []struct {
		filter string
		want   []string
		calls  int
	}{
		{`displayName eq "sales operations"`, []string{"Sales Operations"}, 1},
		{`displayName sw "Sales" and not (displayName co "Cloud")`, []string{"Sales Operations"}, 1},
		{`externalId eq "Marketing_User"`, []string{"Marketing User"}, 1},
		{fmt.Sprintf(`members[value eq "%s"]`, u), []string{"Support Agent"}, 1},
		{fmt.Sprintf(`members[value eq "%s"] and displayName sw "S"`, u), []string{"Support Agent"}, 1},
		{`displayName eq "Nope"`, nil, 1},
	} {
		var page scimschema.Page
		n := h.calls(func() {
			var err error
			page, err = h.b.ListGroups(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, tc.filter), StartIndex: 1, Count: 10, ExcludedAttributes: []string{"members"}})
			if err != nil {
				t.Fatalf("ListGroups(%s): %v", tc.filter, err)
			}
		})
		if got := displayNames(page); !slices.Equal(got, tc.want) {
			t.Errorf("ListGroups(%s) = %v; want %v", tc.filter, got, tc.want)
		}
		if n != tc.calls {
			t.Errorf("ListGroups(%s) made %d calls; want %d", tc.filter, n, tc.calls)
		}
	}
	// Members for a page of 5 groups: the same one composite (child subqueries).
	n := h.calls(func() {
		page, err := h.b.ListGroups(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Resources {
			members, _ := r.Attributes["members"].([]any)
			if want := r.Attributes["displayName"] == "Support Agent"; want != (len(members) == 1) {
				t.Errorf("%v members = %v", r.Attributes["displayName"], members)
			}
		}
	})
	if n != 1 {
		t.Errorf("ListGroups with members made %d calls; want 1", n)
	}
}

func TestGetGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := h.insertUser("gm@example.com", "Standard User", nil)
	ps := h.permSetID("Sales_Ops")
	h.assign(u, ps)
	n := h.calls(func() {
		res, err := h.b.GetGroup(h.ctx, ps, scimschema.ReadOptions{})
		if err != nil {
			t.Fatalf("GetGroup: %v", err)
		}
		members, _ := res.Attributes["members"].([]any)
		if len(members) != 1 || members[0].(map[string]any)["value"] != u || members[0].(map[string]any)["display"] != "gm@example.com" {
			t.Errorf("members = %v; want the one user with its userName", members)
		}
		if res.Attributes["displayName"] != "Sales Operations" || res.ExternalID != "Sales_Ops" {
			t.Errorf("group = %v %q", res.Attributes, res.ExternalID)
		}
	})
	if n != 1 {
		t.Errorf("GetGroup made %d calls; want 1", n)
	}
	for _, bad := range []string{"random-id", "0PS000000000000AAA", u} {
		_, err := h.b.GetGroup(h.ctx, bad, scimschema.ReadOptions{})
		wantKind(t, err, scimschema.KindNotFound)
	}
}

func TestCreateGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u1 := h.insertUser("c1@example.com", "Standard User", nil)
	u2 := h.insertUser("c2@example.com", "Standard User", nil)
	var res scimschema.Resource
	n := h.calls(func() {
		var err error
		res, err = h.b.CreateGroup(h.ctx, map[string]any{
			"displayName": "Field Service (EMEA)",
			"members":     []any{map[string]any{"value": u1}, map[string]any{"value": u2}},
		})
		if err != nil {
			t.Fatalf("CreateGroup: %v", err)
		}
	})
	if n != 1 {
		t.Errorf("CreateGroup with members made %d calls; want 1", n)
	}
	row := h.e.Get("PermissionSet", res.ID)
	if row == nil || row["Name"] != "Field_Service_EMEA" || row["Label"] != "Field Service (EMEA)" {
		t.Fatalf("created permission set = %v", row)
	}
	if a := h.assignees(res.ID); !a[u1] || !a[u2] {
		t.Errorf("assignees = %v; want both users", a)
	}
	// The new group is listed without reloading the catalog.
	page, err := h.b.ListGroups(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, `displayName eq "Field Service (EMEA)"`), StartIndex: 1, Count: 1, ExcludedAttributes: []string{"members"}})
	if err != nil || page.TotalResults != 1 {
		t.Errorf("new group not listed: %v %v", page, err)
	}
	_, err = h.b.CreateGroup(h.ctx, map[string]any{"displayName": "field service (emea)"})
	wantKind(t, err, scimschema.KindUniqueness)

	second, err := h.b.CreateGroup(h.ctx, map[string]any{"displayName": "Field Service EMEA!"})
	if err != nil {
		t.Fatalf("CreateGroup with a colliding API name: %v", err)
	}
	if name := h.e.Get("PermissionSet", second.ID)["Name"]; name != "Field_Service_EMEA_2" {
		t.Errorf("second API name = %v; want Field_Service_EMEA_2", name)
	}
	for _, label := range []string{"Bell\aSales", "Zero\u200bWidth", "Over\u202eride"} {
		_, err = h.b.CreateGroup(h.ctx, map[string]any{"displayName": label})
		wantKind(t, err, scimschema.KindInvalidValue)
		if err != nil && !strings.Contains(err.Error(), "displayName contains a character") {
			t.Errorf("CreateGroup(%q) = %v; want the refusal naming displayName", label, err)
		}
	}
	if _, err := h.b.PatchGroup(h.ctx, second.ID, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "displayName"), Value: "Tab\tName"}}, ""); err == nil {
		t.Error("PatchGroup renaming to a label with a control character succeeded")
	}
	_, err = h.b.CreateGroup(h.ctx, map[string]any{"displayName": "Bad", "members": []any{map[string]any{"value": "005000000000000AAA"}}})
	wantKind(t, err, scimschema.KindInvalidValue)
	if h.find("PermissionSet", "Label", "Bad") != nil {
		t.Error("a failed create left a permission set behind")
	}
}

func TestApiName(t *testing.T) {
	t.Parallel()
	taken := map[string]bool{"Sales": true, "Sales_2": true}
	for label, want := range map[string]string{
		"Sales":                  "Sales_3",
		"  Über  Team -- 1 ":     "ber_Team_1",
		"2026 Hires":             "G_2026_Hires",
		"***":                    "Group",
		strings.Repeat("a", 100): strings.Repeat("a", 80),
	} {
		if got := apiName(label, func(n string) bool { return taken[n] }); got != want {
			t.Errorf("apiName(%q) = %q; want %q", label, got, want)
		}
	}
}

func TestGroupWritesForbiddenBySettings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Groups.AllowCreate, c.Groups.AllowDelete = false, false }))
	n := h.calls(func() {
		_, err := h.b.CreateGroup(h.ctx, map[string]any{"displayName": "Nope"})
		if se := wantKind(t, err, scimschema.KindForbidden); !strings.Contains(se.Detail, "groups.allow_create") {
			t.Errorf("Detail %q does not name groups.allow_create", se.Detail)
		}
		err = h.b.DeleteGroup(h.ctx, h.permSetID("Sales_Ops"), "")
		if se := wantKind(t, err, scimschema.KindForbidden); !strings.Contains(se.Detail, "groups.allow_delete") {
			t.Errorf("Detail %q does not name groups.allow_delete", se.Detail)
		}
	})
	if n != 0 {
		t.Errorf("forbidden group writes made %d calls", n)
	}
}

func TestDeleteGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ps := h.permSetID("Marketing_User")
	h.assign(h.insertUser("d1@example.com", "Standard User", nil), ps)
	h.assign(h.insertUser("d2@example.com", "Standard User", nil), ps)
	n := h.calls(func() {
		if err := h.b.DeleteGroup(h.ctx, ps, ""); err != nil {
			t.Fatalf("DeleteGroup: %v", err)
		}
	})
	if n != 3 {
		t.Errorf("DeleteGroup of an assigned permission set made %d calls; want 3 (refused DELETE, assignment query, then one composite)", n)
	}
	if h.e.Get("PermissionSet", ps) != nil || len(h.assignees(ps)) != 0 {
		t.Error("permission set or assignments remain")
	}
	_, err := h.b.GetGroup(h.ctx, ps, scimschema.ReadOptions{})
	wantKind(t, err, scimschema.KindNotFound)
	wantKind(t, h.b.DeleteGroup(h.ctx, ps, ""), scimschema.KindNotFound)
}

func TestGroupMembersMergeAndOverwrite(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"merge", "overwrite"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.PermissionSets = must(ParseMembershipMode(mode)) }))
			ps := h.permSetID("Sales_Ops")
			salesforceMade := h.insertUser("local@example.com", "Standard User", nil)
			h.assign(salesforceMade, ps)
			idp := h.insertUser("idp@example.com", "Standard User", nil)

			var res scimschema.Resource
			n := h.calls(func() {
				var err error
				res, err = h.b.ReplaceGroup(h.ctx, ps, map[string]any{"displayName": "Sales Operations", "members": []any{map[string]any{"value": idp}}}, "")
				if err != nil {
					t.Fatalf("ReplaceGroup: %v", err)
				}
			})
			if n != 2 {
				t.Errorf("PUT /Groups made %d calls; want 2", n)
			}
			a := h.assignees(ps)
			if !a[idp] || a[salesforceMade] != (mode == "merge") {
				t.Errorf("assignees = %v under %s", a, mode)
			}
			members, _ := res.Attributes["members"].([]any)
			if len(members) != len(a) {
				t.Errorf("PUT answer members = %v; want %d", members, len(a))
			}

			// replace members [] empties the group under overwrite only.
			_, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "members"), Value: []any{}}}, "")
			if err != nil {
				t.Fatalf("replace members []: %v", err)
			}
			if got, want := len(h.assignees(ps)), map[string]int{"merge": 2, "overwrite": 0}[mode]; got != want {
				t.Errorf("after replace members [] %d assignments; want %d", got, want)
			}
		})
	}
}

func TestGroupMemberPatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ps := h.permSetID("Support_Agent")
	member := h.insertUser("m@example.com", "Standard User", nil)
	h.assign(member, ps)
	other := h.insertUser("o@example.com", "Standard User", nil)

	add := func(ids ...string) error {
		values := []any{}
		for _, id := range ids {
			values = append(values, map[string]any{"value": id})
		}
		res, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: values}}, "")
		if err == nil && res.ID != "" {
			t.Errorf("member PATCH answered a resource; want none (204)")
		}
		return err
	}
	remove := func(id string) error {
		_, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, fmt.Sprintf(`members[value eq "%s"]`, id))}}, "")
		return err
	}

	if n := h.calls(func() {
		if err := add(member); err != nil {
			t.Errorf("adding an existing member: %v", err)
		}
	}); n != 1 {
		t.Errorf("add members made %d calls; want 1", n)
	}
	if err := add(other); err != nil || !h.assignees(ps)[other] {
		t.Errorf("add other: %v", err)
	}
	if n := h.calls(func() {
		if err := remove(other); err != nil {
			t.Errorf("remove member: %v", err)
		}
	}); n != 1 {
		t.Errorf("remove members made %d calls; want 1 (query and delete in one composite)", n)
	}
	if h.assignees(ps)[other] {
		t.Error("removed member still assigned")
	}
	// Several members and a non-member in one PATCH: one call, the members go, the rest stays.
	third := h.insertUser("third@example.com", "Standard User", nil)
	if err := add(other, third); err != nil {
		t.Fatalf("add two: %v", err)
	}
	stranger := h.insertUser("stranger@example.com", "Standard User", nil)
	if n := h.calls(func() {
		_, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, "members"),
			Value: []any{map[string]any{"value": stranger}, map[string]any{"value": third}, map[string]any{"value": other}}}}, "")
		if err != nil {
			t.Errorf("remove two members and a non-member: %v", err)
		}
	}); n != 1 {
		t.Errorf("remove three made %d calls; want 1", n)
	}
	if got := h.assignees(ps); got[other] || got[third] || !got[member] {
		t.Errorf("after removing two: assignees %v; want %s only of these", got, member)
	}
	if err := remove(other); err != nil {
		t.Errorf("removing a non-member: %v", err)
	}
	if err := remove("garbage"); err != nil {
		t.Errorf("removing a malformed id: %v", err)
	}

	err := add("005000000000000AAA")
	if se := wantKind(t, err, scimschema.KindInvalidValue); !strings.Contains(se.Detail, "005000000000000AAA") {
		t.Errorf("Detail %q does not name the unknown member", se.Detail)
	}

	res, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "displayName"), Value: "Support Team"}}, "")
	if err != nil || res.Attributes["displayName"] != "Support Team" {
		t.Fatalf("rename: %v %v", res.Attributes, err)
	}
	if h.e.Get("PermissionSet", ps)["Label"] != "Support Team" {
		t.Error("label not changed in Salesforce")
	}
	_, err = h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "displayName"), Value: "Sales Operations"}}, "")
	wantKind(t, err, scimschema.KindUniqueness)
}

func TestGroupLicenceMismatchIsPartial(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ps := h.permSetID("Sales_Cloud_User") // needs the Salesforce licence
	ok := h.insertUser("full@example.com", "Standard User", nil)
	free := h.insertUser("free@example.com", "Chatter Free User", nil)
	_, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"),
		Value: []any{map[string]any{"value": ok}, map[string]any{"value": free}}}}, "")
	se := wantKind(t, err, scimschema.KindInvalidValue)
	if !strings.Contains(se.Detail, free) || strings.Contains(se.Detail, ok) || !strings.Contains(se.Detail, "licence") {
		t.Errorf("Detail %q; want it to name only the Chatter Free member and the licence", se.Detail)
	}
	if a := h.assignees(ps); !a[ok] || a[free] {
		t.Errorf("assignees = %v; want the applied member kept and the failed one absent", a)
	}
}

func TestPermissionSetGroupAsGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Groups.Source = PermissionSetsAndGroups }))
	psg := h.find("PermissionSetGroup", "DeveloperName", "Sales_Team")["Id"].(string)
	u := h.insertUser("team@example.com", "Standard User", nil)
	_, err := h.b.PatchGroup(h.ctx, psg, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": u}}}}, "")
	if err != nil {
		t.Fatalf("adding a member to a permission set group: %v", err)
	}
	found := false
	for _, a := range h.e.List("PermissionSetAssignment") {
		if rest.SameID(str(a["AssigneeId"]), u) && rest.SameID(str(a["PermissionSetGroupId"]), psg) {
			found = true
		}
	}
	if !found {
		t.Fatal("no PermissionSetGroupId assignment")
	}
	res, err := h.b.GetUser(h.ctx, u, scimschema.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	groups, _ := res.Attributes["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["value"] != psg {
		t.Errorf("user groups = %v; want the permission set group", groups)
	}
	g, err := h.b.GetGroup(h.ctx, psg, scimschema.ReadOptions{})
	if err != nil || g.Attributes["displayName"] != "Sales Team" {
		t.Fatalf("GetGroup(psg) = %v, %v", g.Attributes, err)
	}
	if members, _ := g.Attributes["members"].([]any); len(members) != 1 {
		t.Errorf("psg members = %v; want 1", members)
	}
}

// A PUT that renames the group and swaps members costs two calls (§7.9): the group with its
// members, then one composite with the label PATCH, the assignment writes and the read-back.
func TestReplaceGroupRenamesInTheMemberComposite(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.PermissionSets = Overwrite }))
	ps := h.permSetID("Support_Agent")
	leaving := h.insertUser("leaving@example.com", "Standard User", nil)
	h.assign(leaving, ps)
	joining := h.insertUser("joining@example.com", "Standard User", nil)
	var res scimschema.Resource
	n := h.calls(func() {
		var err error
		res, err = h.b.ReplaceGroup(h.ctx, ps, map[string]any{"displayName": "Support Team", "members": []any{map[string]any{"value": joining}}}, "")
		if err != nil {
			t.Fatalf("ReplaceGroup: %v", err)
		}
	})
	if n != 2 {
		t.Errorf("PUT /Groups with a new displayName made %d calls; want 2", n)
	}
	row := h.e.Get("PermissionSet", ps)
	if row["Label"] != "Support Team" {
		t.Errorf("Label = %v; want Support Team", row["Label"])
	}
	if a := h.assignees(ps); !a[joining] || a[leaving] {
		t.Errorf("assignees = %v; want only %s", a, joining)
	}
	if res.Attributes["displayName"] != "Support Team" {
		t.Errorf("PUT answer displayName = %v", res.Attributes["displayName"])
	}
	if got, err := h.b.GetGroup(h.ctx, ps, scimschema.ReadOptions{}); err != nil || res.Version != got.Version {
		t.Errorf("PUT answer version = %q; GET says %q, %v (the answer must carry the read-back after the rename)", res.Version, got.Version, err)
	}
	if !strings.Contains(h.log.String(), `"operation":"update_group"`) {
		t.Error("no update_group audit line")
	}

	// A rename alone is one call.
	n = h.calls(func() {
		res, err := h.b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "displayName"), Value: "Support Agents"}}, "")
		if err != nil || res.Attributes["displayName"] != "Support Agents" {
			t.Errorf("PatchGroup displayName = %v, %v", res.Attributes, err)
		}
	})
	if n != 1 {
		t.Errorf("PATCH displayName made %d calls; want 1", n)
	}
}

func TestDeleteGroupSendsTheDeleteFirst(t *testing.T) {
	t.Parallel()
	t.Run("unassigned: one call", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		ps := h.permSetID("Marketing_User")
		n := h.calls(func() {
			if err := h.b.DeleteGroup(h.ctx, ps, ""); err != nil {
				t.Fatalf("DeleteGroup: %v", err)
			}
		})
		if n != 1 {
			t.Errorf("DeleteGroup of an unassigned permission set made %d calls; want 1", n)
		}
		if h.e.Get("PermissionSet", ps) != nil {
			t.Error("permission set remains")
		}
	})
	t.Run("assigned, refused with another code: three calls", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, withEmulator(func(c *emulator.Config) { c.Quirks.DeleteAssignedPermissionSetCode = "CANNOT_DELETE_ASSIGNED" }))
		ps := h.permSetID("Marketing_User")
		h.assign(h.insertUser("q1@example.com", "Standard User", nil), ps)
		n := h.calls(func() {
			if err := h.b.DeleteGroup(h.ctx, ps, ""); err != nil {
				t.Fatalf("DeleteGroup: %v", err)
			}
		})
		if n != 3 {
			t.Errorf("DeleteGroup made %d calls; want 3", n)
		}
		if h.e.Get("PermissionSet", ps) != nil || len(h.assignees(ps)) != 0 {
			t.Error("permission set or assignments remain")
		}
	})
	t.Run("refused without assignments: the refusal stands", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		ps := h.permSetID("Marketing_User")
		h.e.InjectFault(emulator.Fault{Method: "DELETE", PathPattern: "/services/data/*/sobjects/PermissionSet/*", ErrorCode: "DELETE_FAILED"})
		se := wantKind(t, h.b.DeleteGroup(h.ctx, ps, ""), scimschema.KindInvalidValue)
		if !strings.Contains(se.Detail, "refused") {
			t.Errorf("Detail %q does not say Salesforce refused", se.Detail)
		}
		if h.e.Get("PermissionSet", ps) == nil {
			t.Error("permission set deleted although Salesforce refused")
		}
	})
}

// Permission set group members are read from PermissionSetAssignment: the child relationship
// Assignments is documented on PermissionSet only, and under the strict profile (as perhaps in a
// real org) PermissionSetGroup has none. A list with members must not drop the groups then.
func TestListGroupsReadsPermissionSetGroupMembersWithoutAChildRelationship(t *testing.T) {
	t.Parallel()
	for _, profile := range []emulator.Profile{emulator.ProfileDefault, emulator.ProfileStrict} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Groups.Source = PermissionSetsAndGroups }),
				withEmulator(func(c *emulator.Config) { c.Profile = profile }))
			psg := h.find("PermissionSetGroup", "DeveloperName", "Sales_Team")["Id"].(string)
			u := h.insertUser("team-member@example.com", "Standard User", nil)
			if _, err := h.e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": u, "PermissionSetGroupId": psg}); err != nil {
				t.Fatal(err)
			}
			var page scimschema.Page
			n := h.calls(func() {
				var err error
				if page, err = h.b.ListGroups(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 100}); err != nil {
					t.Fatalf("ListGroups: %v", err)
				}
			})
			if n != 1 {
				t.Errorf("ListGroups with members made %d calls; want 1", n)
			}
			var found bool
			for _, r := range page.Resources {
				if r.ID != psg {
					continue
				}
				found = true
				members, _ := r.Attributes["members"].([]any)
				if len(members) != 1 || !rest.SameID(members[0].(map[string]any)["value"].(string), u) {
					t.Errorf("permission set group members = %v; want the one assignee", members)
				}
			}
			if !found {
				t.Fatalf("ListGroups with members = %v; the permission set group is missing", displayNames(page))
			}
		})
	}
}

// seedCrowd inserts the permission set "Crowd" with n members (users crowd000@example.com, …) and
// returns its id. Past 200 members, they no longer fit a child subquery's first batch.
func seedCrowd(t testing.TB, h *harness, n int) string {
	t.Helper()
	crowd, err := h.e.Insert("PermissionSet", map[string]any{"Name": "Crowd", "Label": "Crowd"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		h.assign(h.insertUser(fmt.Sprintf("crowd%03d@example.com", i), "Standard User", nil), crowd)
	}
	return crowd
}

// seedCollector inserts the user collector@example.com assigned to n new permission sets (Set_000,
// …) and returns the user's id. Past 200 sets, they no longer fit a child subquery's first batch.
func seedCollector(t testing.TB, h *harness, n int) string {
	t.Helper()
	collector := h.insertUser("collector@example.com", "Standard User", nil)
	for i := range n {
		ps, err := h.e.Insert("PermissionSet", map[string]any{"Name": fmt.Sprintf("Set_%03d", i), "Label": fmt.Sprintf("Set %03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		h.assign(collector, ps)
	}
	return collector
}

// Child subqueries come in batches (200 rows under the strict profile) with cursors the parent's
// queryMore invalidates: a group's members and a user's groups past the first batch are read by
// querying PermissionSetAssignment, never through the child cursor.
func TestChildRowsPastTheFirstBatch(t *testing.T) {
	t.Parallel()
	for _, profile := range []emulator.Profile{emulator.ProfileDefault, emulator.ProfileStrict} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBigOrg(), withEmulator(func(c *emulator.Config) { c.Profile = profile }))
			seedCrowd(t, h, 230)
			collector := seedCollector(t, h, 210)
			// Any cursor the bridge follows is gone, as after the parent's queryMore.
			h.e.InjectFault(emulator.Fault{Method: "GET", PathPattern: "/services/data/*/query/*", Status: 404,
				ErrorCode: "INVALID_QUERY_LOCATOR", Message: "invalid query locator", Times: -1})
			page, err := h.b.ListGroups(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 1000, Filter: parseFilter(t, `displayName eq "Crowd"`)})
			if err != nil || len(page.Resources) != 1 {
				t.Fatalf("ListGroups = %v, %v", page.Resources, err)
			}
			if members, _ := page.Resources[0].Attributes["members"].([]any); len(members) != 230 {
				t.Errorf("listed group has %d members; want 230", len(members))
			}
			u, err := h.b.GetUser(h.ctx, collector, scimschema.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if groups, _ := u.Attributes["groups"].([]any); len(groups) != 210 {
				t.Errorf("user has %d groups; want 210", len(groups))
			}
		})
	}
}

// A group created with members: the first members ride in the create composite as single-record
// POSTs referencing the new permission set (the documented place of a reference), the rest follow
// with its id. Under the strict profile a reference inside Collections records is not resolved.
func TestCreateGroupWithManyMembers(t *testing.T) {
	t.Parallel()
	for _, profile := range []emulator.Profile{emulator.ProfileDefault, emulator.ProfileStrict} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBigOrg(), withEmulator(func(c *emulator.Config) { c.Profile = profile }))
			var members []any
			for i := range 30 {
				members = append(members, map[string]any{"value": h.insertUser(fmt.Sprintf("m%02d@example.com", i), "Standard User", nil)})
			}
			var res scimschema.Resource
			n := h.calls(func() {
				var err error
				if res, err = h.b.CreateGroup(h.ctx, map[string]any{"displayName": "Thirty", "members": members}); err != nil {
					t.Fatalf("CreateGroup: %v", err)
				}
			})
			if n != 2 {
				t.Errorf("CreateGroup with 30 members made %d calls; want 2", n)
			}
			a := h.assignees(res.ID)
			for _, m := range members {
				if !a[m.(map[string]any)["value"].(string)] {
					t.Errorf("%v not assigned", m)
				}
			}
		})
	}
}
