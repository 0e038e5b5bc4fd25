package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// filterCase is one filter over the fixture users alice, bob and carol and the fixture names it
// must select. The filter is built at run time from the run's fixture values.
type filterCase struct {
	name   string
	filter func(s *suite) string
	want   []string
}

func filterCases() []filterCase {
	un := func(s *suite, n string) string { return s.fixtureUsers()[n].userName }
	pop := func(s *suite) string { return fmt.Sprintf("userName sw %q", s.prefix+"f-") }
	return []filterCase{
		{"RFC7644-3.4.2.2/filter-eq-userName", func(s *suite) string { return fmt.Sprintf("userName eq %q", un(s, "alice")) }, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-eq-id", func(s *suite) string { return fmt.Sprintf("id eq %q", s.users["alice"]) }, []string{"alice"}},
		{"RFC7643-4.1.1/filter-userName-caseInsensitive-value", func(s *suite) string {
			return fmt.Sprintf("userName eq %q", strings.ToUpper(un(s, "alice")))
		}, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-attribute-name-caseInsensitive", func(s *suite) string { return fmt.Sprintf("USERNAME eq %q", un(s, "alice")) }, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-operator-caseInsensitive", func(s *suite) string { return fmt.Sprintf("userName EQ %q", un(s, "alice")) }, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-ne", func(s *suite) string { return fmt.Sprintf("%s and userName ne %q", pop(s), un(s, "alice")) }, []string{"bob", "carol"}},
		{"RFC7644-3.4.2.2/filter-co", func(s *suite) string { return fmt.Sprintf("userName co %q", s.run+"-f-ali") }, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-sw", pop, []string{"alice", "bob", "carol"}},
		{"RFC7644-3.4.2.2/filter-ew", func(s *suite) string { return fmt.Sprintf("userName ew %q", s.run+"-f-carol@example.com") }, []string{"carol"}},
		{"RFC7644-3.4.2.2/filter-gt", func(s *suite) string { return fmt.Sprintf("%s and userName gt %q", pop(s), un(s, "bob")) }, []string{"carol"}},
		{"RFC7644-3.4.2.2/filter-ge", func(s *suite) string { return fmt.Sprintf("%s and userName ge %q", pop(s), un(s, "bob")) }, []string{"bob", "carol"}},
		{"RFC7644-3.4.2.2/filter-lt", func(s *suite) string { return fmt.Sprintf("%s and userName lt %q", pop(s), un(s, "bob")) }, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-le", func(s *suite) string { return fmt.Sprintf("%s and userName le %q", pop(s), un(s, "bob")) }, []string{"alice", "bob"}},
		{"RFC7644-3.4.2.2/filter-pr", func(s *suite) string { return pop(s) + " and title pr" }, []string{"alice", "bob"}},
		{"RFC7644-3.4.2.2/filter-complex-subattribute", func(s *suite) string { return pop(s) + ` and name.familyName eq "Young"` }, []string{"bob"}},
		{"RFC7644-3.4.2.2/filter-multivalued-subattribute", func(s *suite) string {
			return fmt.Sprintf("emails.value eq %q", s.fixtureUsers()["alice"].email)
		}, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-value-path", func(s *suite) string {
			return fmt.Sprintf(`emails[type eq "work" and value eq %q]`, s.fixtureUsers()["alice"].email)
		}, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-boolean", func(s *suite) string { return pop(s) + " and active eq true" }, []string{"alice", "bob", "carol"}},
		{"RFC7644-3.4.2.2/filter-dateTime-gt", func(s *suite) string { return pop(s) + ` and meta.lastModified gt "2000-01-01T00:00:00Z"` }, []string{"alice", "bob", "carol"}},
		{"RFC7644-3.4.2.2/filter-and-binds-tighter-than-or", func(s *suite) string {
			// and before or: Engineer ∪ (bob ∩ nobody) = {alice}; left to right would give {}.
			return fmt.Sprintf("title eq %q or userName eq %q and title eq %q", s.run+" Engineer", un(s, "bob"), s.run+" Nobody")
		}, []string{"alice"}},
		{"RFC7644-3.4.2.2/filter-parentheses", func(s *suite) string {
			// (Engineer ∪ bob) ∩ Designer = {bob}; without the parentheses it would be {alice, bob}.
			return fmt.Sprintf("(title eq %q or userName eq %q) and title eq %q", s.run+" Engineer", un(s, "bob"), s.run+" Designer")
		}, []string{"bob"}},
		{"RFC7644-3.4.2.2/filter-not", func(s *suite) string { return fmt.Sprintf("%s and not (userName eq %q)", pop(s), un(s, "alice")) }, []string{"bob", "carol"}},
		{"RFC7643-3.1/filter-externalId-eq", func(s *suite) string { return fmt.Sprintf("externalId eq %q", s.fixtureUsers()["alice"].externalID) }, []string{"alice"}},
		{"RFC7643-3.1/filter-externalId-caseExact", func(s *suite) string {
			// externalId is caseExact: a value differing only in case matches nothing.
			return fmt.Sprintf("externalId eq %q", strings.ToLower(s.fixtureUsers()["alice"].externalID))
		}, nil},
		{"RFC7644-3.4.2/filter-no-match-200-empty", func(s *suite) string { return fmt.Sprintf("userName eq %q", s.prefix+"nobody@example.com") }, nil},
	}
}

func filterChecks() []check {
	var out []check
	for _, fc := range filterCases() {
		out = append(out, check{name: fc.name, fn: func(c *C) { c.runFilter(fc) }})
	}
	out = append(out,
		check{name: "RFC7644-3.4.2.2/filter-invalid-400", fn: (*C).invalidFilter},
		check{name: "RFC7644-3.4.3/search-via-POST", fn: (*C).searchViaPost},
	)
	return out
}

func (c *C) runFilter(fc filterCase) {
	c.requireCaps("filter")
	for _, n := range []string{"alice", "bob", "carol"} {
		c.user(n)
	}
	f := fc.filter(c.s)
	l := c.wantList(c.get("/Users", url.Values{"filter": {f}}))
	c.wantFixtures(l, "filter "+f, fc.want...)
}

// wantFixtures checks that a list holds exactly the named fixture users, in any order.
func (c *C) wantFixtures(l list, what string, names ...string) {
	var want []string
	for _, n := range names {
		want = append(want, c.s.users[n])
	}
	got := l.ids()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || l.total != len(want) {
		c.Errorf("%s: got %d of totalResults %d %v; want %v (%v)", what, len(got), l.total, c.names(got), names, want)
	}
}

// names maps ids back to fixture names for readable failures.
func (c *C) names(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		for n, fid := range c.s.users {
			if fid == id {
				out[i] = n
			}
		}
	}
	return out
}

func (c *C) invalidFilter() {
	c.requireCaps("filter")
	r := c.get("/Users", url.Values{"filter": {`userName qq "x"`}})
	c.wantError(r, http.StatusBadRequest, "invalidFilter")
}

// searchViaPost is RFC 7644 §3.4.3: POST {endpoint}/.search with a SearchRequest. Servers may not
// support it; they must then answer with an error, never with a wrong result. The check accepts a
// 4xx/501 SCIM error or the correct list.
func (c *C) searchViaPost() {
	c.requireCaps("filter")
	c.user("alice")
	r := c.post("/Users/.search", map[string]any{
		"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"filter":  fmt.Sprintf("userName eq %q", c.s.fixtureUsers()["alice"].userName),
	})
	if r.status == http.StatusOK {
		c.wantFixtures(c.wantList(r), "POST /Users/.search", "alice")
		return
	}
	if r.status == http.StatusCreated {
		c.refused(r, "Users")
		c.Fatalf("%s; POST /Users/.search created a resource", r)
	}
	if r.status < 400 {
		c.Fatalf("%s; want 200 ListResponse or a SCIM error", r)
	}
	c.wantError(r, r.status)
}
