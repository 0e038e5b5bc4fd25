package salesforce

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzUserRowDecode holds the hand-written User row scanner to encoding/json: whatever
// encoding/json decodes as an object, the scanner decodes to the same row; whatever it refuses,
// the scanner refuses too. Run longer with
// `go test ./salesforce -run '^$' -fuzz FuzzUserRowDecode -fuzztime 60s`.
func FuzzUserRowDecode(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"Id":}`, `{"Id":"a",}`,
		`{"attributes":{"type":"User"},"Id":"005000000000001AAA","IsActive":true,"Title":null}`,
		`{"FirstName":"Z\u00e9 \"Q\" \\ x \ud83d\ude00","N":-1.5e3,"M":{"a":[1,{"b":null}]},"Esc\u0061ped":"v"}`,
		`{"Id":"1","Id":"2","PermissionSetAssignments":null}`,
		`{"PermissionSetAssignments":{"done":true,"records":[{"Id":"0Pa","PermissionSet":{"Name":"S","IsOwnedByProfile":false}}]}}`,
		`{"PermissionSetAssignments":{"done":false,"nextRecordsUrl":"/q/1","records":[{"Id":"0Pa","PermissionSetGroup":{"DeveloperName":"D"}}]}}`,
		`{"PermissionSetAssignments":{"records":"not a list"}}`,
		"{\"Bad\":\"\xff\"}", "{\"\xff\":null}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var generic map[string]any
		genericErr := json.Unmarshal([]byte(in), &generic)
		got, gotErr := decodeUserRow([]byte(in))
		switch {
		case genericErr != nil:
			if gotErr == nil {
				t.Fatalf("scanner accepted %q, which encoding/json refuses (%v)", in, genericErr)
			}
		case generic == nil: // the JSON literal null
		case gotErr != nil:
			// The scanner may refuse a shape it does not model (the caller then takes the generic
			// path), but only where the row's subquery is not an object of the expected shape.
			if _, ok := generic["PermissionSetAssignments"]; !ok {
				t.Fatalf("scanner refused %q (%v), which encoding/json decodes", in, gotErr)
			}
		default:
			if want := rowOf(generic); !reflect.DeepEqual(got, want) {
				t.Fatalf("scanner decoded %q as\n%#v\nencoding/json as\n%#v", in, got, want)
			}
		}
	})
}
