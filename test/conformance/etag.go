package conformance

import (
	"net/http"
)

func etagChecks() []check {
	return []check{
		{name: "RFC7644-3.14/etag-header-matches-meta-version", fn: (*C).etagHeader},
		{name: "RFC7644-3.14/if-match-stale-412", fn: (*C).ifMatchStale},
		{name: "RFC7644-3.14/if-match-current-applies", fn: (*C).ifMatchCurrent},
		{name: "RFC7644-3.14/put-if-match-stale-412", fn: (*C).putIfMatchStale},
	}
}

const staleETag = `W/"scimtest-stale-version"`

// version reads the pat fixture and returns its ETag header after checking it equals meta.version.
func (c *C) version() string {
	c.requireCaps("etag")
	path := "/Users/" + c.user("pat")
	r := c.get(path, nil)
	res := c.wantResource(r, http.StatusOK)
	etag := r.header.Get("ETag")
	if etag == "" {
		c.Fatalf("GET %s: no ETag header", path)
	}
	if v := str(res, "meta.version"); v != etag {
		c.Errorf("ETag header %q differs from meta.version %q", etag, v)
	}
	return etag
}

func (c *C) etagHeader() { c.version() }

func (c *C) ifMatchStale() {
	c.version()
	path := "/Users/" + c.user("pat")
	r := c.do(request{method: http.MethodPatch, path: path, body: patchBody(op("replace", "title", "Stale")),
		header: map[string]string{"If-Match": staleETag}})
	c.wantError(r, http.StatusPreconditionFailed)
	res := c.wantResource(c.get(path, nil), http.StatusOK)
	if str(res, "title") == "Stale" {
		c.Errorf("a PATCH with a stale If-Match was applied")
	}
}

func (c *C) ifMatchCurrent() {
	before := c.version()
	path := "/Users/" + c.user("pat")
	r := c.do(request{method: http.MethodPatch, path: path, body: patchBody(op("replace", "title", "Versioned")),
		header: map[string]string{"If-Match": before}})
	c.wantStatus(r, http.StatusOK, http.StatusNoContent)
	after := c.version()
	res := c.wantResource(c.get(path, nil), http.StatusOK)
	c.wantStr(res, "title", "Versioned")
	if after == before {
		c.Errorf("version %s unchanged after a modification", after)
	}
}

func (c *C) putIfMatchStale() {
	c.version()
	f := c.s.userVals["pat"]
	r := c.do(request{method: http.MethodPut, path: "/Users/" + c.user("pat"), body: c.s.userBody(f),
		header: map[string]string{"If-Match": staleETag}})
	c.wantError(r, http.StatusPreconditionFailed)
}
