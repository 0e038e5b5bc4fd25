package salesforce

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// The typed decoding of a User row gives exactly what the generic decoding gives.
func TestUserRowDecodesLikeGenericJSON(t *testing.T) {
	rows := []string{
		`{}`,
		`{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/005"},"Id":"005000000000001AAA","IsActive":true,"Title":null,"PermissionSetAssignments":null}`,
		` { "Id" : "005000000000001AAA" , "FirstName":"Z\u00e9 \"Q\" \\ x", "Count__c": -12.5e1, "Big__c":0, "Flag__c" :false,
		   "Manager":{"Username":"boss@example.com","attributes":{"type":"User"}}, "Tags__c":["a","b]"] , "Esc\u0061ped":"v" } `,
		`{"Id":"005000000000002AAA","PermissionSetAssignments":{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01g-2000",
		  "records":[{"attributes":{"type":"PermissionSetAssignment"},"Id":"0Pa000000000001AAA","PermissionSetId":"0PS000000000001AAA","PermissionSetGroupId":null,
		    "PermissionSet":{"Name":"Sales","Label":"Sales {EU}","IsOwnedByProfile":false,"PermissionSetGroupId":"0PG000000000001AAA"},"PermissionSetGroup":null},
		   {"Id":"0Pa000000000002AAA","PermissionSetId":null,"PermissionSetGroupId":"0PG000000000002AAA","PermissionSet":null,
		    "PermissionSetGroup":{"DeveloperName":"Ops","MasterLabel":"Ops, \"all\""}}]},"Email":"a@example.com"}`,
	}
	for _, in := range rows {
		var generic map[string]any
		if err := json.Unmarshal([]byte(in), &generic); err != nil {
			t.Fatalf("test row %s: %v", in, err)
		}
		want := rowOf(generic)
		got, err := decodeUserRow([]byte(in))
		if err != nil {
			t.Fatalf("typed decoding of %s: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("typed decoding of %s:\n got %#v\nwant %#v", in, got, want)
		}
	}
}

// A malformed row is refused, never half-read.
func TestUserRowRefusesMalformedJSON(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `{"Id":}`, `{"Id":"a" "b":1}`, `{"Id":"a",}`} {
		if r, err := decodeUserRow([]byte(in)); err == nil {
			t.Errorf("%s decoded without an error: %#v", in, r)
		}
	}
}

// A composite answer of two queries decodes as the generic path decodes it; an error list in
// place of a query result, or malformed JSON, is an error (the caller then takes the generic path).
func TestUserReadAnswerDecodesLikeTheGenericPath(t *testing.T) {
	answer := `{"compositeResponse":[{"body":{"totalSize":1,"done":true,"records":[{"attributes":{"type":"User"},"Id":"005000000000001AAA",
	  "Username":"a@example.com","IsActive":true,"PermissionSetAssignments":{"totalSize":1,"done":true,"records":[{"Id":"0Pa000000000001AAA",
	  "PermissionSetId":"0PS000000000001AAA","PermissionSetGroupId":null,"PermissionSet":{"Name":"X","Label":"Y","IsOwnedByProfile":true,"PermissionSetGroupId":null},
	  "PermissionSetGroup":null}]}}]},"httpHeaders":{},"httpStatusCode":200,"referenceId":"users"},
	  {"body":{"totalSize":1,"done":true,"records":[{"attributes":{"type":"UserLogin"},"Id":"060000000000001AAA","UserId":"005000000000001AAA","IsFrozen":true}]},
	  "httpHeaders":{},"httpStatusCode":200,"referenceId":"logins"}]}`
	got, err := decodeUserRead([]byte(answer))
	if err != nil || len(got) != 2 {
		t.Fatalf("decodeUserRead: %d subresponses, %v", len(got), err)
	}
	generic, err := rest.DecodeComposite([]byte(answer))
	if err != nil {
		t.Fatal(err)
	}
	for i, sub := range got {
		q, err := decodeQuery(generic[i])
		if err != nil {
			t.Fatal(err)
		}
		if sub.ref != generic[i].ReferenceID || sub.status != generic[i].Status || sub.done != q.Done || len(sub.records) != len(q.Records) {
			t.Fatalf("subresponse %d: %+v; generic %+v", i, sub, generic[i])
		}
		for j, r := range q.Records {
			if want := rowOf(r); !reflect.DeepEqual(sub.records[j], want) {
				t.Errorf("subresponse %d row %d: %#v; want %#v", i, j, sub.records[j], want)
			}
		}
	}
	for _, bad := range []string{
		`{"compositeResponse":[{"body":[{"errorCode":"MALFORMED_QUERY","message":"x"}],"httpStatusCode":400,"referenceId":"users"}]}`,
		`{"compositeResponse":[{"body":{"records":[{"Id":"a"}]},"httpStatusCode":200,"referenceId":"users"}]`,
		`{"compositeResponse":[{"body":{"records":[{"Id":"a"}]},"httpStatusCode":"200","referenceId":"users"}]}`,
	} {
		if _, err := decodeUserRead([]byte(bad)); err == nil {
			t.Errorf("decodeUserRead(%s) gave no error", bad)
		}
	}
}

// decodeUserRow decodes one User row as the read path's scanner does, after the json.Valid check
// decodeUserRead makes of the whole answer.
func decodeUserRow(d []byte) (userRow, error) {
	var r userRow
	if !json.Valid(d) {
		return r, errMalformedRow
	}
	err := r.decode(&jsonScan{d: string(d)})
	return r, err
}
