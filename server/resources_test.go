package server

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

func queryEscape(s string) string { return url.QueryEscape(s) }

func TestCreateReadProjection(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	r := env.do(t, "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"alice@example.com","externalId":"ext-1","password":"Secr3t!","name":{"givenName":"Alice","familyName":"Smith"},
		"emails":[{"value":"alice@example.com","type":"work","primary":true}]}`)
	if r.status != 201 {
		t.Fatalf("POST /Users = %d (%s)", r.status, r.body)
	}
	if strings.Contains(string(r.body), "Secr3t") {
		t.Errorf("the created user echoes the password: %s", r.body)
	}
	created := r.json(t)
	id, _ := created["id"].(string)
	if id == "" || created["externalId"] != "ext-1" {
		t.Fatalf("created = %v; want id and externalId", created)
	}
	if got := r.header.Get("Etag"); got != `W/"1"` {
		t.Errorf("ETag = %q; want W/\"1\"", got)
	}

	tests := []struct {
		name, query string
		want        []string // top-level keys
	}{
		{"everything but the password", "", []string{"emails", "externalId", "id", "meta", "name", "schemas", "userName"}},
		{"attributes", "?attributes=userName", []string{"id", "meta", "schemas", "userName"}},
		{"sub-attribute", "?attributes=name.givenName", []string{"id", "meta", "name", "schemas"}},
		{"excludedAttributes", "?excludedAttributes=emails,name", []string{"externalId", "id", "meta", "schemas", "userName"}},
		{"password asked for explicitly", "?attributes=password", []string{"id", "meta", "schemas"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(t, "GET", "/scim/v2/Users/"+id+tt.query, "")
			if r.status != 200 {
				t.Fatalf("GET = %d (%s)", r.status, r.body)
			}
			var keys []string
			for k := range r.json(t) {
				keys = append(keys, k)
			}
			if diff := cmp.Diff(tt.want, keys, cmpSorted); diff != "" {
				t.Errorf("GET /Users/{id}%s keys (-want +got):\n%s", tt.query, diff)
			}
		})
	}
	r = env.do(t, "GET", "/scim/v2/Users/"+id+"?attributes=name.givenName", "")
	if diff := cmp.Diff(map[string]any{"givenName": "Alice"}, r.json(t)["name"]); diff != "" {
		t.Errorf("projected name (-want +got):\n%s", diff)
	}
	if got := env.backend.recorded().read; !cmp.Equal(got.Attributes, []string{"name.givenName"}) {
		t.Errorf("ReadOptions = %+v; want the projection passed on", got)
	}

	r = env.do(t, "GET", "/scim/v2/Users?attributes=userName", "")
	res := r.json(t)["Resources"].([]any)[0].(map[string]any)
	if _, ok := res["emails"]; ok {
		t.Errorf("list ignores attributes: %v", res)
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestLocations(t *testing.T) {
	t.Parallel()
	forwarded := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "scim.proxy.example", "X-Forwarded-Prefix", "/tenant-a"}
	tests := []struct {
		name      string
		configure func(*Config)
		headers   []string
		wantBase  string // "" = the test server's own URL
	}{
		{"PublicURL", func(c *Config) { c.PublicURL = "https://scim.example.com/base" }, forwarded, "https://scim.example.com/base/scim/v2"},
		{"from the request", nil, nil, ""},
		{"proxy headers ignored when not trusted", nil, forwarded, ""},
		{"proxy headers trusted", func(c *Config) { c.TrustProxyHeaders = true }, forwarded, "https://scim.proxy.example/tenant-a/scim/v2"},
		{"PublicURL wins over trusted proxy headers", func(c *Config) {
			c.TrustProxyHeaders = true
			c.PublicURL = "https://scim.example.com"
		}, forwarded, "https://scim.example.com/scim/v2"},
		{"malformed proxy headers ignored", func(c *Config) { c.TrustProxyHeaders = true },
			[]string{"X-Forwarded-Proto", "gopher", "X-Forwarded-Host", "evil.example/x", "X-Forwarded-Prefix", "../up"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, tt.configure)
			base := tt.wantBase
			if base == "" {
				base = env.srv.URL + "/scim/v2"
			}
			r := env.do(t, "POST", "/scim/v2/Users", userBody, tt.headers...)
			if r.status != 201 {
				t.Fatalf("POST /Users = %d (%s)", r.status, r.body)
			}
			id := r.json(t)["id"].(string)
			want := base + "/Users/" + id
			if got := r.header.Get("Location"); got != want {
				t.Errorf("Location = %q; want %q", got, want)
			}
			r = env.do(t, "GET", "/scim/v2/Users/"+id, "", tt.headers...)
			if got := r.json(t)["meta"].(map[string]any)["location"]; got != want {
				t.Errorf("meta.location = %q; want %q", got, want)
			}
			r = env.do(t, "GET", "/scim/v2/ServiceProviderConfig", "", tt.headers...)
			if got := r.json(t)["meta"].(map[string]any)["location"]; got != base+"/ServiceProviderConfig" {
				t.Errorf("ServiceProviderConfig meta.location = %q; want %q", got, base+"/ServiceProviderConfig")
			}
		})
	}
}

func TestReplacePatchDelete(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	id := env.backend.putUser(map[string]any{"userName": "bob@example.com", "active": true}).ID

	r := env.do(t, "PUT", "/scim/v2/Users/"+id, userBody, "If-Match", `W/"0"`)
	wantSCIMError(t, r, 412, "")
	if got := env.backend.recorded().ifMatch; got != `W/"0"` {
		t.Errorf("If-Match passed on = %q", got)
	}
	r = env.do(t, "PUT", "/scim/v2/Users/"+id, userBody, "If-Match", `W/"1"`)
	if r.status != 200 || r.header.Get("Etag") != `W/"2"` {
		t.Errorf("PUT = %d, ETag %q; want 200, W/\"2\"", r.status, r.header.Get("Etag"))
	}
	r = env.do(t, "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	if r.status != 200 || r.json(t)["active"] != false {
		t.Errorf("PATCH active=false = %d %s", r.status, r.body)
	}
	r = env.do(t, "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"nosuch","value":1}]}`)
	wantSCIMError(t, r, 400, "invalidPath")
	if r := env.do(t, "DELETE", "/scim/v2/Users/"+id, ""); r.status != 204 {
		t.Errorf("DELETE = %d; want 204", r.status)
	}
	wantSCIMError(t, env.do(t, "GET", "/scim/v2/Users/"+id, ""), 404, "")
	wantSCIMError(t, env.do(t, "GET", "/scim/v2/Groups/00G-random", ""), 404, "")
}

func TestGroupPatchWithoutContentIs204(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	r := env.do(t, "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales"}`)
	if r.status != 201 {
		t.Fatalf("POST /Groups = %d (%s)", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	r = env.do(t, "PATCH", "/scim/v2/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"members","value":[{"value":"005000000000001AAA","$ref":null}]}]}`)
	if r.status != 204 {
		t.Errorf("PATCH /Groups = %d (%s); want 204", r.status, r.body)
	}
	ops := env.backend.recorded().ops
	if len(ops) != 1 || ops[0].Op != "add" || ops[0].Path == nil || ops[0].Path.AttributePath.AttributeName != "members" {
		t.Errorf("ops = %+v", ops)
	}
	wantSCIMError(t, env.do(t, "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales"}`), 409, "uniqueness")

	// Every membership form of idp-clients.md reaches the backend.
	forms := []struct{ name, op, wantOp string }{
		{"Entra remove with value array", `{"op":"Remove","path":"members","value":[{"value":"005000000000001AAA"}]}`, "remove"},
		{"filtered remove without value", `{"op":"remove","path":"members[value eq \"005000000000001AAA\"]"}`, "remove"},
		{"replace members with an empty list", `{"op":"replace","path":"members","value":[]}`, "replace"},
		{"Okta path-less replace with id", `{"op":"replace","value":{"id":"` + id + `","displayName":"Sales EMEA"}}`, "replace"},
		{"replace displayName", `{"op":"Replace","path":"displayName","value":"Sales APAC"}`, "replace"},
	}
	for _, tt := range forms {
		r := env.do(t, "PATCH", "/scim/v2/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+tt.op+`]}`)
		if r.status != 204 {
			t.Errorf("%s: PATCH = %d (%s); want 204", tt.name, r.status, r.body)
			continue
		}
		if ops := env.backend.recorded().ops; len(ops) != 1 || ops[0].Op != tt.wantOp {
			t.Errorf("%s: ops = %+v; want one %s", tt.name, ops, tt.wantOp)
		}
	}
}

func TestDiscoveryIgnoresFilters(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	for _, path := range []string{"/scim/v2/Schemas", "/scim/v2/ResourceTypes"} {
		r := env.do(t, "GET", path+"?filter="+queryEscape(`id eq "nothing"`), "")
		if r.status != 200 {
			t.Errorf("GET %s with a filter = %d (%s); want 200", path, r.status, r.body)
			continue
		}
		body := r.json(t)
		if p := nullPath(body, ""); p != "" {
			t.Errorf("GET %s with a filter has a null at %s", path, p)
		}
		if resources, _ := body["Resources"].([]any); float64(len(resources)) != body["totalResults"] {
			t.Errorf("GET %s with a filter lists %d of totalResults %v", path, len(resources), body["totalResults"])
		}
	}
}

func TestSchemasContainOurExtensions(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	r := env.do(t, "GET", "/scim/v2/ResourceTypes/User", "")
	if r.status != 200 {
		t.Fatalf("GET /ResourceTypes/User = %d", r.status)
	}
	want := []any{
		map[string]any{"schema": scimschema.EnterpriseUserURN, "required": false},
		map[string]any{"schema": scimschema.SalesforceUserURN, "required": false},
	}
	if diff := cmp.Diff(want, r.json(t)["schemaExtensions"]); diff != "" {
		t.Errorf("schemaExtensions (-want +got):\n%s", diff)
	}
}

// RFC 7644 §3.14 with the weak comparison the bridge's weak tags need (RFC 7232 §2.3.2).
func TestConditionalRequests(t *testing.T) {
	t.Parallel()
	const patchBody = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`
	tests := []struct {
		name, method, body, ifMatch string
		wantStatus                  int
		wantPassed                  string // the If-Match the backend receives
	}{
		{"PUT with * applies", "PUT", userBody, "*", 200, ""},
		{"PATCH with the tag in strong form applies", "PATCH", patchBody, `"1"`, 200, `W/"1"`},
		{"PATCH with a lower-case weak prefix applies", "PATCH", patchBody, `w/"1"`, 200, `W/"1"`},
		{"DELETE with a list naming the current tag applies", "DELETE", "", `W/"0", W/"1"`, 204, `W/"1"`},
		{"PUT with a list of stale tags is 412", "PUT", userBody, `W/"0", W/"5"`, 412, `W/"0"`},
		{"DELETE with a stale strong-form tag is 412", "DELETE", "", `"0"`, 412, `W/"0"`},
		{"PATCH with a stale tag is 412", "PATCH", patchBody, `W/"7"`, 412, `W/"7"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, nil)
			id := env.backend.putUser(map[string]any{"userName": "bob@example.com", "active": true}).ID
			r := env.do(t, tt.method, "/scim/v2/Users/"+id, tt.body, "If-Match", tt.ifMatch)
			if r.status != tt.wantStatus {
				t.Errorf("%s If-Match %s = %d (%s); want %d", tt.method, tt.ifMatch, r.status, r.body, tt.wantStatus)
			}
			if got := env.backend.recorded().ifMatch; got != tt.wantPassed {
				t.Errorf("If-Match passed on = %q; want %q", got, tt.wantPassed)
			}
		})
	}
}

func TestIfNoneMatch(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	id := env.backend.putUser(map[string]any{"userName": "bob@example.com", "active": true}).ID
	for _, tt := range []struct {
		ifNoneMatch string
		want        int
	}{
		{`W/"1"`, 304},
		{`"1"`, 304},
		{`W/"0", W/"1"`, 304},
		{`*`, 304},
		{`W/"0"`, 200},
		{"", 200},
	} {
		r := env.do(t, "GET", "/scim/v2/Users/"+id, "", "If-None-Match", tt.ifNoneMatch)
		if r.status != tt.want {
			t.Errorf("GET If-None-Match %s = %d; want %d", tt.ifNoneMatch, r.status, tt.want)
			continue
		}
		if tt.want == 304 && (len(r.body) != 0 || r.header.Get("Etag") != `W/"1"`) {
			t.Errorf("GET If-None-Match %s = 304 with body %q, ETag %q; want no body, ETag W/\"1\"", tt.ifNoneMatch, r.body, r.header.Get("Etag"))
		}
	}
	wantSCIMError(t, env.do(t, "GET", "/scim/v2/Users/nosuch", "", "If-None-Match", "*"), 404, "")
}
