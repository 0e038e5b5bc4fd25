package salesforce

import (
	"encoding/json"
	"strings"
	"testing"
)

type oldUserReadAnswer struct {
	CompositeResponse []struct {
		Body struct {
			Done           bool      `json:"done"`
			Records        []userRow `json:"records"`
			NextRecordsURL string    `json:"nextRecordsUrl"`
		} `json:"body"`
		HTTPStatusCode int    `json:"httpStatusCode"`
		ReferenceID    string `json:"referenceId"`
	} `json:"compositeResponse"`
}

func benchAnswer() []byte {
	psa := `{"attributes":{"type":"PermissionSetAssignment","url":"/services/data/v66.0/sobjects/PermissionSetAssignment/0Pa5g000000000NCAQ"},"Id":"0Pa5g000000000NCAQ","PermissionSetId":"0PS5g0000000007GAA","PermissionSetGroupId":null,"PermissionSet":{"attributes":{"type":"PermissionSet","url":"/services/data/v66.0/sobjects/PermissionSet/0PS5g0000000007GAA"},"Name":"X00e5g0000000006","Label":"Standard User","IsOwnedByProfile":true,"PermissionSetGroupId":null},"PermissionSetGroup":null}`
	row := `{"attributes":{"type":"User","url":"/services/data/v66.0/sobjects/User/0055g000000000LAAQ"},"Id":"0055g000000000LAAQ","Username":"dbg@example.com","IsActive":true,"ProfileId":"00e5g0000000006AAA","CreatedDate":"2026-12-06T11:56:13.989+0000","LastModifiedDate":"2026-12-06T11:56:13.989+0000","SystemModstamp":"2026-12-06T11:56:13.989+0000","UserType":"Standard","Name":"Test","FederationIdentifier":null,"FirstName":null,"LastName":"Test","Email":"dbg@example.com","Alias":"dbg","Title":null,"Phone":null,"MobilePhone":null,"Street":null,"City":null,"State":null,"PostalCode":null,"Country":null,"LanguageLocaleKey":"en_US","LocaleSidKey":"en_US","TimeZoneSidKey":"America/Los_Angeles","EmployeeNumber":null,"Department":null,"Division":null,"CompanyName":null,"ManagerId":null,"EmailEncodingKey":"UTF-8","CommunityNickname":"dbg","PermissionSetAssignments":{"totalSize":3,"done":true,"records":[` + psa + "," + psa + "," + psa + `]}}`
	rows := strings.Repeat(row+",", 7) + row
	login := `{"attributes":{"type":"UserLogin"},"Id":"060000000000001AAA","UserId":"0055g000000000LAAQ","IsFrozen":false}`
	return []byte(`{"compositeResponse":[{"body":{"totalSize":8,"done":true,"records":[` + rows + `]},"httpHeaders":{},"httpStatusCode":200,"referenceId":"users"},{"body":{"totalSize":8,"done":true,"records":[` + strings.Repeat(login+",", 7) + login + `]},"httpHeaders":{},"httpStatusCode":200,"referenceId":"logins"}]}`)
}

func BenchmarkDecodeScan(b *testing.B) {
	a := benchAnswer()
	for range b.N {
		if _, err := decodeUserRead(a); err != nil {
			b.Fatal(err)
		}
	}
}
func BenchmarkDecodeJSONTyped(b *testing.B) {
	a := benchAnswer()
	for range b.N {
		var x oldUserReadAnswer
		if err := json.Unmarshal(a, &x); err != nil {
			b.Fatal(err)
		}
	}
}
func BenchmarkDecodeGeneric(b *testing.B) {
	a := benchAnswer()
	for range b.N {
		subs, err := decodeComposite(a)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range subs {
			q, _ := decodeQuery(s)
			for _, r := range q.Records {
				rowOf(r)
			}
		}
	}
}
func BenchmarkValid(b *testing.B) {
	a := benchAnswer()
	for range b.N {
		json.Valid(a)
	}
}
