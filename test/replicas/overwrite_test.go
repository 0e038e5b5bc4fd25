package replicas

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// With permission_sets: overwrite, two replicas receive concurrent complete replaces of one group
// (a PUT on one, a PATCH replace members on the other), round after round: every answer is 2xx
// and the group ends with exactly one of the two requested sets.
func TestReplicasAgreeOnConcurrentOverwriteReplaces(t *testing.T) {
	t.Parallel()
	f := startFleet(t, 2, nil, "provisioning:\n  permission_sets: overwrite\n")
	a, b := f.replicas[0], f.replicas[1]
	gid := a.groupID(t, "Analytics Viewer")
	var users []string
	for i := range 6 {
		users = append(users, a.createUser(t, fmt.Sprintf("ow%d@example.com", i)))
	}
	values := func(ids []string) []any { return harness.Members(ids...) }
	const rounds = 12
	for round := range rounds {
		first := []string{users[round%6], users[(round+1)%6], users[(round+2)%6]}
		second := []string{users[(round+2)%6], users[(round+3)%6], users[(round+4)%6]}
		var wg sync.WaitGroup
		answers := make([]harness.Response, 2)
		wg.Go(func() {
			answers[0] = a.do(t, "PUT", "/Groups/"+gid, map[string]any{
				"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
				"displayName": "Analytics Viewer", "members": values(first)})
		})
		wg.Go(func() { answers[1] = b.do(t, "PATCH", "/Groups/"+gid, patchOp("replace", "members", values(second))) })
		wg.Wait()
		for i, ans := range answers {
			if ans.Status/100 != 2 {
				t.Fatalf("round %d: %s = %d %s", round, f.replicas[i].name, ans.Status, ans.Raw)
			}
		}
		var got []string
		for _, r := range f.emu.List("PermissionSetAssignment") {
			if r["PermissionSetId"] == gid {
				if id, _ := r["AssigneeId"].(string); slices.Contains(users, id) {
					got = append(got, id)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(first)
		slices.Sort(second)
		if !slices.Equal(got, first) && !slices.Equal(got, second) {
			t.Fatalf("round %d: members = %v; want exactly %v or %v", round, got, first, second)
		}
	}
}
