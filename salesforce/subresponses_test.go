package salesforce

import (
	"fmt"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

func TestGroupIDWithAForeignSuffixIsNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Groups.AllowDelete = true }))
	ps := h.permSetID("Sales_Ops")
	forged := ps[:15] + "ZZZ"
	if forged == ps {
		forged = ps[:15] + "YYY"
	}
	label := h.e.Get("PermissionSet", ps)["Label"]
	rename := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "displayName"), Value: "Hijacked"}}
	_, err := h.b.GetGroup(h.ctx, forged, scimschema.ReadOptions{})
	wantKind(t, err, scimschema.KindNotFound)
	_, err = h.b.PatchGroup(h.ctx, forged, rename, "")
	wantKind(t, err, scimschema.KindNotFound)
	_, err = h.b.ReplaceGroup(h.ctx, forged, map[string]any{"displayName": "Hijacked"}, "")
	wantKind(t, err, scimschema.KindNotFound)
	wantKind(t, h.b.DeleteGroup(h.ctx, forged, ""), scimschema.KindNotFound)
	if got := h.e.Get("PermissionSet", ps); got == nil || got["Label"] != label {
		t.Errorf("the real permission set changed: %v", got)
	}
}

// After a miss, a catalog load that began before the miss must not be shared: it can predate the
// record that was missed (a group created a moment ago on this replica), and the miss would become a
// false 404. (Seen as a flake: PATCH of a just-created group answered "group not found".)
func TestCatalogMissDoesNotSettleForAnEarlierLoad(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := h.b.operation(h.ctx)
	cat0, err := o.catalog()
	if err != nil {
		t.Fatal(err)
	}
	gid, err := h.e.Insert("PermissionSet", map[string]any{"Name": "Late_Set", "Label": "Late Set"})
	if err != nil {
		t.Fatal(err)
	}
	// Another operation's load, begun before the miss, has just finished without the new group.
	earlier := *cat0
	h.b.mu.Lock()
	h.b.cat = &earlier
	missedAt := h.b.loadsStarted
	h.b.mu.Unlock()
	got, err := o.load(cat0, missedAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.exposedByID(gid); !ok {
		t.Error("the reload after a miss settled for a catalog loaded before the miss")
	}
}

// A walk whose cursor is invalidated on the way runs its query once more and hands on only the
// rows not handed yet; a second invalidation is KindUnavailable (503), never "not found".
func TestWalkRerunsTheQueryOnceWhenTheCursorIsGone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for i := range 250 {
		if _, err := h.e.Insert("PermissionSet", map[string]any{"Name": fmt.Sprintf("Walk_%03d", i), "Label": fmt.Sprintf("Walk %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	soql, err := rest.Select("Id", "Name").From("PermissionSet").Where(rest.Like("Name", "Walk_%")).OrderBy("Name", false).String()
	if err != nil {
		t.Fatal(err)
	}
	gone := emulator.Fault{Method: "GET", PathPattern: "/services/data/*/query/*", Status: 404, ErrorCode: "INVALID_QUERY_LOCATOR", Message: "invalid query locator"}
	walk := func(faults ...emulator.Fault) (map[string]int, error) {
		res, err := h.c.Query(h.ctx, soql, 200)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range faults {
			h.e.InjectFault(f)
		}
		seen := map[string]int{}
		err = h.b.walkRerun(h.ctx, fromResult(res), soql, func(r map[string]any) bool { seen[str(r["Name"])]++; return true })
		return seen, err
	}
	seen, err := walk(gone)
	if err != nil || len(seen) != 250 {
		t.Fatalf("walk with the cursor gone once = %d rows, %v; want 250, nil", len(seen), err)
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s handed %d times", name, n)
		}
	}
	// The re-run fails the same way: no third attempt.
	rerunGone := gone
	rerunGone.PathPattern = "/services/data/*/query"
	if _, err := walk(gone, rerunGone); rest.KindOf(err) != rest.KindUnavailable {
		t.Errorf("walk with the cursor gone twice: %v; want KindUnavailable", err)
	}
}
