package robustness

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// filterAttributes are the filterable attributes of Users and the JSON type of their values.
var filterAttributes = []struct{ path, kind string }{
	{"userName", "string"},
	{"externalId", "string"},
	{"displayName", "string"},
	{"title", "string"},
	{"name.givenName", "string"},
	{"name.familyName", "string"},
	{"emails.value", "string"},
	{`emails[type eq "work"].value`, "string"},
	{"id", "string"},
	{harness.EnterpriseURN + ":department", "string"},
	{harness.EnterpriseURN + ":manager.value", "string"},
	{"active", "bool"},
	{"meta.lastModified", "dateTime"},
	{"meta.created", "dateTime"},
}

var compareOps = []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}

// TestFilterWrongValueTypes compares every filterable attribute with every operator against values of
// the wrong type: each is 400 invalidFilter, never a 5xx or a Salesforce error.
func TestFilterWrongValueTypes(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	for _, attr := range filterAttributes {
		var wrong []string
		switch attr.kind {
		case "string":
			wrong = []string{"5", "true", "2020-01-01T00:00:00Z"}
		case "bool":
			wrong = []string{`"yes"`, "5", `"MARK"`}
		case "dateTime":
			wrong = []string{"5", "true", `"MARK"`}
		}
		for _, compare := range compareOps {
			for _, value := range wrong {
				t.Run(fmt.Sprintf("%s %s %s", attr.path, compare, value), func(t *testing.T) {
					t.Parallel()
					if strings.Contains(value, "MARK") {
						value = strings.ReplaceAll(value, "MARK", b.marker("f"))
					}
					f := attr.path + " " + compare + " " + value
					resp := b.do(t, http.MethodGet, "/Users?filter="+url.QueryEscape(f), nil)
					b.check(t, "GET /Users?filter="+f, resp, filter400)
				})
			}
		}
	}
}

// TestFilterOperators runs every operator on every attribute with a value of the right type: each is
// a 200 ListResponse that matches nothing (the values are fresh markers) or 400 invalidFilter for a
// combination the bridge does not support (gt on a boolean, co on an id).
func TestFilterOperators(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	for _, attr := range filterAttributes {
		for _, compare := range append(compareOps, "pr") {
			t.Run(attr.path+" "+compare, func(t *testing.T) {
				t.Parallel()
				var f string
				switch {
				case compare == "pr":
					f = attr.path + " pr"
				case attr.kind == "bool":
					f = attr.path + " " + compare + " false"
				case attr.kind == "dateTime":
					f = attr.path + " " + compare + ` "2001-01-01T00:00:00Z"`
				default:
					f = attr.path + " " + compare + ` "` + b.marker("o") + `"`
				}
				resp := b.do(t, http.MethodGet, "/Users?filter="+url.QueryEscape(f), nil)
				b.check(t, "GET /Users?filter="+f, resp, expect{status: []int{http.StatusOK, http.StatusBadRequest}, scimType: []string{"invalidFilter"}})
				if resp.Status == http.StatusOK {
					checkListResponse(t, "GET /Users?filter="+f, resp)
					if compare == "eq" && attr.kind == "string" && total(resp) != 0 {
						t.Errorf("GET /Users?filter=%s matched %v users; want 0", f, resp.Doc["totalResults"])
					}
				}
			})
		}
	}
}

func checkListResponse(t testing.TB, what string, resp harness.Response) {
	t.Helper()
	if schemas, _ := resp.Doc["schemas"].([]any); len(schemas) != 1 || schemas[0] != harness.ListURN {
		t.Errorf("%s = 200 with schemas %v; want a ListResponse", what, resp.Doc["schemas"])
	}
	if _, ok := resp.Doc["totalResults"].(float64); !ok {
		t.Errorf("%s = 200 without totalResults: %s", what, resp)
	}
}

func total(resp harness.Response) int {
	n, _ := resp.Doc["totalResults"].(float64)
	return int(n)
}

// TestFilterSyntaxAndInjection sends malformed filters, SOQL-injection attempts and huge filters.
func TestFilterSyntaxAndInjection(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	m := b.marker("s")
	ors := make([]string, 500)
	for i := range ors {
		ors[i] = fmt.Sprintf(`userName eq "%s%d@example.com"`, m, i)
	}
	ands := make([]string, 300)
	for i := range ands {
		ands[i] = fmt.Sprintf(`title ne "%s%d"`, m, i)
	}
	noMatch := expect{status: []int{http.StatusOK, http.StatusBadRequest}, scimType: []string{"invalidFilter"}}
	cases := []struct {
		filter string
		want   expect
		// zero: a 200 must match no user (injection attempts and LIKE wildcards are literal).
		zero bool
	}{
		{filter: `(userName eq "` + m + `"`, want: filter400},
		{filter: `userName eq "` + m + `")`, want: filter400},
		{filter: `((userName eq "` + m + `") or (title eq "x")`, want: filter400},
		{filter: `userName eq "` + m, want: filter400},
		{filter: `userName eq ` + m, want: filter400},
		{filter: `userName eq "` + m + `\"`, want: filter400},
		{filter: `userName eq`, want: filter400},
		{filter: `userName`, want: filter400},
		{filter: `eq "` + m + `"`, want: filter400},
		{filter: `and`, want: filter400},
		{filter: `userName eq "` + m + `" and`, want: filter400},
		{filter: `userName eq "` + m + `" or or title eq "x"`, want: filter400},
		{filter: `userName xx "` + m + `"`, want: filter400},
		{filter: `userName eq '` + m + `'`, want: filter400},
		{filter: `not userName eq "` + m + `"`, want: noMatch},
		{filter: `emails[type eq "work"`, want: filter400},
		{filter: `emails[type eq "work"]]`, want: filter400},
		{filter: `emails[]`, want: filter400},
		{filter: `emails[type eq "work" and value[type eq "x"]]`, want: filter400},
		{filter: `emails[value eq "` + m + `"]`, want: noMatch, zero: true},
		{filter: `members[value eq "` + m + `"]`, want: noMatch, zero: true},
		{filter: `members[value eq 1]`, want: filter400},
		{filter: `urn:bad:x:title eq "` + m + `"`, want: noMatch, zero: true},
		{filter: `nope eq "` + m + `"`, want: noMatch, zero: true},
		{filter: `name..givenName eq "` + m + `"`, want: filter400},
		{filter: strings.Repeat("(", 5000) + `userName eq "` + m + `"` + strings.Repeat(")", 5000), want: noMatch, zero: true},
		{filter: strings.Repeat("not (", 2000) + `userName eq "` + m + `"` + strings.Repeat(")", 2000), want: noMatch},
		// SOQL injection and LIKE wildcards.
		{filter: `userName eq "x' OR Username != '"`, want: noMatch, zero: true},
		{filter: `userName eq "x\' OR Username != \'"`, want: noMatch, zero: true},
		{filter: `userName eq "x\\' OR Username != '"`, want: noMatch, zero: true},
		{filter: `externalId eq "' OR ''='"`, want: noMatch, zero: true},
		{filter: `title eq "x') OR (Id != null"`, want: noMatch, zero: true},
		{filter: `displayName eq "x\" or userName pr or title eq \"y"`, want: noMatch, zero: true},
		{filter: `userName co "%"`, want: noMatch, zero: true},
		{filter: `userName sw "%"`, want: noMatch, zero: true},
		{filter: `userName co "_"`, want: noMatch, zero: true},
		{filter: `userName ew "_"`, want: noMatch, zero: true},
		{filter: `userName co "\\"`, want: noMatch, zero: true},
		{filter: `userName co "\\%"`, want: noMatch, zero: true},
		{filter: `userName co "'"`, want: noMatch, zero: true},
		{filter: `userName eq "\u0000"`, want: noMatch, zero: true},
		{filter: `userName eq "x` + "\n" + `OR Id != null"`, want: noMatch, zero: true},
		{filter: `userName eq "😀` + m + `"`, want: noMatch, zero: true},
		// Huge filters.
		{filter: `userName eq "` + m + strings.Repeat("q", 10_000) + `"`, want: noMatch, zero: true},
		{filter: `userName eq "` + m + strings.Repeat("'", 10_000) + `"`, want: noMatch, zero: true},
		{filter: strings.Join(ors, " or "), want: expect{status: []int{http.StatusOK, http.StatusBadRequest}}, zero: true},
		{filter: strings.Join(ands, " and "), want: expect{status: []int{http.StatusOK, http.StatusBadRequest}}},
		{filter: "", want: expect{status: []int{http.StatusOK, http.StatusBadRequest}}},
		{filter: "   ", want: expect{status: []int{http.StatusOK, http.StatusBadRequest}}},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%02d %s", i, harness.Shorten(tc.filter)), func(t *testing.T) {
			t.Parallel()
			what := "GET /Users?filter=" + harness.Shorten(tc.filter)
			resp := b.do(t, http.MethodGet, "/Users?filter="+url.QueryEscape(tc.filter), nil)
			b.check(t, what, resp, tc.want)
			if resp.Status == http.StatusOK {
				checkListResponse(t, what, resp)
				if tc.zero && total(resp) != 0 {
					t.Errorf("%s matched %d users; want 0 (a literal comparison)", what, total(resp))
				}
			}
		})
	}
}

// TestListParameters sends bad pagination, sorting and projection parameters to both lists.
func TestListParameters(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	lenient := expect{status: []int{http.StatusOK, http.StatusBadRequest}}
	queries := []string{
		"startIndex=-1", "startIndex=0", "startIndex=1000000000", "startIndex=99999999999999999999",
		"startIndex=abc", "startIndex=1.5", "startIndex=", "startIndex=1&startIndex=2", "startIndex=%00",
		"count=-5", "count=0", "count=1000000000", "count=99999999999999999999", "count=abc", "count=1e3",
		"count=0x10", "count=", "startIndex=-9223372036854775808&count=9223372036854775807",
		"startIndex=2001&count=2", "startIndex=9223372036854775807&count=9223372036854775807",
		"sortBy=nope", "sortBy=" + url.QueryEscape("userName;DELETE"), "sortBy=urn:bad:x", "sortBy=name..givenName",
		"sortBy=userName&sortOrder=sideways", "sortOrder=descending", "sortBy=" + url.QueryEscape(`emails[type eq "work"]`),
		"sortBy=" + url.QueryEscape("Username DESC, (SELECT Id FROM User)"),
		"attributes=" + url.QueryEscape("%%%"), "attributes=name..givenName", "attributes=urn:bad:",
		"attributes=,,,", "attributes=" + strings.Repeat("a,", 5000), "excludedAttributes=" + url.QueryEscape("[]()"),
		"excludedAttributes=urn:bad:x:y", "attributes=userName&excludedAttributes=userName",
		"filter=%ZZ", "filter=" + url.QueryEscape(`userName eq "a"`) + "&filter=" + url.QueryEscape(`(`),
	}
	for _, resource := range []string{"/Users", "/Groups"} {
		for _, q := range queries {
			t.Run(resource+"?"+harness.Shorten(q), func(t *testing.T) {
				t.Parallel()
				what := "GET " + resource + "?" + harness.Shorten(q)
				resp := b.do(t, http.MethodGet, resource+"?"+q, nil)
				b.check(t, what, resp, lenient)
				if resp.Status == http.StatusOK {
					checkListResponse(t, what, resp)
					if rs, ok := resp.Doc["Resources"]; ok && rs == nil {
						t.Errorf("%s = 200 with Resources null", what)
					}
				}
			})
		}
	}
}

// TestGroupFilters sends wrong-typed and hostile filters to /Groups.
func TestGroupFilters(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	m := b.marker("g")
	noMatch := expect{status: []int{http.StatusOK, http.StatusBadRequest}, scimType: []string{"invalidFilter"}}
	cases := []struct {
		filter string
		want   expect
		zero   bool
	}{
		{filter: `displayName eq 5`, want: filter400},
		{filter: `displayName eq true`, want: filter400},
		{filter: `displayName gt false`, want: filter400},
		{filter: `members[value eq 1]`, want: filter400},
		{filter: `members.value eq 7`, want: filter400},
		{filter: `meta.lastModified gt 5`, want: filter400},
		{filter: `displayName eq "` + m + `' OR Label != '"`, want: noMatch, zero: true},
		{filter: `displayName co "%"`, want: noMatch, zero: true},
		{filter: `displayName sw "_"`, want: noMatch, zero: true},
		{filter: `members[value eq "` + m + `' OR AssigneeId != '"]`, want: noMatch, zero: true},
		{filter: `members[value eq "` + m + `"]`, want: noMatch, zero: true},
		{filter: `externalId eq "` + m + `"`, want: noMatch, zero: true},
		{filter: `displayName eq "` + m + strings.Repeat("x", 10_000) + `"`, want: noMatch, zero: true},
		{filter: `(displayName eq "` + m + `"`, want: filter400},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%02d %s", i, harness.Shorten(tc.filter)), func(t *testing.T) {
			t.Parallel()
			what := "GET /Groups?filter=" + harness.Shorten(tc.filter)
			resp := b.do(t, http.MethodGet, "/Groups?excludedAttributes=members&filter="+url.QueryEscape(tc.filter), nil)
			b.check(t, what, resp, tc.want)
			if resp.Status == http.StatusOK {
				checkListResponse(t, what, resp)
				if tc.zero && total(resp) != 0 {
					t.Errorf("%s matched %d groups; want 0", what, total(resp))
				}
			}
		})
	}
}
