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
	race := prepareReplaceRace(t, f, "ow")
	race.run(t, 12, func(r *replica, method, path string, body any) harness.Response {
		return r.do(t, method, path, body)
	})
}

// replaceRace is a group and six users whose membership two replicas replace at the same time.
type replaceRace struct {
	f     *fleet
	gid   string
	users []string
}

// prepareReplaceRace finds the group "Analytics Viewer" and creates six users (prefix0@example.com,
// …) through the fleet's first replica.
func prepareReplaceRace(t *testing.T, f *fleet, prefix string) *replaceRace {
	t.Helper()
	race := &replaceRace{f: f, gid: f.replicas[0].groupID(t, "Analytics Viewer")}
	for i := range 6 {
		race.users = append(race.users, f.replicas[0].createUser(t, fmt.Sprintf("%s%d@example.com", prefix, i)))
	}
	return race
}

// run races, round after round, a PUT of three of the users to the first replica against a PATCH
// replace of the members with an overlapping three to the second, each sent through send (which
// returns the request's final answer). Every final answer must be 2xx and the group must then hold
// exactly one of the two sets. The test stops at the first round that fails.
func (race *replaceRace) run(t *testing.T, rounds int, send func(r *replica, method, path string, body any) harness.Response) {
	t.Helper()
	a, b := race.f.replicas[0], race.f.replicas[1]
	users, path := race.users, "/Groups/"+race.gid
	for round := range rounds {
		first := []string{users[round%6], users[(round+1)%6], users[(round+2)%6]}
		second := []string{users[(round+2)%6], users[(round+3)%6], users[(round+4)%6]}
		var wg sync.WaitGroup
		answers := make([]harness.Response, 2)
		wg.Go(func() {
			answers[0] = send(a, "PUT", path, map[string]any{
				"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
				"displayName": "Analytics Viewer", "members": harness.Members(first...)})
		})
		wg.Go(func() { answers[1] = send(b, "PATCH", path, patchOp("replace", "members", harness.Members(second...))) })
		wg.Wait()
		for i, method := range []string{"PUT", "PATCH"} {
			if ans := answers[i]; ans.Status/100 != 2 {
				t.Fatalf("round %d: %s %s %s = %d %s", round, race.f.replicas[i].name, method, path, ans.Status, ans.Raw)
			}
		}
		if t.Failed() { // a request went unanswered on the way (the replica's do reported it)
			t.FailNow()
		}
		var got []string // sorted, as Members is
		for _, id := range race.f.emu.Org.Members(race.gid) {
			if slices.Contains(users, id) {
				got = append(got, id)
			}
		}
		slices.Sort(first)
		slices.Sort(second)
		if !slices.Equal(got, first) && !slices.Equal(got, second) {
			t.Fatalf("round %d: members = %v; want exactly %v or %v", round, got, first, second)
		}
	}
}
