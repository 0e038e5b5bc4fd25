package conformance

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

func listChecks() []check {
	return []check{
		{name: "RFC7644-3.4.2.4/pagination-pages", fn: (*C).paginationPages},
		{name: "RFC7644-3.4.2.4/pagination-past-end", fn: (*C).paginationPastEnd},
		{name: "RFC7644-3.4.2.4/pagination-count-0", fn: (*C).paginationCountZero},
		{name: "RFC7644-3.4.2.4/pagination-startIndex-below-1", fn: (*C).paginationStartIndexBelowOne},
		{name: "RFC7644-3.4.2.4/pagination-count-negative", fn: (*C).paginationNegativeCount},
		{name: "RFC7644-3.4.2.4/count-above-maxResults", fn: (*C).countAboveMaxResults},
		{name: "RFC7644-3.4.2.3/sort-userName-ascending", fn: sortCheck("userName", "", "alice", "bob", "carol")},
		{name: "RFC7644-3.4.2.3/sort-userName-descending", fn: sortCheck("userName", "descending", "carol", "bob", "alice")},
		{name: "RFC7644-3.4.2.3/sort-complex-subattribute", fn: sortCheck("name.familyName", "ascending", "carol", "bob", "alice")},
		{name: "RFC7644-3.4.2.5/attributes-projection", fn: (*C).attributesProjection},
		{name: "RFC7644-3.4.2.5/attributes-subattribute", fn: (*C).attributesSubAttribute},
		{name: "RFC7644-3.4.2.5/excludedAttributes", fn: (*C).excludedAttributes},
		{name: "RFC7643-3.1/id-returned-always", fn: (*C).idReturnedAlways},
		{name: "RFC7644-3.4.2.5/attributes-on-list", fn: (*C).attributesOnList},
	}
}

// population lists the three filter fixtures with extra query parameters.
func (c *C) population(extra url.Values) list {
	c.requireCaps("filter")
	for _, n := range []string{"alice", "bob", "carol"} {
		c.user(n)
	}
	q := url.Values{"filter": {`userName sw "` + c.s.prefix + `f-"`}}
	for k, v := range extra {
		q[k] = v
	}
	return c.wantList(c.get("/Users", q))
}

func (c *C) wantPage(l list, what string, total, items, start int) {
	if l.total != total {
		c.Errorf("%s: totalResults = %d; want %d", what, l.total, total)
	}
	if len(l.resources) != items {
		c.Errorf("%s: %d Resources; want %d", what, len(l.resources), items)
	}
	if !l.hasItems || l.itemsPerPage != items {
		c.Errorf("%s: itemsPerPage = %d (present %v); want %d", what, l.itemsPerPage, l.hasItems, items)
	}
	if !l.hasStart || l.startIndex != start {
		c.Errorf("%s: startIndex = %d (present %v); want %d", what, l.startIndex, l.hasStart, start)
	}
}

func (c *C) paginationPages() {
	p1 := c.population(url.Values{"startIndex": {"1"}, "count": {"2"}})
	c.wantPage(p1, "startIndex=1&count=2", 3, 2, 1)
	p2 := c.population(url.Values{"startIndex": {"3"}, "count": {"2"}})
	c.wantPage(p2, "startIndex=3&count=2", 3, 1, 3)
	all := append(p1.ids(), p2.ids()...)
	slices.Sort(all)
	want := []string{c.s.users["alice"], c.s.users["bob"], c.s.users["carol"]}
	slices.Sort(want)
	if !slices.Equal(all, want) {
		c.Errorf("pages 1 and 2 together hold %v; want each fixture exactly once %v", c.names(all), c.names(want))
	}
}

func (c *C) paginationPastEnd() {
	l := c.population(url.Values{"startIndex": {"10"}, "count": {"5"}})
	c.wantPage(l, "startIndex=10&count=5", 3, 0, 10)
}

func (c *C) paginationCountZero() {
	l := c.population(url.Values{"count": {"0"}})
	if l.total != 3 {
		c.Errorf("count=0: totalResults = %d; want 3", l.total)
	}
	if len(l.resources) != 0 {
		c.Errorf("count=0: %d Resources; want none", len(l.resources))
	}
	if l.hasItems && l.itemsPerPage != 0 {
		c.Errorf("count=0: itemsPerPage = %d; want 0", l.itemsPerPage)
	}
}

// RFC 7644 §3.4.2.4: "A value less than 1 SHALL be interpreted as 1."
func (c *C) paginationStartIndexBelowOne() {
	l := c.population(url.Values{"startIndex": {"0"}, "count": {"2"}})
	c.wantPage(l, "startIndex=0&count=2", 3, 2, 1)
}

// RFC 7644 §3.4.2.4: "A negative value SHALL be interpreted as 0."
func (c *C) paginationNegativeCount() {
	l := c.population(url.Values{"count": {"-1"}})
	if l.total != 3 || len(l.resources) != 0 {
		c.Errorf("count=-1: totalResults %d with %d Resources; want 3 with none", l.total, len(l.resources))
	}
}

// RFC 7643 §5: filter.maxResults is the most a response holds; a larger count is not an error.
func (c *C) countAboveMaxResults() {
	c.requireCaps("filter")
	max := c.s.caps.FilterMaxResults
	if max <= 0 {
		c.Fatalf("filter.maxResults not advertised")
	}
	l := c.wantList(c.get("/Users", url.Values{"count": {strconv.Itoa(max + 1)}, "attributes": {"userName"}}))
	if len(l.resources) > max {
		c.Errorf("count=%d returned %d Resources; want at most filter.maxResults=%d", max+1, len(l.resources), max)
	}
}

func sortCheck(by, order string, want ...string) func(*C) {
	return func(c *C) {
		c.requireCaps("sort")
		q := url.Values{"sortBy": {by}}
		if order != "" {
			q.Set("sortOrder", order)
		}
		l := c.population(q)
		var ids []string
		for _, n := range want {
			ids = append(ids, c.s.users[n])
		}
		if got := l.ids(); !slices.Equal(got, ids) {
			c.Errorf("sortBy=%s sortOrder=%q: order %v; want %v", by, order, c.names(got), want)
		}
	}
}

func (c *C) attributesProjection() {
	id := c.user("alice")
	res := c.wantResource(c.get("/Users/"+id, url.Values{"attributes": {"userName"}}), http.StatusOK)
	if str(res, "userName") == "" {
		c.Errorf("attributes=userName: userName missing")
	}
	for _, a := range []string{"name", "emails", "title", "active"} {
		c.wantDropped(res, a, "attributes=userName")
	}
}

func (c *C) attributesSubAttribute() {
	id := c.user("alice")
	res := c.wantResource(c.get("/Users/"+id, url.Values{"attributes": {"name.givenName"}}), http.StatusOK)
	if str(res, "name.givenName") != "Alice" {
		c.Errorf("attributes=name.givenName: name.givenName = %q; want Alice", str(res, "name.givenName"))
	}
	if _, ok := lookup(res, "name.familyName"); ok && !c.s.alwaysReturned("name") {
		c.Errorf("attributes=name.givenName: name.familyName returned")
	}
	c.wantDropped(res, "userName", "attributes=name.givenName")
}

func (c *C) excludedAttributes() {
	id := c.user("alice")
	res := c.wantResource(c.get("/Users/"+id, url.Values{"excludedAttributes": {"emails,title"}}), http.StatusOK)
	for _, a := range []string{"emails", "title"} {
		c.wantDropped(res, a, "excludedAttributes=emails,title")
	}
	if str(res, "userName") == "" || str(res, "name.givenName") == "" {
		c.Errorf("excludedAttributes=emails,title: userName or name missing")
	}
}

// id has returned "always" (RFC 7643 §3.1): neither attributes nor excludedAttributes can drop it
// (RFC 7644 §3.4.2.5). Whether other attributes are excluded is excludedAttributes' business.
func (c *C) idReturnedAlways() {
	id := c.user("alice")
	res := c.wantResource(c.get("/Users/"+id, url.Values{"excludedAttributes": {"id"}}), http.StatusOK)
	if str(res, "id") != id {
		c.Errorf("excludedAttributes=id: id = %q; want %q", str(res, "id"), id)
	}
	res = c.wantResource(c.get("/Users/"+id, url.Values{"attributes": {"title"}}), http.StatusOK)
	if str(res, "id") != id {
		c.Errorf("attributes=title: id = %q; want %q", str(res, "id"), id)
	}
}

func (c *C) attributesOnList() {
	l := c.population(url.Values{"attributes": {"userName"}})
	if l.total != 3 {
		c.Errorf("totalResults = %d; want 3", l.total)
	}
	for _, r := range l.resources {
		if str(r, "id") == "" || str(r, "userName") == "" {
			c.Errorf("attributes=userName on a list: resource lacks id or userName")
		}
		c.wantDropped(r, "name", "attributes=userName on a list")
	}
}

// wantDropped checks that a projection (RFC 7644 §3.4.2.5) left out attribute attr — unless the
// server's User schema declares it returned "always", which no projection can drop (RFC 7643 §7).
func (c *C) wantDropped(res map[string]any, attr, projection string) {
	if _, ok := lookup(res, attr); ok && !c.s.alwaysReturned(attr) {
		c.Errorf("%s: %s returned (the User schema does not declare it returned \"always\")", projection, attr)
	}
}
