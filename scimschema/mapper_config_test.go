package scimschema

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

// TestUserMappingConfigValidate: Validate keys each problem relative to the users section, and
// NewUserMapper reports the same problems under users.
func TestUserMappingConfigValidate(t *testing.T) {
	t.Parallel()
	cfg := UserMappingConfig{
		Defaults:       map[string]string{"profile": ""},
		Mapping:        []MappingEntry{{SCIM: "nope", Salesforce: "X__c"}},
		UsernameDomain: "ACME.com",
		UsernameSuffix: ".uat.eu",
	}
	want := setting.FieldErrors{
		{Key: "mapping[0].scim", Problem: `unknown SCIM attribute "nope"`},
		{Key: "defaults.profile", Problem: "must not be empty"},
		{Key: "username_domain", Problem: "must be a lower-case domain such as acme.com"},
		{Key: "username_suffix", Problem: "must be a dot and lower-case letters or digits, such as .uat"},
	}
	got := cfg.Validate()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
	}
	_, err := NewUserMapper(cfg)
	var fromNew setting.FieldErrors
	if !errors.As(err, &fromNew) {
		t.Fatalf("NewUserMapper error = %v; want setting.FieldErrors", err)
	}
	if diff := cmp.Diff(want.In("users"), fromNew); diff != "" {
		t.Errorf("NewUserMapper problems mismatch (-want +got):\n%s", diff)
	}
}

func TestDefaultUserMappingConfigIsValid(t *testing.T) {
	t.Parallel()
	cfg := DefaultUserMappingConfig()
	if problems := cfg.Validate(); len(problems) > 0 {
		t.Errorf("DefaultUserMappingConfig().Validate() = %v; want none", problems)
	}
	if got := cfg.Defaults["profile"]; got != "Standard User" {
		t.Errorf("default profile = %q; want Standard User", got)
	}
}
