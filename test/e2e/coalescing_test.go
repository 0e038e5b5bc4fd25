package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

// The creates of one BulkRequest are coalesced: one sObject Collections insert with the read-back
// for all of them, each operation with the answer it has alone (a taken userName is its own 409,
// its neighbours are created). The window is long so that the budget does not depend on timing:
// the batch is sent as soon as every create has joined it.
func TestBulkCreatesShareOneCall(t *testing.T) {
	t.Parallel()
	b := startWith(t, appOptions("salesforce:\n  batch_window: 1s\n", bigSeed(1000)))
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
			"schemas": []any{userURN}, "userName": name, "name": map[string]any{"givenName": "Bulk", "familyName": fmt.Sprint(i)},
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
