package scimschema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func projectionInput() map[string]any {
	return map[string]any{
		"userName": "alice@acme.com",
		"name":     map[string]any{"givenName": "Alice", "familyName": "Smith"},
		"emails":   []any{map[string]any{"value": "a@acme.com", "type": "work", "primary": true}},
		"groups":   []any{map[string]any{"value": "0PS1", "display": "Sales"}},
		"active":   true,
		entURN:     map[string]any{"department": "R&D", "manager": map[string]any{"value": "005X"}},
		sfURN:      map[string]any{"profile": "Standard User", "frozen": false},
	}
}

func TestProject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		attributes, excluded []string
		want                 map[string]any
	}{
		{"no projection keeps everything", nil, nil, projectionInput()},
		{"attributes keeps only those", []string{"userName", "ACTIVE"}, nil, map[string]any{"userName": "alice@acme.com", "active": true}},
		{"sub-attribute of a complex attribute", []string{"name.familyName"}, nil, map[string]any{"name": map[string]any{"familyName": "Smith"}}},
		{"sub-attribute of a multi-valued attribute", []string{"emails.value"}, nil, map[string]any{"emails": []any{map[string]any{"value": "a@acme.com"}}}},
		{"two sub-attributes of one element", []string{"emails.value", "emails.type"}, nil,
			map[string]any{"emails": []any{map[string]any{"value": "a@acme.com", "type": "work"}}}},
		{"core URN prefix", []string{"urn:ietf:params:scim:schemas:core:2.0:User:userName"}, nil, map[string]any{"userName": "alice@acme.com"}},
		{"extension attribute", []string{entURN + ":department"}, nil, map[string]any{entURN: map[string]any{"department": "R&D"}}},
		{"extension sub-attribute", []string{entURN + ":manager.value"}, nil, map[string]any{entURN: map[string]any{"manager": map[string]any{"value": "005X"}}}},
		{"whole extension", []string{sfURN}, nil, map[string]any{sfURN: map[string]any{"profile": "Standard User", "frozen": false}}},
		{"missing attribute gives nothing", []string{"title", "emails.display"}, nil, map[string]any{}},
		{"excluded drops", nil, []string{"groups", entURN, "name.givenName", "Emails"}, map[string]any{
			"userName": "alice@acme.com", "name": map[string]any{"familyName": "Smith"}, "active": true,
			sfURN: map[string]any{"profile": "Standard User", "frozen": false}}},
		{"excluded extension attribute", nil, []string{sfURN + ":frozen", sfURN + ":profile"}, func() map[string]any {
			m := projectionInput()
			delete(m, sfURN)
			return m
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := projectionInput()
			got := Project(in, tt.attributes, tt.excluded)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Project(%q, %q) mismatch (-want +got):\n%s", tt.attributes, tt.excluded, diff)
			}
			if diff := cmp.Diff(projectionInput(), in); diff != "" {
				t.Errorf("Project changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestRequested(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		attr                 string
		attributes, excluded []string
		want                 bool
	}{
		{"no projection", "groups", nil, nil, true},
		{"excluded", "members", nil, []string{"members"}, false},
		{"excluded case-insensitively", "members", nil, []string{"Members"}, false},
		{"excluding a sub-attribute keeps it", "members", nil, []string{"members.display"}, true},
		{"other attribute excluded", "groups", nil, []string{"emails"}, true},
		{"not among attributes", "groups", []string{"userName"}, nil, false},
		{"among attributes", "groups", []string{"userName", "groups"}, nil, true},
		{"a sub-attribute among attributes", "groups", []string{"groups.value"}, nil, true},
		{"externalId", "externalId", []string{"externalId"}, nil, true},
		{"extension attribute via whole extension", sfURN + ":permissionSets", []string{sfURN}, nil, true},
		{"extension attribute excluded with extension", sfURN + ":permissionSets", nil, []string{sfURN}, false},
		{"extension attribute excluded", sfURN + ":permissionSets", nil, []string{sfURN + ":permissionSets"}, false},
		{"core attribute not matched by extension", "groups", []string{sfURN}, nil, false},
	}
	for _, tt := range tests {
		if got := Requested(tt.attr, tt.attributes, tt.excluded); got != tt.want {
			t.Errorf("%s: Requested(%q, %q, %q) = %v; want %v", tt.name, tt.attr, tt.attributes, tt.excluded, got, tt.want)
		}
	}
}
