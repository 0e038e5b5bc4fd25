package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// The creates of one BulkRequest are coalesced: one sObject Collections insert with the read-back
// for all of them, each operation with the answer it has alone (a taken userName is its own 409,
// its neighbours are created). The window is long so that the budget does not depend on timing:
// the batch is sent as soon as every create has joined it.
func TestBulkCreatesShareOneCall(t *testing.T) {
	t.Parallel()
	b := startWith(t, harness.Options{Config: "salesforce:\n  batch_window: 1s\n", Seats: 1000})
	b.warm(t)
	b.insertUser(t, "taken")
	const n = 60
	var ops []any
	for i := range n {
		name := fmt.Sprintf("bulk%03d@e2e.example.com", i)
		if i == 17 {
			name = "taken@e2e.example.com"
		}
		ops = append(ops, map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprintf("u%d", i), "data": map[string]any{
			"schemas": []any{harness.UserURN}, "userName": name, "name": map[string]any{"givenName": "Bulk", "familyName": fmt.Sprint(i)},
			"emails": []any{map[string]any{"value": name, "primary": true}},
		}})
	}
	var doc map[string]any
	calls := b.calls(func() {
		doc = b.must(t, ok200, http.MethodPost, "/Bulk", map[string]any{
			"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": ops,
		})
	})
	// One composite for the 60 creates, then the duplicate's own check (this org or another?).
	if calls != 2 {
		t.Errorf("BulkRequest of %d creates cost %d Salesforce calls; want 2", n, calls)
	}
	results, _ := doc["Operations"].([]any)
	if len(results) != n {
		t.Fatalf("BulkResponse has %d operations; want %d", len(results), n)
	}
	for i, x := range results {
		res, _ := x.(map[string]any)
		want := "201"
		if i == 17 {
			want = "409"
		}
		if res["status"] != want || res["bulkId"] != fmt.Sprintf("u%d", i) {
			t.Errorf("operation %d: status %v bulkId %v; want %s u%d", i, res["status"], res["bulkId"], want, i)
		}
		if want == "201" && res["location"] == nil {
			t.Errorf("operation %d: no location", i)
		}
	}
	if got := b.userCount(); got < n {
		t.Errorf("users in the org = %d; want at least %d", got, n)
	}
}

// An Entra-style initial sync with 8 requests in flight, coalesced: every lookup answers 0
// results, every user is created once with its own answer, every membership lands, and the sync
// never costs more calls than the same requests one by one (4 per user).
func TestConcurrentSyncIsCoalescedCorrectly(t *testing.T) {
	t.Parallel()
	b := startWith(t, harness.Options{Seats: 1000})
	b.warm(t)
	groups := []string{b.Org.PermissionSet(t, "Sales Operations"), b.Org.PermissionSet(t, "Analytics Viewer")}
	const users, workers = 48, 8
	ids := make([]string, users)
	next := make(chan int, users)
	for i := range users {
		next <- i
	}
	close(next)
	calls := b.calls(func() {
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					name := fmt.Sprintf("sync%03d@e2e.example.com", i)
					status, doc := b.do(t, http.MethodGet, filterPath("/Users", fmt.Sprintf("userName eq %q", name)), nil)
					if status != http.StatusOK || doc["totalResults"] != 0.0 {
						t.Errorf("lookup %s = %d %v; want 200 with no user", name, status, doc["totalResults"])
						continue
					}
					status, doc = b.do(t, http.MethodPost, "/Users", map[string]any{
						"schemas": []any{harness.UserURN}, "userName": name, "externalId": fmt.Sprintf("ext-%03d", i),
						"name":   map[string]any{"givenName": "Sync", "familyName": fmt.Sprint(i)},
						"emails": []any{map[string]any{"value": name, "primary": true}},
					})
					id, _ := doc["id"].(string)
					if status != http.StatusCreated || doc["userName"] != name || id == "" {
						t.Errorf("create %s = %d %v; want 201 with that user", name, status, doc)
						continue
					}
					ids[i] = id
					for _, g := range groups {
						if status, doc := b.do(t, http.MethodPatch, "/Groups/"+g, patch(op("Add", "members", memberValues(id)))); status != http.StatusNoContent {
							t.Errorf("add %s to %s = %d %v; want 204", name, g, status, doc)
						}
					}
				}
			}()
		}
		wg.Wait()
	})
	if calls > 4*users {
		t.Errorf("the sync of %d users cost %d Salesforce calls; more than %d, the cost without coalescing", users, calls, 4*users)
	}
	t.Logf("%d users, %d Salesforce calls (%.2f per user)", users, calls, float64(calls)/users)
	for _, g := range groups {
		members := map[string]bool{}
		for _, m := range b.Org.Members(g) {
			members[m] = true
		}
		for i, id := range ids {
			if id != "" && !members[id] {
				t.Errorf("user %d (%s) is not a member of %s", i, id, g)
			}
		}
	}
	for i, id := range ids {
		if id == "" {
			continue
		}
		doc := b.Org.User(t, id)
		if want := fmt.Sprintf("sync%03d@e2e.example.com", i); doc["Username"] != want {
			t.Errorf("user %s has Username %v; want %s", id, doc["Username"], want)
		}
	}
}
