package emulator

import (
	"fmt"
	"net/url"
	"testing"
)

func sub(method, path, ref string, body any) map[string]any {
	m := map[string]any{"method": method, "url": v + path, "referenceId": ref}
	if body != nil {
		m["body"] = body
	}
	return m
}

func compositeResponses(t testing.TB, h *harness, req map[string]any) []map[string]any {
	t.Helper()
	body := mustDo(t, h, "POST", v+"/composite", req, 200)
	var out []map[string]any
	for _, r := range decode(t, body).(map[string]any)["compositeResponse"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func errorCodeOf(r map[string]any) string {
	arr, ok := r["body"].([]any)
	if !ok || len(arr) == 0 {
		return ""
	}
	code, _ := arr[0].(map[string]any)["errorCode"].(string)
	return code
}

func TestCompositeReferences(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	ops := h.idOf("PermissionSet", "Name", "Sales_Ops")
	agent := h.idOf("PermissionSet", "Name", "Support_Agent")
	res := compositeResponses(t, h, map[string]any{"allOrNone": true, "compositeRequest": []any{
		sub("POST", "/sobjects/User", "u", h.newUser("comp@example.com", "Standard User")),
		sub("POST", "/composite/sobjects", "psa", map[string]any{"allOrNone": true, "records": []any{
			map[string]any{"attributes": map[string]any{"type": "PermissionSetAssignment"}, "AssigneeId": "@{u.id}", "PermissionSetId": ops},
			map[string]any{"attributes": map[string]any{"type": "PermissionSetAssignment"}, "AssigneeId": "@{u.id}", "PermissionSetId": agent},
		}}),
		sub("GET", "/sobjects/User/@{u.id}?fields=Id,Username", "get", nil),
		sub("GET", "/query?q="+url.QueryEscape("SELECT Id FROM UserLogin WHERE UserId = '@{get.Id}'"), "ul", nil),
		sub("PATCH", "/sobjects/UserLogin/"+url.PathEscape("@{ul.records[0].Id}"), "freeze", map[string]any{"IsFrozen": true}),
	}})
	wantStatus := []float64{201, 200, 200, 200, 204}
	for i, r := range res {
		if r["httpStatusCode"] != wantStatus[i] {
			t.Fatalf("subrequest %v = %v %v; want %v (all: %v)", r["referenceId"], r["httpStatusCode"], r["body"], wantStatus[i], res)
		}
	}
	id := res[0]["body"].(map[string]any)["id"].(string)
	if res[0]["httpHeaders"].(map[string]any)["Location"] != v+"/sobjects/User/"+id {
		t.Errorf("Location = %v", res[0]["httpHeaders"])
	}
	if res[4]["body"] != nil {
		t.Errorf("204 subrequest body = %v; want null", res[4]["body"])
	}
	n := 0
	for _, r := range h.e.List("PermissionSetAssignment") {
		if r["AssigneeId"] == id && (r["PermissionSetId"] == ops || r["PermissionSetId"] == agent) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("assignments made through references inside the collection = %d; want 2", n)
	}
	if login := h.e.Get("UserLogin", h.idOf("UserLogin", "UserId", id)); login["IsFrozen"] != true {
		t.Errorf("user not frozen through @{ul.records[0].Id}")
	}
	if s := h.e.Stats(); s.APICalls != 1 || s.ByKind["composite"] != 1 || s.ByKind["query"] != 0 {
		t.Errorf("Stats = %+v; want one composite call and nothing else", s)
	}
}

func TestCompositeAllOrNoneRollsBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	before := len(h.e.List("User"))
	beforePSA := len(h.e.List("PermissionSetAssignment"))
	res := compositeResponses(t, h, map[string]any{"allOrNone": true, "compositeRequest": []any{
		sub("POST", "/sobjects/User", "u", h.newUser("rollback@example.com", "Standard User")),
		sub("POST", "/sobjects/PermissionSetAssignment", "bad", map[string]any{"AssigneeId": "@{u.id}", "PermissionSetId": makeID("0PS", 99999)}),
		sub("GET", "/sobjects/User/@{u.id}", "later", nil),
	}})
	if res[0]["httpStatusCode"] != float64(400) || errorCodeOf(res[0]) != "PROCESSING_HALTED" {
		t.Errorf("rolled-back create = %v", res[0])
	}
	if msg := res[0]["body"].([]any)[0].(map[string]any)["message"]; msg != msgRolledBack {
		t.Errorf("rolled-back message = %v", msg)
	}
	if errorCodeOf(res[1]) != "INVALID_CROSS_REFERENCE_KEY" {
		t.Errorf("failing subrequest = %v; want its own error", res[1])
	}
	if errorCodeOf(res[2]) != "PROCESSING_HALTED" {
		t.Errorf("later subrequest = %v; want PROCESSING_HALTED", res[2])
	}
	if len(h.e.List("User")) != before || len(h.e.List("PermissionSetAssignment")) != beforePSA {
		t.Errorf("allOrNone failure left changes behind")
	}
	// The outer allOrNone overrides a collection's own allOrNone=false.
	res = compositeResponses(t, h, map[string]any{"allOrNone": true, "compositeRequest": []any{
		sub("POST", "/sobjects/User", "u", h.newUser("rollback2@example.com", "Standard User")),
		sub("POST", "/composite/sobjects", "c", map[string]any{"allOrNone": false, "records": []any{
			map[string]any{"attributes": map[string]any{"type": "PermissionSetAssignment"}, "AssigneeId": "@{u.id}", "PermissionSetId": makeID("0PS", 99999)},
		}}),
	}})
	if errorCodeOf(res[0]) != "PROCESSING_HALTED" || len(h.e.List("User")) != before {
		t.Errorf("a failed record in a nested collection did not roll the composite back: %v", res)
	}
}

func TestCompositeWithoutAllOrNone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	res := compositeResponses(t, h, map[string]any{"compositeRequest": []any{
		sub("POST", "/sobjects/User", "bad", map[string]any{"LastName": "x"}),
		sub("GET", "/sobjects/User/@{bad.id}", "dependant", nil),
		sub("POST", "/sobjects/User", "good", h.newUser("independent@example.com", "Standard User")),
	}})
	if errorCodeOf(res[0]) != "REQUIRED_FIELD_MISSING" {
		t.Errorf("first = %v", res[0])
	}
	if errorCodeOf(res[1]) != "PROCESSING_HALTED" {
		t.Errorf("dependant of a failure = %v; want PROCESSING_HALTED", res[1])
	}
	if res[2]["httpStatusCode"] != float64(201) {
		t.Errorf("independent subrequest = %v; want 201", res[2])
	}
	res = compositeResponses(t, h, map[string]any{"compositeRequest": []any{
		sub("GET", "/query?q="+url.QueryEscape("SELECT Id FROM UserLogin WHERE UserId = '005000000000000AAA'"), "q", nil),
		sub("PATCH", "/sobjects/UserLogin/@{q.records[0].Id}", "p", map[string]any{"IsFrozen": true}),
	}})
	if errorCodeOf(res[1]) != "PROCESSING_HALTED" {
		t.Errorf("reference to a missing record = %v; want PROCESSING_HALTED", res[1])
	}
}

func TestCompositeRequestRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	many := func(n int, path string) []any {
		var out []any
		for i := 0; i < n; i++ {
			out = append(out, sub("GET", path, fmt.Sprintf("r%d", i), nil))
		}
		return out
	}
	withHeader := sub("GET", "/limits", "h", nil)
	withHeader["httpHeaders"] = map[string]any{"Authorization": "Bearer x"}
	for _, tc := range []struct {
		name string
		body any
	}{
		{"forbidden header", map[string]any{"compositeRequest": []any{withHeader}}},
		{"bad referenceId", map[string]any{"compositeRequest": []any{sub("GET", "/limits", "bad-ref", nil)}}},
		{"duplicate referenceId", map[string]any{"compositeRequest": []any{sub("GET", "/limits", "a", nil), sub("GET", "/limits", "a", nil)}}},
		{"lower-case method", map[string]any{"compositeRequest": []any{sub("get", "/limits", "a", nil)}}},
		{"url outside the API", map[string]any{"compositeRequest": []any{map[string]any{"method": "GET", "url": "/elsewhere", "referenceId": "a"}}}},
		{"no subrequests", map[string]any{"compositeRequest": []any{}}},
		{"not JSON", "{"},
	} {
		status, _, body := h.do("POST", v+"/composite", tc.body)
		if status != 400 {
			t.Errorf("%s: = %d %s; want top-level 400", tc.name, status, body)
		}
	}
	// Limit refusals come as one LIMIT_EXCEEDED element with a null referenceId inside a 200
	// compositeResponse (observed answer, guardian/support-service-lambdas#766).
	for _, tc := range []struct {
		name    string
		subs    []any
		message string
	}{
		{"26 subrequests", many(26, "/limits"), "The request can’t contain more than 25 operations."},
		{"6 queries", many(6, "/query?q=SELECT+Id+FROM+User"), "The request can’t contain more than 5 query or sObject Collections operations."},
		{"6 collections", many(6, "/composite/sobjects/User?ids=005000000000000AAA"), "The request can’t contain more than 5 query or sObject Collections operations."},
	} {
		before := h.e.Stats().APICalls
		res := compositeResponses(t, h, map[string]any{"compositeRequest": tc.subs})
		if len(res) != 1 || res[0]["httpStatusCode"] != float64(400) || res[0]["referenceId"] != nil {
			t.Errorf("%s: compositeResponse = %v; want one 400 element with a null referenceId", tc.name, res)
			continue
		}
		errs := res[0]["body"].([]any)
		if first := errs[0].(map[string]any); first["errorCode"] != "LIMIT_EXCEEDED" || first["message"] != tc.message {
			t.Errorf("%s: error = %v; want LIMIT_EXCEEDED %q", tc.name, first, tc.message)
		}
		if got := h.e.Stats().APICalls - before; got != 1 {
			t.Errorf("%s: counted %d API calls; want 1", tc.name, got)
		}
	}
	if status, _, body := h.do("POST", v+"/composite", map[string]any{"compositeRequest": many(25, "/limits")}); status != 200 {
		t.Errorf("25 subrequests = %d %s; want 200", status, body)
	}
	if status, _, body := h.do("POST", v+"/composite", map[string]any{"compositeRequest": many(5, "/query?q=SELECT+Id+FROM+User")}); status != 200 {
		t.Errorf("5 queries = %d %s; want 200", status, body)
	}
	withOK := sub("PATCH", "/sobjects/User/"+h.idOf("User", "Username", "admin@emulator.example.com"), "h", map[string]any{"Title": "x"})
	withOK["httpHeaders"] = map[string]any{"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
	res := compositeResponses(t, h, map[string]any{"compositeRequest": []any{withOK}})
	if res[0]["httpStatusCode"] != float64(412) {
		t.Errorf("subrequest If-Unmodified-Since in the past = %v; want 412", res[0])
	}
}

func TestCollections(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	u1 := h.createUser("c1@example.com", "Standard User")
	u2 := h.createUser("c2@example.com", "Standard User")
	ops := h.idOf("PermissionSet", "Name", "Sales_Ops")
	psa := func(user string) map[string]any {
		return map[string]any{"attributes": map[string]any{"type": "PermissionSetAssignment"}, "AssigneeId": user, "PermissionSetId": ops}
	}
	results := func(body []byte) []map[string]any {
		var out []map[string]any
		for _, r := range decode(t, body).([]any) {
			out = append(out, r.(map[string]any))
		}
		return out
	}
	recordCode := func(r map[string]any) string {
		errs := r["errors"].([]any)
		if len(errs) == 0 {
			return ""
		}
		return errs[0].(map[string]any)["statusCode"].(string)
	}
	mustDo(t, h, "POST", v+"/sobjects/PermissionSetAssignment", psa(u1), 201)

	// allOrNone=true: the duplicate keeps its error, the others are rolled back.
	before := len(h.e.List("PermissionSetAssignment"))
	res := results(mustDo(t, h, "POST", v+"/composite/sobjects", map[string]any{"allOrNone": true, "records": []any{psa(u2), psa(u1)}}, 200))
	if recordCode(res[0]) != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || recordCode(res[1]) != "DUPLICATE_VALUE" || res[0]["success"] != false {
		t.Errorf("allOrNone results = %v", res)
	}
	if len(h.e.List("PermissionSetAssignment")) != before {
		t.Errorf("allOrNone failure left records behind")
	}
	// allOrNone=false: per-record outcome.
	res = results(mustDo(t, h, "POST", v+"/composite/sobjects", map[string]any{"records": []any{psa(u2), psa(u1),
		map[string]any{"AssigneeId": u2}}}, 200))
	if res[0]["success"] != true || recordCode(res[1]) != "DUPLICATE_VALUE" || recordCode(res[2]) != "INVALID_TYPE" {
		t.Errorf("partial results = %v", res)
	}
	newPSA := res[0]["id"].(string)

	// Update.
	res = results(mustDo(t, h, "PATCH", v+"/composite/sobjects", map[string]any{"records": []any{
		map[string]any{"attributes": map[string]any{"type": "User"}, "id": u1, "Title": "Lead"},
		map[string]any{"attributes": map[string]any{"type": "User"}, "Title": "No id"},
	}}, 200))
	if res[0]["success"] != true || res[0]["id"] != u1 || recordCode(res[1]) != "MISSING_ARGUMENT" {
		t.Errorf("update results = %v", res)
	}
	if h.e.Get("User", u1)["Title"] != "Lead" {
		t.Errorf("collection update not applied")
	}

	// Retrieve.
	got := decode(t, mustDo(t, h, "GET", v+"/composite/sobjects/User?ids="+u1+","+makeID("005", 99999)+"&fields=Id,Title", nil, 200)).([]any)
	if got[0].(map[string]any)["Title"] != "Lead" || got[1] != nil {
		t.Errorf("retrieve = %v", got)
	}

	// Delete.
	res = results(mustDo(t, h, "DELETE", v+"/composite/sobjects?ids="+newPSA+","+makeID("0Pa", 99999)+",bogus&allOrNone=false", nil, 200))
	if res[0]["success"] != true || recordCode(res[1]) != "ENTITY_IS_DELETED" || recordCode(res[2]) != "MALFORMED_ID" {
		t.Errorf("delete results = %v", res)
	}
	res = results(mustDo(t, h, "DELETE", v+"/composite/sobjects?ids="+u1, nil, 200))
	if res[0]["success"] != false {
		t.Errorf("deleting a user through collections = %v; want a failure", res)
	}

	// Limits.
	var tooMany []any
	var ids []string
	for i := 0; i < 201; i++ {
		tooMany = append(tooMany, psa(u2))
		ids = append(ids, newPSA)
	}
	status, _, body := h.do("POST", v+"/composite/sobjects", map[string]any{"records": tooMany})
	wantError(t, "201 records", status, body, 400, "EXCEEDED_ID_LIMIT")
	status, _, body = h.do("DELETE", v+"/composite/sobjects?ids="+joinIDs(ids), nil)
	wantError(t, "201 ids", status, body, 400, "EXCEEDED_ID_LIMIT")
	if s := h.e.Stats(); s.ByKind["collections"] != 8 {
		t.Errorf("collections calls = %d; want 8", s.ByKind["collections"])
	}
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ","
		}
		out += id
	}
	return out
}
