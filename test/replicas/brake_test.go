package replicas

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// Two replicas split a mass deactivation (alternating, as a load balancer would): together they
// deprovision exactly provisioning.deprovision_limit.max users, counted in Salesforce, then both
// answer 503 with Retry-After naming the setting and write nothing; reactivations go on.
func TestReplicasShareTheDeprovisionBrake(t *testing.T) {
	t.Parallel()
	const max = 6
	f := startFleet(t, 2, nil, fmt.Sprintf("provisioning:\n  deprovision_limit: {max: %d, window: 1h}\n", max))
	a, b := f.replicas[0], f.replicas[1]
	var ids []string
	for i := range 14 {
		ids = append(ids, a.createUser(t, fmt.Sprintf("brake%d@example.com", i)))
	}
	done := 0
	for i, id := range ids {
		r := f.replicas[i%2]
		var ans harness.Response
		if i%2 == 0 {
			ans = r.do(t, "PATCH", "/Users/"+id, patchOp("replace", "active", false))
		} else {
			ans = r.do(t, "DELETE", "/Users/"+id, nil)
		}
		switch {
		case ans.Status/100 == 2:
			done++
		case ans.Status == 503:
			if ans.Header.Get("Retry-After") == "" || !strings.Contains(string(ans.Raw), "provisioning.deprovision_limit") {
				t.Errorf("%s: refusal = %d %v %s; want Retry-After and a detail naming the setting", r.name, ans.Status, ans.Header, ans.Raw)
			}
			if got := r.do(t, "GET", "/Users/"+id, nil); got.Doc["active"] != true {
				t.Errorf("user %d is active=%v after a refused deprovisioning; want true", i, got.Doc["active"])
			}
		default:
			t.Fatalf("%s: deprovisioning user %d = %d %s", r.name, i, ans.Status, ans.Raw)
		}
	}
	if done != max {
		t.Errorf("two replicas deprovisioned %d users; want exactly %d", done, max)
	}
	for _, r := range f.replicas {
		if got := r.metric(t, "scim_bridge_deprovision_brake_engaged"); got != 1 {
			t.Errorf("%s: scim_bridge_deprovision_brake_engaged = %v; want 1", r.name, got)
		}
		if !strings.Contains(r.logs.String(), "deprovision brake engaged") {
			t.Errorf("%s logged no error line about the brake", r.name)
		}
	}
	// Reactivation and attribute updates go on.
	if ans := b.do(t, "PATCH", "/Users/"+ids[0], patchOp("replace", "active", true)); ans.Status != 200 {
		t.Errorf("reactivation while braked = %d %s", ans.Status, ans.Raw)
	}
	if ans := a.do(t, "PATCH", "/Users/"+ids[len(ids)-1], patchOp("replace", "title", "Kept")); ans.Status != 200 {
		t.Errorf("attribute update while braked = %d %s", ans.Status, ans.Raw)
	}
}
