package rest

import "testing"

func TestCanonicalID(t *testing.T) {
	t.Parallel()
	const id = "0PS5g000000000AGAQ" // "0PS5g000000000A" with its case-safe suffix
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"0PS5g000000000A", id, true},
		{id, id, true},
		{"0ps5g000000000agaq", id, true}, // case-folded by an IdP: the suffix restores the case
		{"0PS5G000000000AGAQ", id, true},
		{"0PS5g000000000AZZZ", "", false}, // a suffix that is not this id's: another record, not this one
		{"0pS5G000000000Agaq", "", false}, // the head's case contradicts its suffix
		{"0PS5g000000000A999", "", false}, // not a suffix character
		{"005000000000001", "", false},    // wrong prefix for a permission set
		{"0PS5g000000000", "", false},
		{"0PS5g000000000AG-Q", "", false},
	} {
		got, ok := CanonicalID(tc.in, PrefixPermSet)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CanonicalID(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// A group id whose suffix belongs to no record must not reach the group with the same first 15
// characters, on any method.
