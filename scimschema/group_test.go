package scimschema

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestGroupForPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want GroupWrite
	}{
		{"add members", `{"Operations":[{"op":"add","path":"members","value":[{"value":"005A","$ref":null},{"value":"005B"}]}]}`,
			GroupWrite{Members: &MemberChange{Add: []string{"005A", "005B"}}, Attributes: []string{"members"}}},
		{"Entra remove with value list", `{"Operations":[{"op":"Remove","path":"members","value":[{"value":"005A"}]}]}`,
			GroupWrite{Members: &MemberChange{Remove: []string{"005A"}}, Attributes: []string{"members"}}},
		{"Okta and Entra flag mode remove by filter", `{"Operations":[{"op":"remove","path":"members[value eq \"005A\"]"}]}`,
			GroupWrite{Members: &MemberChange{Remove: []string{"005A"}}, Attributes: []string{"members"}}},
		{"remove by or-filter", `{"Operations":[{"op":"remove","path":"members[value eq \"005A\" or value eq \"005B\"]"}]}`,
			GroupWrite{Members: &MemberChange{Remove: []string{"005A", "005B"}}, Attributes: []string{"members"}}},
		{"remove all members", `{"Operations":[{"op":"remove","path":"members"}]}`,
			GroupWrite{Members: &MemberChange{Replace: true, Add: []string{}}, Attributes: []string{"members"}}},
		{"Okta replace members [] empties", `{"Operations":[{"op":"replace","path":"members","value":[]}]}`,
			GroupWrite{Members: &MemberChange{Replace: true, Add: []string{}}, Attributes: []string{"members"}}},
		{"replace members full set", `{"Operations":[{"op":"replace","path":"members","value":[{"value":"005A"}]}]}`,
			GroupWrite{Members: &MemberChange{Replace: true, Add: []string{"005A"}}, Attributes: []string{"members"}}},
		{"Entra replace displayName", `{"Operations":[{"op":"Replace","path":"displayName","value":"New"}]}`,
			GroupWrite{DisplayName: ptr("New"), Attributes: []string{"displayName"}}},
		{"Okta path-less replace with id", `{"Operations":[{"op":"replace","value":{"id":"0PS1","displayName":"Renamed"}}]}`,
			GroupWrite{DisplayName: ptr("Renamed"), Attributes: []string{"displayName"}}},
		{"path-less replace members", `{"Operations":[{"op":"replace","value":{"members":[{"value":"005C"}]}}]}`,
			GroupWrite{Members: &MemberChange{Replace: true, Add: []string{"005C"}}, Attributes: []string{"members"}}},
		{"path-less add members", `{"Operations":[{"op":"ADD","value":{"Members":[{"value":"005C"}]}}]}`,
			GroupWrite{Members: &MemberChange{Add: []string{"005C"}}, Attributes: []string{"members"}}},
		{"add then remove the same member cancels the add", `{"Operations":[{"op":"add","path":"members","value":[{"value":"005A"}]},{"op":"remove","path":"members[value eq \"005A\"]"}]}`,
			GroupWrite{Members: &MemberChange{Remove: []string{"005A"}}, Attributes: []string{"members"}}},
		{"replace then add extends the set", `{"Operations":[{"op":"replace","path":"members","value":[{"value":"005A"}]},{"op":"add","path":"members","value":[{"value":"005B"}]},{"op":"remove","path":"members","value":[{"value":"005A"}]}]}`,
			GroupWrite{Members: &MemberChange{Replace: true, Add: []string{"005B"}}, Attributes: []string{"members"}}},
		{"single member object without list", `{"Operations":[{"op":"add","path":"members","value":{"value":"005A"}}]}`,
			GroupWrite{Members: &MemberChange{Add: []string{"005A"}}, Attributes: []string{"members"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := GroupForPatch(ops(t, tt.body))
			if err != nil {
				t.Fatalf("GroupForPatch: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GroupForPatch mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupForPatchRejects(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]Kind{
		`{"Operations":[{"op":"replace","path":"description","value":"x"}]}`:                KindInvalidPath,
		`{"Operations":[{"op":"remove","path":"displayName"}]}`:                             KindInvalidValue,
		`{"Operations":[{"op":"replace","path":"displayName","value":""}]}`:                 KindInvalidValue,
		`{"Operations":[{"op":"replace","path":"externalId","value":"x"}]}`:                 KindMutability,
		`{"Operations":[{"op":"remove"}]}`:                                                  KindNoTarget,
		`{"Operations":[{"op":"remove","path":"members[display eq \"x\"]"}]}`:               KindInvalidPath,
		`{"Operations":[{"op":"add","path":"members","value":[{"value":true}]}]}`:           KindInvalidValue,
		`{"Operations":[{"op":"replace","path":"members[value eq \"005A\"]","value":"x"}]}`: KindInvalidPath,
	} {
		if _, err := GroupForPatch(ops(t, body)); kindOf(err) != want {
			t.Errorf("GroupForPatch(%s) error = %v; want kind %d", body, err, want)
		}
	}
}

func TestGroupForCreateAndReplace(t *testing.T) {
	t.Parallel()
	body := decode(t, `{"displayName":"Sales","members":[{"value":"005A"},{"value":"005B","display":"Bob"}]}`)
	want := GroupWrite{DisplayName: ptr("Sales"), Members: &MemberChange{Replace: true, Add: []string{"005A", "005B"}}, Attributes: []string{"displayName", "members"}}
	for name, f := range map[string]func(map[string]any) (GroupWrite, error){"GroupForCreate": GroupForCreate, "GroupForReplace": GroupForReplace} {
		got, err := f(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
		}
	}

	got, err := GroupForCreate(decode(t, `{"displayName":"Empty"}`))
	if err != nil || got.Members != nil {
		t.Errorf("GroupForCreate without members = %+v, %v; want Members nil", got, err)
	}
	got, err = GroupForReplace(decode(t, `{"displayName":"Empty"}`))
	if diff := cmp.Diff(&MemberChange{Replace: true, Add: []string{}}, got.Members); err != nil || diff != "" {
		t.Errorf("GroupForReplace without members: %v; Members mismatch (-want +got):\n%s", err, diff)
	}
	if _, err := GroupForCreate(decode(t, `{"members":[]}`)); kindOf(err) != KindInvalidValue {
		t.Errorf("GroupForCreate without displayName error = %v; want KindInvalidValue", err)
	}
}

func TestGroupToResource(t *testing.T) {
	t.Parallel()
	g := GroupRecord{ID: "0PS000000000001AAA", Name: "Sales_Ops", Label: "Sales Ops", Description: "d",
		Created: "2024-01-02T03:04:05.000+0000", LastModified: "2024-02-03T04:05:06.789+0000",
		Members: []Ref{{ID: "005000000000001AAA", Display: "Alice"}, {ID: "005000000000002AAA"}}, MembersRead: true}
	want := Resource{
		ID: "0PS000000000001AAA", ExternalID: "Sales_Ops",
		Created: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), LastModified: time.Date(2024, 2, 3, 4, 5, 6, 789e6, time.UTC),
		Version: VersionOf("2024-02-03T04:05:06.789+0000", map[string]any{"Name": "Sales_Ops", "Label": "Sales Ops", "Description": "d"}),
		Attributes: map[string]any{"displayName": "Sales Ops", "members": []any{
			map[string]any{"value": "005000000000001AAA", "display": "Alice", "type": "User"},
			map[string]any{"value": "005000000000002AAA", "type": "User"}}},
	}
	if diff := cmp.Diff(want, GroupToResource(g)); diff != "" {
		t.Errorf("GroupToResource mismatch (-want +got):\n%s", diff)
	}
	g.MembersRead = false
	if _, ok := GroupToResource(g).Attributes["members"]; ok {
		t.Errorf("GroupToResource without MembersRead has members")
	}
}
