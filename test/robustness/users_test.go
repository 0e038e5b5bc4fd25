package robustness

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// TestCreateUserRejectsBadBodies sends malformed and hostile POST /Users bodies. Each must be a
// SCIM 4xx (or, where the input is legitimate, a 201) and a rejected create must leave no User.
func TestCreateUserRejectsBadBodies(t *testing.T) {
	t.Parallel()
	b := start(t, options{})

	type bodyCase struct {
		name        string
		body        func(m string) []byte
		contentType string
		want        expect
	}
	marshal := func(v any) []byte {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	with := func(edit func(u map[string]any, m string)) func(string) []byte {
		return func(m string) []byte {
			u := validUser(m)
			edit(u, m)
			return marshal(u)
		}
	}
	huge := strings.Repeat("x", 100_000)
	cases := []bodyCase{
		{"empty body", func(string) []byte { return []byte{} }, "", bad400},
		{"whitespace body", func(string) []byte { return []byte(" \n\t ") }, "", bad400},
		{"truncated JSON", func(m string) []byte { raw := marshal(validUser(m)); return raw[:len(raw)/2] }, "", bad400},
		{"trailing garbage", func(m string) []byte { return append(marshal(validUser(m)), []byte(`}{"x":1`)...) }, "", bad400},
		{"not an object: array", func(m string) []byte { return marshal([]any{validUser(m)}) }, "", bad400},
		{"not an object: string", func(m string) []byte { return marshal(m) }, "", bad400},
		{"not an object: null", func(string) []byte { return []byte("null") }, "", bad400},
		{"single quotes", func(m string) []byte {
			return []byte(`{'schemas':['` + harness.UserURN + `'],'userName':'` + m + `@example.com'}`)
		}, "", bad400},
		{"byte order mark", func(m string) []byte { return append([]byte("\xef\xbb\xbf"), marshal(validUser(m))...) },
			"", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"invalid UTF-8 in a value", func(m string) []byte {
			return []byte(strings.Replace(string(marshal(validUser(m))), m+"gn", m+"gn\xff\xfe\xc3", 1))
		}, "", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"NUL and control characters", with(func(u map[string]any, m string) {
			u["name"] = map[string]any{"givenName": m + "\x00\x01\x1b[31m", "familyName": m + "fn\r\nX-Injected: 1"}
		}), "", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"emoji and astral characters", with(func(u map[string]any, m string) {
			u["name"] = map[string]any{"givenName": m + "😀👩‍💻", "familyName": m + "𝔘𝔫𝔦"}
			u["displayName"] = m + "🚀"
		}), "", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"duplicate keys", func(m string) []byte {
			raw := string(marshal(validUser(m)))
			return []byte(strings.Replace(raw, `"userName"`, `"userName":"`+m+`dup@example.com","userName"`, 1))
		}, "", expect{status: []int{http.StatusCreated, http.StatusBadRequest, http.StatusConflict}}},
		{"deeply nested JSON", func(m string) []byte {
			return []byte(`{"schemas":["` + harness.UserURN + `"],"userName":"` + m + `@example.com","name":` +
				strings.Repeat(`{"a":`, 20_000) + `1` + strings.Repeat(`}`, 20_000) + `}`)
		}, "", bad400},
		{"deeply nested arrays", func(m string) []byte {
			return []byte(`{"schemas":["` + harness.UserURN + `"],"userName":"` + m + `@example.com","emails":` +
				strings.Repeat(`[`, 50_000) + strings.Repeat(`]`, 50_000) + `}`)
		}, "", bad400},
		{"unknown schema", with(func(u map[string]any, m string) { u["schemas"] = []any{"urn:bad:" + m} }), "", bad400},
		{"unknown extension schema with data", with(func(u map[string]any, m string) {
			u["schemas"] = []any{harness.UserURN, "urn:bad:ext"}
			u["urn:bad:ext"] = map[string]any{"x": m}
		}), "", bad400},
		{"schemas not an array", with(func(u map[string]any, m string) { u["schemas"] = harness.UserURN }),
			"", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"schemas empty", with(func(u map[string]any, m string) { u["schemas"] = []any{} }),
			"", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"schemas missing", with(func(u map[string]any, m string) { delete(u, "schemas") }),
			"", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"Group schema on /Users", with(func(u map[string]any, m string) { u["schemas"] = []any{harness.GroupURN} }), "", bad400},
		{"userName missing", with(func(u map[string]any, m string) { delete(u, "userName") }), "", bad400},
		{"userName empty", with(func(u map[string]any, m string) { u["userName"] = "" }), "", bad400},
		{"userName not an email", with(func(u map[string]any, m string) { u["userName"] = m + " not an email" }), "", bad400},
		{"userName 100k characters", with(func(u map[string]any, m string) { u["userName"] = m + huge + "@example.com" }), "", bad400},
		{"familyName missing", with(func(u map[string]any, m string) { u["name"] = map[string]any{"givenName": m} }), "", softCreated},
		{"givenName 100k characters", with(func(u map[string]any, m string) {
			u["name"] = map[string]any{"givenName": m + huge, "familyName": m}
		}), "", softCreated},
		{"familyName 100k characters", with(func(u map[string]any, m string) {
			u["name"] = map[string]any{"givenName": m, "familyName": m + huge}
		}), "", softCreated},
		{"title 100k characters", with(func(u map[string]any, m string) { u["title"] = m + huge }), "", softCreated},
		{"displayName 100k characters", with(func(u map[string]any, m string) { u["displayName"] = m + huge }), "", softCreated},
		{"email 100k characters", with(func(u map[string]any, m string) {
			u["emails"] = []any{map[string]any{"value": m + huge + "@example.com", "primary": true}}
		}), "", bad400},
		{"email not an email", with(func(u map[string]any, m string) {
			u["emails"] = []any{map[string]any{"value": m + " at example", "primary": true}}
		}), "", bad400},
		{"department 100k characters", with(func(u map[string]any, m string) {
			u[harness.EnterpriseURN] = map[string]any{"department": m + huge}
		}), "", softCreated},
		{"nickName longer than an Alias", with(func(u map[string]any, m string) { u["nickName"] = m + "toolongalias" }),
			"", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"unknown locale", with(func(u map[string]any, m string) { u["locale"] = m }), "", softCreated},
		{"unknown timezone", with(func(u map[string]any, m string) { u["timezone"] = "Mars/" + m }), "", softCreated},
		{"unknown preferredLanguage", with(func(u map[string]any, m string) { u["preferredLanguage"] = "zz-" + m }), "", softCreated},
		{"unknown profile", with(func(u map[string]any, m string) {
			u["schemas"] = []any{harness.UserURN, harness.SalesforceURN}
			u[harness.SalesforceURN] = map[string]any{"profile": m + "profile"}
		}), "", bad400},
		{"unknown permission set", with(func(u map[string]any, m string) {
			u["schemas"] = []any{harness.UserURN, harness.SalesforceURN}
			u[harness.SalesforceURN] = map[string]any{"permissionSets": []any{m + "ps"}}
		}), "", expect{status: []int{http.StatusBadRequest, http.StatusNotFound}}},
		{"unknown emailEncodingKey", with(func(u map[string]any, m string) {
			u["schemas"] = []any{harness.UserURN, harness.SalesforceURN}
			u[harness.SalesforceURN] = map[string]any{"emailEncodingKey": m}
		}), "", softCreated},
		{"manager is not a user id", with(func(u map[string]any, m string) {
			u[harness.EnterpriseURN] = map[string]any{"manager": map[string]any{"value": m}}
		}), "", softCreated},
		{"manager is a group id", with(func(u map[string]any, m string) {
			u[harness.EnterpriseURN] = map[string]any{"manager": map[string]any{"value": b.groupID(t, "Sales Operations")}}
		}), "", softCreated},
		{"id supplied", with(func(u map[string]any, m string) { u["id"] = "005" + m }),
			"", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"groups supplied (read-only)", with(func(u map[string]any, m string) {
			u["groups"] = []any{map[string]any{"value": b.groupID(t, "Sales Operations")}}
		}), "", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"two primary emails", with(func(u map[string]any, m string) {
			u["emails"] = []any{
				map[string]any{"value": m + "a@example.com", "primary": true},
				map[string]any{"value": m + "b@example.com", "primary": true},
			}
		}), "", expect{status: []int{http.StatusCreated, http.StatusBadRequest}}},
		{"body over the 1 MiB limit", with(func(u map[string]any, m string) { u["title"] = m + strings.Repeat("x", 2<<20) }),
			"", expect{status: []int{http.StatusRequestEntityTooLarge}}},
		{"text/plain content type", func(m string) []byte { return marshal(validUser(m)) }, "text/plain",
			expect{status: []int{http.StatusCreated, http.StatusBadRequest, http.StatusUnsupportedMediaType}}},
		{"form content type", func(m string) []byte { return []byte("userName=" + m) }, "application/x-www-form-urlencoded",
			expect{status: []int{http.StatusBadRequest, http.StatusUnsupportedMediaType}}},
		{"XML body", func(m string) []byte { return []byte("<User><userName>" + m + "</userName></User>") }, "application/xml",
			expect{status: []int{http.StatusBadRequest, http.StatusUnsupportedMediaType}}},
		{"no content type", func(m string) []byte { return marshal(validUser(m)) }, "-",
			expect{status: []int{http.StatusCreated, http.StatusBadRequest, http.StatusUnsupportedMediaType}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := b.marker("c")
			resp := b.send(t, harness.Request{Method: http.MethodPost, Path: "/Users", Body: tc.body(m), ContentType: tc.contentType})
			b.check(t, "POST /Users ("+tc.name+")", resp, tc.want)
			if resp.Status >= 400 {
				if ids := b.Org.UsersWith(m); len(ids) > 0 {
					t.Errorf("POST /Users (%s) = %d but Salesforce now holds User %v", tc.name, resp.Status, ids)
				}
			}
		})
	}
}

// wrongValues are values of the wrong JSON type for an attribute of the given kind.
func wrongValues(kind string, m string) map[string]any {
	switch kind {
	case "string":
		return map[string]any{
			"number": 12345, "bool": true, "object": map[string]any{"value": m}, "array": []any{m},
		}
	case "bool":
		return map[string]any{
			"number": 1, "string": "yes" + m, "object": map[string]any{"value": true}, "array": []any{true},
		}
	case "complex":
		return map[string]any{
			"number": 1, "string": m, "bool": false, "array": []any{map[string]any{"givenName": m}},
		}
	case "multi":
		return map[string]any{
			"number": 1, "string": m, "bool": true, "object": map[string]any{"value": m + "@example.com"},
			"array of strings": []any{m + "@example.com"}, "array of numbers": []any{1, 2},
		}
	}
	panic("unknown kind " + kind)
}

// userAttributes are the writable User attributes by where they sit and their SCIM type.
var userAttributes = []struct {
	path []string // nested keys from the body root
	kind string
}{
	{[]string{"userName"}, "string"},
	{[]string{"externalId"}, "string"},
	{[]string{"displayName"}, "string"},
	{[]string{"nickName"}, "string"},
	{[]string{"title"}, "string"},
	{[]string{"preferredLanguage"}, "string"},
	{[]string{"locale"}, "string"},
	{[]string{"timezone"}, "string"},
	{[]string{"active"}, "bool"},
	{[]string{"name"}, "complex"},
	{[]string{"name", "givenName"}, "string"},
	{[]string{"name", "familyName"}, "string"},
	{[]string{"emails"}, "multi"},
	{[]string{"phoneNumbers"}, "multi"},
	{[]string{"addresses"}, "multi"},
	{[]string{harness.EnterpriseURN, "employeeNumber"}, "string"},
	{[]string{harness.EnterpriseURN, "department"}, "string"},
	{[]string{harness.EnterpriseURN, "division"}, "string"},
	{[]string{harness.EnterpriseURN, "organization"}, "string"},
	{[]string{harness.EnterpriseURN, "manager"}, "complex"},
	{[]string{harness.SalesforceURN, "profile"}, "string"},
	{[]string{harness.SalesforceURN, "alias"}, "string"},
	{[]string{harness.SalesforceURN, "emailEncodingKey"}, "string"},
	{[]string{harness.SalesforceURN, "federationIdentifier"}, "string"},
	{[]string{harness.SalesforceURN, "permissionSets"}, "multi"},
}

// setPath sets a nested attribute, creating the intermediate objects.
func setPath(doc map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := doc[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			doc[k] = next
		}
		doc = next
	}
	doc[path[len(path)-1]] = v
}

// TestCreateUserRejectsWrongTypes puts a value of every wrong JSON type into every writable User
// attribute. A wrong type is a 400; null means "unassigned" (RFC 7643 §2.5), which is a 201 for an
// optional or derivable attribute and a 400 for userName.
func TestCreateUserRejectsWrongTypes(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	for _, attr := range userAttributes {
		name := strings.Join(attr.path, ".")
		if len(attr.path) > 1 && strings.HasPrefix(attr.path[0], "urn:") {
			name = attr.path[len(attr.path)-1] + " (extension)"
		}
		values := wrongValues(attr.kind, "MARK")
		values["null"] = nil
		for variant := range values {
			t.Run(name+"/"+variant, func(t *testing.T) {
				t.Parallel()
				m := b.marker("t")
				u := validUser(m)
				u["schemas"] = []any{harness.UserURN, harness.EnterpriseURN, harness.SalesforceURN}
				v := wrongValues(attr.kind, m)[variant]
				setPath(u, attr.path, v)
				want := bad400
				if variant == "null" {
					want = expect{status: []int{http.StatusCreated, http.StatusBadRequest}}
					if name == "userName" {
						want = bad400
					}
					if name == "name.familyName" || name == "name" {
						want = softCreated // LastName derived from displayName or userName
					}
				}
				if attr.kind == "multi" && variant == "object" {
					// The SCIM library reads a lone complex value of a multi-valued attribute as a
					// one-element list; the client's intent survives, so this leniency is allowed.
					want = expect{status: []int{http.StatusCreated, http.StatusBadRequest}}
				}
				if name == "manager (extension)" && variant == "string" {
					want = softCreated // Entra sends manager as a bare string; unresolved, it is left unset
				}
				if name == "active" && variant == "string" {
					// Entra sends booleans as strings, but only "True"/"False".
					want = bad400
				}
				resp := b.do(t, http.MethodPost, "/Users", u)
				b.check(t, "POST /Users with "+name+" = "+variant, resp, want)
				if resp.Status >= 400 {
					if ids := b.Org.UsersWith(m); len(ids) > 0 {
						t.Errorf("POST /Users with %s = %s was rejected (%d) but Salesforce holds User %v", name, variant, resp.Status, ids)
					}
				}
			})
		}
	}
}

// TestReplaceUserRejectsBadBodies checks that a rejected PUT changes nothing.
func TestReplaceUserRejectsBadBodies(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	huge := strings.Repeat("y", 100_000)
	cases := []struct {
		name string
		edit func(u map[string]any, m string)
		raw  func(m string) []byte
		want expect
	}{
		{name: "malformed JSON", raw: func(m string) []byte { return []byte(`{"userName":"` + m) }, want: bad400},
		{name: "empty body", raw: func(string) []byte { return nil }, want: bad400},
		{name: "userName missing", edit: func(u map[string]any, m string) { delete(u, "userName") }, want: bad400},
		{name: "userName a number", edit: func(u map[string]any, m string) { u["userName"] = 7 }, want: bad400},
		{name: "familyName 100k", edit: func(u map[string]any, m string) {
			u["name"] = map[string]any{"givenName": m, "familyName": m + huge}
		}, want: softOK},
		{name: "active an object", edit: func(u map[string]any, m string) { u["active"] = map[string]any{"v": m} }, want: bad400},
		{name: "emails an array of strings", edit: func(u map[string]any, m string) {
			u["emails"] = []any{m + "@example.com"}
		}, want: bad400},
		{name: "unknown schema", edit: func(u map[string]any, m string) { u["schemas"] = []any{"urn:bad:" + m} }, want: bad400},
		{name: "unknown timezone", edit: func(u map[string]any, m string) { u["timezone"] = "Mars/" + m }, want: softOK},
		{name: "unknown profile", edit: func(u map[string]any, m string) {
			u["schemas"] = []any{harness.UserURN, harness.SalesforceURN}
			u[harness.SalesforceURN] = map[string]any{"profile": m}
		}, want: bad400},
		{name: "userName of another user", edit: func(u map[string]any, m string) { u["userName"] = "admin@emulator.example.com" },
			want: expect{status: []int{http.StatusConflict}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := b.marker("p")
			id := b.createUser(t, m)
			before := b.Org.UserState(id)
			var body []byte
			if tc.raw != nil {
				body = tc.raw(m)
				if body == nil {
					body = []byte{}
				}
			} else {
				u := validUser(m)
				tc.edit(u, m)
				body, _ = json.Marshal(u)
			}
			resp := b.send(t, harness.Request{Method: http.MethodPut, Path: "/Users/" + id, Body: body})
			b.check(t, "PUT /Users/{id} ("+tc.name+")", resp, tc.want)
			if resp.Status >= 400 {
				assertUnchanged(t, "PUT /Users/{id} ("+tc.name+")", before, b.Org.UserState(id))
			}
		})
	}
}
