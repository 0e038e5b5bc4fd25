package salesforce

import (
	"strings"
	"testing"

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
			h := newHarness(t, withBackend(func(c *BackendConfig) { c.Provisioning.DisableAction = action }))
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
