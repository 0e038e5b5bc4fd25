package scimschema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	entURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	sfURN  = "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User"
)

func TestForPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  UserMappingConfig
		body string
		want UserWrite // Attributes not compared when nil
	}{
		{
			name: "Entra deprovisioning: PascalCase op, string boolean",
			body: `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
			want: UserWrite{Fields: map[string]any{}, Active: ptr(false), Attributes: []string{"active"}},
		},
		{
			name: "Okta deactivation: path-less replace with id in the value",
			body: `{"Operations":[{"op":"replace","value":{"id":"005000000000001AAA","active":false}}]}`,
			want: UserWrite{Fields: map[string]any{}, Active: ptr(false), Attributes: []string{"active"}},
		},
		{
			name: "Entra typical user update",
			body: `{"Operations":[
				{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@acme.com"},
				{"op":"Replace","path":"name.familyName","value":"Jones"},
				{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
				{"op":"Replace","path":"active","value":"True"}]}`,
			want: UserWrite{Fields: map[string]any{"Email": "new@acme.com", "LastName": "Jones", "Department": "Sales"}, Active: ptr(true),
				Attributes: []string{"active", `emails[type eq "work"].value`, "name.familyName", entURN + ":department"}},
		},
		{
			name: "Entra flag mode: path-less replace with dotted and URN-prefixed keys",
			body: `{"Operations":[{"op":"replace","value":{"name.givenName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"X","active":false}}]}`,
			want: UserWrite{Fields: map[string]any{"FirstName": "A", "Department": "X"}, Active: ptr(false),
				Attributes: []string{"active", "name.givenName", entURN + ":department"}},
		},
		{
			name: "path-less add with an extension container and a complex value",
			body: `{"Operations":[{"op":"add","value":{"name":{"givenName":"B"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"division":"D","manager":{"value":"005000000000002AAA"}}}}]}`,
			want: UserWrite{Fields: map[string]any{"FirstName": "B", "Division": "D", "ManagerId": "005000000000002AAA"}},
		},
		{
			name: "Entra manager as a bare string, then removal without value",
			body: `{"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"005000000000003AAA"}]}`,
			want: UserWrite{Fields: map[string]any{"ManagerId": "005000000000003AAA"}},
		},
		{
			name: "remove manager clears ManagerId",
			body: `{"Operations":[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`,
			want: UserWrite{Fields: map[string]any{"ManagerId": nil}, Attributes: []string{entURN + ":manager.value"}},
		},
		{
			name: "manager object value",
			body: `{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"005000000000004AAA","displayName":"Boss"}}]}`,
			want: UserWrite{Fields: map[string]any{"ManagerId": "005000000000004AAA"}},
		},
		{
			name: "typed phone and address paths",
			body: `{"Operations":[
				{"op":"replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555"},
				{"op":"remove","path":"phoneNumbers[type eq \"work\"]"},
				{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Paris"},
				{"op":"add","path":"phoneNumbers[type eq \"fax\"].value","value":"+1 000"}]}`,
			want: UserWrite{Fields: map[string]any{"MobilePhone": "+1 555", "Phone": nil, "City": "Paris"}},
		},
		{
			name: "replace a whole typed address element clears what it omits",
			body: `{"Operations":[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"locality":"Lyon","country":"FR"}}]}`,
			want: UserWrite{Fields: map[string]any{"City": "Lyon", "Country": "FR", "Street": nil, "State": nil, "PostalCode": nil}},
		},
		{
			name: "replace whole multi-valued attributes",
			body: `{"Operations":[
				{"op":"replace","path":"emails","value":[{"value":"x@acme.com","type":"work","primary":true}]},
				{"op":"replace","path":"phoneNumbers","value":[{"value":"+33 1","type":"mobile"}]}]}`,
			want: UserWrite{Fields: map[string]any{"Email": "x@acme.com", "MobilePhone": "+33 1", "Phone": nil}},
		},
		{
			name: "add to a multi-valued attribute sets only what it gives",
			body: `{"Operations":[{"op":"add","path":"phoneNumbers","value":[{"value":"+33 2","type":"work"}]}]}`,
			want: UserWrite{Fields: map[string]any{"Phone": "+33 2"}},
		},
		{
			name: "PingOne-style remove of phone numbers with a value",
			body: `{"Operations":[{"op":"remove","path":"phoneNumbers","value":[{"type":"mobile"}]}]}`,
			want: UserWrite{Fields: map[string]any{"MobilePhone": nil}},
		},
		{
			name: "extension attributes and profile",
			body: `{"Operations":[
				{"op":"replace","path":"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:alias","value":"al"},
				{"op":"replace","path":"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:profile","value":"Chatter Free User"},
				{"op":"replace","path":"nickName","value":"nick"}]}`,
			want: UserWrite{Fields: map[string]any{"Alias": "al"}, Profile: "Chatter Free User",
				Attributes: []string{"nickName", sfURN + ":alias", sfURN + ":profile"}},
		},
		{
			name: "permission sets: add, remove by value and by filter",
			body: `{"Operations":[
				{"op":"add","path":"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:permissionSets","value":[{"value":"A"},{"value":"B"}]},
				{"op":"remove","path":"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:permissionSets","value":[{"value":"C"}]},
				{"op":"remove","path":"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:permissionSets[value eq \"B\"]"}]}`,
			want: UserWrite{Fields: map[string]any{}, PermissionSets: &MemberChange{Add: []string{"A"}, Remove: []string{"C", "B"}},
				Attributes: []string{sfURN + ":permissionSets"}},
		},
		{
			name: "permission sets replace",
			body: `{"Operations":[{"op":"replace","path":"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:permissionSets","value":[{"value":"A"}]}]}`,
			want: UserWrite{Fields: map[string]any{}, PermissionSets: &MemberChange{Replace: true, Add: []string{"A"}}},
		},
		{
			name: "unmapped schema attributes and password are accepted and ignored",
			body: `{"Operations":[{"op":"replace","path":"name.middleName","value":"Q"},{"op":"replace","path":"password","value":"p"},
				{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter","value":"C"}]}`,
			want: UserWrite{Fields: map[string]any{}},
		},
		{
			name: "on_update false is skipped",
			cfg:  UserMappingConfig{Mapping: []MappingEntry{{SCIM: "title", OnUpdate: ptr(false)}}},
			body: `{"Operations":[{"op":"replace","path":"title","value":"T"},{"op":"replace","path":"nickName","value":"D"}]}`,
			want: UserWrite{Fields: map[string]any{"Alias": "D"}, Attributes: []string{"nickName"}, Skipped: []string{"title"}},
		},
		{
			name: "remove of an optional field and of a derived one, which is derived again",
			body: `{"Operations":[{"op":"remove","path":"title"},{"op":"remove","path":"nickName"},{"op":"remove","path":"timezone"}]}`,
			want: UserWrite{Fields: map[string]any{"Title": nil}, Attributes: []string{"nickName", "title"}, Rederive: []string{"Alias"}},
		},
		{
			name: "userName change goes through the transforms",
			cfg:  UserMappingConfig{UsernameDomain: "acme.com"},
			body: `{"Operations":[{"op":"replace","path":"userName","value":"NewName"}]}`,
			want: UserWrite{Fields: map[string]any{"Username": "newname@acme.com"}},
		},
		{
			name: "externalId",
			body: `{"Operations":[{"op":"replace","path":"externalId","value":"abc"}]}`,
			want: UserWrite{Fields: map[string]any{"FederationIdentifier": "abc"}, Attributes: []string{"externalId"}},
		},
		{
			name: "locale normalised against the picklist",
			body: `{"Operations":[{"op":"replace","path":"locale","value":"de-DE"}]}`,
			want: UserWrite{Fields: map[string]any{"LocaleSidKey": "de_DE"}},
		},
		{
			name: "adding a second, non-primary email leaves Email alone",
			body: `{"Operations":[{"op":"add","path":"emails","value":[{"value":"home@example.com","type":"home"}]}]}`,
			want: UserWrite{Fields: map[string]any{}},
		},
		{
			name: "path-less add of a second email leaves Email alone",
			body: `{"Operations":[{"op":"add","value":{"emails":[{"value":"other@example.com"}]}}]}`,
			want: UserWrite{Fields: map[string]any{}},
		},
		{
			name: "adding an email marked primary with Entra's string boolean sets Email",
			body: `{"Operations":[{"op":"Add","path":"emails","value":[{"value":"new@acme.com","type":"home","primary":"True"}]}]}`,
			want: UserWrite{Fields: map[string]any{"Email": "new@acme.com"}},
		},
		{
			name: "removing a non-primary email by value leaves Email alone",
			body: `{"Operations":[{"op":"remove","path":"emails","value":[{"value":"home@example.com","type":"home"}]}]}`,
			want: UserWrite{Fields: map[string]any{}},
		},
		{
			name: "replacing the whole email list with one home email makes it Email",
			body: `{"Operations":[{"op":"replace","path":"emails","value":[{"value":"only@acme.com","type":"home"}]}]}`,
			want: UserWrite{Fields: map[string]any{"Email": "only@acme.com"}},
		},
		{
			name: "whole extension path",
			body: `{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"employeeNumber":42}}]}`,
			want: UserWrite{Fields: map[string]any{"EmployeeNumber": "42"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMapper(t, tt.cfg)
			got, err := m.ForPatch(ops(t, tt.body), testDescribe)
			if err != nil {
				t.Fatalf("ForPatch: %v", err)
			}
			opts := []cmp.Option{}
			if tt.want.Attributes == nil {
				opts = append(opts, cmpopts.IgnoreFields(UserWrite{}, "Attributes"))
			}
			if diff := cmp.Diff(tt.want, got, opts...); diff != "" {
				t.Errorf("ForPatch mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForPatchRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want Kind
	}{
		{"replace groups", `{"Operations":[{"op":"replace","path":"groups","value":[{"value":"0PS000000000001AAA"}]}]}`, KindMutability},
		{"add groups", `{"Operations":[{"op":"add","value":{"groups":[{"value":"x"}]}}]}`, KindMutability},
		{"frozen is read-only", `{"Operations":[{"op":"replace","path":"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:frozen","value":true}]}`, KindMutability},
		{"unknown path", `{"Operations":[{"op":"replace","path":"favouriteColour","value":"red"}]}`, KindInvalidPath},
		{"unknown path-less key", `{"Operations":[{"op":"replace","value":{"favouriteColour":"red"}}]}`, KindInvalidPath},
		{"unknown sub-attribute", `{"Operations":[{"op":"replace","path":"name.nick","value":"x"}]}`, KindInvalidPath},
		{"remove required LastName", `{"Operations":[{"op":"remove","path":"name.familyName"}]}`, KindInvalidValue},
		{"remove whole name", `{"Operations":[{"op":"remove","path":"name"}]}`, KindInvalidValue},
		{"remove userName", `{"Operations":[{"op":"remove","path":"userName"}]}`, KindInvalidValue},
		{"remove work email", `{"Operations":[{"op":"remove","path":"emails[type eq \"work\"].value"}]}`, KindInvalidValue},
		{"remove profile", `{"Operations":[{"op":"remove","path":"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:profile"}]}`, KindInvalidValue},
		{"active not a boolean", `{"Operations":[{"op":"replace","path":"active","value":"maybe"}]}`, KindInvalidValue},
		{"string attribute given an object", `{"Operations":[{"op":"replace","path":"title","value":{"a":1}}]}`, KindInvalidValue},
		{"bad email", `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"nope"}]}`, KindInvalidValue},
		{"control character in a name", `{"Operations":[{"op":"replace","path":"name.givenName","value":"A\u0007"}]}`, KindInvalidValue},
		{"bidi override in a path-less displayName", `{"Operations":[{"op":"replace","value":{"displayName":"\u202eevil"}}]}`, KindInvalidValue},
		{"remove without path", `{"Operations":[{"op":"remove"}]}`, KindNoTarget},
		{"replace with a value filter that can match nothing", `{"Operations":[{"op":"replace","path":"emails[type eq \"nonesuch\"].value","value":"x@example.com"}]}`, KindNoTarget},
		{"unknown op", `{"Operations":[{"op":"move","path":"title"}]}`, KindInvalidSyntax},
		{"unsupported value filter", `{"Operations":[{"op":"replace","path":"emails[value eq \"a@b.c\"].value","value":"x@y.z"}]}`, KindInvalidPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMapper(t, UserMappingConfig{})
			_, err := m.ForPatch(ops(t, tt.body), testDescribe)
			if got := kindOf(err); got != tt.want {
				t.Errorf("ForPatch error = %v (kind %d); want kind %d", err, got, tt.want)
			}
		})
	}
}

func TestForPatchRequiredFalseAllowsRemoval(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{Mapping: []MappingEntry{{SCIM: "name.familyName", Required: ptr(false)}}})
	got, err := m.ForPatch(ops(t, `{"Operations":[{"op":"remove","path":"name.familyName"}]}`), UserDescribe{})
	if err != nil {
		t.Fatalf("ForPatch: %v", err)
	}
	if diff := cmp.Diff(map[string]any{}, got.Fields); diff != "" {
		t.Errorf("Fields mismatch (-want +got):\n%s", diff)
	}
}

// Entra's default mappings replace canonical types the bridge does not store (a fax number): that is
// accepted and ignored, not noTarget.
func TestForPatchReplaceOfUnmappedCanonicalTypeIsIgnored(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{})
	got, err := m.ForPatch(ops(t, `{"Operations":[{"op":"Replace","path":"phoneNumbers[type eq \"fax\"].value","value":"+1 555"}]}`), testDescribe)
	if err != nil {
		t.Fatalf("ForPatch: %v", err)
	}
	if len(got.Fields) != 0 {
		t.Errorf("ForPatch wrote %v; want nothing", got.Fields)
	}
}
