package salesforce

import (
	"fmt"
	"slices"
	"testing"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Replicas behind a load balancer serve one org (DESIGN "Operations: Stateless"): what one
// replica writes, every other reads at once, although each keeps its own catalog cache.
func TestReplicasSeeEachOthersGroupsAndUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, b := h.b, h.replica()

	created, err := a.CreateGroup(h.ctx, map[string]any{"displayName": "Replica Group"})
	if err != nil {
		t.Fatalf("CreateGroup on replica A: %v", err)
	}
	gid := created.ID

	n := h.calls(func() {
		page, err := b.ListGroups(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, `displayName eq "Replica Group"`), StartIndex: 1, Count: 10})
		if err != nil || page.TotalResults != 1 || len(page.Resources) != 1 || page.Resources[0].ID != gid {
			t.Errorf("ListGroups(displayName eq) on replica B = %+v, %v; want the group created on A", page, err)
		}
	})
	if n != 1 {
		t.Errorf("ListGroups on replica B made %d calls; want 1", n)
	}
	n = h.calls(func() {
		if res, err := b.GetGroup(h.ctx, gid, scimschema.ReadOptions{}); err != nil || res.Attributes["displayName"] != "Replica Group" {
			t.Errorf("GetGroup on replica B = %v, %v", res.Attributes, err)
		}
	})
	if n != 1 {
		t.Errorf("GetGroup on replica B made %d calls; want 1", n)
	}

	// A user created on A, added to the group on A, reads the same on B, groups included.
	user, err := a.CreateUser(h.ctx, newUserAttrs("replica@example.com", "Rep", "Lica"))
	if err != nil {
		t.Fatalf("CreateUser on replica A: %v", err)
	}
	if _, err := a.PatchGroup(h.ctx, gid, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": user.ID}}}}, ""); err != nil {
		t.Fatalf("PatchGroup add on replica A: %v", err)
	}
	got, err := b.GetUser(h.ctx, user.ID, scimschema.ReadOptions{})
	if err != nil {
		t.Fatalf("GetUser on replica B: %v", err)
	}
	if groups, _ := got.Attributes["groups"].([]any); len(groups) != 1 || groups[0].(map[string]any)["value"] != gid {
		t.Errorf("user groups on replica B = %v; want the group created on A", got.Attributes["groups"])
	}
	page, err := b.ListUsers(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, `userName eq "replica@example.com"`), StartIndex: 1, Count: 10})
	if err != nil || len(page.Resources) != 1 {
		t.Errorf("ListUsers on replica B = %+v, %v; want the user created on A", page, err)
	}

	// Every further replica caches the group now; A deletes it; each operation on a stale replica
	// is then a 404.
	stale := map[string]*Backend{}
	ops := map[string]func(*Backend) error{
		"GetGroup": func(r *Backend) error { _, err := r.GetGroup(h.ctx, gid, scimschema.ReadOptions{}); return err },
		"PATCH add members": func(r *Backend) error {
			_, err := r.PatchGroup(h.ctx, gid, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": user.ID}}}}, "")
			return err
		},
		"PATCH remove members": func(r *Backend) error {
			_, err := r.PatchGroup(h.ctx, gid, []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, fmt.Sprintf(`members[value eq "%s"]`, user.ID))}}, "")
			return err
		},
		"PATCH displayName": func(r *Backend) error {
			_, err := r.PatchGroup(h.ctx, gid, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "displayName"), Value: "Renamed"}}, "")
			return err
		},
		"PUT": func(r *Backend) error {
			_, err := r.ReplaceGroup(h.ctx, gid, map[string]any{"displayName": "Replica Group", "members": []any{}}, "")
			return err
		},
		"DELETE": func(r *Backend) error { return r.DeleteGroup(h.ctx, gid, "") },
	}
	for name := range ops {
		stale[name] = h.replica()
	}
	recreate := h.replica()
	if err := a.DeleteGroup(h.ctx, gid, ""); err != nil {
		t.Fatalf("DeleteGroup on replica A: %v", err)
	}
	for name, f := range ops {
		wantKind(t, f(stale[name]), scimschema.KindNotFound)
		if name != "GetGroup" && h.e.Get("PermissionSet", gid) != nil {
			t.Errorf("%s on a stale replica brought the group back", name)
		}
	}
	page, err = b.ListGroups(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, `displayName eq "Replica Group"`), StartIndex: 1, Count: 10})
	if err != nil || page.TotalResults != 0 {
		t.Errorf("ListGroups on replica B after the delete = %+v, %v; want nothing", page, err)
	}
	// A replica whose catalog still holds the deleted group lets its displayName be reused.
	again, err := recreate.CreateGroup(h.ctx, map[string]any{"displayName": "Replica Group"})
	if err != nil {
		t.Fatalf("CreateGroup reusing a deleted group's displayName on a stale replica: %v", err)
	}
	if again.ID == gid || h.e.Get("PermissionSet", again.ID) == nil {
		t.Errorf("recreated group = %s", again.ID)
	}
	// And a replica whose catalog does not know the new group still refuses a duplicate: Salesforce's
	// duplicate API name error.
	_, err = stale["GetGroup"].CreateGroup(h.ctx, map[string]any{"displayName": "Replica Group"})
	wantKind(t, err, scimschema.KindUniqueness)
	var labels []string
	for _, ps := range h.e.List("PermissionSet") {
		if ps["Label"] == "Replica Group" {
			labels = append(labels, str(ps["Id"]))
		}
	}
	if !slices.Equal(labels, []string{again.ID}) {
		t.Errorf("permission sets labelled Replica Group = %v; want only %s", labels, again.ID)
	}
}
