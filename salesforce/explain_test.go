package salesforce

import (
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// What active does differs between a create and an update: a create makes a new user active,
// inactive or frozen; it reactivates nothing.
func TestExplainActiveOnCreateAndUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		kind   WriteKind
		active bool
		freeze bool
		want   string
	}{
		{"create active", WriteCreate, true, false, "active true: the user is created active (IsActive=true)"},
		{"create inactive", WriteCreate, false, false, "active false: the user is created with IsActive=false"},
		{"create inactive under freeze", WriteCreate, false, true, "active false: the user is created, then UserLogin.IsFrozen=true"},
		{"PUT active", WriteReplace, true, false, "active true: IsActive=true and UserLogin.IsFrozen=false where they differ (reactivate_user)"},
		{"PUT inactive under freeze", WriteReplace, false, true, "active false: UserLogin.IsFrozen=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withBackend(func(c *BackendConfig) {
				if tt.freeze {
					c.Provisioning.DisableAction = Freeze
				}
			}))
			attrs := newUserAttrs("explain.active@example.com", "Ex", "Plain")
			attrs["active"] = tt.active
			x, err := h.b.ExplainUser(h.ctx, tt.kind, attrs, nil)
			if err != nil {
				t.Fatalf("ExplainUser: %v", err)
			}
			if !strings.HasPrefix(x.Active, tt.want) {
				t.Errorf("Active = %q; want %q…", x.Active, tt.want)
			}
		})
	}
}

// A permission set that needs a permission set licence: a create is refused as Salesforce would
// refuse it (a new user holds no licence), unless the bridge assigns the licence first.
func TestExplainPermissionSetNeedingALicence(t *testing.T) {
	t.Parallel()
	for _, assign := range []bool{false, true} {
		h := newHarness(t, withBackend(func(c *BackendConfig) { c.Groups.AssignPermissionSetLicenses = assign }))
		attrs := newUserAttrs("explain.licence@example.com", "Ex", "Plain")
		attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": []any{map[string]any{"value": "CRM_Analytics_Explorer"}}}
		x, err := h.b.ExplainUser(h.ctx, WriteCreate, attrs, nil)
		if err != nil {
			t.Fatalf("ExplainUser: %v", err)
		}
		if !assign {
			if !strings.HasPrefix(x.Refused, "400: permission set CRM Analytics Explorer") || !strings.Contains(x.Refused, "needs the permission set licence CRM Analytics Plus") {
				t.Errorf("Refused = %q; want the create refused for the missing licence", x.Refused)
			}
			continue
		}
		if x.Refused != "" || len(x.PermissionSets) != 1 || !strings.Contains(x.PermissionSets[0], "which the bridge assigns first") {
			t.Errorf("with assign_permission_set_licenses: Refused %q, PermissionSets %q; want the licence assigned first", x.Refused, x.PermissionSets)
		}
	}
}
