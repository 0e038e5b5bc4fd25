package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// Okta: paged match before create, password on create, PUT as the update (with id in the body),
// path-less PATCH {"active":false}, groups by POST then PATCH, PUT on groups from older
// integrations (reference/idp-clients.md).

func oktaUser(id string, active bool, title string) map[string]any {
	u := map[string]any{
		"schemas":     []any{harness.UserURN},
		"userName":    "bob.jones@example.com",
		"name":        map[string]any{"givenName": "Robert", "familyName": "Jones"},
		"emails":      []any{map[string]any{"primary": true, "value": "robert.jones@example.com", "type": "work"}},
		"displayName": "Robert Jones",
		"locale":      "en_GB",
		"active":      active,
	}
	if id != "" {
		u["id"] = id
	}
	if title != "" {
		u["title"] = title
	}
	return u
}

func TestOktaUserLifecycle(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)

	b.assertMatch(t, "/Users", `userName eq "bob.jones@example.com"`, []string{"startIndex=1", "count=100"})

	const password = "Okta-S3cret-Passw0rd!"
	status, doc := b.within(t, 1, http.MethodPost, "/Users", map[string]any{
		"schemas":     []any{harness.UserURN},
		"userName":    "bob.jones@example.com",
		"name":        map[string]any{"givenName": "Bob", "familyName": "Jones"},
		"emails":      []any{map[string]any{"primary": true, "value": "bob.jones@example.com", "type": "work"}},
		"displayName": "Bob Jones",
		"locale":      "en_GB",
		"title":       "Engineer",
		"password":    password,
		"active":      true,
	})
	if status != http.StatusCreated {
		t.Fatalf("POST /Users = %d; want 201; body %v", status, doc)
	}
	id := str(doc["id"])
	if _, has := doc["password"]; has {
		t.Errorf("POST /Users response contains the password (writeOnly, returned never)")
	}
	row := b.Org.User(t, id)
	assertFields(t, "created User", row, map[string]any{
		"Username":          "bob.jones@example.com",
		"FirstName":         "Bob",
		"LastName":          "Jones",
		"Email":             "bob.jones@example.com",
		"CommunityNickname": "bob.jones",
		"Title":             "Engineer",
		"LocaleSidKey":      "en_GB",
		"IsActive":          true,
	})
	assertAlias(t, row)
	for field, v := range row {
		if s, ok := v.(string); ok && strings.Contains(s, password) {
			t.Errorf("Salesforce User.%s holds the SCIM password", field)
		}
	}

	b.assertMatch(t, "/Users", `userName eq "bob.jones@example.com"`, []string{"startIndex=1", "count=100"}, id)
	status, doc = b.within(t, 1, http.MethodGet, "/Users/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /Users/%s = %d; body %v", id, status, doc)
	}
	if _, has := doc["password"]; has {
		t.Errorf("GET /Users/%s returns the password", id)
	}

	b.runUserSteps(t, id, []userStep{
		{
			name:   "PUT the full profile with id in the body",
			method: http.MethodPut,
			body:   oktaUser(id, true, "Manager"),
			want: map[string]any{"FirstName": "Robert", "Email": "robert.jones@example.com", "Title": "Manager",
				"CommunityNickname": "bob.jones", "IsActive": true},
		},
		{
			name:   "PUT without title clears it",
			method: http.MethodPut,
			body:   oktaUser(id, true, ""),
			want:   map[string]any{"Title": nil, "FirstName": "Robert", "LastName": "Jones"},
		},
		{
			name:   "PUT active false deactivates",
			budget: 2, // + the deprovision brake's count (provisioning.deprovision_limit)
			method: http.MethodPut,
			body:   oktaUser(id, false, ""),
			want:   map[string]any{"IsActive": false},
			frozen: ptr(false),
			active: ptr(false),
		},
		{
			name:   "PUT active true reactivates",
			method: http.MethodPut,
			body:   oktaUser(id, true, ""),
			want:   map[string]any{"IsActive": true},
			active: ptr(true),
		},
		{
			name:   "path-less PATCH active false with id in the value",
			body:   patch(op("replace", "", map[string]any{"id": id, "active": false})),
			want:   map[string]any{"IsActive": false},
			active: ptr(false),
		},
		{
			name:   "path-less PATCH active true",
			body:   patch(op("replace", "", map[string]any{"active": true})),
			want:   map[string]any{"IsActive": true},
			active: ptr(true),
		},
	})

	status, doc = b.within(t, 1, http.MethodDelete, "/Users/"+id, nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE /Users/%s = %d; want 204; body %v", id, status, doc)
	}
	assertFields(t, "deleted User", b.Org.User(t, id), map[string]any{"IsActive": false})
}

func TestOktaGroupPush(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	u1 := b.insertUser(t, "okta1")
	u2 := b.insertUser(t, "okta2")

	status, doc := b.within(t, 1, http.MethodPost, "/Groups", map[string]any{
		"schemas": []any{harness.GroupURN}, "displayName": "Okta Engineering", "members": []any{},
	})
	if status != http.StatusCreated {
		t.Fatalf("POST /Groups = %d; want 201; body %v", status, doc)
	}
	gid := str(doc["id"])
	ps := b.Emulator.Get("PermissionSet", gid)
	if ps == nil || ps["Label"] != "Okta Engineering" || ps["IsOwnedByProfile"] == true {
		t.Fatalf("POST /Groups created %v; want a permission set labelled Okta Engineering", ps)
	}
	if doc["displayName"] != "Okta Engineering" {
		t.Errorf("POST /Groups displayName = %v; want Okta Engineering", doc["displayName"])
	}

	// Okta pushes the same displayName again only after matching; a duplicate is refused.
	status, doc = b.do(t, http.MethodPost, "/Groups", map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "Okta Engineering"})
	assertError(t, "POST /Groups with a taken displayName", status, doc, http.StatusConflict, "uniqueness")

	steps := []struct {
		name   string
		method string
		body   any
		budget int
		want   []string
	}{
		{"add members", http.MethodPatch, patch(op("add", "members", memberValues(u1, u2))), 1, ids(u1, u2)},
		{"remove a member by filter without value", http.MethodPatch, patch(op("remove", fmt.Sprintf("members[value eq %q]", u2), nil)), 2, ids(u1)},
		{"PUT from an older integration adds (merge)", http.MethodPut, map[string]any{
			"schemas": []any{harness.GroupURN}, "id": gid, "displayName": "Okta Engineering", "members": memberValues(u2),
		}, 2, ids(u1, u2)},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status, doc := b.within(t, s.budget, s.method, "/Groups/"+gid, s.body)
			if status != http.StatusOK && status != http.StatusNoContent {
				t.Fatalf("%s /Groups/%s = %d; want 200 or 204; body %v", s.method, gid, status, doc)
			}
			assertIDs(t, "assignees of Okta Engineering", b.Org.Members(gid), s.want)
		})
	}

	status, doc = b.within(t, 1, http.MethodGet, "/Groups/"+gid, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /Groups/%s = %d; body %v", gid, status, doc)
	}
	assertIDs(t, "GET /Groups members", memberIDs(doc), ids(u1, u2))
}
