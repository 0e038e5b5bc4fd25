package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

type bulkResultJSON struct {
	Location string         `json:"location"`
	Method   string         `json:"method"`
	BulkID   string         `json:"bulkId"`
	Version  string         `json:"version"`
	Status   string         `json:"status"`
	Response map[string]any `json:"response"`
}

func doBulk(t *testing.T, env *testEnv, body string) []bulkResultJSON {
	t.Helper()
	r := env.do(t, "POST", "/scim/v2/Bulk", body)
	if r.status != 200 || r.header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("POST /Bulk = %d %q (%s)", r.status, r.header.Get("Content-Type"), r.body)
	}
	var resp struct {
		Schemas    []string
		Operations []bulkResultJSON
	}
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(resp.Schemas, []string{"urn:ietf:params:scim:api:messages:2.0:BulkResponse"}) {
		t.Errorf("schemas = %v", resp.Schemas)
	}
	return resp.Operations
}

func TestBulkWithReferences(t *testing.T) {
	t.Parallel()
	env := newEnv(t, func(c *Config) { c.PublicURL = "https://scim.example.com" })
	// The group is listed first but references the user created by a later operation.
	results := doBulk(t, env, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/Groups","bulkId":"g","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
			"displayName":"Sales","members":[{"value":"bulkId:u","type":"User"}]}},
		{"method":"POST","path":"/Users","bulkId":"u","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bulk@example.com"}},
		{"method":"PATCH","path":"/Groups/bulkId:g","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"remove","path":"members[value eq \"bulkId:u\"]"}]}},
		{"method":"PUT","path":"/Users/bulkId:u","version":"W/\"1\"","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bulk2@example.com"}},
		{"method":"DELETE","path":"/Users/u-missing"}
	]}`)
	if len(results) != 5 {
		t.Fatalf("got %d results; want 5: %+v", len(results), results)
	}
	group, user, patch, put, del := results[0], results[1], results[2], results[3], results[4]
	if user.Status != "201" || user.BulkID != "u" || !strings.HasPrefix(user.Location, "https://scim.example.com/scim/v2/Users/") {
		t.Fatalf("user result = %+v", user)
	}
	userID := strings.TrimPrefix(user.Location, "https://scim.example.com/scim/v2/Users/")
	if group.Status != "201" || group.Version != `W/"1"` {
		t.Fatalf("group result = %+v", group)
	}
	members, _ := group.Response["members"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["value"] != userID {
		t.Errorf("group members = %v; want the user's id %q", group.Response["members"], userID)
	}
	groupID := group.Response["id"].(string)
	if patch.Status != "204" || patch.Location != "https://scim.example.com/scim/v2/Groups/"+groupID {
		t.Errorf("patch result = %+v", patch)
	}
	if put.Status != "200" || put.Version != `W/"2"` || put.Response["userName"] != "bulk2@example.com" {
		t.Errorf("put result = %+v", put)
	}
	if del.Status != "404" || del.Response["status"] != "404" {
		t.Errorf("delete result = %+v", del)
	}
	ops := env.backend.recorded().ops
	if len(ops) != 1 || ops[0].Path == nil || !strings.Contains(ops[0].Path.String(), userID) {
		t.Errorf("patch ops = %+v; want the bulkId resolved in the path filter", ops)
	}
}

// Bulk operation paths are matched like the HTTP routes: case-insensitive endpoint names and an
// optional trailing slash (`/users/`, `/USERS/{id}/`).
func TestBulkPathsIgnoreCaseAndTrailingSlash(t *testing.T) {
	t.Parallel()
	env := newEnv(t, func(c *Config) { c.PublicURL = "https://scim.example.com" })
	results := doBulk(t, env, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/users/","bulkId":"u","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"slash@example.com"}},
		{"method":"PUT","path":"/USERS/bulkId:u/","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"slash2@example.com"}},
		{"method":"DELETE","path":"/users/bulkId:u/"}
	]}`)
	if len(results) != 3 || results[0].Status != "201" || results[1].Status != "200" || results[2].Status != "204" {
		t.Fatalf("results = %+v; want 201, 200, 204", results)
	}
	id := strings.TrimPrefix(results[0].Location, "https://scim.example.com/scim/v2/Users/")
	if want := "https://scim.example.com/scim/v2/Users/" + id; id == "" || results[1].Location != want || results[2].Location != want {
		t.Errorf("locations = %q, %q; want %q", results[1].Location, results[2].Location, want)
	}
}

func TestBulkErrors(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)

	t.Run("unknown bulkId is 409", func(t *testing.T) {
		results := doBulk(t, env, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
			{"method":"PATCH","path":"/Groups/bulkId:nope","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"displayName","value":"x"}]}}]}`)
		if len(results) != 1 || results[0].Status != "409" || results[0].Response["scimType"] != "invalidValue" || results[0].Response["status"] != "409" {
			t.Errorf("results = %+v", results)
		}
	})
	t.Run("reference to a failed operation is 409", func(t *testing.T) {
		results := doBulk(t, env, `{"Operations":[
			{"method":"POST","path":"/Users","bulkId":"bad","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}},
			{"method":"DELETE","path":"/Users/bulkId:bad"}]}`)
		if len(results) != 2 || results[0].Status != "400" || results[1].Status != "409" {
			t.Errorf("results = %+v", results)
		}
	})
	t.Run("cycle is 409", func(t *testing.T) {
		results := doBulk(t, env, `{"Operations":[
			{"method":"POST","path":"/Groups","bulkId":"a","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"A","members":[{"value":"bulkId:b"}]}},
			{"method":"POST","path":"/Groups","bulkId":"b","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"B","members":[{"value":"bulkId:a"}]}}]}`)
		if len(results) != 2 || results[0].Status != "409" || results[1].Status != "409" {
			t.Errorf("results = %+v", results)
		}
	})
	t.Run("bad method and path", func(t *testing.T) {
		results := doBulk(t, env, `{"Operations":[
			{"method":"GET","path":"/Users"},
			{"method":"POST","path":"/Bulk","bulkId":"x","data":{}},
			{"method":"DELETE","path":"/Users"},
			{"method":"POST","path":"/Users","data":{"userName":"nobulkid@example.com"}}]}`)
		for i, res := range results {
			if res.Status != "400" {
				t.Errorf("result %d = %+v; want 400", i, res)
			}
		}
	})
	t.Run("failOnErrors stops processing", func(t *testing.T) {
		results := doBulk(t, env, `{"failOnErrors":1,"Operations":[
			{"method":"DELETE","path":"/Users/missing-1"},
			{"method":"DELETE","path":"/Users/missing-2"}]}`)
		if len(results) != 1 || results[0].Status != "404" {
			t.Errorf("results = %+v; want one 404", results)
		}
	})
	t.Run("more than maxOperations is 413", func(t *testing.T) {
		ops := make([]string, maxBulkOperations+1)
		for i := range ops {
			ops[i] = fmt.Sprintf(`{"method":"DELETE","path":"/Users/x%d"}`, i)
		}
		wantSCIMError(t, env.do(t, "POST", "/scim/v2/Bulk", `{"Operations":[`+strings.Join(ops, ",")+`]}`), 413, "")
	})
	t.Run("malformed request", func(t *testing.T) {
		wantSCIMError(t, env.do(t, "POST", "/scim/v2/Bulk", `{"Operations":`), 400, "invalidSyntax")
		wantSCIMError(t, env.do(t, "POST", "/scim/v2/Bulk", `{"schemas":["urn:wrong"],"Operations":[{"method":"DELETE","path":"/Users/x"}]}`), 400, "invalidValue")
		wantSCIMError(t, env.do(t, "POST", "/scim/v2/Bulk", `{"Operations":[]}`), 400, "invalidValue")
	})
}

func TestBulkWave(t *testing.T) {
	post := func(userName string, refs ...string) bulkOperation {
		data := map[string]any{"userName": userName}
		if len(refs) > 0 {
			data["manager"] = map[string]any{"value": "bulkId:" + refs[0]}
		}
		raw, _ := json.Marshal(data)
		return bulkOperation{Method: "POST", Path: "/Users", BulkID: userName, Data: raw}
	}
	patch := bulkOperation{Method: "PATCH", Path: "/Users/005000000000001AAA", Data: json.RawMessage(`{}`)}
	tests := []struct {
		name                     string
		ops                      []bulkOperation
		failOnErrors, errorCount int
		want                     []int
	}{
		{"creates run together", []bulkOperation{post("a"), post("b"), post("c")}, 0, 0, []int{0, 1, 2}},
		{"a non-create ends the wave", []bulkOperation{post("a"), patch, post("c")}, 0, 0, []int{0}},
		{"a create waiting for a reference ends the wave", []bulkOperation{post("a"), post("b", "a"), post("c")}, 0, 0, []int{0}},
		{"the same userName twice ends the wave", []bulkOperation{post("a"), post("b"), post("A")}, 0, 0, []int{0, 1}},
		{"failOnErrors bounds the wave by the errors still accepted", []bulkOperation{post("a"), post("b"), post("c"), post("d")}, 3, 1, []int{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pending := make([]int, len(tc.ops))
			for i := range pending {
				pending[i] = i
			}
			run := newBulkRun(bulkRequest{Operations: tc.ops, FailOnErrors: tc.failOnErrors})
			run.errorCount = tc.errorCount
			got := run.wave(pending)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("wave = %v; want %v", got, tc.want)
			}
		})
	}
}

// panickingUsers is the fake backend with a CreateUser that panics for one userName.
type panickingUsers struct {
	*fakeBackend
	userName string
}

func (p panickingUsers) CreateUser(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	if attrs["userName"] == p.userName {
		panic("boom in CreateUser")
	}
	return p.fakeBackend.CreateUser(ctx, attrs)
}

// A panic in one operation of a Bulk request (here in a wave, whose operations run on their own
// goroutines) is that operation's 500 "internal error", as for a single request, and is logged the
// same way: the process lives on and the other operations run.
func TestBulkOperationPanicIsInternalError(t *testing.T) {
	t.Parallel()
	env := newEnv(t, func(c *Config) {
		c.Users = panickingUsers{fakeBackend: c.Users.(*fakeBackend), userName: "boom@example.com"}
	})
	const boomUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"boom@example.com"}`
	single := env.do(t, "POST", "/scim/v2/Users", boomUser)
	wantSCIMError(t, single, 500, "")

	results := doBulk(t, env, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/Users","bulkId":"boom","data":`+boomUser+`},
		{"method":"POST","path":"/Users","bulkId":"ok","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ok@example.com"}}]}`)
	if len(results) != 2 {
		t.Fatalf("got %d results; want 2: %+v", len(results), results)
	}
	if results[0].Status != "500" || !cmp.Equal(results[0].Response, single.json(t)) {
		t.Errorf("panicking operation = %+v; want the single POST's answer 500 %s", results[0], single.body)
	}
	if results[1].Status != "201" || results[1].BulkID != "ok" {
		t.Errorf("other operation = %+v; want 201", results[1])
	}
	if n := strings.Count(env.logs.String(), `"message":"handler panicked"`); n != 2 {
		t.Errorf("%d panic log lines; want 2 (the single POST and the operation):\n%s", n, env.logs.String())
	}
	if r := env.do(t, "GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "ok@example.com"`), ""); r.status != 200 || !strings.Contains(string(r.body), "ok@example.com") {
		t.Errorf("GET after the panic = %d %s; want the created user", r.status, r.body)
	}
}

// A reference is found in data holding a number beyond float64 (a decode into float64 missed
// them all, and the operation ran with "bulkId:m" unresolved).
func TestBulkReferenceBesideAHugeNumber(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	results := doBulk(t, env, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/Groups","bulkId":"g","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
			"displayName":"Sales","n":1e400,"members":[{"value":"bulkId:m","type":"User"}]}},
		{"method":"POST","path":"/Users","bulkId":"m","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"m@example.com"}}]}`)
	if len(results) != 2 || results[1].Status != "201" {
		t.Fatalf("results = %+v", results)
	}
	members, _ := results[0].Response["members"].([]any)
	if results[0].Status != "201" || len(members) != 1 || members[0].(map[string]any)["value"] != results[1].Response["id"] {
		t.Errorf("group result = %+v; want its member to be the user %v", results[0], results[1].Response["id"])
	}
}
