package scimschema

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewUserMapperRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  UserMappingConfig
		want []string // substrings, all expected in the one error
	}{
		{"unknown SCIM attribute", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "title"}, {SCIM: "foo", Salesforce: "Foo__c"}}},
			[]string{`users.mapping[1].scim: unknown SCIM attribute "foo"`}},
		{"bad field name", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "title", Salesforce: "Bad Field"}}},
			[]string{"users.mapping[0].salesforce:", "not a Salesforce field name"}},
		{"double underscore", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "title", Salesforce: "A__b__c"}}},
			[]string{"users.mapping[0].salesforce:"}},
		{"reserved field", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "title", Salesforce: "IsActive"}}},
			[]string{"users.mapping[0].salesforce: IsActive cannot be mapped"}},
		{"active is the bridge's", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "active", Salesforce: "Active__c"}}},
			[]string{`users.mapping[0].scim: "active" cannot be mapped`}},
		{"groups read-only", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "groups", Salesforce: "G__c"}}},
			[]string{`users.mapping[0].scim: "groups" cannot be mapped`}},
		{"complex needs sub", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "name", Salesforce: "N__c"}}},
			[]string{"users.mapping[0].scim:", "is complex"}},
		{"phone needs type", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "phoneNumbers.value", Salesforce: "Fax"}}},
			[]string{"users.mapping[0].scim:", "needs a type filter"}},
		{"userName elsewhere", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "userName", Salesforce: "Email"}}},
			[]string{"users.mapping[0].salesforce: userName can only map to Username"}},
		{"Username from elsewhere", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "title", Salesforce: "Username"}}},
			[]string{"users.mapping[0].salesforce: only userName can map to Username"}},
		{"two attributes one field", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "name.middleName", Salesforce: "Title"}}},
			[]string{`users.mapping[0].salesforce: Title is already mapped from "title"`}},
		{"duplicate entry", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "title", Salesforce: "A__c"}, {SCIM: "Title", Salesforce: "B__c"}}},
			[]string{`users.mapping[1].scim: "title" is already mapped by users.mapping[0]`}},
		{"bad default key", UserMappingConfig{Defaults: map[string]string{"time zone": "GMT"}},
			[]string{"users.defaults.time zone:"}},
		{"empty default", UserMappingConfig{Defaults: map[string]string{"profile": ""}},
			[]string{"users.defaults.profile: must not be empty"}},
		{"domain with @", UserMappingConfig{UsernameDomain: "@acme.com"},
			[]string{"users.username_domain:"}},
		{"every problem at once", UserMappingConfig{UsernameDomain: "x", Mapping: []MappingEntry{{SCIM: "nope", Salesforce: "X__c"}, {SCIM: "title", Salesforce: "Id"}}},
			[]string{"users.mapping[0].scim", "users.mapping[1].salesforce", "users.username_domain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewUserMapper(tt.cfg)
			if err == nil {
				t.Fatalf("NewUserMapper = nil error; want one mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewUserMapper error = %q; want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestReadFields(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{Mapping: []MappingEntry{
		{SCIM: "externalId", Salesforce: "Employee_Key__c"},
		{SCIM: "title"}, // removes the Title mapping
		{SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", Salesforce: "Cost_Center__c"},
	}})
	want := []string{"Id", "Username", "IsActive", "ProfileId", "CreatedDate", "LastModifiedDate", "SystemModstamp", "UserType",
		"Name", "Employee_Key__c", "FirstName", "LastName", "Email", "Alias", "Phone", "MobilePhone",
		"Street", "City", "State", "PostalCode", "Country", "LanguageLocaleKey", "LocaleSidKey", "TimeZoneSidKey",
		"EmployeeNumber", "Department", "Division", "CompanyName", "ManagerId", "EmailEncodingKey", "FederationIdentifier",
		"CommunityNickname", "Cost_Center__c"}
	if diff := cmp.Diff(want, m.ReadFields()); diff != "" {
		t.Errorf("ReadFields() mismatch (-want +got):\n%s", diff)
	}
}

func TestUsernameTransforms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		domain, suffix string
		scim, sf       string
		back           string // UsernameToSCIM(sf); "" = scim
	}{
		{"email as is, lower-cased", "", "", "Alice@Acme.com", "alice@acme.com", "alice@acme.com"},
		{"domain added", "acme.com", "", "jdoe", "jdoe@acme.com", "jdoe"},
		{"domain not added to an email", "acme.com", "", "jdoe@other.org", "jdoe@other.org", "jdoe@other.org"},
		{"sandbox suffix", "", ".uat", "alice@acme.com", "alice@acme.com.uat", "alice@acme.com"},
		{"suffix not doubled", "", ".uat", "alice@acme.com.uat", "alice@acme.com.uat", "alice@acme.com"},
		{"domain and suffix", "acme.com", ".uat", "jdoe", "jdoe@acme.com.uat", "jdoe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMapper(t, UserMappingConfig{UsernameDomain: tt.domain, UsernameSuffix: tt.suffix})
			got, err := m.UsernameToSalesforce(tt.scim)
			if err != nil || got != tt.sf {
				t.Fatalf("UsernameToSalesforce(%q) = %q, %v; want %q", tt.scim, got, err, tt.sf)
			}
			if back := m.UsernameToSCIM(got); back != tt.back {
				t.Errorf("UsernameToSCIM(%q) = %q; want %q", got, back, tt.back)
			}
		})
	}
}

func TestUsernameToSalesforceRejects(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{})
	for _, in := range []string{"", "jdoe", "a b@acme.com", "alice@acme", "@acme.com", strings.Repeat("a", 75) + "@acme.com"} {
		if _, err := m.UsernameToSalesforce(in); kindOf(err) != KindInvalidValue {
			t.Errorf("UsernameToSalesforce(%q) error = %v; want KindInvalidValue", in, err)
		}
	}
}
