package salesforce

import (
	"strings"
	"testing"
)

// must returns v, panicking on err: for test tables that name policies by their configuration word.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPoliciesParseTheirConfigurationWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		word  string
		parse func(string) (string, error)
		want  string // the word String gives back; "" = refused
	}{
		{"", stringOf(ParseMembershipMode), "merge"},
		{"merge", stringOf(ParseMembershipMode), "merge"},
		{"overwrite", stringOf(ParseMembershipMode), "overwrite"},
		{"replace", stringOf(ParseMembershipMode), ""},
		{"Overwrite", stringOf(ParseMembershipMode), ""},
		{"", stringOf(ParseDisableAction), "disable"},
		{"disable", stringOf(ParseDisableAction), "disable"},
		{"freeze", stringOf(ParseDisableAction), "freeze"},
		{"delete", stringOf(ParseDisableAction), ""},
		{"", stringOf(ParseGroupSource), "permission_sets"},
		{"permission_set_groups", stringOf(ParseGroupSource), "permission_set_groups"},
		{"both", stringOf(ParseGroupSource), "both"},
		{"roles", stringOf(ParseGroupSource), ""},
	} {
		got, err := tc.parse(tc.word)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("parse(%q) = %s; want an error", tc.word, got)
		case tc.want == "" && !strings.Contains(err.Error(), `not "`+tc.word+`"`):
			t.Errorf("parse(%q) error = %q; want it to quote the word", tc.word, err)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("parse(%q) = %s, %v; want %s", tc.word, got, err, tc.want)
		}
	}
	if _, err := ParseGroupSource("roles"); err == nil || err.Error() != `must be permission_sets, permission_set_groups or both, not "roles"` {
		t.Errorf("ParseGroupSource(roles) error = %v; want the words listed", err)
	}
}

func stringOf[T interface{ String() string }](parse func(string) (T, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		v, err := parse(s)
		return v.String(), err
	}
}
