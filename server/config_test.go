package server

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

// TestConfigValidate: the settings' problems, keyed by field; the wiring (Users, Groups, tokens)
// is New's to check.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want setting.FieldErrors
	}{
		{"zero value", Config{}, nil},
		{"a base with a path", Config{PublicURL: "https://scim.example.com/base"}, nil},
		{"not absolute", Config{PublicURL: "scim.example.com"},
			setting.FieldErrors{{Key: "PublicURL", Problem: "must be an absolute http(s) URL such as https://scim.example.com"}}},
		{"a query", Config{PublicURL: "https://scim.example.com?x=1"},
			setting.FieldErrors{{Key: "PublicURL", Problem: "must not have a query or fragment"}}},
		{"negative limits", Config{MaxBodyBytes: -1, MaxResults: -1},
			setting.FieldErrors{{Key: "MaxBodyBytes", Problem: "must not be negative"}, {Key: "MaxResults", Problem: "must not be negative"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.cfg.Validate()); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
