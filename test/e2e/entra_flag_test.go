package e2e

import (
	"net/http"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// Microsoft Entra ID with the aadOptscim062020 feature flag: lower-case ops, real booleans,
// path-less replace with dotted and URN-prefixed keys, member removal by filter
// (reference/idp-clients.md).

func TestEntraFlagUserLifecycle(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	admin := b.adminID(t)

	b.assertMatch(t, "/Users", `userName eq "dan.ortiz@contoso.com"`, nil)

	status, doc := b.within(t, 1, http.MethodPost, "/Users", map[string]any{
		"schemas":    []any{harness.UserURN, harness.EnterpriseURN},
		"externalId": "dan-oid-42",
		"userName":   "dan.ortiz@contoso.com",
		"active":     true,
		"emails":     []any{map[string]any{"primary": true, "type": "work", "value": "dan.ortiz@contoso.com"}},
		"name":       map[string]any{"familyName": "Ortiz", "givenName": "Dan"},
		"addresses":  []any{map[string]any{"type": "work", "locality": "Redmond", "country": "US", "primary": true}},
		harness.EnterpriseURN: map[string]any{
			"department": "Sales",
			"manager":    map[string]any{"value": admin},
		},
	})
	if status != http.StatusCreated {
		t.Fatalf("POST /Users = %d; want 201; body %v", status, doc)
	}
	id := str(doc["id"])
	row := b.Org.User(t, id)
	assertFields(t, "created User", row, map[string]any{
		"Username":             "dan.ortiz@contoso.com",
		"FirstName":            "Dan",
		"LastName":             "Ortiz",
		"Email":                "dan.ortiz@contoso.com",
		"FederationIdentifier": "dan-oid-42",
		"Department":           "Sales",
		"ManagerId":            admin,
		"City":                 "Redmond",
		"Country":              "US",
		"IsActive":             true,
		"TimeZoneSidKey":       "America/Los_Angeles",
		"LocaleSidKey":         "en_US",
		"LanguageLocaleKey":    "en_US",
		"EmailEncodingKey":     "UTF-8",
	})
	assertAlias(t, row)
	if str(row["CommunityNickname"]) == "" {
		t.Errorf("User.CommunityNickname is empty; want one derived when displayName is absent")
	}

	b.assertMatch(t, "/Users", `userName eq "dan.ortiz@contoso.com"`, nil, id)
	b.assertMatch(t, "/Users", `externalId eq "dan-oid-42"`, nil, id)
	b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)

	b.runUserSteps(t, id, []userStep{
		{
			name:   "path-less replace with dotted and URN-prefixed keys and active false",
			budget: 2, // + the deprovision brake's count (provisioning.deprovision_limit)
			body: patch(op("replace", "", map[string]any{
				"name.givenName":                      "Daniel",
				harness.EnterpriseURN + ":department": "Legal",
				"active":                              false,
			})),
			want:   map[string]any{"FirstName": "Daniel", "Department": "Legal", "LastName": "Ortiz", "IsActive": false},
			frozen: ptr(false),
			active: ptr(false),
		},
		{
			name:   "replace active true",
			body:   patch(op("replace", "active", true)),
			want:   map[string]any{"IsActive": true},
			active: ptr(true),
		},
		{
			name: "add mobile phone and replace work locality",
			body: patch(
				op("add", `phoneNumbers[type eq "mobile"].value`, "+1 425 555 0100"),
				op("replace", `addresses[type eq "work"].locality`, "Seattle"),
			),
			want: map[string]any{"MobilePhone": "+1 425 555 0100", "City": "Seattle", "Country": "US"},
		},
		{
			name: "path-less replace of the manager as a bare string",
			body: patch(op("replace", "", map[string]any{harness.EnterpriseURN + ":manager": admin})),
			want: map[string]any{"ManagerId": admin},
		},
		{
			name: "remove manager",
			body: patch(op("remove", harness.EnterpriseURN+":manager", nil)),
			want: map[string]any{"ManagerId": nil},
		},
		{
			name: "path-less replace of emails and externalId",
			body: patch(op("replace", "", map[string]any{
				"emails":     []any{map[string]any{"type": "work", "primary": true, "value": "daniel.ortiz@contoso.com"}},
				"externalId": "dan-oid-43",
			})),
			want: map[string]any{"Email": "daniel.ortiz@contoso.com", "FederationIdentifier": "dan-oid-43"},
		},
	})

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

func TestEntraFlagGroupMembership(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	dan := b.insertUser(t, "dan")
	eve := b.insertUser(t, "eve")
	support := b.Org.PermissionSet(t, "Support Agent")

	status, doc := b.within(t, 1, http.MethodPatch, "/Groups/"+support,
		patch(op("add", "members", memberValues(dan, eve))))
	if status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("PATCH add members = %d; want 200 or 204; body %v", status, doc)
	}
	assertIDs(t, "assignees after add", b.Org.Members(support), ids(dan, eve))

	status, doc = b.within(t, 2, http.MethodPatch, "/Groups/"+support,
		patch(op("remove", `members[value eq "`+dan+`"]`, nil)))
	if status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("PATCH remove members[value eq] = %d; want 200 or 204; body %v", status, doc)
	}
	assertIDs(t, "assignees after filtered remove", b.Org.Members(support), ids(eve))

	// Membership filter as Entra's group reconciliation uses it.
	p := filterPath("/Groups", `members[value eq "`+eve+`"]`, "excludedAttributes=members")
	doc = b.must(t, ok200, http.MethodGet, p, nil)
	var got []string
	for _, r := range resources(t, doc) {
		got = append(got, str(r["id"]))
	}
	assertIDs(t, "GET "+p, got, ids(support))
}
