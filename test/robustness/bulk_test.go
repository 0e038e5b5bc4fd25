package robustness

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

func bulkBody(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []any{harness.BulkURN}, "Operations": list}
}

// TestBulkRejectsJunkRequests sends malformed Bulk envelopes: each is a SCIM 4xx.
func TestBulkRejectsJunkRequests(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	tooMany := make([]map[string]any, 101)
	for i := range tooMany {
		tooMany[i] = map[string]any{"method": "DELETE", "path": "/Users/005000000000zZZAAY"}
	}
	cases := []struct {
		name string
		body func(m string) any
		want expect
	}{
		{"malformed JSON", func(m string) any {
			return `{"schemas":["` + harness.BulkURN + `"],"Operations":[{"method":"POST","data":"` + m
		}, bad400},
		{"empty body", func(string) any { return "" }, bad400},
		{"trailing garbage", func(m string) any {
			raw, _ := json.Marshal(bulkBody(map[string]any{"method": "POST", "path": "/Users", "bulkId": "a", "data": validUser(m)}))
			return string(raw) + "{"
		}, bad400},
		{"an array", func(string) any { return []any{} }, bad400},
		{"Operations missing", func(string) any { return map[string]any{"schemas": []any{harness.BulkURN}} }, bad400},
		{"Operations empty", func(string) any { return bulkBody() }, bad400},
		{"Operations an object", func(string) any {
			return map[string]any{"schemas": []any{harness.BulkURN}, "Operations": map[string]any{"method": "DELETE"}}
		}, bad400},
		{"Operations numbers", func(string) any { return map[string]any{"schemas": []any{harness.BulkURN}, "Operations": []any{1, 2}} }, bad400},
		{"wrong schema", func(string) any {
			return map[string]any{"schemas": []any{harness.UserURN}, "Operations": []any{map[string]any{"method": "DELETE", "path": "/Users/x"}}}
		}, bad400},
		{"failOnErrors a string", func(string) any {
			body := bulkBody(map[string]any{"method": "DELETE", "path": "/Users/x"})
			body["failOnErrors"] = "many"
			return body
		}, bad400},
		{"failOnErrors negative", func(string) any {
			body := bulkBody(map[string]any{"method": "DELETE", "path": "/Users/x"})
			body["failOnErrors"] = -1
			return body
		}, bad400},
		{"101 operations", func(string) any { return bulkBody(tooMany...) }, expect{status: []int{http.StatusRequestEntityTooLarge}}},
		{"method a number", func(string) any {
			return map[string]any{"schemas": []any{harness.BulkURN}, "Operations": []any{map[string]any{"method": 5, "path": "/Users"}}}
		}, bad400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := b.marker("b")
			resp := b.do(t, http.MethodPost, "/Bulk", tc.body(m))
			b.check(t, "POST /Bulk ("+tc.name+")", resp, tc.want)
			if ids := b.Org.UsersWith(m); len(ids) > 0 {
				t.Errorf("POST /Bulk (%s) = %d but Salesforce holds User %v", tc.name, resp.Status, ids)
			}
		})
	}
}

// TestBulkJunkOperations sends well-formed Bulk requests whose operations are junk: the answer is a
// BulkResponse in which every operation failed with a proper SCIM error, and nothing was created.
func TestBulkJunkOperations(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	userID := b.createUser(t, b.marker("b"))
	before := b.Org.UserState(userID)
	seeded := b.groupID(t, "Sales Operations")
	groupBefore := b.Org.GroupState(seeded)
	m := b.marker("b")
	bad := func(u map[string]any, key string, v any) map[string]any { u[key] = v; return u }
	ops := []map[string]any{
		{"method": "FROB", "path": "/Users", "bulkId": "b1", "data": validUser(m + "1")},
		{"method": "GET", "path": "/Users/" + userID},
		{"method": "POST", "path": "/Nope", "bulkId": "b2", "data": validUser(m + "2")},
		{"method": "POST", "path": "", "bulkId": "b3", "data": validUser(m + "3")},
		{"method": "POST", "path": "/../../healthz", "bulkId": "b4", "data": validUser(m + "4")},
		{"method": "POST", "path": "/Users", "bulkId": "b5"},
		{"method": "POST", "path": "/Users", "bulkId": "b6", "data": m + "6"},
		{"method": "POST", "path": "/Users", "bulkId": "b7", "data": []any{validUser(m + "7")}},
		{"method": "POST", "path": "/Users", "bulkId": "b8", "data": bad(validUser(m+"8"), "userName", 8)},
		{"method": "POST", "path": "/Users", "bulkId": "b9", "data": bad(validUser(m+"9"), "userName", m+strings.Repeat("t", 100_000)+"@example.com")},
		{"method": "POST", "path": "/Users", "bulkId": "b10", "data": bad(validUser(m+"10"), "schemas", []any{"urn:bad:x"})},
		{"method": "POST", "path": "/Users/" + userID, "bulkId": "b11", "data": validUser(m + "11")},
		{"method": "PUT", "path": "/Users/" + userID, "data": bad(validUser(m+"12"), "active", "perhaps")},
		{"method": "PATCH", "path": "/Users/" + userID, "data": patchBody(op("frobnicate", "title", m))},
		{"method": "PATCH", "path": "/Users/" + userID, "data": patchBody(op("replace", "name..givenName", m))},
		{"method": "PATCH", "path": "/Users/" + userID, "data": map[string]any{"Operations": "x"}},
		{"method": "PATCH", "path": "/Users/" + userID, "version": `W/"junk"`, "data": patchBody(op("replace", "title", m+"v"))},
		{"method": "PATCH", "path": "/Users/bulkId:nope", "data": patchBody(op("replace", "title", m))},
		{"method": "PATCH", "path": "/Users/bulkId:", "data": patchBody(op("replace", "title", m))},
		{"method": "PATCH", "path": "/Groups/" + seeded, "data": patchBody(op("add", "members", members("bulkId:ghost")))},
		{"method": "PATCH", "path": "/Groups/" + seeded, "data": patchBody(op("add", "members", members(m)))},
		{"method": "DELETE", "path": "/Users/005000000000zZZAAY"},
		{"method": "DELETE", "path": "/Users/" + m},
		{"method": "DELETE", "path": "/Groups/" + seeded},
		{"method": "POST", "path": "/Users", "bulkId": "c1", "data": bad(validUser(m+"c1"), "manager", "bulkId:c2")},
		{"method": "POST", "path": "/Groups", "bulkId": "g1", "data": map[string]any{"schemas": []any{harness.GroupURN}, "displayName": 5}},
		{"method": "POST", "path": "/Groups", "bulkId": "g2", "data": map[string]any{
			"schemas": []any{harness.GroupURN}, "displayName": m + "g2", "members": members("bulkId:b8")}},
	}
	resp := b.do(t, http.MethodPost, "/Bulk", bulkBody(ops...))
	b.check(t, "POST /Bulk with junk operations", resp, expect{status: []int{http.StatusOK}})
	results, _ := resp.Doc["Operations"].([]any)
	if len(results) != len(ops) {
		t.Fatalf("POST /Bulk with %d junk operations answered %d results: %s", len(ops), len(results), resp)
	}
	for i, r := range results {
		res, _ := r.(map[string]any)
		what := fmt.Sprintf("Bulk operation %d (%v %v)", i, ops[i]["method"], harness.Shorten(fmt.Sprint(ops[i]["path"])))
		s, ok := res["status"].(string)
		status, err := strconv.Atoi(s)
		if !ok || err != nil {
			t.Errorf("%s: status %#v; want a string status", what, res["status"])
			continue
		}
		if status < 400 || status >= 500 {
			t.Errorf("%s = %d; want a 4xx: %v", what, status, res)
			continue
		}
		raw, err := json.Marshal(res["response"])
		if err != nil || res["response"] == nil {
			t.Errorf("%s = %d without an error response", what, status)
			continue
		}
		// RFC 7644 §3.7.3 answers an unresolvable bulkId with 409, whose scimType is not uniqueness.
		b.checkErrorBody(t, what, status, nil, raw, expect{scimType: scimTypes})
	}
	if ids := b.Org.UsersWith(m); len(ids) > 0 {
		t.Errorf("junk Bulk operations created User %v", ids)
	}
	if ids := b.permissionSetsLabelled(m); len(ids) > 0 {
		t.Errorf("junk Bulk operations created permission set %v", ids)
	}
	assertUnchanged(t, "junk Bulk operations", before, b.Org.UserState(userID))
	assertUnchanged(t, "junk Bulk operations (group)", groupBefore, b.Org.GroupState(seeded))
}
