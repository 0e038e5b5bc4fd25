package salesforce

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Under permission_sets: overwrite, two concurrent complete replaces of one group (PUT, PATCH
// replace members), on one replica or on two, leave exactly one of the two requested sets (issue
// 10: before, 18–20 rounds of 20–30 left a mix of both).
func TestConcurrentOverwriteReplacesLeaveOneRequestedSet(t *testing.T) {
	t.Parallel()
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d replicas", replicas), func(t *testing.T) {
			t.Parallel()
			overwrite := withBackend(func(c *BackendConfig) { c.Provisioning.PermissionSets = Overwrite })
			h := newHarness(t, overwrite)
			a, b := h.b, h.b
			if replicas == 2 {
				b = h.replica()
			}
			ps := h.permSetID("Analytics_Viewer")
			var users []string
			for i := range 6 {
				users = append(users, h.insertUser(fmt.Sprintf("ow%d@example.com", i), "Standard User", nil))
			}
			values := func(ids []string) []any {
				out := []any{}
				for _, id := range ids {
					out = append(out, map[string]any{"value": id})
				}
				return out
			}
			const rounds = 20
			for round := range rounds {
				// Overlapping sets that differ in both directions, rotating each round.
				first := []string{users[round%6], users[(round+1)%6], users[(round+2)%6]}
				second := []string{users[(round+2)%6], users[(round+3)%6], users[(round+4)%6]}
				var wg sync.WaitGroup
				errs := make([]error, 2)
				wg.Go(func() {
					_, errs[0] = a.ReplaceGroup(h.ctx, ps, map[string]any{"displayName": "Analytics Viewer", "members": values(first)}, "")
				})
				wg.Go(func() {
					_, errs[1] = b.PatchGroup(h.ctx, ps, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "members"), Value: values(second)}}, "")
				})
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("round %d: replace %d: %v", round, i+1, err)
					}
				}
				var got []string
				for _, r := range h.e.List("PermissionSetAssignment") {
					if r["PermissionSetId"] == ps && slices.Contains(users, str(r["AssigneeId"])) {
						got = append(got, str(r["AssigneeId"]))
					}
				}
				slices.Sort(got)
				slices.Sort(first)
				slices.Sort(second)
				if !slices.Equal(got, first) && !slices.Equal(got, second) {
					t.Fatalf("round %d: members = %v; want exactly %v or %v", round, got, first, second)
				}
			}
		})
	}
}
