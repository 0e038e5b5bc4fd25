package scimschema

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{UsernameDomain: "acme.com", UsernameSuffix: ".uat"})
	custom := newMapper(t, UserMappingConfig{Mapping: []MappingEntry{{SCIM: "externalId", Salesforce: "Employee_Key__c"}}})
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		mapper *UserMapper
		filter string
		want   Cond
	}{
		{"userName eq with transforms", m, `userName eq "jdoe"`, Compare{Field: "Username", Op: "eq", Value: "jdoe@acme.com.uat"}},
		{"userName eq an email", m, `userName eq "Alice@Other.org"`, Compare{Field: "Username", Op: "eq", Value: "Alice@Other.org.uat"}},
		{"userName sw untouched", m, `userName sw "jd"`, Compare{Field: "Username", Op: "sw", Value: "jd"}},
		{"userName ew gets the suffix", m, `userName ew "@acme.com"`, Compare{Field: "Username", Op: "ew", Value: "@acme.com.uat"}},
		{"attribute names are case-insensitive", nil, `USERNAME eq "a@b.co"`, Compare{Field: "Username", Op: "eq", Value: "a@b.co"}},
		{"injection-looking value stays a plain value", nil, `userName eq "a' OR Id != null"`,
			Compare{Field: "Username", Op: "eq", Value: "a' OR Id != null"}},
		{"externalId is case-exact", nil, `externalId eq "X1"`, Compare{Field: "FederationIdentifier", Op: "eq", Value: "X1", CaseExact: true}},
		{"custom externalId field", custom, `externalId eq "X1"`, Compare{Field: "Employee_Key__c", Op: "eq", Value: "X1", CaseExact: true}},
		{"id eq", nil, `id eq "005000000000001AAA"`, Compare{Field: "Id", Op: "eq", Value: "005000000000001AAA"}},
		{"id eq a malformed id matches nothing", nil, `id eq "nope' OR 1=1"`, Nothing{}},
		{"id ne a malformed id matches everything", nil, `id ne "nope"`, Present{Field: "Id"}},
		{"ne", nil, `title ne "CEO"`, Compare{Field: "Title", Op: "ne", Value: "CEO"}},
		{"co: displayName reads as Name", nil, `displayName co "ali"`, Compare{Field: "Name", Op: "co", Value: "ali"}},
		{"sw", nil, `name.familyName sw "Sm"`, Compare{Field: "LastName", Op: "sw", Value: "Sm"}},
		{"ew", nil, `name.givenName ew "ce"`, Compare{Field: "FirstName", Op: "ew", Value: "ce"}},
		{"gt", nil, `title gt "A"`, Compare{Field: "Title", Op: "gt", Value: "A"}},
		{"ge", nil, `title ge "A"`, Compare{Field: "Title", Op: "ge", Value: "A"}},
		{"lt", nil, `title lt "A"`, Compare{Field: "Title", Op: "lt", Value: "A"}},
		{"le", nil, `title le "A"`, Compare{Field: "Title", Op: "le", Value: "A"}},
		{"pr", nil, `title pr`, Present{Field: "Title"}},
		{"meta.lastModified gt", nil, `meta.lastModified gt "2024-01-02T03:04:05Z"`, Compare{Field: "LastModifiedDate", Op: "gt", Value: when}},
		{"meta.created le", nil, `meta.created le "2024-01-02T04:04:05+01:00"`, Compare{Field: "CreatedDate", Op: "le", Value: when}},
		{"active eq", nil, `active eq true`, ActiveIs{Value: true}},
		{"active ne", nil, `active ne true`, ActiveIs{Value: false}},
		{"enterprise attribute, URN-prefixed", nil, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D"`,
			Compare{Field: "Department", Op: "eq", Value: "R&D"}},
		{"enterprise manager.value", nil, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "005000000000001AAA"`,
			Compare{Field: "ManagerId", Op: "eq", Value: "005000000000001AAA"}},
		{"core URN prefix", nil, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@b.co"`, Compare{Field: "Username", Op: "eq", Value: "a@b.co"}},
		{"emails value path as rewritten by the server", nil, `emails[type eq "work" and value eq "x@acme.com"]`,
			Compare{Field: "Email", Op: "eq", Value: "x@acme.com"}},
		{"emails dotted form", nil, `emails.value eq "x@acme.com"`, Compare{Field: "Email", Op: "eq", Value: "x@acme.com"}},
		{"emails without sub-attribute", nil, `emails co "@acme.com"`, Compare{Field: "Email", Op: "co", Value: "@acme.com"}},
		{"emails of a type nothing maps", nil, `emails[type eq "home" and value eq "x@y.z"]`, Nothing{}},
		{"emails primary", nil, `emails[primary eq true and value ew "acme.com"]`, Compare{Field: "Email", Op: "ew", Value: "acme.com"}},
		{"phone value path", nil, `phoneNumbers[type eq "mobile" and value eq "+1"]`, Compare{Field: "MobilePhone", Op: "eq", Value: "+1"}},
		{"phone of any type", nil, `phoneNumbers.value eq "+1"`,
			Or{Conds: []Cond{Compare{Field: "Phone", Op: "eq", Value: "+1"}, Compare{Field: "MobilePhone", Op: "eq", Value: "+1"}}}},
		{"element exists", nil, `phoneNumbers[type eq "mobile"]`, Present{Field: "MobilePhone"}},
		{"ne inside a value path needs the element", nil, `phoneNumbers[type eq "work" and value ne "+1"]`,
			And{Conds: []Cond{Present{Field: "Phone"}, Compare{Field: "Phone", Op: "ne", Value: "+1"}}}},
		{"address value path", nil, `addresses[type eq "work" and locality eq "Paris"]`, Compare{Field: "City", Op: "eq", Value: "Paris"}},
		{"groups value path", nil, `groups[value eq "0PS000000000001AAA"]`, MemberOf{GroupID: "0PS000000000001AAA"}},
		{"groups.value", nil, `groups.value eq "0PS000000000001AAA"`, MemberOf{GroupID: "0PS000000000001AAA"}},
		{"permissionSets.value", nil, `urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:permissionSets.value eq "Sales_Ops"`,
			MemberOf{GroupID: "Sales_Ops"}},
		{"profile by name", nil, `urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:profile eq "Standard User"`,
			Compare{Field: "Profile.Name", Op: "eq", Value: "Standard User"}},
		{"profile by id", nil, `urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:profile eq "00e000000000001AAA"`,
			Compare{Field: "ProfileId", Op: "eq", Value: "00e000000000001AAA"}},
		{"unmapped attribute is absent", nil, `name.middleName eq "Q"`, Nothing{}},
		{"unmapped attribute ne", nil, `name.middleName ne "Q"`, Present{Field: "Id"}},
		{"and binds tighter than or", nil, `userName eq "a@b.co" or title eq "x" and active eq false`,
			Or{Conds: []Cond{Compare{Field: "Username", Op: "eq", Value: "a@b.co"},
				And{Conds: []Cond{Compare{Field: "Title", Op: "eq", Value: "x"}, ActiveIs{Value: false}}}}}},
		{"parentheses", nil, `(userName eq "a@b.co" or title eq "x") and active eq false`,
			And{Conds: []Cond{Or{Conds: []Cond{Compare{Field: "Username", Op: "eq", Value: "a@b.co"}, Compare{Field: "Title", Op: "eq", Value: "x"}}},
				ActiveIs{Value: false}}}},
		{"not", nil, `not (title pr)`, Not{Cond: Present{Field: "Title"}}},
		{"Entra and", nil, `userName eq "a@b.co" and externalId eq "e"`,
			And{Conds: []Cond{Compare{Field: "Username", Op: "eq", Value: "a@b.co"}, Compare{Field: "FederationIdentifier", Op: "eq", Value: "e", CaseExact: true}}}},
		{"a constant inside and disappears", nil, `id eq "bad" and title pr`, Nothing{}},
		{"pr on a singular complex attribute", nil, `name pr`,
			Or{Conds: []Cond{Present{Field: "FirstName"}, Present{Field: "LastName"}}}},
		{"pr on the enterprise manager", nil, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr`, Present{Field: "ManagerId"}},
		{"pr on addresses, which have no value sub-attribute", nil, `addresses pr`,
			Or{Conds: []Cond{Present{Field: "Street"}, Present{Field: "City"}, Present{Field: "State"}, Present{Field: "PostalCode"}, Present{Field: "Country"}}}},
		{"not pr on a complex attribute", nil, `not (name pr)`,
			Not{Cond: Or{Conds: []Cond{Present{Field: "FirstName"}, Present{Field: "LastName"}}}}},
		{"number value", custom, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 42`,
			Compare{Field: "EmployeeNumber", Op: "eq", Value: 42.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mp := tt.mapper
			if mp == nil {
				mp = newMapper(t, UserMappingConfig{})
			}
			got, err := mp.Filter(parseFilter(t, tt.filter))
			if err != nil {
				t.Fatalf("Filter(%s): %v", tt.filter, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Filter(%s) mismatch (-want +got):\n%s", tt.filter, diff)
			}
		})
	}
}

func TestFilterRejects(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{})
	for _, f := range []string{
		`favouriteColour eq "red"`,
		`password eq "x"`,
		`active co "t"`,
		`active eq "maybe"`,
		`title co true`,
		`name eq "x"`,
		`groups[display eq "Sales"]`,
		`groups.display eq "Sales"`,
		`urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:frozen eq true`,
		`meta.lastModified gt "yesterday"`,
		`meta.version eq "x"`,
		`id co "005"`,
		`title[value eq "x"]`,
		`emails[nickname eq "x"]`,
		`emails[type eq "work" and value eq "x"] or bogus pr`,
		`title eq true`,
		`title eq null`,
		`emails[type eq "work" and value eq false]`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department ne true`,
		`name.givenName eq true`,
	} {
		_, err := m.Filter(parseFilter(t, f))
		if kindOf(err) != KindInvalidFilter {
			t.Errorf("Filter(%s) error = %v; want KindInvalidFilter", f, err)
		}
	}
}

func TestSortField(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{})
	for in, want := range map[string]string{
		"":                   "",
		"userName":           "Username",
		"id":                 "Id",
		"name.familyName":    "LastName",
		"emails":             "Email",
		"emails.value":       "Email",
		"meta.lastModified":  "LastModifiedDate",
		"displayName":        "Name", // displayName reads as Name
		"meta.created":       "CreatedDate",
		"externalId":         "FederationIdentifier",
		"phoneNumbers.value": "Phone",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Department",
	} {
		got, err := m.SortField(in)
		if err != nil || got != want {
			t.Errorf("SortField(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"active", "groups", "name", "addresses.streetAddress", "name.middleName", "nope", "a b"} {
		if _, err := m.SortField(in); kindOf(err) != KindInvalidValue {
			t.Errorf("SortField(%q) error = %v; want KindInvalidValue", in, err)
		}
	}
}

func TestGroupFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter string
		want   Cond
	}{
		{`displayName eq "Sales"`, Compare{Field: "Label", Op: "eq", Value: "Sales"}},
		{`displayName ne "Sales"`, Compare{Field: "Label", Op: "ne", Value: "Sales"}},
		{`DisplayName co "al"`, Compare{Field: "Label", Op: "co", Value: "al"}},
		{`displayName sw "S"`, Compare{Field: "Label", Op: "sw", Value: "S"}},
		{`displayName ew "s"`, Compare{Field: "Label", Op: "ew", Value: "s"}},
		{`displayName pr`, Present{Field: "Label"}},
		{`id eq "0PS000000000001AAA"`, Compare{Field: "Id", Op: "eq", Value: "0PS000000000001AAA"}},
		{`id eq "x"`, Nothing{}},
		{`externalId eq "Sales_Ops"`, Compare{Field: "Name", Op: "eq", Value: "Sales_Ops", CaseExact: true}},
		{`members[value eq "005000000000001AAA"]`, HasMember{UserID: "005000000000001AAA"}},
		{`members.value eq "005000000000001AAA"`, HasMember{UserID: "005000000000001AAA"}},
		{`meta.lastModified ge "2024-01-02T03:04:05Z"`, Compare{Field: "LastModifiedDate", Op: "ge", Value: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{`urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x"`, Compare{Field: "Label", Op: "eq", Value: "x"}},
		{`displayName eq "a" and not (members[value eq "005000000000001AAA"] or displayName eq "b")`,
			And{Conds: []Cond{Compare{Field: "Label", Op: "eq", Value: "a"},
				Not{Cond: Or{Conds: []Cond{HasMember{UserID: "005000000000001AAA"}, Compare{Field: "Label", Op: "eq", Value: "b"}}}}}}},
		{`displayName eq "x' OR Name != null"`, Compare{Field: "Label", Op: "eq", Value: "x' OR Name != null"}},
	}
	for _, tt := range tests {
		got, err := GroupFilter(parseFilter(t, tt.filter))
		if err != nil {
			t.Errorf("GroupFilter(%s): %v", tt.filter, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("GroupFilter(%s) mismatch (-want +got):\n%s", tt.filter, diff)
		}
	}
	for _, f := range []string{`description eq "x"`, `members.display eq "x"`, `members[display eq "x"]`, `members ne "x"`, `displayName[value eq "x"]`} {
		if _, err := GroupFilter(parseFilter(t, f)); kindOf(err) != KindInvalidFilter {
			t.Errorf("GroupFilter(%s) error = %v; want KindInvalidFilter", f, err)
		}
	}
}

func TestGroupSortField(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "displayName": "Label", "id": "Id", "externalId": "Name", "meta.lastModified": "LastModifiedDate"} {
		if got, err := GroupSortField(in); err != nil || got != want {
			t.Errorf("GroupSortField(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := GroupSortField("members"); kindOf(err) != KindInvalidValue {
		t.Errorf("GroupSortField(members) error = %v; want KindInvalidValue", err)
	}
}
