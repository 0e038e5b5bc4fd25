package emulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scanOnly hides the store's indexes from the SOQL engine, so every query scans.
type scanOnly struct{ *store }

// lookup shadows store.lookup with another signature, so scanOnly is no soqlIndexedSource.
func (s scanOnly) lookup() {}

// TestIndexedQueriesMatchScans checks that queries the engine answers through indexes return
// exactly what a scan of every row returns: same rows, same order, same child rows.
func TestIndexedQueriesMatchScans(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Seed: scaleSeed(1000)})
	e := h.e
	standard := idByName(t, e, "Profile", "Name", "Standard User")
	salesOps := idByName(t, e, "PermissionSet", "Name", "Sales_Ops")
	var ids []string
	for n := range 60 {
		u := scaleUser(n, standard)
		u["FederationIdentifier"] = fmt.Sprintf("Fed-%06d", n) // mixed case: SOQL compares case-insensitively
		id, err := e.Insert("User", u)
		if err != nil {
			t.Fatalf("Insert(user %d) = %v", n, err)
		}
		ids = append(ids, id)
		if n%3 == 0 {
			if _, err := e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": salesOps}); err != nil {
				t.Fatalf("assign %d: %v", n, err)
			}
		}
	}
	queries := []string{
		fmt.Sprintf("SELECT Id, Username FROM User WHERE Id = '%s'", ids[4]),
		fmt.Sprintf("SELECT Id, Username FROM User WHERE Id = '%s'", ids[4][:15]),
		fmt.Sprintf("SELECT Id FROM User WHERE Id IN ('%s', '%s', '%s') ORDER BY Username DESC", ids[9], ids[2], ids[9]),
		"SELECT Id FROM User WHERE Username = 'USER000007@scale.example.com'",
		"SELECT Id FROM User WHERE Username IN ('user000001@scale.example.com', 'nobody@example.com') AND IsActive = true",
		"SELECT Id FROM User WHERE FederationIdentifier = 'fed-000012'",
		"SELECT Id FROM User WHERE FederationIdentifier IN ('FED-000013', 'Fed-000014')",
		"SELECT Id FROM User WHERE FederationIdentifier = ''",
		"SELECT Id FROM User WHERE FederationIdentifier = null",
		"SELECT Id FROM User WHERE Username = 'user000003@scale.example.com' OR Username = 'user000004@scale.example.com'",
		fmt.Sprintf("SELECT Id, AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId = '%s' AND AssigneeId IN ('%s', '%s')", salesOps, ids[3], ids[4]),
		fmt.Sprintf("SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '%s'", ids[6][:15]),
		fmt.Sprintf("SELECT COUNT() FROM PermissionSetAssignment WHERE PermissionSetId = '%s'", salesOps),
		fmt.Sprintf("SELECT Id, IsFrozen FROM UserLogin WHERE UserId IN ('%s', '%s')", ids[0], ids[1]),
		"SELECT Id FROM UserLogin WHERE UserId IN (SELECT Id FROM User WHERE Username = 'user000005@scale.example.com')",
		fmt.Sprintf("SELECT Id, (SELECT PermissionSetId FROM PermissionSetAssignments) FROM User WHERE Id = '%s'", ids[0]),
		"SELECT Id, (SELECT Id, PermissionSetId FROM PermissionSetAssignments ORDER BY Id DESC) FROM User WHERE Username LIKE 'USER00001%' ORDER BY Id",
		fmt.Sprintf("SELECT Id FROM User WHERE Id > '%s' ORDER BY Id LIMIT 5", ids[50]),
		"SELECT Id FROM User WHERE Username LIKE '%ßcale%'",
	}
	for _, q := range queries {
		e.mu.Lock()
		indexed, err1 := runQuery(e.st, q, "66.0", soqlOptions{})
		scanned, err2 := runQuery(scanOnly{e.st}, q, "66.0", soqlOptions{})
		e.mu.Unlock()
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: indexed error %v, scan error %v", q, err1, err2)
		}
		if diff := cmp.Diff(resultJSON(t, scanned), resultJSON(t, indexed)); diff != "" {
			t.Errorf("%s (-scan +indexed):\n%s", q, diff)
		}
	}
}

func resultJSON(t *testing.T, r *soqlResult) []any {
	t.Helper()
	out := []any{r.TotalSize}
	for _, rec := range r.Records {
		var v any
		if err := json.Unmarshal(rec.JSON, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// BenchmarkQueryAtScale measures the SOQL engine over HTTP in an org of 50,000 users with one
// assignment each: a userName lookup (through the index) and a userName prefix scan.
func BenchmarkQueryAtScale(b *testing.B) {
	handler, token, e := benchHarness(b, scaleSeed(100_000))
	standard := idByName(b, e, "Profile", "Name", "Standard User")
	salesOps := idByName(b, e, "PermissionSet", "Name", "Sales_Ops")
	for n := range 50_000 {
		id, err := e.Insert("User", scaleUser(n, standard))
		if err != nil {
			b.Fatalf("Insert(user %d) = %v", n, err)
		}
		if _, err := e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": salesOps}); err != nil {
			b.Fatal(err)
		}
	}
	const fields = "Id, Username, FirstName, LastName, Email, IsActive, (SELECT Id, PermissionSetId FROM PermissionSetAssignments)"
	b.Run("UsernameEq", func(b *testing.B) {
		q := url.QueryEscape("SELECT " + fields + " FROM User WHERE Username = 'user024999@scale.example.com'")
		benchGET(b, handler, token, v+"/query?q="+q)
	})
	b.Run("UsernameStartsWith", func(b *testing.B) {
		q := url.QueryEscape("SELECT " + fields + " FROM User WHERE Username LIKE 'user02499%' ORDER BY Id LIMIT 100")
		benchGET(b, handler, token, v+"/query?q="+q)
	})
}
