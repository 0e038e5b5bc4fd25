package scimschema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestForCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  UserMappingConfig
		body string
		want UserWrite
	}{
		{
			name: "minimal Okta create gets defaults and derived values",
			body: `{"userName":"Alice.Smith@Acme.com","name":{"givenName":"Alice","familyName":"Smith"},
				"emails":[{"value":"alice.smith@acme.com","type":"work","primary":true}],"active":true,"password":"secret"}`,
			want: UserWrite{
				Fields: map[string]any{"Username": "alice.smith@acme.com", "FirstName": "Alice", "LastName": "Smith",
					"Email": "alice.smith@acme.com", "Alias": "asmith", "CommunityNickname": "alice.smith",
					"TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8"},
				Profile:    "Standard User",
				Active:     ptr(true),
				Attributes: []string{"active", `emails[type eq "work"].value`, "name.familyName", "name.givenName", "userName"},
				Derived:    []string{"Alias", "CommunityNickname"},
			},
		},
		{
			name: "every default mapping",
			body: `{"userName":"bob@acme.com","externalId":"ext-1","name":{"givenName":"Bob","familyName":"Jones"},
				"displayName":"Bobby J","nickName":"bobj","title":"Engineer","preferredLanguage":"de","locale":"de-DE","timezone":"Europe/Paris",
				"emails":[{"value":"home@example.org","type":"home"},{"value":"bob@acme.com","type":"work"}],
				"phoneNumbers":[{"value":"+1 555 0100","type":"work"},{"value":"+1 555 0199","type":"mobile"},{"value":"+1 555 0000","type":"home"}],
				"addresses":[{"type":"work","streetAddress":"1 Main St","locality":"Springfield","region":"IL","postalCode":"62701","country":"US"}],
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"E42","department":"R&D","division":"Labs",
					"organization":"Acme","costCenter":"CC1","manager":{"value":"005000000000001AAA"}},
				"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User":{"profile":"System Administrator","emailEncodingKey":"ISO-8859-1",
					"permissionSets":[{"value":"0PS000000000001AAA"},{"value":"Sales_Ops"}]}}`,
			want: UserWrite{
				Fields: map[string]any{"Username": "bob@acme.com", "FederationIdentifier": "ext-1", "FirstName": "Bob", "LastName": "Jones",
					"Email": "bob@acme.com", "Alias": "bobj", "CommunityNickname": "bob", "Title": "Engineer",
					"Phone": "+1 555 0100", "MobilePhone": "+1 555 0199", "Street": "1 Main St", "City": "Springfield", "State": "IL",
					"PostalCode": "62701", "Country": "US", "LanguageLocaleKey": "de", "LocaleSidKey": "de_DE", "TimeZoneSidKey": "Europe/Paris",
					"EmployeeNumber": "E42", "Department": "R&D", "Division": "Labs", "CompanyName": "Acme", "ManagerId": "005000000000001AAA",
					"EmailEncodingKey": "ISO-8859-1"},
				Profile:        "System Administrator",
				PermissionSets: &MemberChange{Replace: true, Add: []string{"0PS000000000001AAA", "Sales_Ops"}},
				Attributes: []string{`addresses[type eq "work"].country`, `addresses[type eq "work"].locality`, `addresses[type eq "work"].postalCode`,
					`addresses[type eq "work"].region`, `addresses[type eq "work"].streetAddress`, `emails[type eq "work"].value`,
					"externalId", "locale", "name.familyName", "name.givenName", "nickName", `phoneNumbers[type eq "mobile"].value`,
					`phoneNumbers[type eq "work"].value`, "preferredLanguage", "timezone", "title",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization", "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:emailEncodingKey",
					"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:permissionSets", "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:profile",
					"userName"},
				Derived: []string{"CommunityNickname"},
			},
		},
		{
			name: "extension alias wins over nickName, Email from userName, primary email not of type work",
			body: `{"userName":"carol@acme.com","name":{"familyName":"Ng"},"nickName":"cn",
				"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User":{"alias":"carol1","communityNickname":"carol.ng"}}`,
			want: UserWrite{
				Fields: map[string]any{"Username": "carol@acme.com", "LastName": "Ng", "Email": "carol@acme.com", "Alias": "carol1",
					"CommunityNickname": "carol.ng", "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
					"LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8"},
				Profile: "Standard User",
				Attributes: []string{"name.familyName", "nickName", "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:alias",
					"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:communityNickname", "userName"},
				Derived: []string{"Email"},
			},
		},
		{
			name: "primary email wins over the work one; alias derived from userName without ASCII name",
			body: `{"userName":"dave@acme.com","name":{"givenName":"Ömer","familyName":"Çelik"},
				"emails":[{"value":"dave@acme.com","type":"work"},{"value":"d@example.org","type":"other","primary":"True"}]}`,
			want: UserWrite{
				Fields: map[string]any{"Username": "dave@acme.com", "FirstName": "Ömer", "LastName": "Çelik", "Email": "d@example.org",
					"Alias": "elik", "CommunityNickname": "dave", "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
					"LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8"},
				Profile:    "Standard User",
				Attributes: []string{`emails[type eq "work"].value`, "name.familyName", "name.givenName", "userName"},
				Derived:    []string{"Alias", "CommunityNickname"},
			},
		},
		{
			name: "username domain, suffix and custom mappings",
			cfg: UserMappingConfig{UsernameDomain: "acme.com", UsernameSuffix: ".uat",
				Defaults: map[string]string{"profile": "00e000000000001AAA", "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_GB",
					"LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8", "Region__c": "EMEA"},
				Mapping: []MappingEntry{
					{SCIM: "externalId", Salesforce: "Employee_Key__c"},
					{SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", Salesforce: "Cost_Center__c"},
					{SCIM: "name.middleName", Salesforce: "MiddleName"},
					{SCIM: "title"},
				}},
			body: `{"userName":"EVE","externalId":"E-7","title":"CEO","name":{"givenName":"Eve","middleName":"M","familyName":"Adams"},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":"CC9"}}`,
			want: UserWrite{
				Fields: map[string]any{"Username": "eve@acme.com.uat", "Employee_Key__c": "E-7", "FirstName": "Eve", "MiddleName": "M",
					"LastName": "Adams", "Email": "eve@acme.com", "Alias": "eadams", "CommunityNickname": "eve", "Cost_Center__c": "CC9",
					"TimeZoneSidKey": "GMT", "LocaleSidKey": "en_GB", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8", "Region__c": "EMEA"},
				Profile: "00e000000000001AAA",
				Attributes: []string{"externalId", "name.familyName", "name.givenName", "name.middleName",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", "userName"},
				Derived: []string{"Email", "Alias", "CommunityNickname"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMapper(t, tt.cfg)
			got, err := m.ForCreate(decode(t, tt.body), testDescribe)
			if err != nil {
				t.Fatalf("ForCreate: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ForCreate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForCreateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  UserMappingConfig
		body string
		want string // the Detail, exactly
	}{
		{"userName not an email", UserMappingConfig{}, `{"userName":"jdoe","name":{"familyName":"Doe"}}`,
			"userName must be an email address (name@domain), or set users.username_domain"},
		{"default not in picklist", UserMappingConfig{Defaults: map[string]string{"profile": "P", "TimeZoneSidKey": "Nowhere", "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8"}},
			`{"userName":"a@acme.com","name":{"familyName":"A"}}`,
			`users.defaults.TimeZoneSidKey must be one of the org's TimeZoneSidKey values, e.g. "America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Paris", "Asia/Tokyo"`},
		{"bad email", UserMappingConfig{}, `{"userName":"a@acme.com","name":{"familyName":"A"},"emails":[{"value":"not-an-email"}]}`,
			"emails must be an email address (name@domain)"},
		{"no profile", UserMappingConfig{Defaults: map[string]string{"TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8"}},
			`{"userName":"a@acme.com","name":{"familyName":"A"}}`,
			"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:profile is required: Salesforce needs a profile; set users.defaults.profile"},
		{"no locale default", UserMappingConfig{Defaults: map[string]string{"profile": "P", "TimeZoneSidKey": "GMT", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8"}},
			`{"userName":"a@acme.com","name":{"familyName":"A"}}`, "locale is required: Salesforce needs LocaleSidKey"},
		{"title not a string", UserMappingConfig{}, `{"userName":"a@acme.com","name":{"familyName":"A"},"title":true}`, "title must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMapper(t, tt.cfg)
			_, err := m.ForCreate(decode(t, tt.body), testDescribe)
			if kindOf(err) != KindInvalidValue {
				t.Fatalf("ForCreate error = %v; want KindInvalidValue", err)
			}
			if got := AsError(err).Detail; got != tt.want {
				t.Errorf("ForCreate Detail = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestForCreateNormalisesPicklistValues(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{})
	got, err := m.ForCreate(decode(t, `{"userName":"a@acme.com","name":{"familyName":"A"},"locale":"en-GB","timezone":"europe/london","preferredLanguage":"EN_us"}`), testDescribe)
	if err != nil {
		t.Fatalf("ForCreate: %v", err)
	}
	for field, want := range map[string]string{"LocaleSidKey": "en_GB", "TimeZoneSidKey": "Europe/London", "LanguageLocaleKey": "en_US"} {
		if got.Fields[field] != want {
			t.Errorf("Fields[%s] = %v; want %q", field, got.Fields[field], want)
		}
	}
	// Without a picklist for a field, the value is sent as given.
	got, err = m.ForCreate(decode(t, `{"userName":"a@acme.com","name":{"familyName":"A"},"timezone":"Mars/Olympus"}`), UserDescribe{})
	if err != nil || got.Fields["TimeZoneSidKey"] != "Mars/Olympus" {
		t.Errorf("ForCreate without picklists = %v, %v; want TimeZoneSidKey sent as given", got.Fields["TimeZoneSidKey"], err)
	}
}

func TestForReplace(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  UserMappingConfig
		body string
		want UserWrite
	}{
		{
			name: "Okta PUT: absent optional fields cleared, defaulted and externalId fields left",
			body: `{"id":"005000000000001AAA","userName":"alice@acme.com","name":{"givenName":"Alice","familyName":"Smith"},
				"emails":[{"value":"alice@acme.com","type":"work","primary":true}],"active":false}`,
			want: UserWrite{
				Fields: map[string]any{"Username": "alice@acme.com", "FirstName": "Alice", "LastName": "Smith", "Email": "alice@acme.com",
					"Title": nil, "Phone": nil, "MobilePhone": nil, "Street": nil, "City": nil, "State": nil, "PostalCode": nil, "Country": nil,
					"EmployeeNumber": nil, "Department": nil, "Division": nil, "CompanyName": nil, "ManagerId": nil},
				Active: ptr(false),
				Attributes: []string{"active", `addresses[type eq "work"].country`, `addresses[type eq "work"].locality`, `addresses[type eq "work"].postalCode`,
					`addresses[type eq "work"].region`, `addresses[type eq "work"].streetAddress`, `emails[type eq "work"].value`,
					"name.familyName", "name.givenName", `phoneNumbers[type eq "mobile"].value`, `phoneNumbers[type eq "work"].value`, "title",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization", "userName"},
			},
		},
		{
			name: "on_update false skipped, required false left as is",
			cfg: UserMappingConfig{Mapping: []MappingEntry{
				{SCIM: `emails[type eq "work"].value`, OnUpdate: ptr(false)},
				{SCIM: "name.familyName", Salesforce: "LastName", Required: ptr(false)},
				{SCIM: "title", OnUpdate: ptr(false)},
				{SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", Salesforce: ""},
			}},
			body: `{"userName":"alice@acme.com","emails":[{"value":"new@acme.com"}],"title":"Boss",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"X"},
				"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User":{"profile":"Custom","permissionSets":[]}}`,
			want: UserWrite{
				Fields: map[string]any{"Username": "alice@acme.com", "FirstName": nil,
					"Phone": nil, "MobilePhone": nil, "Street": nil, "City": nil, "State": nil, "PostalCode": nil, "Country": nil,
					"EmployeeNumber": nil, "Division": nil, "CompanyName": nil, "ManagerId": nil},
				Profile:        "Custom",
				PermissionSets: &MemberChange{Replace: true, Add: []string{}},
				Attributes: []string{`addresses[type eq "work"].country`, `addresses[type eq "work"].locality`, `addresses[type eq "work"].postalCode`,
					`addresses[type eq "work"].region`, `addresses[type eq "work"].streetAddress`,
					"name.givenName", `phoneNumbers[type eq "mobile"].value`, `phoneNumbers[type eq "work"].value`,
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
					"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization",
					"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:permissionSets",
					"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:profile", "userName"},
				Skipped: []string{`emails[type eq "work"].value`, "title"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMapper(t, tt.cfg)
			got, err := m.ForReplace(decode(t, tt.body), testDescribe)
			if err != nil {
				t.Fatalf("ForReplace: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ForReplace mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForReplaceKeepsDerivableRequiredFields(t *testing.T) {
	t.Parallel()
	// A PUT without name.familyName or emails keeps LastName and Email as they are.
	m := newMapper(t, UserMappingConfig{})
	for _, body := range []string{
		`{"userName":"a@acme.com","emails":[{"value":"a@acme.com"}]}`,
		`{"userName":"a@acme.com","name":{"familyName":"A"}}`,
		`{"userName":"a@acme.com","name":{"familyName":"A"},"emails":[]}`,
	} {
		w, err := m.ForReplace(decode(t, body), UserDescribe{})
		if err != nil {
			t.Fatalf("ForReplace(%s): %v", body, err)
		}
		for _, f := range []string{"LastName", "Email"} {
			if v, ok := w.Fields[f]; ok && v == nil {
				t.Errorf("ForReplace(%s) clears %s", body, f)
			}
		}
	}
	// required: true in users.mapping restores the 400.
	m = newMapper(t, UserMappingConfig{Mapping: []MappingEntry{
		{SCIM: "name.familyName", Required: ptr(true)}, {SCIM: `emails[type eq "work"].value`, Required: ptr(true)}}})
	for body, want := range map[string]string{
		`{"userName":"a@acme.com","emails":[{"value":"a@acme.com"}]}`: "name.familyName is required: users.mapping makes LastName required",
		`{"userName":"a@acme.com","name":{"familyName":"A"}}`:         "emails is required: users.mapping makes Email required",
	} {
		_, err := m.ForReplace(decode(t, body), UserDescribe{})
		if kindOf(err) != KindInvalidValue || AsError(err).Detail != want {
			t.Errorf("ForReplace(%s) error = %v; want KindInvalidValue %q", body, err, want)
		}
	}
}
