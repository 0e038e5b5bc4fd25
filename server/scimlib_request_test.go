package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scim2/filter-parser/v2"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

func TestRewriteFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain filter unchanged", `userName eq "alice@example.com"`, `userName eq "alice@example.com"`},
		{"value path without sub-attribute unchanged", `members[value eq "005x"]`, `members[value eq "005x"]`},
		{"Entra email filter", `emails[type eq "work"].value eq "a@example.com"`, `emails[type eq "work" and value eq "a@example.com"]`},
		{"presence", `emails[type eq "work"].value pr`, `emails[type eq "work" and value pr]`},
		{"operator case kept", `emails[type eq "work"].value EQ "x"`, `emails[type eq "work" and value EQ "x"]`},
		{"non-string value", `addresses[type eq "work"].primary eq true`, `addresses[type eq "work" and primary eq true]`},
		{"or inside is distributed", `emails[type eq "work" or type eq "home"].value eq "x"`,
			`(emails[type eq "work" and value eq "x"] or emails[type eq "home" and value eq "x"])`},
		{"or in a quoted value is not split", `emails[display eq "a or b"].value eq "x"`, `emails[display eq "a or b" and value eq "x"]`},
		{"and binds tighter than the distributed or", `emails[type eq "work" and primary eq true or type eq "home"].value sw "x"`,
			`(emails[type eq "work" and primary eq true and value sw "x"] or emails[type eq "home" and value sw "x"])`},
		{"inside a logical expression", `userName eq "a" and emails[type eq "work"].value co "b" or active eq true`,
			`userName eq "a" and emails[type eq "work" and value co "b"] or active eq true`},
		{"inside parentheses", `not (emails[type eq "work"].value eq "x")`, `not (emails[type eq "work" and value eq "x"])`},
		{"brackets and keywords inside a quoted value", `displayName eq "a[b].c eq \"d\" or x"`, `displayName eq "a[b].c eq \"d\" or x"`},
		{"escaped quote in the bracket expression", `emails[display eq "say \"hi\"]"].value eq "x"`, `emails[display eq "say \"hi\"]" and value eq "x"]`},
		{"escaped quote in the compared value", `emails[type eq "work"].value eq "a\"b" and x pr`, `emails[type eq "work" and value eq "a\"b"] and x pr`},
		{"URN-prefixed attribute", `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value eq "x"`,
			`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work" and value eq "x"]`},
		{"two value paths", `emails[type eq "work"].value eq "x" or phoneNumbers[type eq "mobile"].value eq "1"`,
			`emails[type eq "work" and value eq "x"] or phoneNumbers[type eq "mobile" and value eq "1"]`},
		{"unterminated bracket left alone", `emails[type eq "work"`, `emails[type eq "work"`},
		{"dot without comparison left alone", `emails[type eq "work"].value`, `emails[type eq "work"].value`},
		{"unknown operator left alone", `emails[type eq "work"].value xx "x"`, `emails[type eq "work"].value xx "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rewriteFilter(tt.in); got != tt.want {
				t.Errorf("rewriteFilter(%q) =\n  %q; want\n  %q", tt.in, got, tt.want)
			}
		})
	}
}

// The rewritten forms must be accepted by the filter parser the SCIM library uses.
func TestRewrittenFiltersParse(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`emails[type eq "work"].value eq "a@example.com"`,
		`emails[type eq "work" or type eq "home"].value eq "x"`,
		`not (emails[type eq "work"].value eq "x")`,
	} {
		if _, err := filter.ParseFilter([]byte(rewriteFilter(in))); err != nil {
			t.Errorf("ParseFilter(rewriteFilter(%q)) = %v", in, err)
		}
	}
}

func TestFilterRewriteReachesBackend(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	r := env.do(t, "GET", `/scim/v2/Users?filter=`+queryEscape(`emails[type eq "work"].value eq "a@example.com"`), "")
	if r.status != 200 {
		t.Fatalf("GET /Users with an Entra value-path filter = %d; want 200 (%s)", r.status, r.body)
	}
	vp, ok := env.backend.recorded().query.Filter.(*filter.ValuePath)
	if !ok {
		t.Fatalf("backend filter = %T; want *filter.ValuePath", env.backend.recorded().query.Filter)
	}
	if vp.AttributePath.AttributeName != "emails" {
		t.Errorf("value path attribute = %q; want emails", vp.AttributePath.AttributeName)
	}
	if _, ok := vp.ValueFilter.(*filter.LogicalExpression); !ok {
		t.Errorf("value filter = %T; want the and-expression", vp.ValueFilter)
	}
}

func TestListQuery(t *testing.T) {
	t.Parallel()
	env := newEnv(t, func(c *Config) { c.MaxResults = 5 })
	for i := 0; i < 7; i++ {
		env.backend.putUser(map[string]any{"userName": "u" + string(rune('a'+i)) + "@example.com"})
	}
	r := env.do(t, "GET", "/scim/v2/Users?startIndex=2&count=50&sortBy=userName&sortOrder=descending&attributes=userName,name.givenName&excludedAttributes=groups", "")
	if r.status != 200 {
		t.Fatalf("GET /Users = %d (%s)", r.status, r.body)
	}
	want := scimschema.ListQuery{
		StartIndex: 2, Count: 5, SortBy: "userName", Descending: true,
		Attributes: []string{"userName", "name.givenName"}, ExcludedAttributes: []string{"groups"},
	}
	if diff := cmp.Diff(want, env.backend.recorded().query); diff != "" {
		t.Errorf("ListQuery (-want +got):\n%s", diff)
	}
	body := r.json(t)
	if body["totalResults"] != 7.0 || body["itemsPerPage"] != 5.0 || body["startIndex"] != 2.0 {
		t.Errorf("ListResponse header = %v/%v/%v; want 7/5/2", body["totalResults"], body["itemsPerPage"], body["startIndex"])
	}
	if n := len(body["Resources"].([]any)); n != 5 {
		t.Errorf("len(Resources) = %d; want 5", n)
	}

	if r := env.do(t, "GET", "/scim/v2/Users?sortOrder=sideways", ""); r.status != 400 {
		t.Errorf("GET /Users?sortOrder=sideways = %d; want 400", r.status)
	}
	// Zero hits: an empty list, never null (Entra).
	r = env.do(t, "GET", "/scim/v2/Groups?filter="+queryEscape(`displayName eq "nobody"`), "")
	if got := r.json(t)["Resources"]; r.status != 200 || got == nil {
		t.Errorf("GET /Groups with no hits = %d, Resources %v; want 200 and []", r.status, got)
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	env.backend.putUser(map[string]any{"userName": "bob@example.com"})
	r := env.do(t, "POST", "/scim/v2/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
		"filter":"emails[type eq \"work\"].value eq \"x\" or id eq \"u1\"","attributes":["userName"],"startIndex":1,"count":10,"sortBy":"userName"}`)
	if r.status != 200 {
		t.Fatalf("POST /Users/.search = %d (%s)", r.status, r.body)
	}
	q := env.backend.recorded().query
	if q.Filter == nil || q.Count != 10 || q.SortBy != "userName" || !cmp.Equal(q.Attributes, []string{"userName"}) {
		t.Errorf("ListQuery = %+v", q)
	}
	if got := r.json(t)["schemas"]; !cmp.Equal(got, []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}) {
		t.Errorf("schemas = %v", got)
	}
	wantSCIMError(t, env.do(t, "POST", "/scim/v2/Groups/.search", `{"filter":"displayName eq"}`), 400, "invalidFilter")
	wantSCIMError(t, env.do(t, "POST", "/scim/v2/Groups/.search", `not json`), 400, "invalidSyntax")
}

func TestEntraDialect(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)

	t.Run("string booleans in POST", func(t *testing.T) {
		r := env.do(t, "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
			"userName":"entra@example.com","active":"True","emails":[{"value":"entra@example.com","type":"work","primary":"True"}]}`)
		if r.status != 201 {
			t.Fatalf("POST /Users = %d (%s)", r.status, r.body)
		}
		attrs := env.backend.recorded().attrs
		if attrs["active"] != true {
			t.Errorf("active = %#v; want true", attrs["active"])
		}
		emails, _ := attrs["emails"].([]any)
		if len(emails) != 1 || emails[0].(map[string]any)["primary"] != true {
			t.Errorf("emails = %#v; want primary true", attrs["emails"])
		}
	})

	t.Run("manager as a bare string in POST", func(t *testing.T) {
		r := env.do(t, "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","`+scimschema.EnterpriseUserURN+`"],
			"userName":"managed@example.com","`+scimschema.EnterpriseUserURN+`":{"department":"Sales","manager":"005000000000001AAA"}}`)
		if r.status != 201 {
			t.Fatalf("POST /Users = %d (%s)", r.status, r.body)
		}
		ext, _ := env.backend.recorded().attrs[scimschema.EnterpriseUserURN].(map[string]any)
		if diff := cmp.Diff(map[string]any{"value": "005000000000001AAA"}, ext["manager"]); diff != "" {
			t.Errorf("manager (-want +got):\n%s", diff)
		}
	})

	id := env.backend.putUser(map[string]any{"userName": "patch@example.com", "active": true}).ID
	patch := func(t *testing.T, ops string) {
		t.Helper()
		r := env.do(t, "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+ops+`}`)
		if r.status != 200 {
			t.Fatalf("PATCH /Users = %d (%s)", r.status, r.body)
		}
	}

	t.Run("PascalCase op and string boolean in PATCH", func(t *testing.T) {
		patch(t, `[{"op":"Replace","path":"active","value":"False"}]`)
		ops := env.backend.recorded().ops
		if len(ops) != 1 || ops[0].Op != "replace" || ops[0].Value != false {
			t.Errorf("ops = %+v; want one replace with false", ops)
		}
	})

	t.Run("manager as a bare string in PATCH", func(t *testing.T) {
		patch(t, `[{"op":"Add","path":"`+scimschema.EnterpriseUserURN+`:manager","value":"005000000000002AAA"}]`)
		ops := env.backend.recorded().ops
		if len(ops) != 1 || ops[0].Op != "add" {
			t.Fatalf("ops = %+v", ops)
		}
		if diff := cmp.Diff(map[string]any{"value": "005000000000002AAA"}, ops[0].Value); diff != "" {
			t.Errorf("manager value (-want +got):\n%s", diff)
		}
	})

	t.Run("path-less replace with URN-prefixed manager", func(t *testing.T) {
		patch(t, `[{"op":"replace","value":{"`+scimschema.EnterpriseUserURN+`:manager":"005000000000003AAA","name.givenName":"A"}}]`)
		ops := env.backend.recorded().ops
		if len(ops) != 1 {
			t.Fatalf("ops = %+v", ops)
		}
		value, _ := ops[0].Value.(map[string]any)
		if diff := cmp.Diff(map[string]any{"value": "005000000000003AAA"}, value[scimschema.EnterpriseUserURN+":manager"]); diff != "" {
			t.Errorf("manager value (-want +got):\n%s", diff)
		}
	})

	t.Run("Remove manager without value", func(t *testing.T) {
		patch(t, `[{"op":"Remove","path":"`+scimschema.EnterpriseUserURN+`:manager"}]`)
		if ops := env.backend.recorded().ops; len(ops) != 1 || ops[0].Op != "remove" {
			t.Errorf("ops = %+v", ops)
		}
	})

	// RFC 7643 §2.5: null and unassigned are the same state, so a replace to null is a remove (the
	// SCIM library answered a generic 400 for it).
	t.Run("replace to null removes", func(t *testing.T) {
		patch(t, `[{"op":"Replace","path":"title","value":null}]`)
		ops := env.backend.recorded().ops
		if len(ops) != 1 || ops[0].Op != "remove" || ops[0].Path == nil || ops[0].Path.String() != "title" {
			t.Errorf("ops = %+v; want one remove of title", ops)
		}
	})
	t.Run("path-less replace with null keys removes them", func(t *testing.T) {
		patch(t, `[{"op":"replace","value":{"title":null,"name.givenName":"A","`+scimschema.EnterpriseUserURN+`:manager":null}}]`)
		ops := env.backend.recorded().ops
		if len(ops) != 3 || ops[0].Op != "replace" || ops[1].Op != "remove" || ops[2].Op != "remove" {
			t.Fatalf("ops = %+v; want the replace, then two removes", ops)
		}
		if diff := cmp.Diff(map[string]any{"name.givenName": "A"}, ops[0].Value); diff != "" {
			t.Errorf("replace value (-want +got):\n%s", diff)
		}
		if got := []string{ops[1].Path.String(), ops[2].Path.String()}; !cmp.Equal(got, []string{"title", scimschema.EnterpriseUserURN + ":manager"}) {
			t.Errorf("removed paths = %v", got)
		}
	})
	t.Run("path-less replace of only nulls", func(t *testing.T) {
		patch(t, `[{"op":"replace","value":{"title":null}}]`)
		if ops := env.backend.recorded().ops; len(ops) != 1 || ops[0].Op != "remove" {
			t.Errorf("ops = %+v; want one remove", ops)
		}
	})
}

func TestNormalizeBodyLeavesOtherBodiesAlone(t *testing.T) {
	t.Parallel()
	tests := []struct{ method, path, body string }{
		{http.MethodPost, "/Groups", `{"displayName":"x","manager":"y"}`},
		{http.MethodPost, "/Users", `{"userName":"x","number":1.50}`},
		{http.MethodPost, "/Users", `not json`},
		{http.MethodPatch, "/Users/1", `{"Operations":[{"op":"add","path":"title","value":"m"}]}`},
	}
	for _, tt := range tests {
		if got := normalizeBody(tt.method, tt.path, []byte(tt.body)); string(got) != tt.body {
			t.Errorf("normalizeBody(%s %s, %s) = %s; want it unchanged", tt.method, tt.path, tt.body, got)
		}
	}
	got := normalizeBody(http.MethodPut, "/Users/1", []byte(`{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER":{"Manager":"m1"},"n":12345678901234567890}`))
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": map[string]any{"Manager": map[string]any{"value": "m1"}}, "n": 12345678901234567890.0}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("normalizeBody(PUT, case-insensitive keys) (-want +got):\n%s", diff)
	}
}

// RFC 7644 §3.4.2: itemsPerPage is the number of resources in this page, not the requested count
// (the SCIM library writes the latter).
func TestItemsPerPageCountsReturnedResources(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	for i := 0; i < 3; i++ {
		env.backend.putUser(map[string]any{"userName": "p" + string(rune('a'+i)) + "@example.com"})
	}
	for _, tc := range []struct {
		query string
		want  float64
	}{
		{"startIndex=3&count=2", 1},
		{"startIndex=10&count=5", 0},
		{"count=0", 0},
		{"count=2", 2},
	} {
		r := env.do(t, "GET", "/scim/v2/Users?"+tc.query, "")
		if got := r.json(t)["itemsPerPage"]; r.status != 200 || got != tc.want {
			t.Errorf("GET /Users?%s itemsPerPage = %v (status %d); want %v", tc.query, got, r.status, tc.want)
		}
	}
}
