package salesforce

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

func TestDefaultBackendConfigIsValid(t *testing.T) {
	t.Parallel()
	if problems := DefaultBackendConfig().Validate(); len(problems) > 0 {
		t.Errorf("DefaultBackendConfig().Validate() = %v; want none", problems)
	}
}

// TestBackendConfigValidate: every problem at once, each with its full key; the policy values are
// checked here and nowhere else.
func TestBackendConfigValidate(t *testing.T) {
	t.Parallel()
	cfg := DefaultBackendConfig()
	cfg.Provisioning.DisableAction = DisableAction(7) // a conversion, not a configuration word (ParseDisableAction refuses those)
	cfg.Provisioning.PermissionSets = MembershipMode(-1)
	cfg.Provisioning.DeprovisionLimit = DeprovisionLimit{Max: 5, Window: time.Second}
	cfg.Users.UsernameSuffix = "uat"
	cfg.UserTypes = []string{"Standard", "Power Partner"}
	cfg.AssignableProfiles = []string{" "}
	cfg.Groups.Source = GroupSource(3)
	cfg.Groups.Include = []string{"["}
	cfg.BatchWindow = -time.Millisecond
	want := setting.FieldErrors{
		{Key: "provisioning.disable_action", Problem: "unknown(7) is not a disable action"},
		{Key: "provisioning.permission_sets", Problem: "unknown(-1) is not a membership mode"},
		{Key: "groups.source", Problem: "unknown(3) is not a group source"},
		{Key: "provisioning.deprovision_limit.window", Problem: "must be between 1m and 24h, such as 1h"},
		{Key: "users.username_suffix", Problem: "must be a dot and lower-case letters or digits, such as .uat"},
		{Key: "users.assignable_profiles[0]", Problem: "must be a profile name or id, not empty"},
		{Key: "users.user_types[1]", Problem: `"Power Partner" is not a Salesforce UserType value`},
		{Key: "groups.include[0]", Problem: "is not a valid name pattern"},
		{Key: "salesforce.batch_window", Problem: "must be 0 (off) or a positive duration such as 5ms"},
	}
	if diff := cmp.Diff(want, cfg.Validate()); diff != "" {
		t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
	}
	_, err := NewBackend(&rest.Client{}, cfg)
	var fromNew setting.FieldErrors
	if !errors.As(err, &fromNew) || !cmp.Equal(want, fromNew) {
		t.Errorf("NewBackend error = %v; want the same problems", err)
	}
}

// TestNewBackendFillsZeroValues: an empty list or TTL means the documented default to NewBackend
// (not to Validate, which checks a configuration as it will be used); a zero policy is its default.
func TestNewBackendFillsZeroValues(t *testing.T) {
	t.Parallel()
	if problems := (BackendConfig{}).Validate(); !problems.Has("users.user_types") || problems.Has("provisioning.disable_action") {
		t.Errorf("BackendConfig{}.Validate() = %v; want users.user_types named, and no policy", problems)
	}
	b, err := NewBackend(&rest.Client{}, BackendConfig{})
	if err != nil {
		t.Fatalf("NewBackend(BackendConfig{}) = %v", err)
	}
	p, g := b.cfg.Provisioning, b.cfg.Groups
	if p.DisableAction != Deactivate || p.PermissionSets != Merge || g.Source != PermissionSets || len(g.Include) != 1 || b.cfg.CatalogTTL != 5*time.Minute {
		t.Errorf("NewBackend(BackendConfig{}) kept %+v, %+v, ttl %s; want the defaults", p, g, b.cfg.CatalogTTL)
	}
}
