package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Entries 2–7, 10 and 11 of the catalogue in scimlib.go.

// What the SCIM library lets through and the bridge must refuse: data after the JSON document,
// schemas the resource type does not have, paging numbers that are not numbers.
func TestBodiesAndParametersTheLibraryDoesNotCheck(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	user := env.backend.putUser(map[string]any{"userName": "v@example.com"})
	const core = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"data after a user", "POST", "/scim/v2/Users", `{` + core + `,"userName":"a@example.com"}}{"x":1}`, 400, "invalidSyntax"},
		{"data after a patch", "PATCH", "/scim/v2/Users/" + user.ID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"t"}]}]]`, 400, "invalidSyntax"},
		{"data after a group", "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"}}`, 400, "invalidSyntax"},
		{"unknown schema declared", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:bad:ext"],"userName":"b@example.com"}`, 400, "invalidValue"},
		{"unknown extension object", "PUT", "/scim/v2/Users/" + user.ID, `{` + core + `,"userName":"v@example.com","urn:bad:ext":{"x":1}}`, 400, "invalidValue"},
		{"group schema on a user", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"c@example.com"}`, 400, "invalidValue"},
		// A number beyond float64 used to hide the body from these checks (the SCIM library takes it).
		{"data after a user with a huge number", "POST", "/scim/v2/Users", `{` + core + `,"userName":"f@example.com","n":1e400}{"x":1}`, 400, "invalidSyntax"},
		{"unknown schema beside a huge number", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:bad:ext"],"userName":"g@example.com","n":1e400}`, 400, "invalidValue"},
		{"trailing white space is fine", "POST", "/scim/v2/Users", `{` + core + `,"userName":"d@example.com"}` + "\n\t ", 201, ""},
		{"enterprise extension is fine", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"e@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"d"}}`, 201, ""},
		{"count not a number", "GET", "/scim/v2/Users?count=abc", "", 400, "invalidValue"},
		{"startIndex too large", "GET", "/scim/v2/Groups?startIndex=99999999999999999999", "", 400, "invalidValue"},
		{"startIndex fractional", "GET", "/scim/v2/Users?startIndex=1.5", "", 400, "invalidValue"},
		{"negative count is clamped", "GET", "/scim/v2/Users?count=-3", "", 200, ""},
		{"search still takes its own schema", "POST", "/scim/v2/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":1}`, 200, ""},
	} {
		r := env.do(t, tc.method, tc.path, tc.body)
		if r.status != tc.status {
			t.Errorf("%s: %s %s = %d %s; want %d", tc.name, tc.method, tc.path, r.status, r.body, tc.status)
			continue
		}
		if tc.scimType != "" {
			if got := r.json(t)["scimType"]; got != tc.scimType {
				t.Errorf("%s: scimType = %v; want %s", tc.name, got, tc.scimType)
			}
		}
	}
}

// A body without a required attribute is refused naming it; the SCIM library's own refusal says only
// "a required value was missing" (RFC 7643 §4: userName and displayName are required; RFC 7644
// §3.1: schemas is).
func TestMissingRequiredAttributesAreNamed(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	user := env.backend.putUser(map[string]any{"userName": "r@example.com"})
	const core = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	for _, tc := range []struct{ name, method, path, body, detail string }{
		{"user without userName", "POST", "/scim/v2/Users", `{` + core + `,"name":{"givenName":"x"}}`, "userName is required"},
		{"PUT without userName", "PUT", "/scim/v2/Users/" + user.ID, `{` + core + `,"name":{"givenName":"x"}}`, "userName is required"},
		{"userName null", "POST", "/scim/v2/Users", `{` + core + `,"userName":null}`, "userName is required"},
		{"userName a number", "POST", "/scim/v2/Users", `{` + core + `,"userName":12}`, "userName must be a string"},
		{"userName blank", "POST", "/scim/v2/Users", `{` + core + `,"userName":"  "}`, "userName is required and must not be empty"},
		{"user without schemas", "POST", "/scim/v2/Users", `{"userName":"s@example.com"}`, "schemas is required"},
		{"group without displayName", "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}`, "displayName is required"},
		{"in a bulk operation", "POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"u","data":{` + core + `}}]}`, "userName is required"},
	} {
		r := env.do(t, tc.method, tc.path, tc.body)
		if !strings.Contains(string(r.body), tc.detail) || (tc.path != "/scim/v2/Bulk" && r.status != 400) {
			t.Errorf("%s: %s %s = %d %s; want 400 naming %q", tc.name, tc.method, tc.path, r.status, r.body, tc.detail)
		}
	}
	if r := env.do(t, "POST", "/scim/v2/Users", `{`+core+`,"USERNAME":"case@example.com"}`); r.status != 201 {
		t.Errorf("userName spelt in another case = %d %s; want 201 (attribute names are case-insensitive)", r.status, r.body)
	}
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
		if got := normalizeBody(tt.method, tt.path, parseBody([]byte(tt.body))); string(got) != tt.body {
			t.Errorf("normalizeBody(%s %s, %s) = %s; want it unchanged", tt.method, tt.path, tt.body, got)
		}
	}
	got := normalizeBody(http.MethodPut, "/Users/1", parseBody([]byte(`{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER":{"Manager":"m1"},"n":12345678901234567890}`)))
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": map[string]any{"Manager": map[string]any{"value": "m1"}}, "n": 12345678901234567890.0}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("normalizeBody(PUT, case-insensitive keys) (-want +got):\n%s", diff)
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
