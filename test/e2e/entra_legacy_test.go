package e2e

import (
	"net/http"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// Microsoft Entra ID without the aadOptscim062020 feature flag (the default for older apps):
// PascalCase ops, booleans as strings, member removal with a value array
// (reference/idp-clients.md).

func TestEntraLegacyUserLifecycle(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	standardUser := b.Org.Profile(t, "Standard User")
	admin := b.adminID(t)

	// Entra matches before it creates: zero hits are a 200 ListResponse, never 404.
	b.assertMatch(t, "/Users", `userName eq "alice.wong@contoso.com"`, nil)
	b.assertMatch(t, "/Users", `externalId eq "6a1f7d2e-entra"`, nil)

	status, doc := b.within(t, 1, http.MethodPost, "/Users", map[string]any{
		"schemas":             []any{harness.UserURN, harness.EnterpriseURN},
		"externalId":          "6a1f7d2e-entra",
		"userName":            "Alice.Wong@contoso.com",
		"active":              true,
		"displayName":         "Alice Wong",
		"title":               "Engineer",
		"emails":              []any{map[string]any{"primary": true, "type": "work", "value": "alice.wong@contoso.com"}},
		"name":                map[string]any{"formatted": "Alice Wong", "familyName": "Wong", "givenName": "Alice"},
		harness.EnterpriseURN: map[string]any{"department": "Research", "employeeNumber": "E1001"},
	})
	if status != http.StatusCreated {
		t.Fatalf("POST /Users = %d; want 201; body %v", status, doc)
	}
	id := str(doc["id"])
	if len(id) != 18 {
		t.Fatalf("POST /Users id = %q; want the 18-character Salesforce User id", id)
	}
	row := b.Org.User(t, id)
	assertFields(t, "created User", row, map[string]any{
		"Username":             "alice.wong@contoso.com", // Salesforce lower-cases usernames
		"FirstName":            "Alice",
		"LastName":             "Wong",
		"Email":                "alice.wong@contoso.com",
		"FederationIdentifier": "6a1f7d2e-entra",
		"CommunityNickname":    "alice.wong", // from userName; displayName reads as Name
		"Title":                "Engineer",
		"Department":           "Research",
		"EmployeeNumber":       "E1001",
		"IsActive":             true,
		"ProfileId":            standardUser, // users.defaults.profile
		"TimeZoneSidKey":       "America/Los_Angeles",
		"LocaleSidKey":         "en_US",
		"LanguageLocaleKey":    "en_US",
		"EmailEncodingKey":     "UTF-8",
	})
	assertAlias(t, row)
	if b.Org.Frozen(t, id) {
		t.Errorf("a new user is frozen")
	}

	// Matching now finds the user, whatever the case of the userName.
	b.assertMatch(t, "/Users", `userName eq "alice.wong@contoso.com"`, nil, id)
	b.assertMatch(t, "/Users", `userName eq "ALICE.WONG@contoso.com"`, nil, id)
	b.assertMatch(t, "/Users", `externalId eq "6a1f7d2e-entra"`, nil, id)

	_, doc = b.within(t, 1, http.MethodGet, "/Users/"+id, nil)
	if doc["userName"] != "alice.wong@contoso.com" || doc["externalId"] != "6a1f7d2e-entra" || doc["id"] != id {
		t.Errorf("GET /Users/%s = userName %v, externalId %v, id %v; want the created user", id, doc["userName"], doc["externalId"], doc["id"])
	}
	if !boolAttr(t, doc, "active") {
		t.Errorf("GET /Users/%s active = false; want true", id)
	}

	b.runUserSteps(t, id, []userStep{
		{
			name: "typical update: Replace work email, Replace familyName, Add department",
			body: patch(
				op("Replace", `emails[type eq "work"].value`, "alice.lee@contoso.com"),
				op("Replace", "name.familyName", "Lee"),
				op("Add", harness.EnterpriseURN+":department", "Finance"),
			),
			want: map[string]any{"Email": "alice.lee@contoso.com", "LastName": "Lee", "Department": "Finance",
				"FirstName": "Alice", "Username": "alice.wong@contoso.com"},
		},
		{
			name: "Replace emails with a string primary",
			body: patch(op("Replace", "emails", []any{map[string]any{"type": "work", "primary": "True", "value": "alice@contoso.com"}})),
			want: map[string]any{"Email": "alice@contoso.com"},
		},
		{
			name: "Add manager as a bare id string",
			body: patch(op("Add", harness.EnterpriseURN+":manager", admin)),
			want: map[string]any{"ManagerId": admin},
		},
		{
			name: "Remove manager without a value",
			body: patch(op("Remove", harness.EnterpriseURN+":manager", nil)),
			want: map[string]any{"ManagerId": nil},
		},
		{
			name: "Replace title and displayName",
			body: patch(op("Replace", "title", "Staff Engineer"), op("Replace", "displayName", "Alice L.")),
			want: map[string]any{"Title": "Staff Engineer", "CommunityNickname": "alice.wong"},
		},
		{
			name:   `deprovision: Replace active "False"`,
			budget: 2, // + the deprovision brake's count (provisioning.deprovision_limit)
			body:   patch(op("Replace", "active", "False")),
			want:   map[string]any{"IsActive": false},
			frozen: ptr(false),
			active: ptr(false),
		},
		{
			name:   `reactivate: Replace active "True"`,
			body:   patch(op("Replace", "active", "True")),
			want:   map[string]any{"IsActive": true},
			frozen: ptr(false),
			active: ptr(true),
		},
	})

	// Entra's "Test connection" reads random ids: a proper SCIM 404 each.
	status, doc = b.do(t, http.MethodGet, "/Users/"+unknownUserID, nil)
	assertError(t, "GET /Users/<unknown>", status, doc, http.StatusNotFound, "")
	status, doc = b.do(t, http.MethodGet, "/Groups/"+unknownGroupID, nil)
	assertError(t, "GET /Groups/<unknown>", status, doc, http.StatusNotFound, "")

	// DELETE (when the app is set to delete) deactivates; the user stays readable.
	status, doc = b.within(t, 1, http.MethodDelete, "/Users/"+id, nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE /Users/%s = %d; want 204; body %v", id, status, doc)
	}
	assertFields(t, "deleted User", b.Org.User(t, id), map[string]any{"IsActive": false})
	doc = b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)
	if boolAttr(t, doc, "active") {
		t.Errorf("GET /Users/%s after DELETE active = true; want false", id)
	}
}

func TestEntraLegacyGroupMembership(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	alice := b.insertUser(t, "alice")
	bob := b.insertUser(t, "bob")
	salesOps := b.Org.PermissionSet(t, "Sales Operations")

	// Entra reads groups by displayName and without members; no match is an empty ListResponse.
	b.assertMatch(t, "/Groups", `displayName eq "No Such Group"`, []string{"excludedAttributes=members"})
	p := filterPath("/Groups", `displayName eq "Sales Operations"`, "excludedAttributes=members")
	status, doc := b.within(t, 1, http.MethodGet, p, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200; body %v", p, status, doc)
	}
	list := resources(t, doc)
	if len(list) != 1 || !sameID(str(list[0]["id"]), salesOps) || list[0]["displayName"] != "Sales Operations" {
		t.Fatalf("GET %s = %v; want the Sales Operations permission set only", p, list)
	}
	if _, has := list[0]["members"]; has {
		t.Errorf("GET %s returned members despite excludedAttributes=members", p)
	}

	steps := []struct {
		name   string
		body   any
		budget int
		want   []string
		label  string
	}{
		{
			name:   "Add members with $ref null",
			body:   patch(op("Add", "members", []any{map[string]any{"value": alice, "$ref": nil}, map[string]any{"value": bob, "$ref": nil}})),
			budget: 1,
			want:   ids(alice, bob),
		},
		{
			name:   "Add an existing member again is a no-op",
			body:   patch(op("Add", "members", memberValues(alice))),
			budget: 1,
			want:   ids(alice, bob),
		},
		{
			name:   "Replace displayName",
			body:   patch(op("Replace", "displayName", "Sales Operations EMEA")),
			budget: 1,
			want:   ids(alice, bob),
			label:  "Sales Operations EMEA",
		},
		{
			name:   "Remove members with a value array",
			body:   patch(op("Remove", "members", memberValues(bob))),
			budget: 2,
			want:   ids(alice),
		},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status, doc := b.within(t, s.budget, http.MethodPatch, "/Groups/"+salesOps, s.body)
			if status != http.StatusOK && status != http.StatusNoContent {
				t.Fatalf("PATCH /Groups/%s = %d; want 200 or 204; body %v", salesOps, status, doc)
			}
			assertIDs(t, "assignees of Sales Operations", b.Org.Members(salesOps), s.want)
			if s.label != "" {
				if got := b.Emulator.Get("PermissionSet", salesOps)["Label"]; got != s.label {
					t.Errorf("PermissionSet.Label = %v; want %q", got, s.label)
				}
			}
		})
	}

	// The user's read-only groups show the remaining membership.
	doc = b.must(t, ok200, http.MethodGet, "/Users/"+alice, nil)
	groups, _ := doc["groups"].([]any)
	if len(groups) != 1 || !sameID(str(groups[0].(map[string]any)["value"]), salesOps) {
		t.Errorf("GET /Users/%s groups = %v; want Sales Operations only", alice, doc["groups"])
	}
}
