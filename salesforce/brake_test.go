package salesforce

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Two replicas split a mass deprovisioning: together they deprovision exactly max users, then both
// refuse with 503 + Retry-After naming the setting, writing nothing. Reactivations and attribute
// updates go on, and a reactivated user no longer counts.
func TestDeprovisionBrakeHoldsAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"disable", "freeze"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			const max = 5
			h := newHarness(t)
			limited := func(c *BackendConfig) {
				c.Provisioning.DisableAction = must(ParseDisableAction(action))
				c.Provisioning.DeprovisionLimit = DeprovisionLimit{Max: max, Window: time.Hour}
			}
			replicas := []*Backend{h.replicaWith(limited), h.replicaWith(limited)}
			deactivate := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}
			var ids []string
			for i := range 12 {
				ids = append(ids, h.insertUser(fmt.Sprintf("brake%d@example.com", i), "Standard User", nil))
			}
			deprovisioned := func(id string) bool {
				if action == "freeze" {
					return h.login(id)["IsFrozen"] == true
				}
				return h.e.Get("User", id)["IsActive"] == false
			}
			var refused []string
			for i, id := range ids {
				r := replicas[i%2]
				var err error
				if i%3 == 2 {
					err = r.DeleteUser(h.ctx, id, "")
				} else {
					_, err = r.PatchUser(h.ctx, id, deactivate, "")
				}
				if i < max {
					if err != nil {
						t.Fatalf("deprovisioning user %d of %d (limit %d): %v", i+1, len(ids), max, err)
					}
					continue
				}
				se := wantKind(t, err, scimschema.KindUnavailable)
				if se.RetryAfter <= 0 || !strings.Contains(se.Detail, "provisioning.deprovision_limit") {
					t.Errorf("refusal = %+v; want Retry-After and a detail naming the setting", se)
				}
				if deprovisioned(id) {
					t.Errorf("user %d was deprovisioned although refused", i+1)
				}
				refused = append(refused, id)
			}
			for i, r := range replicas {
				if got := testutil.ToFloat64(r.brake.engaged); got != 1 {
					t.Errorf("replica %d: scim_bridge_deprovision_brake_engaged = %v; want 1", i, got)
				}
			}
			if !strings.Contains(h.log.String(), "deprovision brake engaged") {
				t.Errorf("no error line says the brake engaged")
			}

			// Attribute updates and reactivations go on.
			if _, err := replicas[0].PatchUser(h.ctx, refused[0], []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "Still here"}}, ""); err != nil {
				t.Errorf("attribute update while braked: %v", err)
			}
			if _, err := replicas[1].PatchUser(h.ctx, ids[0], []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: true}}, ""); err != nil {
				t.Errorf("reactivation while braked: %v", err)
			}
			// The reactivated user left the count: one more deprovisioning fits, on either replica.
			if _, err := replicas[0].PatchUser(h.ctx, refused[0], deactivate, ""); err != nil {
				t.Errorf("deprovisioning after a reactivation freed room: %v", err)
			}
			if got := testutil.ToFloat64(replicas[0].brake.engaged); got != 0 {
				t.Errorf("scim_bridge_deprovision_brake_engaged after admission = %v; want 0", got)
			}
			_, err := replicas[1].PatchUser(h.ctx, refused[1], deactivate, "")
			wantKind(t, err, scimschema.KindUnavailable)

			// Deprovisionings older than the window do not count.
			later := h.replicaWith(func(c *BackendConfig) {
				limited(c)
				c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
			})
			if _, err := later.PatchUser(h.ctx, refused[1], deactivate, ""); err != nil {
				t.Errorf("a replica two hours later: %v; want the old deprovisionings out of the window", err)
			}
		})
	}
}

// Concurrent deprovisionings on two replicas overshoot the limit by at most those in flight at
// once; max 0 turns the brake off and costs no call.
func TestDeprovisionBrakeUnderConcurrency(t *testing.T) {
	t.Parallel()
	const max, workers = 6, 2
	h := newHarness(t)
	limited := func(c *BackendConfig) {
		c.Provisioning.DeprovisionLimit = DeprovisionLimit{Max: max, Window: time.Hour}
	}
	replicas := []*Backend{h.replicaWith(limited), h.replicaWith(limited)}
	var ids []string
	for i := range 14 {
		ids = append(ids, h.insertUser(fmt.Sprintf("burst%d@example.com", i), "Standard User", nil))
	}
	var mu sync.Mutex
	admitted := 0
	var wg sync.WaitGroup
	next := make(chan string)
	for w := range 2 * workers {
		r := replicas[w%2]
		wg.Go(func() {
			for id := range next {
				if err := r.DeleteUser(h.ctx, id, ""); err == nil {
					mu.Lock()
					admitted++
					mu.Unlock()
				} else {
					wantKind(t, err, scimschema.KindUnavailable)
				}
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	inactive := 0
	for _, id := range ids {
		if h.e.Get("User", id)["IsActive"] == false {
			inactive++
		}
	}
	if inactive != admitted {
		t.Errorf("%d users inactive but %d deprovisionings admitted", inactive, admitted)
	}
	if admitted < max || admitted > max+2*workers {
		t.Errorf("admitted %d deprovisionings; want between %d and %d (max + in flight)", admitted, max, max+2*workers)
	}

	off := h.replicaWith(func(c *BackendConfig) { c.Provisioning.DeprovisionLimit = DeprovisionLimit{} })
	extra := h.insertUser("unbraked@example.com", "Standard User", nil)
	if n := h.calls(func() {
		if err := off.DeleteUser(h.ctx, extra, ""); err != nil {
			t.Errorf("DELETE with the brake off: %v", err)
		}
	}); n != 1 {
		t.Errorf("DELETE with the brake off made %d calls; want 1", n)
	}
}
