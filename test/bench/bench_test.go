// Package bench measures SCIM operations end to end (HTTP → bridge → HTTP → emulator) and the
// Salesforce API calls each costs. Results and the command are in docs/BENCHMARKS.md.
package bench

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

type bridge struct {
	*harness.Bridge
}

func start(b *testing.B) *bridge {
	b.Helper()
	return &bridge{harness.Start(b, harness.Options{
		Token:  "bench-token-0123456789abcdef",
		Config: "groups:\n  allow_delete: true\n",
		// Enough seats and API allowance for b.N users.
		Seats:    1_000_000,
		APILimit: 100_000_000,
		HTTP:     &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
	})}
}

func (br *bridge) do(b *testing.B, method, path string, body any, want int) map[string]any {
	resp := br.SCIM.Do(b, method, path, body)
	if resp.Status != want {
		b.Fatalf("%s %s = %d %s; want %d", method, path, resp.Status, resp.Raw, want)
	}
	return resp.Doc
}

func user(i int) map[string]any {
	name := fmt.Sprintf("bench%06d@example.com", i)
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": name,
		"name":     map[string]any{"givenName": "Bench", "familyName": fmt.Sprintf("User%d", i)},
		"emails":   []any{map[string]any{"value": name, "type": "work", "primary": true}},
	}
}

// measure runs op b.N times and reports Salesforce API calls per operation next to ns/op.
func (br *bridge) measure(b *testing.B, op func(i int)) {
	b.Helper()
	before := br.Org.APICalls()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op(i)
	}
	b.StopTimer()
	b.ReportMetric(float64(br.Org.APICalls()-before)/float64(b.N), "sfcalls/op")
}

func BenchmarkCreateUser(b *testing.B) {
	br := start(b)
	br.measure(b, func(i int) { br.do(b, "POST", "/Users", user(i), http.StatusCreated) })
}

func seedUsers(b *testing.B, br *bridge, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = br.do(b, "POST", "/Users", user(900000+i), http.StatusCreated)["id"].(string)
	}
	return ids
}

func BenchmarkGetUser(b *testing.B) {
	br := start(b)
	ids := seedUsers(b, br, 50)
	br.measure(b, func(i int) { br.do(b, "GET", "/Users/"+ids[i%len(ids)], nil, http.StatusOK) })
}

func BenchmarkFilterByUserName(b *testing.B) {
	br := start(b)
	seedUsers(b, br, 50)
	br.measure(b, func(i int) {
		f := url.QueryEscape(fmt.Sprintf(`userName eq "bench%06d@example.com"`, 900000+i%50))
		br.do(b, "GET", "/Users?filter="+f, nil, http.StatusOK)
	})
}

func BenchmarkPatchActive(b *testing.B) {
	br := start(b)
	ids := seedUsers(b, br, 50)
	br.measure(b, func(i int) {
		value := []string{"False", "True"}[(i/len(ids))%2]
		br.do(b, "PATCH", "/Users/"+ids[i%len(ids)], map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "Replace", "path": "active", "value": value}},
		}, http.StatusOK)
	})
}

func BenchmarkAddGroupMember(b *testing.B) {
	br := start(b)
	ids := seedUsers(b, br, 200)
	group := br.do(b, "POST", "/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "Bench Group",
	}, http.StatusCreated)["id"].(string)
	br.measure(b, func(i int) {
		op := "add"
		if (i/len(ids))%2 == 1 {
			op = "remove"
		}
		br.do(b, "PATCH", "/Groups/"+group, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": op, "path": "members", "value": []any{map[string]any{"value": ids[i%len(ids)]}}}},
		}, http.StatusNoContent)
	})
}

func BenchmarkListGroupsWithoutMembers(b *testing.B) {
	br := start(b)
	br.measure(b, func(int) { br.do(b, "GET", "/Groups?excludedAttributes=members", nil, http.StatusOK) })
}
