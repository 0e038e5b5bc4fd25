package server

import (
	"strings"
	"testing"
)

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

// Salesforce accepts 15-character and case-folded ids: the library builds meta.location from the
// request's path, the bridge puts the canonical id there.
func TestLocationUsesTheCanonicalID(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	user := env.backend.putUser(map[string]any{"userName": "canon@example.com"})
	env.backend.mu.Lock()
	env.backend.users["alias-of-"+user.ID] = user // the backend resolves another spelling to the user
	env.backend.mu.Unlock()
	r := env.do(t, "GET", "/scim/v2/Users/alias-of-"+user.ID, "")
	if r.status != 200 {
		t.Fatalf("GET = %d %s", r.status, r.body)
	}
	meta, _ := r.json(t)["meta"].(map[string]any)
	if loc, _ := meta["location"].(string); !strings.HasSuffix(loc, "/Users/"+user.ID) {
		t.Errorf("meta.location = %q; want it to end in the canonical id %s", loc, user.ID)
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
