package salesforce

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

func TestCreateUserWithDefaultsInOneCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	attrs := newUserAttrs("Jane.Doe@Example.com", "Jane", "Doe-Smithsonian")
	var res scimschema.Resource
	if n := h.calls(func() {
		var err error
		if res, err = h.b.CreateUser(h.ctx, attrs); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}); n != 1 {
		t.Errorf("CreateUser made %d calls; want 1", n)
	}
	if len(res.ID) != 18 || !strings.HasPrefix(res.ID, "005") {
		t.Errorf("CreateUser id = %q; want an 18-character User id", res.ID)
	}
	row := h.e.Get("User", res.ID)
	if row == nil {
		t.Fatalf("no User %s in the emulator", res.ID)
	}
	if got := row["Username"]; got != "jane.doe@example.com" {
		t.Errorf("Username = %v; want jane.doe@example.com", got)
	}
	if alias, _ := row["Alias"].(string); alias == "" || len(alias) > 8 {
		t.Errorf("Alias = %q; want 1..8 characters", alias)
	}
	for field, want := range map[string]any{
		"ProfileId": h.profileID("Standard User"), "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
		"LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8", "LastName": "Doe-Smithsonian", "IsActive": true,
	} {
		if got := row[field]; !sameValue(got, want) {
			t.Errorf("%s = %v; want %v", field, got, want)
		}
	}
	if res.Attributes["userName"] != "jane.doe@example.com" {
		t.Errorf("resource userName = %v", res.Attributes["userName"])
	}
	if res.Version == "" {
		t.Error("resource has no version")
	}
	if !strings.Contains(h.log.String(), `"operation":"create_user"`) || !strings.Contains(h.log.String(), `"actor":"test-idp"`) {
		t.Errorf("no audit line for create_user with the actor:\n%s", h.log)
	}
	if strings.Contains(h.log.String(), "Smithsonian") {
		t.Error("a log line contains an attribute value")
	}
}

func sameValue(a, b any) bool {
	if s, ok := a.(string); ok {
		if t, ok := b.(string); ok && len(s) >= 15 && len(t) >= 15 && strings.HasPrefix(s, "0") {
			return rest.SameID(s, t)
		}
	}
	return a == b
}

func TestCreateUserWithPermissionSetsInOneCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	attrs := newUserAttrs("ps.user@example.com", "Pat", "Sets")
	attrs[scimschema.SalesforceUserURN] = map[string]any{
		"profile":        "Standard User",
		"permissionSets": []any{map[string]any{"value": "Sales_Ops"}, map[string]any{"value": h.permSetID("Support_Agent")}},
	}
	var res scimschema.Resource
	if n := h.calls(func() {
		var err error
		if res, err = h.b.CreateUser(h.ctx, attrs); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}); n != 1 {
		t.Errorf("CreateUser with permission sets made %d calls; want 1", n)
	}
	for _, ps := range []string{"Sales_Ops", "Support_Agent"} {
		if !h.assignees(h.permSetID(ps))[res.ID] {
			t.Errorf("user not assigned %s", ps)
		}
	}
	groups, _ := res.Attributes["groups"].([]any)
	if len(groups) != 2 {
		t.Errorf("resource groups = %v; want 2", res.Attributes["groups"])
	}
}

func TestCreateUserForbiddenSendsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.CreateUsers = false }))
	users := len(h.e.List("User"))
	n := h.calls(func() {
		_, err := h.b.CreateUser(h.ctx, newUserAttrs("no@example.com", "No", "Body"))
		se := wantKind(t, err, scimschema.KindForbidden)
		if !strings.Contains(se.Detail, "provisioning.create_users") {
			t.Errorf("Detail %q does not name provisioning.create_users", se.Detail)
		}
	})
	if n != 0 || len(h.e.List("User")) != users {
		t.Errorf("forbidden create made %d calls and changed the users", n)
	}
}

func TestCreateUserInvalidBeforeAnyCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	attrs := newUserAttrs("bad@example.com", "No", "Body")
	attrs["emails"] = []any{map[string]any{"value": "not an email", "primary": true}}
	n := h.calls(func() {
		_, err := h.b.CreateUser(h.ctx, attrs)
		wantKind(t, err, scimschema.KindInvalidValue)
	})
	if n != 0 {
		t.Errorf("invalid create made %d calls; want 0", n)
	}
}

func TestCreateUserUnknownDefaultProfile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Users.Defaults["profile"] = "Ghost Profile" }))
	_, err := h.b.CreateUser(h.ctx, newUserAttrs("ghost@example.com", "G", "Host"))
	se := wantKind(t, err, scimschema.KindInvalidValue)
	if !strings.Contains(se.Detail, "profile") || !strings.Contains(se.Detail, "users.defaults.profile") {
		t.Errorf("Detail %q does not name profile and users.defaults.profile", se.Detail)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.DryRun = true }))
	existing := h.insertUser("dry.existing@example.com", "Standard User", nil)
	before := h.e.Get("User", existing)
	users := len(h.e.List("User"))

	res, err := h.b.CreateUser(h.ctx, newUserAttrs("dry@example.com", "Dry", "Run"))
	if err != nil {
		t.Fatalf("CreateUser under dry_run: %v", err)
	}
	if !strings.HasPrefix(res.ID, "005DRYRUN") || res.Attributes["userName"] != "dry@example.com" {
		t.Errorf("dry-run create = %q %v; want a synthetic id and the mapped user", res.ID, res.Attributes["userName"])
	}
	if _, err := h.b.PatchUser(h.ctx, existing, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}, ""); err != nil {
		t.Fatalf("PatchUser under dry_run: %v", err)
	}
	if _, err := h.b.ReplaceUser(h.ctx, existing, newUserAttrs("dry.existing@example.com", "Changed", "Name"), ""); err != nil {
		t.Fatalf("ReplaceUser under dry_run: %v", err)
	}
	if err := h.b.DeleteUser(h.ctx, existing, ""); err != nil {
		t.Fatalf("DeleteUser under dry_run: %v", err)
	}
	if len(h.e.List("User")) != users {
		t.Error("dry run created a user")
	}
	after := h.e.Get("User", existing)
	if after["SystemModstamp"] != before["SystemModstamp"] || after["IsActive"] != true {
		t.Errorf("dry run changed the user: %v → %v", before, after)
	}
	if !strings.Contains(h.log.String(), `"setting":"dry_run"`) {
		t.Error("no skipped line naming dry_run")
	}
}

func TestDeactivateFollowsDisableAction(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"disable", "freeze"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.DisableAction = must(ParseDisableAction(action)) }))
			id := h.insertUser("leaver."+action+"@example.com", "Standard User", nil)
			var res scimschema.Resource
			n := h.calls(func() {
				var err error
				res, err = h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: "False"}}, "")
				if err != nil {
					t.Fatalf("PatchUser active false: %v", err)
				}
			})
			if n != 1 {
				t.Errorf("deactivation made %d calls; want 1", n)
			}
			if res.Attributes["active"] != false {
				t.Errorf("resource active = %v; want false", res.Attributes["active"])
			}
			isActive, frozen := h.e.Get("User", id)["IsActive"], h.login(id)["IsFrozen"]
			wantActive, wantFrozen := action == "freeze", action == "freeze"
			if isActive != wantActive || frozen != wantFrozen {
				t.Errorf("IsActive=%v IsFrozen=%v; want %v %v", isActive, frozen, wantActive, wantFrozen)
			}
			got, err := h.b.GetUser(h.ctx, id, scimschema.ReadOptions{})
			if err != nil || got.Attributes["active"] != false {
				t.Errorf("GetUser after deactivation: active=%v err=%v", got.Attributes["active"], err)
			}
			wantOp := map[string]string{"disable": "disable_user", "freeze": "freeze_user"}[action]
			if !strings.Contains(h.log.String(), `"operation":"`+wantOp+`","target":"`+id+`","changed":["active"],"result":"ok"`) {
				t.Errorf("no audit line for %s:\n%s", wantOp, h.log)
			}
			// Deactivating again changes nothing and writes no audit line.
			lines := strings.Count(h.log.String(), `"audit":true`)
			if _, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}, ""); err != nil {
				t.Fatalf("second deactivation: %v", err)
			}
			if strings.Count(h.log.String(), `"audit":true`) != lines {
				t.Errorf("a no-op deactivation was audited:\n%s", h.log)
			}
		})
	}
}

func TestReactivationUnfreezesAndEnables(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.insertUser("back@example.com", "Standard User", nil)
	// Frozen, then deactivated (real orgs refuse to freeze an inactive user).
	if err := h.e.Update("UserLogin", h.login(id)["Id"].(string), map[string]any{"IsFrozen": true}); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Update("User", id, map[string]any{"IsActive": false}); err != nil {
		t.Fatal(err)
	}
	n := h.calls(func() {
		res, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Value: map[string]any{"active": true}}}, "")
		if err != nil {
			t.Fatalf("PatchUser active true: %v", err)
		}
		if res.Attributes["active"] != true {
			t.Errorf("resource active = %v; want true", res.Attributes["active"])
		}
	})
	if n != 1 {
		t.Errorf("reactivation made %d calls; want 1", n)
	}
	if h.e.Get("User", id)["IsActive"] != true || h.login(id)["IsFrozen"] != false {
		t.Errorf("after reactivation IsActive=%v IsFrozen=%v; want true false", h.e.Get("User", id)["IsActive"], h.login(id)["IsFrozen"])
	}
}

// A user without a UserLogin row cannot be frozen, on create or later. The bridge tells this
// from the empty UserLogin query the freeze references, never from the wording of Salesforce's
// PROCESSING_HALTED message (which the strict profile words differently).
func TestFreezeWithoutUserLoginIsInvalid(t *testing.T) {
	t.Parallel()
	for _, profile := range []emulator.Profile{emulator.ProfileDefault, emulator.ProfileStrict} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t,
				withBackend(func(c *BackendConfig) { c.Provisioning.DisableAction = Freeze }),
				withEmulator(func(c *emulator.Config) { c.Quirks.OmitUserLoginRows = true; c.Profile = profile }))
			id := h.insertUser("nologin@example.com", "Standard User", nil)
			_, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}, "")
			se := wantKind(t, err, scimschema.KindInvalidValue)
			if !strings.Contains(se.Detail, "UserLogin") {
				t.Errorf("Detail %q does not explain the missing UserLogin", se.Detail)
			}
			// Reactivating such a user has nothing to unfreeze and succeeds.
			if _, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: true}}, ""); err != nil {
				t.Errorf("reactivating a user without UserLogin: %v", err)
			}
			attrs := newUserAttrs("frozen-at-birth@example.com", "Frozen", "Birth")
			attrs["active"] = false
			_, err = h.b.CreateUser(h.ctx, attrs)
			se = wantKind(t, err, scimschema.KindInvalidValue)
			if !strings.Contains(se.Detail, "UserLogin") {
				t.Errorf("create inactive: Detail %q does not explain the missing UserLogin", se.Detail)
			}
			if h.find("User", "Username", "frozen-at-birth@example.com") != nil {
				t.Error("the refused create left a user behind")
			}
		})
	}
}

func TestDeactivationBlockerIsInvalid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.insertUser("blocked@example.com", "Standard User", nil)
	h.e.SetUserDeactivationBlocker(id, "This user is the default workflow user")
	_, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}, "")
	se := wantKind(t, err, scimschema.KindInvalidValue)
	if strings.Contains(se.Detail, "workflow user") {
		t.Errorf("Detail %q echoes Salesforce's message", se.Detail)
	}
}

func TestUpdateUsersOffIsHonoured(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.UpdateUsers = false }))
	id := h.insertUser("keep@example.com", "Standard User", map[string]any{"FirstName": "Keep"})
	stamp := h.e.Get("User", id)["SystemModstamp"]

	res, err := h.b.ReplaceUser(h.ctx, id, newUserAttrs("keep@example.com", "Changed", "Changed"), "")
	if err != nil {
		t.Fatalf("ReplaceUser: %v", err)
	}
	if name, _ := res.Attributes["name"].(map[string]any); name["givenName"] != "Keep" {
		t.Errorf("PUT answer name = %v; want the unchanged user", res.Attributes["name"])
	}
	_, err = h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "name.givenName"), Value: "Other"}}, "")
	if err != nil {
		t.Fatalf("PatchUser: %v", err)
	}
	if row := h.e.Get("User", id); row["FirstName"] != "Keep" || row["SystemModstamp"] != stamp {
		t.Errorf("update_users off changed the user: %v", row)
	}
	if !strings.Contains(h.log.String(), `"setting":"update_users"`) {
		t.Error("no skipped line naming update_users")
	}
	if got := testutil.ToFloat64(h.b.skipped.WithLabelValues("update_users")); got != 2 {
		t.Errorf("scim_bridge_skipped_actions_total{setting=update_users} = %v; want 2", got)
	}
	// Deactivation still follows disable_users.
	if _, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}, ""); err != nil {
		t.Fatalf("PatchUser active false: %v", err)
	}
	if h.e.Get("User", id)["IsActive"] != false {
		t.Error("deactivation skipped although disable_users is on")
	}
}

func TestDisableUsersOffSkipsOnlyTheActiveChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.DisableUsers = false }))
	id := h.insertUser("stay@example.com", "Standard User", nil)
	_, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{
		{Op: "replace", Path: parsePath(t, "active"), Value: false},
		{Op: "replace", Path: parsePath(t, "title"), Value: "Engineer"},
	}, "")
	if err != nil {
		t.Fatalf("PatchUser: %v", err)
	}
	row := h.e.Get("User", id)
	if row["IsActive"] != true || row["Title"] != "Engineer" {
		t.Errorf("IsActive=%v Title=%v; want true Engineer", row["IsActive"], row["Title"])
	}
}

func TestReplaceUserInOneCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.insertUser("put@example.com", "Standard User", map[string]any{"Title": "Old"})
	attrs := newUserAttrs("put@example.com", "Put", "Person")
	n := h.calls(func() {
		res, err := h.b.ReplaceUser(h.ctx, id, attrs, "")
		if err != nil {
			t.Fatalf("ReplaceUser: %v", err)
		}
		if res.ID != id {
			t.Errorf("ReplaceUser id = %q; want %q", res.ID, id)
		}
	})
	if n != 1 {
		t.Errorf("PUT made %d calls; want 1", n)
	}
	row := h.e.Get("User", id)
	if row["FirstName"] != "Put" || row["Title"] != nil {
		t.Errorf("after PUT FirstName=%v Title=%v; want Put and cleared", row["FirstName"], row["Title"])
	}
}

func TestPermissionSetsMergeAndOverwrite(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"merge", "overwrite"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.PermissionSets = must(ParseMembershipMode(mode)) }))
			id := h.insertUser("perm."+mode+"@example.com", "Standard User", nil)
			h.assign(id, h.permSetID("Marketing_User")) // made in Salesforce by someone else
			attrs := newUserAttrs("perm."+mode+"@example.com", "Perm", "Sets")
			attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": []any{map[string]any{"value": "Sales_Ops"}}}
			n := h.calls(func() {
				if _, err := h.b.ReplaceUser(h.ctx, id, attrs, ""); err != nil {
					t.Fatalf("ReplaceUser: %v", err)
				}
			})
			if n != 2 {
				t.Errorf("PUT with permissionSets made %d calls; want 2", n)
			}
			if !h.assignees(h.permSetID("Sales_Ops"))[id] {
				t.Error("Sales_Ops not assigned")
			}
			kept := h.assignees(h.permSetID("Marketing_User"))[id]
			if kept != (mode == "merge") {
				t.Errorf("Marketing_User still assigned = %v under %s", kept, mode)
			}
			// The profile's own permission set is never touched.
			if len(h.e.List("PermissionSetAssignment")) < 2 {
				t.Error("assignments lost")
			}
		})
	}
}

func TestProfileOwnedPermissionSetIsInvalid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.insertUser("owned@example.com", "Standard User", nil)
	var owned string
	for _, ps := range h.e.List("PermissionSet") {
		if ps["IsOwnedByProfile"] == true {
			owned = ps["Id"].(string)
			break
		}
	}
	if owned == "" {
		t.Fatal("the emulator has no profile-owned permission set")
	}
	_, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{
		Op: "add", Path: parsePath(t, scimschema.SalesforceUserURN+":permissionSets"), Value: []any{map[string]any{"value": owned}},
	}}, "")
	se := wantKind(t, err, scimschema.KindInvalidValue)
	if !strings.Contains(se.Detail, "permissionSets") {
		t.Errorf("Detail %q does not name permissionSets", se.Detail)
	}
	if _, err := h.b.GetGroup(h.ctx, owned, scimschema.ReadOptions{}); err == nil {
		t.Error("a profile-owned permission set is readable as a group")
	}
}

func TestDeleteUserDeprovisions(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("deprovision=", on), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.DeprovisionUsers = on }))
			id := h.insertUser("gone@example.com", "Standard User", nil)
			n := h.calls(func() {
				if err := h.b.DeleteUser(h.ctx, id, ""); err != nil {
					t.Fatalf("DeleteUser: %v", err)
				}
			})
			if n != 1 {
				t.Errorf("DELETE made %d calls; want 1", n)
			}
			if got := h.e.Get("User", id)["IsActive"]; got != !on {
				t.Errorf("IsActive after DELETE = %v; want %v", got, !on)
			}
			res, err := h.b.GetUser(h.ctx, id, scimschema.ReadOptions{})
			if err != nil || res.Attributes["active"] != !on {
				t.Errorf("GetUser after DELETE: active=%v err=%v", res.Attributes["active"], err)
			}
			wantKind(t, h.b.DeleteUser(h.ctx, "005000000000000AAA", ""), scimschema.KindNotFound)
			wantKind(t, h.b.DeleteUser(h.ctx, "not-an-id", ""), scimschema.KindNotFound)
		})
	}
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.insertUser("reader@example.com", "Standard User", nil)
	h.assign(id, h.permSetID("Sales_Ops"))
	n := h.calls(func() {
		res, err := h.b.GetUser(h.ctx, id, scimschema.ReadOptions{})
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		groups, _ := res.Attributes["groups"].([]any)
		if len(groups) != 1 {
			t.Errorf("groups = %v; want Sales_Ops only (not the profile's permission set)", res.Attributes["groups"])
		}
		ext, _ := res.Attributes[scimschema.SalesforceUserURN].(map[string]any)
		if ext["profile"] != "Standard User" {
			t.Errorf("profile = %v; want Standard User", ext["profile"])
		}
	})
	if n != 1 {
		t.Errorf("GetUser made %d calls; want 1", n)
	}
	for _, bad := range []string{"garbage", "00Q000000000000AAA", "005000000000000AAA"} {
		_, err := h.b.GetUser(h.ctx, bad, scimschema.ReadOptions{})
		wantKind(t, err, scimschema.KindNotFound)
	}
	// A user of a type SCIM does not see is not found.
	guest := h.insertUser("guest@example.com", "Standard User", nil)
	cfg := defaultBackendConfig()
	cfg.UserTypes = []string{"PowerPartner"}
	b, err := NewBackend(h.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.GetUser(h.ctx, guest, scimschema.ReadOptions{})
	wantKind(t, err, scimschema.KindNotFound)
	err = b.DeleteUser(h.ctx, guest, "")
	wantKind(t, err, scimschema.KindNotFound)
	if h.e.Get("User", guest)["IsActive"] != true {
		t.Error("DELETE deactivated a user of a type SCIM does not see")
	}
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	for name, secondStamps := range map[string]bool{"millisecond stamps": false, "whole-second stamps as Salesforce shows them": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testIfMatch(t, newHarness(t, withEmulator(func(c *emulator.Config) { c.Quirks.SecondResolutionTimestamps = secondStamps })))
		})
	}
}

// testIfMatch changes a user in Salesforce between the IdP's read and its conditional write, within
// the same second: the write must be refused.
func testIfMatch(t *testing.T, h *harness) {
	id := h.insertUser("etag@example.com", "Standard User", nil)
	res, err := h.b.GetUser(h.ctx, id, scimschema.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.e.Update("User", id, map[string]any{"Title": "Changed elsewhere"}); err != nil {
		t.Fatal(err)
	}
	_, err = h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "Mine"}}, res.Version)
	wantKind(t, err, scimschema.KindPrecondition)
	fresh, err := h.b.GetUser(h.ctx, id, scimschema.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "Mine"}}, fresh.Version); err != nil {
		t.Errorf("PatchUser with a current If-Match: %v", err)
	}
}

func TestDuplicateUsername(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withEmulator(func(c *emulator.Config) { c.OtherOrgUsernames = []string{"taken@elsewhere.com"} }))
	h.insertUser("taken@example.com", "Standard User", nil)
	for _, tc := range []struct{ userName, want string }{
		{"taken@example.com", "in this Salesforce org"},
		{"taken@elsewhere.com", "in another Salesforce org"},
	} {
		_, err := h.b.CreateUser(h.ctx, newUserAttrs(tc.userName, "Dup", "Licate"))
		se := wantKind(t, err, scimschema.KindUniqueness)
		if !strings.Contains(se.Detail, tc.want) {
			t.Errorf("CreateUser(%q) detail = %q; want it to say %q", tc.userName, se.Detail, tc.want)
		}
	}
}

func TestDerivedNicknameCollisionIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first, err := h.b.CreateUser(h.ctx, newUserAttrs("sam@one.example.com", "Sam", "Same"))
	if err != nil {
		t.Fatalf("first CreateUser: %v", err)
	}
	second, err := h.b.CreateUser(h.ctx, newUserAttrs("sam@two.example.com", "Sam", "Same"))
	if err != nil {
		t.Fatalf("second CreateUser with the same derived nickname: %v", err)
	}
	a, b := h.e.Get("User", first.ID)["CommunityNickname"], h.e.Get("User", second.ID)["CommunityNickname"]
	if a == b {
		t.Errorf("both users have nickname %v", a)
	}
}

func TestLicenceLimitOnCreate(t *testing.T) {
	t.Parallel()
	// Chatter Free users have UserType CsnOnly: SCIM must see that type to create them.
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.UserTypes = []string{"Standard", "CsnOnly"} }))
	var err error
	for i := range 7 { // Chatter Free has 5 seats
		attrs := newUserAttrs(fmt.Sprintf("free%d@example.com", i), "Free", "User")
		attrs[scimschema.SalesforceUserURN] = map[string]any{"profile": "Chatter Free User"}
		if _, err = h.b.CreateUser(h.ctx, attrs); err != nil {
			break
		}
	}
	se := wantKind(t, err, scimschema.KindInvalidValue)
	// The profile was named by the IdP (an attribute value): the detail names it by id.
	if !strings.Contains(se.Detail, "licence") || !strings.Contains(se.Detail, h.profileID("Chatter Free User")) || strings.Contains(se.Detail, "Chatter Free User") {
		t.Errorf("Detail %q does not explain the licence limit by profile id", se.Detail)
	}
}

func TestLostCreateAnswerIsReconciled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.e.InjectFault(emulator.Fault{Method: "POST", PathPattern: "/services/data/*/composite", DropConnection: true, AfterApply: true})
	res, err := h.b.CreateUser(h.ctx, newUserAttrs("lost@example.com", "Lost", "Answer"))
	if err != nil {
		t.Fatalf("CreateUser with a lost answer: %v", err)
	}
	count := 0
	for _, u := range h.e.List("User") {
		if u["Username"] == "lost@example.com" {
			count++
			if !rest.SameID(u["Id"].(string), res.ID) {
				t.Errorf("answered id %s; the user is %s", res.ID, u["Id"])
			}
		}
	}
	if count != 1 {
		t.Errorf("%d users named lost@example.com; want exactly 1", count)
	}
}

func TestLostCreateAnswerNotAppliedIsUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.e.InjectFault(emulator.Fault{Method: "POST", PathPattern: "/services/data/*/composite", DropConnection: true})
	_, err := h.b.CreateUser(h.ctx, newUserAttrs("never@example.com", "Never", "Made"))
	wantKind(t, err, scimschema.KindUnavailable)
	if h.find("User", "Username", "never@example.com") != nil {
		t.Error("a user was created")
	}
}

func TestCreateUserInactiveFollowsDisableAction(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"disable", "freeze"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.DisableAction = must(ParseDisableAction(action)) }))
			attrs := newUserAttrs("inactive."+action+"@example.com", "In", "Active")
			attrs["active"] = false
			var res scimschema.Resource
			if n := h.calls(func() {
				var err error
				if res, err = h.b.CreateUser(h.ctx, attrs); err != nil {
					t.Fatalf("CreateUser inactive: %v", err)
				}
			}); n != 1 {
				t.Errorf("inactive create made %d calls; want 1", n)
			}
			if res.Attributes["active"] != false {
				t.Errorf("resource active = %v; want false", res.Attributes["active"])
			}
			if got, want := h.e.Get("User", res.ID)["IsActive"], action == "freeze"; got != want {
				t.Errorf("IsActive = %v; want %v", got, want)
			}
			if got, want := h.login(res.ID)["IsFrozen"], action == "freeze"; got != want {
				t.Errorf("IsFrozen = %v; want %v", got, want)
			}
		})
	}
}

// A profile whose users get a UserType outside users.user_types is refused before any write:
// the user would be created (or changed) and then be invisible to SCIM.
func TestProfileOutsideUserTypesIsInvalid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	users := len(h.e.List("User"))
	chatter := map[string]any{"profile": "Chatter Free User"}
	attrs := newUserAttrs("chatter@example.com", "Chat", "Ter")
	attrs[scimschema.SalesforceUserURN] = chatter
	n := h.calls(func() {
		_, err := h.b.CreateUser(h.ctx, attrs)
		se := wantKind(t, err, scimschema.KindInvalidValue)
		if !strings.Contains(se.Detail, "profile") || !strings.Contains(se.Detail, "users.user_types") {
			t.Errorf("Detail %q does not name profile and users.user_types", se.Detail)
		}
	})
	if n != 0 || len(h.e.List("User")) != users {
		t.Errorf("refused create made %d calls and left %d users (had %d)", n, len(h.e.List("User")), users)
	}

	id := h.insertUser("standard@example.com", "Standard User", nil)
	profile := h.e.Get("User", id)["ProfileId"]
	put := newUserAttrs("standard@example.com", "Stan", "Dard")
	put[scimschema.SalesforceUserURN] = chatter
	for name, update := range map[string]func() error{
		"PUT": func() error { _, err := h.b.ReplaceUser(h.ctx, id, put, ""); return err },
		"PATCH": func() error {
			_, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, scimschema.SalesforceUserURN+":profile"), Value: "Chatter Free User"}}, "")
			return err
		},
	} {
		se := wantKind(t, update(), scimschema.KindInvalidValue)
		if !strings.Contains(se.Detail, "users.user_types") {
			t.Errorf("%s: Detail %q does not name users.user_types", name, se.Detail)
		}
		if got := h.e.Get("User", id)["ProfileId"]; got != profile {
			t.Errorf("%s changed ProfileId to %v", name, got)
		}
	}
	// With the type listed, the same create succeeds and reads back.
	h2 := newHarness(t, withBackend(func(c *BackendConfig) { c.UserTypes = []string{"Standard", "CsnOnly"} }))
	res, err := h2.b.CreateUser(h2.ctx, attrs)
	if err != nil {
		t.Fatalf("CreateUser with CsnOnly in users.user_types: %v", err)
	}
	if _, err := h2.b.GetUser(h2.ctx, res.ID, scimschema.ReadOptions{}); err != nil {
		t.Errorf("GetUser of the created Chatter Free user: %v", err)
	}
}

// active true for a user who is active (and not frozen) writes nothing for active: no User or
// UserLogin update, no audit line.
func TestActiveTrueForActiveUserWritesNothing(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"disable", "freeze"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.DisableAction = must(ParseDisableAction(action)) }))
			id := h.insertUser("steady@example.com", "Standard User", nil)
			stamp := h.e.Get("User", id)["SystemModstamp"]
			loginStamp := h.login(id)["LastModifiedDate"]

			res, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: true}}, "")
			if err != nil || res.Attributes["active"] != true {
				t.Fatalf("PATCH active true = %v, %v", res.Attributes["active"], err)
			}
			if got := h.e.Get("User", id)["SystemModstamp"]; got != stamp {
				t.Errorf("PATCH active true bumped SystemModstamp %v → %v", stamp, got)
			}

			attrs := newUserAttrs("steady@example.com", "Steady", "State") // active: true
			if _, err := h.b.ReplaceUser(h.ctx, id, attrs, ""); err != nil {
				t.Fatalf("PUT: %v", err)
			}
			if got := h.login(id)["LastModifiedDate"]; got != loginStamp {
				t.Errorf("active true wrote the UserLogin (%v → %v)", loginStamp, got)
			}
			if row := h.e.Get("User", id); row["IsActive"] != true || row["FirstName"] != "Steady" {
				t.Errorf("after PUT IsActive=%v FirstName=%v", row["IsActive"], row["FirstName"])
			}
			for _, op := range []string{"reactivate_user"} {
				if strings.Contains(h.log.String(), `"operation":"`+op+`"`) {
					t.Errorf("audit line %s for a user who was active", op)
				}
			}
		})
	}
}

// A lost create answer for a userName that was taken before the request is the duplicate it was,
// not a user "created" by this request.
func TestLostCreateAnswerOfExistingUserIsUniqueness(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withEmulator(func(c *emulator.Config) {
		c.Now = func() time.Time { return time.Now().Add(-time.Hour) } // the user below was made an hour ago
	}))
	h.insertUser("taken@example.com", "Standard User", nil)
	before := len(h.e.List("User"))
	h.e.InjectFault(emulator.Fault{Method: "POST", PathPattern: "/services/data/*/composite", DropConnection: true, AfterApply: true})
	_, err := h.b.CreateUser(h.ctx, newUserAttrs("taken@example.com", "Taken", "Before"))
	se := wantKind(t, err, scimschema.KindUniqueness)
	if !strings.Contains(se.Detail, "this Salesforce org") {
		t.Errorf("Detail %q; want it to say the userName is taken in this org", se.Detail)
	}
	if n := len(h.e.List("User")); n != before {
		t.Errorf("%d users; want %d", n, before)
	}
}

// Assignments made in the same composite as the user they need (@{u.id}) are single-record
// POSTs, the documented place of a reference; what does not fit in the 25 subrequests follows in
// one sObject Collections call with the new id. Under the strict profile a reference inside
// Collections records is not resolved.
func TestCreateUserWithManyPermissionSets(t *testing.T) {
	t.Parallel()
	for _, profile := range []emulator.Profile{emulator.ProfileDefault, emulator.ProfileStrict} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withEmulator(func(c *emulator.Config) { c.Profile = profile }))
			var sets []any
			for i := range 24 {
				id, err := h.e.Insert("PermissionSet", map[string]any{"Name": fmt.Sprintf("Bulk_%02d", i), "Label": fmt.Sprintf("Bulk %02d", i)})
				if err != nil {
					t.Fatal(err)
				}
				sets = append(sets, map[string]any{"value": id})
			}
			attrs := newUserAttrs("many.sets@example.com", "Many", "Sets")
			attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": sets}
			var res scimschema.Resource
			n := h.calls(func() {
				var err error
				if res, err = h.b.CreateUser(h.ctx, attrs); err != nil {
					t.Fatalf("CreateUser: %v", err)
				}
			})
			if n > 3 { // a catalog reload for the new sets, the create, the rest
				t.Errorf("CreateUser with 24 permission sets made %d calls; want at most 3", n)
			}
			if groups, _ := res.Attributes["groups"].([]any); len(groups) != 24 {
				t.Errorf("resource groups = %d; want 24", len(groups))
			}
			for _, s := range sets {
				if !h.assignees(s.(map[string]any)["value"].(string))[res.ID] {
					t.Errorf("not assigned %v", s)
				}
			}
		})
	}
}

// A FederationIdentifier another user has is a uniqueness conflict whatever code Salesforce
// answers with (the strict profile answers FIELD_INTEGRITY_EXCEPTION and the observed text).
func TestDuplicateFederationIdentifierIsAConflictUnderEitherCode(t *testing.T) {
	t.Parallel()
	for _, profile := range []emulator.Profile{emulator.ProfileDefault, emulator.ProfileStrict} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withEmulator(func(c *emulator.Config) { c.Profile = profile }))
			h.insertUser("first.fed@example.com", "Standard User", map[string]any{"FederationIdentifier": "fed-42"})
			attrs := newUserAttrs("second.fed@example.com", "Second", "Fed")
			attrs["externalId"] = "fed-42"
			_, err := h.b.CreateUser(h.ctx, attrs)
			se := wantKind(t, err, scimschema.KindUniqueness)
			if !strings.Contains(se.Detail, "externalId") {
				t.Errorf("Detail %q does not name externalId", se.Detail)
			}
			id := h.insertUser("third.fed@example.com", "Standard User", nil)
			_, err = h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "externalId"), Value: "fed-42"}}, "")
			wantKind(t, err, scimschema.KindUniqueness)
		})
	}
}

// Under disable_action freeze, a user deactivated in Salesforce is already deprovisioned: a
// deactivation or DELETE leaves it as it is (real orgs refuse to freeze an inactive user; the
// strict profile does).
func TestFreezeLeavesAnInactiveUserAlone(t *testing.T) {
	t.Parallel()
	for _, profile := range []emulator.Profile{emulator.ProfileDefault, emulator.ProfileStrict} {
		t.Run(profile.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t,
				withBackend(func(c *BackendConfig) { c.Provisioning.DisableAction = Freeze }),
				withEmulator(func(c *emulator.Config) { c.Profile = profile }))
			id := h.insertUser("gone@example.com", "Standard User", map[string]any{"IsActive": false})
			res, err := h.b.PatchUser(h.ctx, id, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}, "")
			if err != nil {
				t.Fatalf("PATCH active=false on an inactive user: %v", err)
			}
			if res.Attributes["active"] != false {
				t.Errorf("active = %v; want false", res.Attributes["active"])
			}
			if err := h.b.DeleteUser(h.ctx, id, ""); err != nil {
				t.Fatalf("DELETE of an inactive user: %v", err)
			}
			if h.login(id)["IsFrozen"] != false {
				t.Errorf("the inactive user was frozen")
			}
		})
	}
}
