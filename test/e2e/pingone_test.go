package e2e

import (
	"net/http"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// A PingOne-shaped client: it maps every Salesforce-specific field (Alias, Profile Id, Email
// Encoding Key, Language Locale Key, Locale Sid Key, Time Zone Sid Key) through the bridge's
// Salesforce extension and the core locale attributes, sends standard RFC 7644 PATCH, and is
// configured with "Disable action: Freeze" (reference/idp-clients.md, PingOne).

func pingUser(profileID, alias, tz string, active bool) map[string]any {
	return map[string]any{
		"schemas":           []any{harness.UserURN, harness.SalesforceURN},
		"userName":          "carol.danvers@ping.example.com",
		"name":              map[string]any{"givenName": "Carol", "familyName": "Danvers"},
		"emails":            []any{map[string]any{"value": "carol.danvers@ping.example.com", "type": "work", "primary": true}},
		"active":            active,
		"preferredLanguage": "de",
		"locale":            "de_DE",
		"timezone":          tz,
		harness.SalesforceURN: map[string]any{
			"profile":          profileID,
			"alias":            alias,
			"emailEncodingKey": "ISO-8859-1",
		},
	}
}

func TestPingOneUserLifecycle(t *testing.T) {
	t.Parallel()
	b := start(t, "provisioning:\n  disable_action: freeze\n")
	b.warm(t)
	sysAdmin := b.Org.Profile(t, "System Administrator")

	b.assertMatch(t, "/Users", `userName eq "carol.danvers@ping.example.com"`, nil)

	status, doc := b.within(t, 1, http.MethodPost, "/Users", pingUser(sysAdmin, "cdanvers", "Europe/Berlin", true))
	if status != http.StatusCreated {
		t.Fatalf("POST /Users = %d; want 201; body %v", status, doc)
	}
	id := str(doc["id"])
	assertFields(t, "created User", b.Org.User(t, id), map[string]any{
		"Username":          "carol.danvers@ping.example.com",
		"FirstName":         "Carol",
		"LastName":          "Danvers",
		"Email":             "carol.danvers@ping.example.com",
		"Alias":             "cdanvers",
		"ProfileId":         sysAdmin,
		"EmailEncodingKey":  "ISO-8859-1",
		"LanguageLocaleKey": "de",
		"LocaleSidKey":      "de_DE",
		"TimeZoneSidKey":    "Europe/Berlin",
		"IsActive":          true,
	})
	if b.Org.Frozen(t, id) {
		t.Errorf("a new user is frozen")
	}

	b.assertMatch(t, "/Users", `userName eq "carol.danvers@ping.example.com"`, nil, id)
	doc = b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)
	if ext, _ := doc[harness.SalesforceURN].(map[string]any); ext["alias"] != "cdanvers" {
		t.Errorf("GET /Users/%s %s = %v; want alias cdanvers", id, harness.SalesforceURN, doc[harness.SalesforceURN])
	}

	b.runUserSteps(t, id, []userStep{
		{
			name:   "PUT changes alias and time zone",
			method: http.MethodPut,
			body:   pingUser(sysAdmin, "carold", "America/New_York", true),
			want:   map[string]any{"Alias": "carold", "TimeZoneSidKey": "America/New_York", "ProfileId": sysAdmin, "IsActive": true},
		},
		{
			name: "replace title and add a work phone",
			body: patch(op("replace", "title", "Captain"), op("add", "phoneNumbers", []any{map[string]any{"type": "work", "value": "+1 555 0101"}})),
			want: map[string]any{"Title": "Captain", "Phone": "+1 555 0101"},
		},
		{
			name: "remove title",
			body: patch(op("remove", "title", nil)),
			want: map[string]any{"Title": nil, "Phone": "+1 555 0101"},
		},
		{
			name: "replace profile by name through the extension",
			body: patch(op("replace", harness.SalesforceURN+":profile", "Standard User")),
			want: map[string]any{"ProfileId": b.Org.Profile(t, "Standard User")},
		},
		{
			name:   "disable freezes and keeps IsActive",
			budget: 2, // + the deprovision brake's count (provisioning.deprovision_limit)
			body:   patch(op("replace", "active", false)),
			want:   map[string]any{"IsActive": true},
			frozen: ptr(true),
			active: ptr(false),
		},
		{
			name:   "enable unfreezes",
			body:   patch(op("replace", "active", true)),
			want:   map[string]any{"IsActive": true},
			frozen: ptr(false),
			active: ptr(true),
		},
	})

	// PingOne syncs groups by name, then adds members.
	doc = b.must(t, ok200, http.MethodGet, filterPath("/Groups", `displayName eq "Support Agent"`), nil)
	list := resources(t, doc)
	if len(list) != 1 {
		t.Fatalf("GET /Groups displayName eq Support Agent = %d groups; want 1", len(list))
	}
	gid := str(list[0]["id"])
	status, doc = b.within(t, 1, http.MethodPatch, "/Groups/"+gid, patch(op("add", "members", memberValues(id))))
	if status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("PATCH /Groups/%s add = %d; body %v", gid, status, doc)
	}
	assertIDs(t, "Support Agent assignees", b.Org.Members(gid), ids(id))

	// DELETE with the freeze action freezes; the user stays readable as inactive.
	status, doc = b.within(t, 1, http.MethodDelete, "/Users/"+id, nil)
	if status != http.StatusNoContent {
		t.Fatalf("DELETE /Users/%s = %d; want 204; body %v", id, status, doc)
	}
	assertFields(t, "deleted User", b.Org.User(t, id), map[string]any{"IsActive": true})
	if !b.Org.Frozen(t, id) {
		t.Errorf("DELETE with disable_action freeze left the user unfrozen")
	}
	doc = b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)
	if boolAttr(t, doc, "active") {
		t.Errorf("GET /Users/%s after DELETE active = true; want false", id)
	}
}
