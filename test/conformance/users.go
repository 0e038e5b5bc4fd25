package conformance

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// userFixture is the data of a user the suite creates.
type userFixture struct {
	userName, email, externalID, title, given, family string
}

// fixtureUsers returns the suite's users. alice, bob and carol ("f-" prefix) are the filter,
// pagination and sort population and are never modified; pat ("p-") is the PATCH and ETag subject;
// scratch ("s-") is replaced and deleted. Family names sort opposite to userNames on purpose.
func (s *suite) fixtureUsers() map[string]userFixture {
	f := s.prefix + "f-"
	return map[string]userFixture{
		"alice":   {f + "alice@example.com", f + "alice.mail@example.com", "ScimTest-" + s.run + "-Alice", s.run + " Engineer", "Alice", "Zeller"},
		"bob":     {f + "bob@example.com", f + "bob.mail@example.com", "ScimTest-" + s.run + "-Bob", s.run + " Designer", "Bob", "Young"},
		"carol":   {f + "carol@example.com", f + "carol.mail@example.com", "", "", "Carol", "Xu"},
		"pat":     {s.prefix + "p-pat@example.com", s.prefix + "p-pat.mail@example.com", "", "Before", "Pat", "Patch"},
		"scratch": {s.prefix + "s-scratch@example.com", s.prefix + "s-scratch.mail@example.com", "", "Temporary", "Scratch", "Original"},
	}
}

func (s *suite) userBody(f userFixture) map[string]any {
	schemas := []any{userURN}
	body := map[string]any{
		"userName": f.userName,
		"name":     map[string]any{"givenName": f.given, "familyName": f.family},
		"emails":   []any{map[string]any{"value": f.email, "type": "work", "primary": true}},
		"active":   true,
	}
	if f.title != "" {
		body["title"] = f.title
	}
	if f.externalID != "" {
		body["externalId"] = f.externalID
	}
	if s.enterprise {
		schemas = append(schemas, enterpriseURN)
		body[enterpriseURN] = map[string]any{"department": "Conformance"}
	}
	body["schemas"] = schemas
	return body
}

func (s *suite) track(kind, id string) {
	if id == "" {
		return
	}
	switch kind {
	case "Users":
		if !slices.Contains(s.created.users, id) {
			s.created.users = append(s.created.users, id)
		}
	case "Groups":
		if !slices.Contains(s.created.groups, id) {
			s.created.groups = append(s.created.groups, id)
		}
	}
}

func (s *suite) untrack(kind, id string) {
	switch kind {
	case "Users":
		s.created.users = slices.DeleteFunc(s.created.users, func(x string) bool { return x == id })
	case "Groups":
		s.created.groups = slices.DeleteFunc(s.created.groups, func(x string) bool { return x == id })
	}
}

// createUser POSTs a fixture and records it; it ends the check unless the answer is 201.
func (c *C) createUser(name string, extra map[string]any) map[string]any {
	f := c.s.fixtureUsers()[name]
	body := c.s.userBody(f)
	for k, v := range extra {
		body[k] = v
	}
	r := c.post("/Users", body)
	if r.status == http.StatusCreated && r.obj != nil {
		c.s.track("Users", str(r.obj, "id"))
	}
	res := c.wantResource(r, http.StatusCreated)
	c.s.users[name] = str(res, "id")
	c.s.userVals[name] = f
	return res
}

func authChecks() []check {
	return []check{
		{name: "RFC7644-2/401-without-token", fn: (*C).unauthenticated},
		{name: "RFC7644-2/401-wrong-token", fn: (*C).wrongToken},
	}
}

func (c *C) unauthenticated() {
	r := c.do(request{method: http.MethodGet, path: "/Users", noAuth: true})
	c.wantError(r, http.StatusUnauthorized)
	if r.header.Get("WWW-Authenticate") == "" {
		c.Errorf("401 without WWW-Authenticate header (RFC 6750 §3)")
	}
}

func (c *C) wrongToken() {
	r := c.do(request{method: http.MethodGet, path: "/Users", header: map[string]string{"Authorization": "Bearer scimtest-not-the-token"}})
	c.wantError(r, http.StatusUnauthorized)
}

const (
	checkCreateUser            = "RFC7644-3.3/create-user"
	checkPasswordNeverReturned = "RFC7643-4.1.1/password-never-returned"
)

func userChecks() []check {
	return []check{
		{name: checkCreateUser, fn: (*C).createUsers},
		{name: "RFC7644-3.4.1/get-user", fn: (*C).getUser},
		{name: checkPasswordNeverReturned, fn: (*C).passwordNeverReturned},
		{name: "RFC7644-3.5.1/replace-user", fn: (*C).replaceUser},
		{name: "RFC7644-3.3/duplicate-userName-409", fn: (*C).duplicateUser},
		{name: "RFC7644-3.6/delete-user", fn: (*C).deleteUser},
	}
}

// wantUser compares a returned User with the fixture it was made from.
func (c *C) wantUser(res map[string]any, f userFixture) {
	if got := str(res, "userName"); !strings.EqualFold(got, f.userName) {
		c.Errorf("userName = %q; want %q", got, f.userName)
	}
	if got := str(res, "name.givenName"); got != f.given {
		c.Errorf("name.givenName = %q; want %q", got, f.given)
	}
	if got := str(res, "name.familyName"); got != f.family {
		c.Errorf("name.familyName = %q; want %q", got, f.family)
	}
	if got := str(res, "emails[type=work].value"); !strings.EqualFold(got, f.email) {
		c.Errorf("emails[type eq \"work\"].value = %q; want %q", got, f.email)
	}
	if got, _ := lookup(res, "active"); got != true {
		c.Errorf("active = %v; want true", got)
	}
	if got := str(res, "externalId"); got != f.externalID {
		c.Errorf("externalId = %q; want %q", got, f.externalID)
	}
	if got := str(res, "title"); got != f.title {
		c.Errorf("title = %q; want %q", got, f.title)
	}
	if !containsFold(res["schemas"], userURN) {
		c.Errorf("schemas = %v; want to include %s", res["schemas"], userURN)
	}
	if _, ok := lookup(res, "password"); ok {
		c.Errorf("password returned (it is writeOnly, returned never)")
	}
}

// wantMeta checks RFC 7643 §3.1 meta of a resource read or written at endpoint.
func (c *C) wantMeta(res map[string]any, resourceType, endpoint string) {
	id := str(res, "id")
	if got := str(res, "meta.resourceType"); got != resourceType {
		c.Errorf("meta.resourceType = %q; want %q", got, resourceType)
	}
	for _, k := range []string{"meta.created", "meta.lastModified"} {
		if str(res, k) == "" {
			c.Errorf("%s missing", k)
		}
	}
	if loc := str(res, "meta.location"); !c.s.locates(loc, endpoint, id) {
		c.Errorf("meta.location = %q; want the resource's URI, %s/%s relative to the SCIM base or an absolute URI ending in it", loc, strings.TrimPrefix(endpoint, "/"), id)
	}
}

// locates reports whether loc is the URI of resource id at endpoint ("/Users"). RFC 7643 §3.1 makes
// meta.location a URI and §2.3.7 lets a reference be relative, resolved against the SCIM base: so
// "Users/<id>" and "<base path>/Users/<id>" resolve to the resource. An absolute URI only has to end
// in the endpoint path, because behind a reverse proxy its scheme, host and prefix may differ from
// the address the suite uses.
func (s *suite) locates(loc, endpoint, id string) bool {
	u, err := url.Parse(loc)
	if err != nil || loc == "" {
		return false
	}
	if u.IsAbs() {
		return strings.HasSuffix(u.Path, endpoint+"/"+id)
	}
	base := *s.base
	base.Path = strings.TrimRight(base.Path, "/") + "/"
	return base.ResolveReference(u).Path == base.Path+strings.TrimPrefix(endpoint, "/")+"/"+id
}

// wantLocationHeader checks RFC 7644 §3.3: the Location header of a 201 holds the resource's URI,
// the same one as meta.location. Both may be relative (RFC 7231 §7.1.2 resolves the header against
// the request URI, RFC 7643 §2.3.7 meta.location against the SCIM base); they are compared resolved.
func (c *C) wantLocationHeader(r *response, res map[string]any, endpoint string) {
	loc := r.header.Get("Location")
	reqURL := *c.s.base
	reqURL.Path = strings.TrimRight(reqURL.Path, "/") + endpoint
	hu, err1 := url.Parse(loc)
	base := *c.s.base
	base.Path = strings.TrimRight(base.Path, "/") + "/"
	mu, err2 := url.Parse(str(res, "meta.location"))
	if loc == "" || err1 != nil || err2 != nil || reqURL.ResolveReference(hu).String() != base.ResolveReference(mu).String() {
		c.Errorf("Location header %q; want the URI in meta.location %q", loc, str(res, "meta.location"))
	}
}

// refused handles a POST the server should have refused: a resource it created anyway is deleted at
// once, so one accepted duplicate does not disturb every later filter and count.
func (c *C) refused(r *response, kind string) {
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		return
	}
	id := str(r.obj, "id")
	if id == "" {
		return
	}
	c.s.track(kind, id)
	d, err := c.s.send(c, request{method: http.MethodDelete, path: "/" + kind + "/" + id})
	if err == nil && (d.status == http.StatusNoContent || d.status == http.StatusNotFound) {
		c.s.untrack(kind, id)
	}
}

func (c *C) createUsers() {
	f := c.s.fixtureUsers()["alice"]
	body := c.s.userBody(f)
	r := c.post("/Users", body)
	if r.status == http.StatusCreated && r.obj != nil {
		c.s.track("Users", str(r.obj, "id"))
	}
	res := c.wantResource(r, http.StatusCreated)
	c.s.users["alice"] = str(res, "id")
	c.s.userVals["alice"] = f
	c.wantUser(res, f)
	c.wantMeta(res, "User", "/Users")
	c.wantLocationHeader(r, res, "/Users")
	if c.s.enterprise {
		if got := str(res, enterpriseURN+".department"); got != "Conformance" {
			c.Errorf("enterprise department = %q; want Conformance", got)
		}
	}
	for _, name := range []string{"bob", "carol", "pat"} {
		res := c.createUser(name, nil)
		c.wantUser(res, c.s.fixtureUsers()[name])
	}
}

func (c *C) getUser() {
	id := c.user("alice")
	r := c.get("/Users/"+id, nil)
	res := c.wantResource(r, http.StatusOK)
	if got := str(res, "id"); got != id {
		c.Errorf("id = %q; want %q", got, id)
	}
	c.wantUser(res, c.s.userVals["alice"])
	c.wantMeta(res, "User", "/Users")
}

func (c *C) passwordNeverReturned() {
	res := c.createUser("scratch", map[string]any{"password": "Scimtest-" + c.s.run + "-Pw1!"})
	if _, ok := lookup(res, "password"); ok {
		c.Errorf("POST /Users response contains password")
	}
	id := str(res, "id")
	r := c.get("/Users/"+id, nil)
	got := c.wantResource(r, http.StatusOK)
	if _, ok := lookup(got, "password"); ok {
		c.Errorf("GET /Users/{id} returns password")
	}
	r = c.get("/Users/"+id, url.Values{"attributes": {"password"}})
	got = c.wantResource(r, http.StatusOK)
	if _, ok := lookup(got, "password"); ok {
		c.Errorf("GET /Users/{id}?attributes=password returns password")
	}
}

// replaceUser is RFC 7644 §3.5.1. An attribute omitted from a PUT "MAY be assumed to be not
// asserted": the server may clear or keep it, so the check forces clearing the RFC way, with null
// (RFC 7643 §2.5: null makes an attribute unassigned).
func (c *C) replaceUser() {
	id := c.user("scratch")
	f := c.s.fixtureUsers()["scratch"]
	f.family = "Replaced"
	f.title = ""
	body := c.s.userBody(f)
	body["title"] = nil
	r := c.put("/Users/"+id, body)
	res := c.wantResource(r, http.StatusOK)
	c.wantUser(res, f)
	r = c.get("/Users/"+id, nil)
	res = c.wantResource(r, http.StatusOK)
	c.wantUser(res, f)
	c.s.userVals["scratch"] = f
}

func (c *C) duplicateUser() {
	c.user("alice")
	body := c.s.userBody(c.s.fixtureUsers()["alice"])
	r := c.post("/Users", body)
	c.refused(r, "Users")
	c.wantError(r, http.StatusConflict, "uniqueness")
}

func (c *C) deleteUser() {
	id := c.user("scratch")
	r := c.delete("/Users/" + id)
	c.wantStatus(r, http.StatusNoContent)
	r = c.get("/Users/"+id, nil)
	if r.status == http.StatusOK && c.deviate(DeleteDeactivates) {
		if got, _ := lookup(r.obj, "active"); got != false {
			c.Errorf("GET after DELETE: active = %v; want false (deviation %s)", got, DeleteDeactivates)
		}
		return
	}
	c.wantError(r, http.StatusNotFound)
	c.s.untrack("Users", id)
	delete(c.s.users, "scratch")
}
