package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// Entries 13 and 14 of the catalogue in scimlib.go (the others are shown by the request tests in
// server_test.go and resources_test.go).

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

func TestSetTopLevel(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"after nested values and strings that look like the key",
			`{"Resources":[{"displayName":"\"itemsPerPage\":5 }]","n":[1,{"a":"]"}]}],"itemsPerPage":100,"schemas":["x"],"startIndex":1,"totalResults":2}`,
			`{"Resources":[{"displayName":"\"itemsPerPage\":5 }]","n":[1,{"a":"]"}]}],"itemsPerPage":2,"schemas":["x"],"startIndex":1,"totalResults":2}`, true},
		{"first key, spaces", `{ "itemsPerPage" : 100 , "totalResults":0}`, `{ "itemsPerPage" : 2 , "totalResults":0}`, true},
		{"last key", `{"a":null,"itemsPerPage":10}`, `{"a":null,"itemsPerPage":2}`, true},
		{"only nested", `{"Resources":[{"itemsPerPage":3}]}`, "", false},
		{"not an object", `[1,2]`, "", false},
		{"truncated", `{"Resources":[{"a":"b`, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := setTopLevel([]byte(tc.in), "itemsPerPage", []byte("2"))
			if ok != tc.ok || ok && string(out) != tc.want {
				t.Fatalf("setTopLevel(%s) = %s, %v; want %s, %v", tc.in, out, ok, tc.want, tc.ok)
			}
			if ok && !json.Valid(out) {
				t.Errorf("setTopLevel(%s) = %s: not JSON", tc.in, out)
			}
		})
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
