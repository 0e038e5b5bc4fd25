package scimschema

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestToResource(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{UsernameSuffix: ".uat", Mapping: []MappingEntry{
		{SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", Salesforce: "Cost_Center__c"},
	}})
	u := UserRecord{
		Fields: map[string]any{
			"Id": "005000000000001AAA", "Username": "alice@acme.com.uat", "IsActive": true, "ProfileId": "00e000000000001AAA",
			"CreatedDate": "2024-01-02T03:04:05.000+0000", "LastModifiedDate": "2024-02-03T04:05:06.000+0000",
			"SystemModstamp": "2024-02-03T04:05:06.789+0000", "UserType": "Standard",
			"FederationIdentifier": "fed-1", "FirstName": "Alice", "LastName": "Smith", "Email": "alice@acme.com",
			"Alias": "asmith", "CommunityNickname": "alice", "Title": nil, "Phone": "+1 555", "MobilePhone": "",
			"City": "Springfield", "Country": "US", "Street": nil, "LanguageLocaleKey": "en_US", "LocaleSidKey": "en_US",
			"TimeZoneSidKey": "America/Los_Angeles", "Department": "R&D", "ManagerId": "005000000000009AAA",
			"EmailEncodingKey": "UTF-8", "Cost_Center__c": 1234.0,
		},
		Frozen:      true,
		ProfileName: "Standard User",
		Groups:      []Ref{{ID: "0PS000000000001AAA", Display: "Sales"}},
		GroupsRead:  true,
	}
	want := Resource{
		ID:           "005000000000001AAA",
		ExternalID:   "fed-1",
		Created:      time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		LastModified: time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC),
		Version:      VersionOf("2024-02-03T04:05:06.789+0000", u.Fields, true),
		Attributes: map[string]any{
			"userName":          "alice@acme.com",
			"name":              map[string]any{"givenName": "Alice", "familyName": "Smith"},
			"emails":            []any{map[string]any{"value": "alice@acme.com", "type": "work", "primary": true}},
			"nickName":          "asmith",
			"displayName":       "Alice Smith", // Name
			"phoneNumbers":      []any{map[string]any{"value": "+1 555", "type": "work"}},
			"addresses":         []any{map[string]any{"type": "work", "locality": "Springfield", "country": "US"}},
			"preferredLanguage": "en_US",
			"locale":            "en_US",
			"timezone":          "America/Los_Angeles",
			"active":            false,
			"groups":            []any{map[string]any{"value": "0PS000000000001AAA", "display": "Sales", "type": "direct"}},
			entURN:              map[string]any{"department": "R&D", "manager": map[string]any{"value": "005000000000009AAA"}, "costCenter": "1234"},
			sfURN: map[string]any{"profile": "Standard User", "userType": "Standard", "frozen": true, "alias": "asmith",
				"communityNickname": "alice", "emailEncodingKey": "UTF-8", "federationIdentifier": "fed-1",
				"permissionSets": []any{map[string]any{"value": "0PS000000000001AAA", "display": "Sales"}}},
		},
	}
	if diff := cmp.Diff(want, m.ToResource(u)); diff != "" {
		t.Errorf("ToResource mismatch (-want +got):\n%s", diff)
	}
}

func TestToResourceWithoutAssignmentsOmitsGroups(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{})
	res := m.ToResource(UserRecord{Fields: map[string]any{"Id": "005000000000001AAA", "Username": "a@acme.com", "IsActive": true},
		Groups: []Ref{{ID: "0PS000000000001AAA"}}})
	if _, ok := res.Attributes["groups"]; ok {
		t.Errorf("ToResource without GroupsRead has groups: %v", res.Attributes["groups"])
	}
	if _, ok := res.Attributes[sfURN].(map[string]any)["permissionSets"]; ok {
		t.Errorf("ToResource without GroupsRead has permissionSets")
	}
	if res.Attributes["active"] != true {
		t.Errorf("active = %v; want true", res.Attributes["active"])
	}
}

func TestCreateThenReadRoundTrips(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{UsernameDomain: "acme.com"})
	body := decode(t, `{"userName":"jdoe","name":{"givenName":"John","familyName":"Doe"},"title":"CTO",
		"emails":[{"value":"john@acme.com","type":"work","primary":true}],
		"phoneNumbers":[{"value":"+1","type":"mobile"}]}`)
	w, err := m.ForCreate(body, UserDescribe{})
	if err != nil {
		t.Fatalf("ForCreate: %v", err)
	}
	w.Fields["Id"], w.Fields["IsActive"] = "005000000000001AAA", true
	res := m.ToResource(UserRecord{Fields: w.Fields})
	for _, k := range []string{"userName", "name", "title", "emails", "phoneNumbers"} {
		if diff := cmp.Diff(body[k], res.Attributes[k]); diff != "" {
			t.Errorf("%s after a round trip (-sent +read):\n%s", k, diff)
		}
	}
}

func TestVersionOf(t *testing.T) {
	t.Parallel()
	const stamp = "2024-02-03T04:05:06.000+0000"
	base := map[string]any{"Id": "005000000000001AAA", "LastName": "Smith", "Title": nil}
	v := VersionOf(stamp, base, false)
	if !strings.HasPrefix(v, `W/"`) || !strings.HasSuffix(v, `"`) {
		t.Fatalf("VersionOf = %q; want a weak entity tag", v)
	}
	if VersionOf("", base) != "" {
		t.Error("VersionOf without a stamp is not empty")
	}
	same := map[string]any{"Title": nil, "LastName": "Smith", "Id": "005000000000001AAA",
		"attributes": map[string]any{"type": "User"}, "PermissionSetAssignments": []any{map[string]any{"Id": "0Pa"}}}
	if got := VersionOf(stamp, same, false); got != v {
		t.Errorf("same content in another order, with child rows = %q; want %q", got, v)
	}
	// Salesforce stamps have whole seconds: a change within the same second still changes the version.
	for name, other := range map[string]string{
		"another last name": VersionOf(stamp, map[string]any{"Id": "005000000000001AAA", "LastName": "Smyth", "Title": nil}, false),
		"frozen":            VersionOf(stamp, base, true),
		"another stamp":     VersionOf("2024-02-03T04:05:07.000+0000", base, false),
	} {
		if other == v {
			t.Errorf("%s: version unchanged (%q)", name, v)
		}
	}
}

// BenchmarkVersionOf: an ETag is computed for every resource answered.
func BenchmarkVersionOf(b *testing.B) {
	fields := map[string]any{"Id": "005000000000001AAA", "Username": "alice@example.com", "FirstName": "Alice",
		"LastName": "Smith", "Email": "alice@example.com", "IsActive": true, "Title": nil, "Alias": "asmith",
		"SystemModstamp": "2024-02-03T04:05:06.000+0000", "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
		"attributes": map[string]any{"type": "User"}}
	b.ReportAllocs()
	for b.Loop() {
		VersionOf("2024-02-03T04:05:06.000+0000", fields, false)
	}
}
