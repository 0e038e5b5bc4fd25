package conformance

import (
	"net/http"
	"strings"
)

// cleanup removes what the run created: groups first (so no membership is left), then users. A
// user the server cannot delete is deactivated.
func (c *C) cleanup() {
	for _, id := range append([]string(nil), c.s.created.groups...) {
		r := c.delete("/Groups/" + id)
		switch {
		case r.status == http.StatusNoContent || r.status == http.StatusNotFound:
			c.s.untrack("Groups", id)
		case r.status == http.StatusForbidden && c.deviate(GroupDeleteForbidden):
		default:
			c.Errorf("cleanup: %s", r)
		}
	}
	for _, id := range append([]string(nil), c.s.created.users...) {
		r := c.delete("/Users/" + id)
		if r.status == http.StatusNoContent || r.status == http.StatusNotFound {
			c.s.untrack("Users", id)
			continue
		}
		p := c.patch("/Users/"+id, op("replace", "active", false))
		if p.status != http.StatusOK && p.status != http.StatusNoContent {
			c.Errorf("cleanup: %s, then %s", r, p)
		}
	}
}

// contentTypeEveryResponse is RFC 7644 §3.1/§8.1: every response body is application/scim+json.
func (c *C) contentTypeEveryResponse() {
	if len(c.s.badMediaType) == 0 {
		return
	}
	shown := c.s.badMediaType
	if len(shown) > 5 {
		shown = shown[:5]
	}
	c.Errorf("%d responses not %s, e.g. %s", len(c.s.badMediaType), mediaType, strings.Join(shown, "; "))
}
