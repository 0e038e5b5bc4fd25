package salesforce

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// The bridge learns its own user from the token response and refuses to deprovision it: a 409
// that says why, nothing written. Its attributes stay writable, and other users deprovision as
// before.
func TestIntegrationUserCannotBeDeprovisioned(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"disable", "freeze"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.DisableAction = must(ParseDisableAction(action)) }))
			self := h.find("User", "Username", "admin@emulator.example.com")["Id"].(string)
			if got := h.c.IntegrationUserID(); got != self {
				t.Fatalf("IntegrationUserID() = %q; want %q (the user the token was issued to)", got, self)
			}
			deactivate := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}
			attempts := map[string]func() error{
				"PATCH active false": func() error { _, err := h.b.PatchUser(h.ctx, self, deactivate, ""); return err },
				"PATCH active false (15-character id)": func() error {
					_, err := h.b.PatchUser(h.ctx, self[:15], deactivate, "")
					return err
				},
				"PUT active false": func() error {
					attrs := newUserAttrs("admin@emulator.example.com", "Integration", "Admin")
					attrs["active"] = false
					_, err := h.b.ReplaceUser(h.ctx, self, attrs, "")
					return err
				},
				"DELETE": func() error { return h.b.DeleteUser(h.ctx, self, "") },
			}
			for name, attempt := range attempts {
				var err error
				if n := h.calls(func() { err = attempt() }); n > 1 {
					t.Errorf("%s made %d Salesforce calls; want at most a read", name, n)
				}
				se := wantKind(t, err, scimschema.KindConflict)
				if !strings.Contains(se.Detail, "integration user") {
					t.Errorf("%s: detail %q does not say why", name, se.Detail)
				}
			}
			if u := h.e.Get("User", self); u["IsActive"] != true {
				t.Errorf("integration user IsActive = %v; want true", u["IsActive"])
			}
			if l := h.login(self); l != nil && l["IsFrozen"] == true {
				t.Errorf("integration user frozen")
			}
			// Attribute updates go on.
			if _, err := h.b.PatchUser(h.ctx, self, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "Integration"}}, ""); err != nil {
				t.Errorf("PATCH title of the integration user: %v", err)
			}
			if got := h.e.Get("User", self)["Title"]; got != "Integration" {
				t.Errorf("integration user Title = %v; want the update applied", got)
			}
			// Anyone else deprovisions.
			other := h.insertUser("other@example.com", "Standard User", nil)
			if _, err := h.b.PatchUser(h.ctx, other, deactivate, ""); err != nil {
				t.Errorf("PATCH active false of another user: %v", err)
			}
		})
	}
}

// users.assignable_profiles: a create or update naming another profile is a 403 naming the
// setting, with nothing written; the default profile, the listed ones (by name or id) and a user's
// unchanged profile pass.
func TestAssignableProfiles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	chatter := h.profileID("Chatter Free User")
	b := h.replicaWith(func(c *BackendConfig) {
		c.AssignableProfiles = []string{chatter[:15], "  standard user "}
		c.UserTypes = []string{"Standard", "CsnOnly"}
	})
	withProfile := func(userName, prof string) map[string]any {
		attrs := newUserAttrs(userName, "Pro", "File")
		attrs[scimschema.SalesforceUserURN] = map[string]any{"profile": prof}
		return attrs
	}
	profilePatch := func(prof string) []scimschema.PatchOp {
		return []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, scimschema.SalesforceUserURN+":profile"), Value: prof}}
	}

	_, err := b.CreateUser(h.ctx, withProfile("admin-wannabe@example.com", "System Administrator"))
	if se := wantKind(t, err, scimschema.KindForbidden); !strings.Contains(se.Detail, "users.assignable_profiles") {
		t.Errorf("detail %q does not name the setting", se.Detail)
	}
	if h.find("User", "Username", "admin-wannabe@example.com") != nil {
		t.Errorf("the refused create wrote a user")
	}
	for _, ok := range []string{"Chatter Free User", "Standard User"} {
		if _, err := b.CreateUser(h.ctx, withProfile(strings.ReplaceAll(strings.ToLower(ok), " ", "-")+"@example.com", ok)); err != nil {
			t.Errorf("CreateUser naming %s: %v", ok, err)
		}
	}
	if _, err := b.CreateUser(h.ctx, newUserAttrs("default@example.com", "De", "Fault")); err != nil {
		t.Errorf("CreateUser with the default profile: %v", err)
	}

	// Updates: to an unlisted profile refused; repeating the profile the user has is fine even if
	// it is not listed (an administrator set it in Salesforce).
	standard := h.find("User", "Username", "standard-user@example.com")["Id"].(string)
	_, err = b.PatchUser(h.ctx, standard, profilePatch("System Administrator"), "")
	wantKind(t, err, scimschema.KindForbidden)
	if got := h.e.Get("User", standard)["ProfileId"]; got != h.profileID("Standard User") {
		t.Errorf("ProfileId after the refused PATCH = %v; want unchanged", got)
	}
	admin := h.insertUser("promoted@example.com", "System Administrator", nil)
	if _, err := b.PatchUser(h.ctx, admin, append(profilePatch("System Administrator"),
		scimschema.PatchOp{Op: "replace", Path: parsePath(t, "title"), Value: "Boss"}), ""); err != nil {
		t.Errorf("PATCH repeating the user's own unlisted profile: %v", err)
	}
	if _, err := b.PatchUser(h.ctx, admin, profilePatch("Chatter Free User"), ""); err != nil {
		t.Errorf("PATCH to a listed profile: %v", err)
	}
	put := withProfile("promoted@example.com", "System Administrator")
	_, err = b.ReplaceUser(h.ctx, admin, put, "")
	wantKind(t, err, scimschema.KindForbidden)

	// check names what the org lacks.
	b2 := h.replicaWith(func(c *BackendConfig) { c.AssignableProfiles = []string{"Standard User", "Ghost Profile"} })
	found := false
	for _, s := range b2.Check(h.ctx) {
		if s.Name == "assignable profiles found" {
			found = true
			if s.OK || !strings.Contains(s.Detail, "Ghost Profile") || strings.Contains(s.Detail, "Standard User") {
				t.Errorf("check step = %+v; want a failure naming only Ghost Profile", s)
			}
		}
	}
	if !found {
		t.Errorf("check has no assignable-profiles step")
	}
}

// A bridge started with an access token that Salesforce accepts has seen no token response, so
// no identity URL: it obtains one before it lets a deprovisioning through.
func TestIntegrationUserIsLearntWhenOnlyAnAccessTokenWasUsed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	resp, err := http.PostForm(h.url+"/services/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {"test-refresh"}, "client_id": {"test-client"}, "client_secret": {"test-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	c, err := rest.New(h.ctx, rest.Config{Flow: rest.FlowRefreshToken, URL: h.url, ClientID: "test-client", ClientSecret: "test-secret",
		RefreshToken: "test-refresh", AccessToken: tok.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(h.ctx, "SELECT Id FROM Profile LIMIT 1", 0); err != nil {
		t.Fatalf("Query with the starting access token: %v", err)
	}
	if id := c.IntegrationUserID(); id != "" {
		t.Fatalf("IntegrationUserID() = %q before any token response; the test needs it unknown", id)
	}
	b, err := NewBackend(c, h.bcfg)
	if err != nil {
		t.Fatal(err)
	}
	self := h.find("User", "Username", "admin@emulator.example.com")["Id"].(string)
	wantKind(t, b.DeleteUser(h.ctx, self, ""), scimschema.KindConflict)
	if h.e.Get("User", self)["IsActive"] != true {
		t.Errorf("the integration user was deactivated")
	}
}
