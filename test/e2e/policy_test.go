package e2e

import (
	"net/http"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/test/harness"
)

// The provisioning settings (DESIGN.md "Configuration" and "Users"): what each switch lets reach
// Salesforce, and that a skipped action writes nothing while answering as the IdP expects.

// simpleUser is a minimal valid SCIM User.
func simpleUser(userName, given, family string) map[string]any {
	return map[string]any{
		"schemas":  []any{harness.UserURN},
		"userName": userName,
		"name":     map[string]any{"givenName": given, "familyName": family},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	}
}

// createUser posts a user and returns its id.
func (b *bridge) createUser(t testing.TB, body map[string]any) string {
	t.Helper()
	doc := b.must(t, created, http.MethodPost, "/Users", body)
	id := str(doc["id"])
	if id == "" {
		t.Fatalf("POST /Users returned no id: %v", doc)
	}
	return id
}

func TestCreateUsersOff(t *testing.T) {
	t.Parallel()
	b := start(t, "provisioning:\n  create_users: false\n")
	b.warm(t)
	before := b.userCount()
	var status int
	var doc map[string]any
	n := b.calls(func() {
		status, doc = b.do(t, http.MethodPost, "/Users", simpleUser("nina@example.com", "Nina", "Simone"))
	})
	assertError(t, "POST /Users with create_users off", status, doc, http.StatusForbidden, "", "create_users")
	if n != 0 {
		t.Errorf("POST /Users with create_users off cost %d Salesforce calls; want 0", n)
	}
	if got := b.userCount(); got != before {
		t.Errorf("Salesforce has %d users; want %d (nothing created)", got, before)
	}
}

func TestUpdateUsersOff(t *testing.T) {
	t.Parallel()
	b := start(t, "provisioning:\n  update_users: false\n")
	b.warm(t)
	body := simpleUser("omar@example.com", "Omar", "Little")
	body["title"] = "Analyst"
	id := b.createUser(t, body)
	before := b.Org.User(t, id)

	// active is governed by disable_users, not update_users, so it is left out here.
	changed := simpleUser("omar@example.com", "Omari", "Little")
	changed["title"] = "Director"
	delete(changed, "active")
	status, doc := b.do(t, http.MethodPut, "/Users/"+id, changed)
	if status != http.StatusOK {
		t.Fatalf("PUT /Users/%s with update_users off = %d; want 200 (skipped, as the IdP expects); body %v", id, status, doc)
	}
	status, doc = b.do(t, http.MethodPatch, "/Users/"+id, patch(op("replace", "title", "Director")))
	if status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("PATCH /Users/%s with update_users off = %d; want 200 or 204; body %v", id, status, doc)
	}
	assertFields(t, "User after skipped updates", b.Org.User(t, id), map[string]any{
		"FirstName": "Omar", "Title": "Analyst", "IsActive": true, "SystemModstamp": before["SystemModstamp"],
	})
}

func TestDisableUsersOff(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"disable", "freeze"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			b := start(t, "provisioning:\n  disable_users: false\n  disable_action: "+action+"\n")
			b.warm(t)
			id := b.createUser(t, simpleUser("pia@example.com", "Pia", "Lund"))
			status, doc := b.within(t, 1, http.MethodPatch, "/Users/"+id,
				patch(op("replace", "title", "Auditor"), op("replace", "active", false)))
			if status != http.StatusOK && status != http.StatusNoContent {
				t.Fatalf("PATCH /Users/%s = %d; want 200 or 204; body %v", id, status, doc)
			}
			// Only the active change is skipped; the rest of the update applies.
			assertFields(t, "User", b.Org.User(t, id), map[string]any{"Title": "Auditor", "IsActive": true})
			if b.Org.Frozen(t, id) {
				t.Errorf("disable_users off but the user was frozen")
			}
		})
	}
}

func TestDisableAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action       string
		wantIsActive bool // after active false
		wantFrozen   bool
	}{
		{"disable", false, false},
		{"freeze", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			t.Parallel()
			b := start(t, "provisioning:\n  disable_action: "+tt.action+"\n")
			b.warm(t)
			id := b.createUser(t, simpleUser("quinn@example.com", "Quinn", "Hughes"))
			b.runUserSteps(t, id, []userStep{
				{name: "active false", budget: 2 /* + the deprovision brake's count */, body: patch(op("replace", "active", false)),
					want: map[string]any{"IsActive": tt.wantIsActive}, frozen: ptr(tt.wantFrozen), active: ptr(false)},
				{name: "active true", body: patch(op("replace", "active", true)),
					want: map[string]any{"IsActive": true}, frozen: ptr(false), active: ptr(true)},
				{name: "PUT active false", method: http.MethodPut, body: map[string]any{
					"schemas": []any{harness.UserURN}, "userName": "quinn@example.com", "active": false,
					"name":   map[string]any{"givenName": "Quinn", "familyName": "Hughes"},
					"emails": []any{map[string]any{"value": "quinn@example.com", "type": "work", "primary": true}},
				}, want: map[string]any{"IsActive": tt.wantIsActive}, frozen: ptr(tt.wantFrozen), active: ptr(false)},
			})

			// A user created inactive is disabled or frozen from the start, in one call.
			body := simpleUser("rita@example.com", "Rita", "Moreno")
			body["active"] = false
			status, doc := b.within(t, 1, http.MethodPost, "/Users", body)
			if status != http.StatusCreated {
				t.Fatalf("POST /Users active false = %d; want 201; body %v", status, doc)
			}
			rid := str(doc["id"])
			assertFields(t, "User created inactive", b.Org.User(t, rid), map[string]any{"IsActive": tt.wantIsActive})
			if got := b.Org.Frozen(t, rid); got != tt.wantFrozen {
				t.Errorf("User created inactive: IsFrozen = %v; want %v", got, tt.wantFrozen)
			}
			if boolAttr(t, doc, "active") {
				t.Errorf("POST /Users active false answered active true")
			}
		})
	}
}

func TestDeprovision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		config       string
		wantIsActive bool
		wantFrozen   bool
		wantSCIM     bool // active as read back
	}{
		{"on, disable", "provisioning:\n  deprovision_users: true\n  disable_action: disable\n", false, false, false},
		{"on, freeze", "provisioning:\n  deprovision_users: true\n  disable_action: freeze\n", true, true, false},
		{"off", "provisioning:\n  deprovision_users: false\n", true, false, true},
		{"off, freeze", "provisioning:\n  deprovision_users: false\n  disable_action: freeze\n", true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := start(t, tt.config)
			b.warm(t)
			id := b.createUser(t, simpleUser("sam@example.com", "Sam", "Wise"))
			before := b.Org.User(t, id)
			// 2: the DELETE and, when it deprovisions, the brake's count (provisioning.deprovision_limit).
			status, doc := b.within(t, 2, http.MethodDelete, "/Users/"+id, nil)
			if status != http.StatusNoContent {
				t.Fatalf("DELETE /Users/%s = %d; want 204; body %v", id, status, doc)
			}
			after := b.Org.User(t, id)
			assertFields(t, "User after DELETE", after, map[string]any{"IsActive": tt.wantIsActive})
			if got := b.Org.Frozen(t, id); got != tt.wantFrozen {
				t.Errorf("UserLogin.IsFrozen after DELETE = %v; want %v", got, tt.wantFrozen)
			}
			if tt.wantSCIM && after["SystemModstamp"] != before["SystemModstamp"] {
				t.Errorf("DELETE with deprovision_users off changed the User (SystemModstamp %v → %v)", before["SystemModstamp"], after["SystemModstamp"])
			}
			doc = b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)
			if got := boolAttr(t, doc, "active"); got != tt.wantSCIM {
				t.Errorf("GET /Users/%s after DELETE active = %v; want %v", id, got, tt.wantSCIM)
			}
		})
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	b := start(t, "provisioning:\n  dry_run: true\n  permission_sets: overwrite\ngroups:\n  allow_delete: true\n")
	b.warm(t)
	existing := b.insertUser(t, "tess")
	salesOps := b.Org.PermissionSet(t, "Sales Operations")
	support := b.Org.PermissionSet(t, "Support Agent")
	b.Org.Assign(t, existing, support)

	snapshot := func() map[string]int {
		return map[string]int{
			"User":                    len(b.Emulator.List("User")),
			"PermissionSet":           len(b.Emulator.List("PermissionSet")),
			"PermissionSetAssignment": len(b.Emulator.List("PermissionSetAssignment")),
		}
	}
	rows := snapshot()
	userBefore := b.Org.User(t, existing)

	requests := []struct {
		method, path string
		body         any
		want         []int
	}{
		{http.MethodPost, "/Users", simpleUser("uma@example.com", "Uma", "Thurman"), created},
		{http.MethodPut, "/Users/" + existing, simpleUser("tess@e2e.example.com", "Tess", "Renamed"), ok200},
		{http.MethodPatch, "/Users/" + existing, patch(op("replace", "title", "Boss"), op("replace", "active", false)), patched},
		{http.MethodDelete, "/Users/" + existing, nil, noContent},
		{http.MethodPost, "/Groups", map[string]any{"schemas": []any{harness.GroupURN}, "displayName": "Dry Run Group"}, created},
		{http.MethodPatch, "/Groups/" + salesOps, patch(op("add", "members", memberValues(existing))), patched},
		{http.MethodPatch, "/Groups/" + support, patch(op("replace", "members", []any{})), patched},
		{http.MethodDelete, "/Groups/" + salesOps, nil, noContent},
	}
	for _, r := range requests {
		b.must(t, r.want, r.method, r.path, r.body)
	}

	for object, n := range snapshot() {
		if n != rows[object] {
			t.Errorf("dry_run: Salesforce has %d %s rows; want %d (nothing written)", n, object, rows[object])
		}
	}
	userAfter := b.Org.User(t, existing)
	assertFields(t, "User under dry_run", userAfter, map[string]any{
		"LastName": "tess", "Title": nil, "IsActive": true, "SystemModstamp": userBefore["SystemModstamp"],
	})
	if b.Org.Frozen(t, existing) {
		t.Errorf("dry_run froze the user")
	}
	assertIDs(t, "Support Agent assignees under dry_run", b.Org.Members(support), ids(existing))
	assertIDs(t, "Sales Operations assignees under dry_run", b.Org.Members(salesOps), ids())
}

func TestOnUpdateFalse(t *testing.T) {
	t.Parallel()
	b := start(t, "users:\n  mapping:\n    - {scim: title, salesforce: Title, on_update: false}\n")
	b.warm(t)
	body := simpleUser("vera@example.com", "Vera", "Wang")
	body["title"] = "Designer"
	id := b.createUser(t, body)
	assertFields(t, "created User", b.Org.User(t, id), map[string]any{"Title": "Designer"}) // on_update only governs updates

	put := simpleUser("vera@example.com", "Verena", "Wang")
	put["title"] = "Chief Designer"
	b.runUserSteps(t, id, []userStep{
		{name: "PUT leaves title", method: http.MethodPut, body: put,
			want: map[string]any{"Title": "Designer", "FirstName": "Verena"}},
		{name: "PUT without title does not clear it", method: http.MethodPut, body: simpleUser("vera@example.com", "Vera", "Wang"),
			want: map[string]any{"Title": "Designer", "FirstName": "Vera"}},
		{name: "PATCH replace title is skipped, the rest applies",
			body: patch(op("replace", "title", "Chief Designer"), op("replace", "name.familyName", "Wang-Li")),
			want: map[string]any{"Title": "Designer", "LastName": "Wang-Li"}},
		{name: "PATCH remove title is skipped", body: patch(op("remove", "title", nil)),
			want: map[string]any{"Title": "Designer"}},
	})
}

func TestUserDefaults(t *testing.T) {
	t.Parallel()
	// Chatter Free users have UserType CsnOnly, which users.user_types must let SCIM see.
	b := start(t, `users:
  user_types: [Standard, CsnOnly]
  defaults:
    profile: Chatter Free User
    TimeZoneSidKey: Europe/London
    LocaleSidKey: en_GB
    LanguageLocaleKey: fr
    EmailEncodingKey: ISO-8859-1
`)
	b.warm(t)
	id := b.createUser(t, simpleUser("walt@example.com", "Walt", "Whitman"))
	assertFields(t, "User created with defaults", b.Org.User(t, id), map[string]any{
		"ProfileId":         b.Org.Profile(t, "Chatter Free User"),
		"TimeZoneSidKey":    "Europe/London",
		"LocaleSidKey":      "en_GB",
		"LanguageLocaleKey": "fr",
		"EmailEncodingKey":  "ISO-8859-1",
	})
}

func TestDerivedAliasFitsEightCharacters(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	tests := []struct {
		userName, given, family string
	}{
		{"maximiliane@example.com", "Maximiliane", "Oberlindenbergerstein"},
		{"zo@example.com", "", "Zo"},
		{"jose.nunez@example.com", "José", "Núñez"},
	}
	for _, tt := range tests {
		body := simpleUser(tt.userName, tt.given, tt.family)
		if tt.given == "" {
			body["name"] = map[string]any{"familyName": tt.family}
		}
		status, doc := b.within(t, 1, http.MethodPost, "/Users", body)
		if status != http.StatusCreated {
			t.Errorf("POST /Users %s = %d; want 201; body %v", tt.userName, status, doc)
			continue
		}
		assertAlias(t, b.Org.User(t, str(doc["id"])))
	}
}

func TestCreateRejectsInvalidBeforeCallingSalesforce(t *testing.T) {
	t.Parallel()
	b := start(t, "")
	b.warm(t)
	tests := []struct {
		name    string
		edit    func(u map[string]any)
		mention string
		calls   int // reads allowed; an unknown profile may refresh the catalog once
	}{
		{"email not an email", func(u map[string]any) {
			u["emails"] = []any{map[string]any{"value": "xena at example", "type": "work", "primary": true}}
		}, "emails", 0},
		{"bidi override in displayName", func(u map[string]any) { u["displayName"] = "\u202eXena" }, "displayName", 0},
		{"control character in givenName", func(u map[string]any) { u["name"] = map[string]any{"givenName": "Xe\u0000na", "familyName": "W"} }, "name.givenName", 0},
		{"unknown profile", func(u map[string]any) {
			u["schemas"] = []any{harness.UserURN, harness.SalesforceURN}
			u[harness.SalesforceURN] = map[string]any{"profile": "No Such Profile"}
		}, "profile", 1},
		{"userName not an email", func(u map[string]any) { u["userName"] = "xena" }, "userName", 0},
	}
	before := b.userCount()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := simpleUser("xena@example.com", "Xena", "Warrior")
			tt.edit(body)
			var status int
			var doc map[string]any
			n := b.calls(func() { status, doc = b.do(t, http.MethodPost, "/Users", body) })
			assertError(t, "POST /Users ("+tt.name+")", status, doc, http.StatusBadRequest, "invalidValue", tt.mention)
			if n > tt.calls {
				t.Errorf("POST /Users (%s) cost %d Salesforce calls; want at most %d (rejected before Salesforce is called)", tt.name, n, tt.calls)
			}
		})
	}
	if got := b.userCount(); got != before {
		t.Errorf("Salesforce has %d users; want %d", got, before)
	}
}

func TestUserNameUniqueness(t *testing.T) {
	t.Parallel()
	b := startWith(t, harness.Options{Emulator: func(c *emulator.Config) {
		c.OtherOrgUsernames = []string{"taken@elsewhere.example.com"}
	}})
	b.warm(t)
	b.createUser(t, simpleUser("yara@example.com", "Yara", "Greyjoy"))

	status, doc := b.do(t, http.MethodPost, "/Users", simpleUser("YARA@example.com", "Yara", "Again"))
	assertError(t, "POST /Users with a userName taken in this org", status, doc, http.StatusConflict, "uniqueness")

	status, doc = b.do(t, http.MethodPost, "/Users", simpleUser("taken@elsewhere.example.com", "Zed", "Else"))
	assertError(t, "POST /Users with a userName taken in another org", status, doc, http.StatusConflict, "uniqueness", "another")
}

func TestUsernameTransforms(t *testing.T) {
	t.Parallel()
	b := start(t, "users:\n  username_domain: corp.example.com\n  username_suffix: .uat\n")
	b.warm(t)
	body := simpleUser("jdoe", "John", "Doe")
	body["emails"] = []any{map[string]any{"value": "john.doe@corp.example.com", "type": "work", "primary": true}}
	id := b.createUser(t, body)
	assertFields(t, "User", b.Org.User(t, id), map[string]any{"Username": "jdoe@corp.example.com.uat", "Email": "john.doe@corp.example.com"})
	doc := b.must(t, ok200, http.MethodGet, "/Users/"+id, nil)
	if doc["userName"] != "jdoe" {
		t.Errorf("GET /Users/%s userName = %v; want jdoe (transforms reversed)", id, doc["userName"])
	}
	b.assertMatch(t, "/Users", `userName eq "jdoe"`, nil, id)
}
