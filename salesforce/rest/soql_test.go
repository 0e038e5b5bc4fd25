package rest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestQueryString(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	tests := []struct {
		name string
		q    *Query
		want string
	}{
		{"plain select", Select("Id", "Username").From("User"),
			"SELECT Id, Username FROM User"},
		{"string literal is quoted", Select("Id").From("User").Where(Eq("Username", "a@b.c")),
			"SELECT Id FROM User WHERE Username = 'a@b.c'"},
		{"quote and backslash are escaped", Select("Id").From("User").Where(Eq("LastName", `O'Brien \ "x"`)),
			`SELECT Id FROM User WHERE LastName = 'O\'Brien \\ \"x\"'`},
		{"control characters are escaped", Select("Id").From("User").Where(Eq("Title", "a\nb\rc\td\be\ff")),
			`SELECT Id FROM User WHERE Title = 'a\nb\rc\td\be\ff'`},
		{"injection attempt stays a literal", Select("Id").From("User").Where(Eq("Username", "x' OR Id != '")),
			`SELECT Id FROM User WHERE Username = 'x\' OR Id != \''`},
		{"bool, int, null", Select("Id").From("User").Where(And(Eq("IsActive", true), Ne("ManagerId", nil), Gt("Age__c", 42))),
			"SELECT Id FROM User WHERE (IsActive = true AND ManagerId != null AND Age__c > 42)"},
		{"datetime is UTC", Select("Id").From("User").Where(Ge("SystemModstamp", at)),
			"SELECT Id FROM User WHERE SystemModstamp >= 2024-01-02T02:04:05Z"},
		{"lt le", Select("Id").From("User").Where(Or(Lt("CreatedDate", at), Le("Id", "005"))),
			"SELECT Id FROM User WHERE (CreatedDate < 2024-01-02T02:04:05Z OR Id <= '005')"},
		{"in with a slice", Select("Id").From("User").Where(In("Id", []string{"a", "b'"})),
			`SELECT Id FROM User WHERE Id IN ('a', 'b\'')`},
		{"not in with values", Select("Id").From("User").Where(NotIn("UserType", "Guest", "CsnOnly")),
			"SELECT Id FROM User WHERE UserType NOT IN ('Guest', 'CsnOnly')"},
		{"like keeps caller's escapes", Select("Id").From("User").Where(Like("Username", LikeEscape(`50%_a\b'`)+"%")),
			`SELECT Id FROM User WHERE Username LIKE '50\%\_a\\b\'%'`},
		{"like escapes a stray backslash", Select("Id").From("User").Where(Like("Username", `a\b%`)),
			`SELECT Id FROM User WHERE Username LIKE 'a\\b%'`},
		{"not", Select("Id").From("User").Where(Not(Eq("IsActive", false))),
			"SELECT Id FROM User WHERE (NOT (IsActive = false))"},
		{"not of a junction", Select("Id").From("User").Where(Not(Or(Eq("A", 1), Eq("B", 2)))),
			"SELECT Id FROM User WHERE (NOT (A = 1 OR B = 2))"},
		{"semi-join", Select("Id").From("User").Where(InQuery("Id",
			Select("AssigneeId").From("PermissionSetAssignment").Where(Eq("PermissionSetId", "0PS000000000001AAA")))),
			"SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId = '0PS000000000001AAA')"},
		{"anti-join", Select("Id").From("User").Where(NotInQuery("Id", Select("UserId").From("UserLogin").Where(Eq("IsFrozen", true)))),
			"SELECT Id FROM User WHERE Id NOT IN (SELECT UserId FROM UserLogin WHERE IsFrozen = true)"},
		{"child subquery, parent path, order, limit, offset",
			Select("Id", "Profile.Name").SubQuery(Select("PermissionSetId").From("PermissionSetAssignments").
				Where(Eq("PermissionSet.IsOwnedByProfile", false))).From("User").
				OrderBy("Username", false).OrderBy("Id", true).Limit(10).Offset(20),
			"SELECT Id, Profile.Name, (SELECT PermissionSetId FROM PermissionSetAssignments WHERE PermissionSet.IsOwnedByProfile = false) FROM User ORDER BY Username ASC, Id DESC LIMIT 10 OFFSET 20"},
		{"count", Select("COUNT()").From("User").Where(Eq("IsActive", true)),
			"SELECT COUNT() FROM User WHERE IsActive = true"},
		{"limit zero", Select("Id").From("User").Limit(0), "SELECT Id FROM User LIMIT 0"},
		{"unsigned and small ints", Select("Id").From("X").Where(And(Eq("A", uint8(7)), Eq("B", int64(-3)))),
			"SELECT Id FROM X WHERE (A = 7 AND B = -3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.q.String()
			if err != nil {
				t.Fatalf("String() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("String() =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestQueryStringRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    *Query
		want string // substring of the error
	}{
		{"field with a space", Select("Id, Password").From("User"), "not a valid name"},
		{"field with a quote", Select("Id").From("User").Where(Eq("Name'", "x")), "not a valid name"},
		{"object injection", Select("Id").From("User WHERE"), "not a valid name"},
		{"order by injection", Select("Id").From("User").OrderBy("Id; DROP", false), "not a valid name"},
		{"leading digit", Select("1Id").From("User"), "not a valid name"},
		{"empty path segment", Select("Profile..Name").From("User"), "not a valid name"},
		{"unsupported value type", Select("Id").From("User").Where(Eq("Amount", 1.5)), "cannot use a float64"},
		{"map value", Select("Id").From("User").Where(Eq("Name", map[string]string{})), "cannot use"},
		{"slice outside In", Select("Id").From("User").Where(Eq("Id", []string{"a"})), "cannot use"},
		{"empty in", Select("Id").From("User").Where(In("Id", []string{})), "at least one value"},
		{"null ordering", Select("Id").From("User").Where(Lt("CreatedDate", nil)), "not a valid comparison"},
		{"empty and", Select("Id").From("User").Where(And()), "at least one condition"},
		{"nil in and", Select("Id").From("User").Where(And(Eq("A", 1), nil)), "nil condition"},
		{"bad nested subquery", Select("Id").From("User").Where(InQuery("Id", Select("x y").From("Z"))), "not a valid name"},
		{"nil subquery", Select("Id").From("User").Where(InQuery("Id", nil)), "nil subquery"},
		{"missing from", Select("Id"), "FROM is missing"},
		{"no fields", Select().From("User"), "at least one field"},
		{"negative limit", Select("Id").From("User").Limit(-1), "negative"},
		{"negative offset", Select("Id").From("User").Offset(-5), "negative"},
		{"bad like field", Select("Id").From("User").Where(Like("a-b", "x")), "not a valid name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.q.String()
			if err == nil {
				t.Fatalf("String() = %q; want an error containing %q", got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("String() error = %q; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLikeEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":  "plain",
		"50%":    `50\%`,
		"a_b":    `a\_b`,
		`c:\dir`: `c:\\dir`,
		"":       "",
	} {
		if got := LikeEscape(in); got != want {
			t.Errorf("LikeEscape(%q) = %q; want %q", in, got, want)
		}
	}
}

// soqlToken is one token of a small SOQL tokenizer used to check query structure: a quoted
// string (kept whole, escapes included), a parenthesis, a comma, an operator or a word.
type soqlToken struct {
	text string
	str  bool
}

// tokenize splits q into tokens; it fails on an unterminated string or a bad escape, which is
// what a SOQL parser would refuse.
func tokenize(t testing.TB, q string) []soqlToken {
	t.Helper()
	var toks []soqlToken
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ':
			i++
		case c == '\'':
			j := i + 1
			for ; ; j++ {
				if j >= len(q) {
					t.Fatalf("unterminated string literal in %q", q)
				}
				if q[j] == '\\' {
					if j+1 >= len(q) || !strings.ContainsRune(`'"\nrtbf%_`, rune(q[j+1])) {
						t.Fatalf("bad escape at %d in %q", j, q)
					}
					j++
					continue
				}
				if q[j] == '\'' {
					break
				}
			}
			toks = append(toks, soqlToken{text: q[i : j+1], str: true})
			i = j + 1
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, soqlToken{text: string(c)})
			i++
		case strings.ContainsRune("=!<>", rune(c)):
			j := i + 1
			for j < len(q) && strings.ContainsRune("=<>", rune(q[j])) {
				j++
			}
			toks = append(toks, soqlToken{text: q[i:j]})
			i = j
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" ()',=!<>", rune(q[j])) {
				j++
			}
			toks = append(toks, soqlToken{text: q[i:j]})
			i = j
		}
	}
	return toks
}

// unquote decodes a SOQL string literal token. In a LIKE pattern \% and \_ stay escaped.
func unquote(t testing.TB, lit string, like bool) string {
	t.Helper()
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := body[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case '%', '_':
			if like {
				b.WriteByte('\\')
			}
			b.WriteByte(e)
		default:
			b.WriteByte(e)
		}
	}
	return b.String()
}

// likeItem is one element of a LIKE pattern as Salesforce reads it: a literal byte or a wildcard.
type likeItem struct {
	lit  byte
	wild byte // '%' or '_' for a wildcard, 0 for a literal
}

func literalMatcher(s string) []likeItem {
	items := make([]likeItem, len(s))
	for i := range len(s) {
		items[i] = likeItem{lit: s[i]}
	}
	return items
}

// likeMatcher reads a LIKE literal token: \% and \_ are literal, bare % and _ are wildcards,
// other escapes as in any string.
func likeMatcher(t testing.TB, lit string) []likeItem {
	t.Helper()
	body := lit[1 : len(lit)-1]
	var items []likeItem
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '%' || c == '_':
			items = append(items, likeItem{wild: c})
		case c == '\\':
			i++
			decoded := unquote(t, "'"+body[i-1:i+1]+"'", false)
			items = append(items, literalMatcher(decoded)...)
		default:
			items = append(items, likeItem{lit: c})
		}
	}
	return items
}

// FuzzSOQLLiteral proves that any string value renders as exactly one string token that decodes
// back to the value, whatever quotes, backslashes or keywords it holds.
func FuzzSOQLLiteral(f *testing.F) {
	for _, s := range []string{"", "a", "'", `\`, `\'`, "' OR Id != '", "x') OR (Id = 'y", "\n\r\t\b\f", `"`, "%_", "é✓", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Select("Id").From("User").Where(Eq("Username", s)).String()
		if err != nil {
			t.Fatalf("String() error = %v", err)
		}
		toks := tokenize(t, q)
		// SELECT Id FROM User WHERE Username = '…'
		if len(toks) != 8 || !toks[7].str {
			t.Fatalf("query %q has tokens %v; want 8 ending in one string", q, toks)
		}
		if got := unquote(t, toks[7].text, false); got != s {
			t.Fatalf("literal decodes to %q; want %q", got, s)
		}
	})
}

// FuzzQueryStructure builds a query with several string values in comparisons, IN lists and a
// LIKE pattern and checks that the number of top-level tokens and their kinds never change.
func FuzzQueryStructure(f *testing.F) {
	f.Add("a", "b", "c")
	f.Add("'", `\`, "%")
	f.Add("') OR (1=1", "x' AND Name != '", `\\'`)
	f.Add("SELECT", ")", "(")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		q, err := Select("Id", "Username").From("User").Where(And(
			Eq("Username", a),
			Or(In("Email", a, b), Not(Like("LastName", LikeEscape(c)+"%"))),
			InQuery("Id", Select("AssigneeId").From("PermissionSetAssignment").Where(Ne("PermissionSetId", b))),
		)).OrderBy("Id", false).Limit(5).String()
		if err != nil {
			t.Fatalf("String() error = %v", err)
		}
		toks := tokenize(t, q)
		var shape strings.Builder
		var strs []string
		for _, tk := range toks {
			if tk.str {
				shape.WriteString("S ")
				strs = append(strs, tk.text)
			} else {
				shape.WriteString(tk.text + " ")
			}
		}
		const want = "SELECT Id , Username FROM User WHERE ( Username = S AND ( Email IN ( S , S ) OR ( NOT ( LastName LIKE S ) ) ) AND Id IN ( SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId != S ) ) ORDER BY Id ASC LIMIT 5 "
		if shape.String() != want {
			t.Fatalf("query %q has shape\n  %s\nwant\n  %s", q, shape.String(), want)
		}
		for i, want := range []string{a, a, b} {
			if got := unquote(t, strs[i], false); got != want {
				t.Fatalf("literal %d decodes to %q; want %q", i, got, want)
			}
		}
		if got, want := likeMatcher(t, strs[3]), append(literalMatcher(c), likeItem{wild: '%'}); !slices.Equal(got, want) {
			t.Fatalf("LIKE pattern %s matches %v; want %q followed by %%", strs[3], got, c)
		}
		if utf8.ValidString(a) && utf8.ValidString(b) && utf8.ValidString(c) && !utf8.ValidString(q) {
			t.Fatalf("valid UTF-8 input produced invalid UTF-8 query %q", q)
		}
	})
}

// An inline list never holds more than 500 values (a real org may answer MALFORMED_QUERY; the
// strict emulator does): longer lists become several, joined so that they mean the same.
func TestLongInListsAreSplitAt500(t *testing.T) {
	ids := make([]string, 1201)
	for i := range ids {
		ids[i] = fmt.Sprintf("005%012dAAA", i)
	}
	for _, tc := range []struct {
		cond       Cond
		join, op   string
		wantGroups int
	}{
		{In("Id", ids), " OR ", "Id IN (", 3},
		{NotIn("Id", ids), " AND ", "Id NOT IN (", 3},
	} {
		q, err := Select("Id").From("User").Where(tc.cond).String()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(q, tc.op); got != tc.wantGroups {
			t.Errorf("%d lists in %.80q…; want %d", got, q, tc.wantGroups)
		}
		if got := strings.Count(q, tc.join); got != tc.wantGroups-1 {
			t.Errorf("%d %q joins; want %d", got, tc.join, tc.wantGroups-1)
		}
		for _, part := range strings.Split(q, tc.op)[1:] {
			list, _, _ := strings.Cut(part, ")")
			if n := strings.Count(list, ",") + 1; n > 500 {
				t.Errorf("a list of %d values", n)
			}
		}
		for _, id := range []string{ids[0], ids[500], ids[1200]} {
			if !strings.Contains(q, "'"+id+"'") {
				t.Errorf("%s missing", id)
			}
		}
	}
	q, _ := Select("Id").From("User").Where(In("Id", ids[:500])).String()
	if q != "SELECT Id FROM User WHERE Id IN ('"+strings.Join(ids[:500], "', '")+"')" {
		t.Errorf("500 values are one list: %.120q…", q)
	}
}
