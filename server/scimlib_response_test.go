package server

import (
	"encoding/json"
	"testing"
)

func TestSetTopLevel(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"after nested values and strings that look like the key",
			`{"Resources":[{"displayName":"\"itemsPerPage\":5 }]","n":[1,{"a":"]"}]}],"itemsPerPage":100,"schemas":["x"],"startIndex":1,"totalResults":2}`,
			`{"Resources":[{"displayName":"\"itemsPerPage\":5 }]","n":[1,{"a":"]"}]}],"itemsPerPage":2,"schemas":["x"],"startIndex":1,"totalResults":2}`, true},
		{"first key, spaces", `{ "itemsPerPage" : 100 , "totalResults":0}`, `{ "itemsPerPage" : 2 , "totalResults":0}`, true},
		{"last key", `{"a":null,"itemsPerPage":10}`, `{"a":null,"itemsPerPage":2}`, true},
		{"only nested", `{"Resources":[{"itemsPerPage":3}]}`, "", false},
		{"not an object", `[1,2]`, "", false},
		{"truncated", `{"Resources":[{"a":"b`, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := setTopLevel([]byte(tc.in), "itemsPerPage", []byte("2"))
			if ok != tc.ok || ok && string(out) != tc.want {
				t.Fatalf("setTopLevel(%s) = %s, %v; want %s, %v", tc.in, out, ok, tc.want, tc.ok)
			}
			if ok && !json.Valid(out) {
				t.Errorf("setTopLevel(%s) = %s: not JSON", tc.in, out)
			}
		})
	}
}
