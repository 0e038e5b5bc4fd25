package server

import (
	"testing"

	"github.com/scim2/filter-parser/v2"
)

// Entry 8 of the catalogue in scimlib.go.

func TestRewriteFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain filter unchanged", `userName eq "alice@example.com"`, `userName eq "alice@example.com"`},
		{"value path without sub-attribute unchanged", `members[value eq "005x"]`, `members[value eq "005x"]`},
		{"Entra email filter", `emails[type eq "work"].value eq "a@example.com"`, `emails[type eq "work" and value eq "a@example.com"]`},
		{"presence", `emails[type eq "work"].value pr`, `emails[type eq "work" and value pr]`},
		{"operator case kept", `emails[type eq "work"].value EQ "x"`, `emails[type eq "work" and value EQ "x"]`},
		{"non-string value", `addresses[type eq "work"].primary eq true`, `addresses[type eq "work" and primary eq true]`},
		{"or inside is distributed", `emails[type eq "work" or type eq "home"].value eq "x"`,
			`(emails[type eq "work" and value eq "x"] or emails[type eq "home" and value eq "x"])`},
		{"or in a quoted value is not split", `emails[display eq "a or b"].value eq "x"`, `emails[display eq "a or b" and value eq "x"]`},
		{"and binds tighter than the distributed or", `emails[type eq "work" and primary eq true or type eq "home"].value sw "x"`,
			`(emails[type eq "work" and primary eq true and value sw "x"] or emails[type eq "home" and value sw "x"])`},
		{"inside a logical expression", `userName eq "a" and emails[type eq "work"].value co "b" or active eq true`,
			`userName eq "a" and emails[type eq "work" and value co "b"] or active eq true`},
		{"inside parentheses", `not (emails[type eq "work"].value eq "x")`, `not (emails[type eq "work" and value eq "x"])`},
		{"brackets and keywords inside a quoted value", `displayName eq "a[b].c eq \"d\" or x"`, `displayName eq "a[b].c eq \"d\" or x"`},
		{"escaped quote in the bracket expression", `emails[display eq "say \"hi\"]"].value eq "x"`, `emails[display eq "say \"hi\"]" and value eq "x"]`},
		{"escaped quote in the compared value", `emails[type eq "work"].value eq "a\"b" and x pr`, `emails[type eq "work" and value eq "a\"b"] and x pr`},
		{"URN-prefixed attribute", `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value eq "x"`,
			`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work" and value eq "x"]`},
		{"two value paths", `emails[type eq "work"].value eq "x" or phoneNumbers[type eq "mobile"].value eq "1"`,
			`emails[type eq "work" and value eq "x"] or phoneNumbers[type eq "mobile" and value eq "1"]`},
		{"unterminated bracket left alone", `emails[type eq "work"`, `emails[type eq "work"`},
		{"dot without comparison left alone", `emails[type eq "work"].value`, `emails[type eq "work"].value`},
		{"unknown operator left alone", `emails[type eq "work"].value xx "x"`, `emails[type eq "work"].value xx "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rewriteFilter(tt.in); got != tt.want {
				t.Errorf("rewriteFilter(%q) =\n  %q; want\n  %q", tt.in, got, tt.want)
			}
		})
	}
}

// The rewritten forms must be accepted by the filter parser the SCIM library uses.
func TestRewrittenFiltersParse(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`emails[type eq "work"].value eq "a@example.com"`,
		`emails[type eq "work" or type eq "home"].value eq "x"`,
		`not (emails[type eq "work"].value eq "x")`,
	} {
		if _, err := filter.ParseFilter([]byte(rewriteFilter(in))); err != nil {
			t.Errorf("ParseFilter(rewriteFilter(%q)) = %v", in, err)
		}
	}
}

func TestFilterRewriteReachesBackend(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	r := env.do(t, "GET", `/scim/v2/Users?filter=`+queryEscape(`emails[type eq "work"].value eq "a@example.com"`), "")
	if r.status != 200 {
		t.Fatalf("GET /Users with an Entra value-path filter = %d; want 200 (%s)", r.status, r.body)
	}
	vp, ok := env.backend.recorded().query.Filter.(*filter.ValuePath)
	if !ok {
		t.Fatalf("backend filter = %T; want *filter.ValuePath", env.backend.recorded().query.Filter)
	}
	if vp.AttributePath.AttributeName != "emails" {
		t.Errorf("value path attribute = %q; want emails", vp.AttributePath.AttributeName)
	}
	if _, ok := vp.ValueFilter.(*filter.LogicalExpression); !ok {
		t.Errorf("value filter = %T; want the and-expression", vp.ValueFilter)
	}
}
