package conformance

import (
	"net/http"
	"slices"
)

func patchChecks() []check {
	return []check{
		{name: "RFC7644-3.5.2.3/replace-simple", fn: (*C).patchReplaceSimple},
		{name: "RFC7644-3.5.2.1/add-simple", fn: (*C).patchAddSimple},
		{name: "RFC7644-3.5.2.2/remove-simple", fn: (*C).patchRemoveSimple},
		{name: "RFC7644-3.5.2.3/replace-complex-subattribute", fn: (*C).patchReplaceSubAttribute},
		{name: "RFC7644-3.5.2.1/add-complex-merges", fn: (*C).patchAddComplex},
		{name: "RFC7644-3.5.2.1/add-multivalued-appends", fn: (*C).patchAddMultiValued},
		{name: "RFC7644-3.5.2.3/replace-value-filtered", fn: (*C).patchReplaceFiltered},
		{name: "RFC7644-3.5.2.3/replace-filter-no-match-noTarget", fn: (*C).patchReplaceNoMatch},
		{name: "RFC7644-3.5.2.2/remove-value-filtered", fn: (*C).patchRemoveFiltered},
		{name: "RFC7644-3.5.2.3/replace-pathless", fn: (*C).patchReplacePathless},
		{name: "RFC7644-3.5.2.1/add-pathless", fn: (*C).patchAddPathless},
		{name: "RFC7644-3.5.2/operations-in-order", fn: (*C).patchInOrder},
		{name: "RFC7644-3.5.2.3/replace-active", fn: (*C).patchActive},
		{name: "RFC7644-3.5.2.1/add-extension-attribute", fn: (*C).patchExtension},
		{name: "RFC7644-3.5.2.2/remove-without-path-noTarget", fn: (*C).patchRemoveNoPath},
		{name: "RFC7644-3.5.2/invalid-path-400", fn: (*C).patchInvalidPath},
		{name: "RFC7644-3.5.2/readOnly-attribute-mutability", fn: (*C).patchReadOnly},
	}
}

// patchResource applies operations and returns the resulting resource: the 200 body, or after a
// 204 (RFC 7644 §3.5.2 allows either) a fresh GET.
func (c *C) patchResource(path string, ops ...map[string]any) map[string]any {
	r := c.patch(path, ops...)
	c.wantStatus(r, http.StatusOK, http.StatusNoContent)
	if r.status == http.StatusOK {
		return c.wantResource(r, http.StatusOK)
	}
	return c.wantResource(c.get(path, nil), http.StatusOK)
}

func (c *C) patUser() string {
	c.requireCaps("patch")
	return "/Users/" + c.user("pat")
}

func (c *C) wantStr(res map[string]any, path, want string) {
	if got := str(res, path); got != want {
		c.Errorf("%s = %q; want %q", path, got, want)
	}
}

func (c *C) wantAbsent(res map[string]any, path string) {
	if got, ok := lookup(res, path); ok {
		c.Errorf("%s = %v; want it absent", path, got)
	}
}

func (c *C) patchReplaceSimple() {
	res := c.patchResource(c.patUser(), op("replace", "title", "After"))
	c.wantStr(res, "title", "After")
	c.wantStr(res, "name.familyName", "Patch")
}

func (c *C) patchAddSimple() {
	c.dependsOn("RFC7644-3.5.2.3/replace-simple")
	res := c.patchResource(c.patUser(), op("add", "nickName", "patty"))
	c.wantStr(res, "nickName", "patty")
	c.wantStr(res, "title", "After")
}

func (c *C) patchRemoveSimple() {
	c.dependsOn("RFC7644-3.5.2.1/add-simple")
	res := c.patchResource(c.patUser(), op("remove", "title", nil))
	c.wantAbsent(res, "title")
	c.wantStr(res, "nickName", "patty")
}

func (c *C) patchReplaceSubAttribute() {
	res := c.patchResource(c.patUser(), op("replace", "name.familyName", "Patched"))
	c.wantStr(res, "name.familyName", "Patched")
	c.wantStr(res, "name.givenName", "Pat")
}

// RFC 7644 §3.5.2.1: add on a complex attribute sets the given sub-attributes and keeps the others.
func (c *C) patchAddComplex() {
	c.dependsOn("RFC7644-3.5.2.3/replace-complex-subattribute")
	res := c.patchResource(c.patUser(), op("add", "name", map[string]any{"givenName": "Patricia"}))
	c.wantStr(res, "name.givenName", "Patricia")
	c.wantStr(res, "name.familyName", "Patched")
}

// RFC 7644 §3.5.2.1: add on a multi-valued attribute adds values; existing ones stay.
func (c *C) patchAddMultiValued() {
	path := c.patUser()
	res := c.patchResource(path, op("add", "phoneNumbers", []any{map[string]any{"value": "+1 555 0100", "type": "mobile"}}))
	c.wantStr(res, "phoneNumbers[type=mobile].value", "+1 555 0100")
	res = c.patchResource(path, op("add", "phoneNumbers", []any{map[string]any{"value": "+1 555 0199", "type": "work"}}))
	c.wantStr(res, "phoneNumbers[type=mobile].value", "+1 555 0100")
	c.wantStr(res, "phoneNumbers[type=work].value", "+1 555 0199")
}

func (c *C) patchReplaceFiltered() {
	c.dependsOn("RFC7644-3.5.2.1/add-multivalued-appends")
	path := c.patUser()
	newMail := c.s.prefix + "p-pat.new@example.com"
	res := c.patchResource(path,
		op("replace", `phoneNumbers[type eq "mobile"].value`, "+1 555 0111"),
		op("replace", `emails[type eq "work"].value`, newMail))
	c.wantStr(res, "phoneNumbers[type=mobile].value", "+1 555 0111")
	c.wantStr(res, "phoneNumbers[type=work].value", "+1 555 0199")
	c.wantStr(res, "emails[type=work].value", newMail)
}

// RFC 7644 §3.5.2.3: a value filter that matches nothing is 400 noTarget.
func (c *C) patchReplaceNoMatch() {
	r := c.patch(c.patUser(), op("replace", `emails[type eq "scimtest-none"].value`, "x@example.com"))
	c.wantError(r, http.StatusBadRequest, "noTarget")
}

func (c *C) patchRemoveFiltered() {
	c.dependsOn("RFC7644-3.5.2.3/replace-value-filtered")
	res := c.patchResource(c.patUser(), op("remove", `phoneNumbers[type eq "mobile"]`, nil))
	c.wantAbsent(res, "phoneNumbers[type=mobile]")
	c.wantStr(res, "phoneNumbers[type=work].value", "+1 555 0199")
}

func (c *C) patchReplacePathless() {
	res := c.patchResource(c.patUser(), op("replace", "", map[string]any{"title": "Pathless", "nickName": "pless"}))
	c.wantStr(res, "title", "Pathless")
	c.wantStr(res, "nickName", "pless")
}

func (c *C) patchAddPathless() {
	c.dependsOn("RFC7644-3.5.2.3/replace-pathless")
	// name.givenName rather than displayName: a server may derive displayName (scim-bridge reads it
	// as Salesforce's Name), so only a stored attribute shows that the add was applied.
	res := c.patchResource(c.patUser(), op("add", "", map[string]any{"name": map[string]any{"givenName": "Pat " + c.s.run}}))
	c.wantStr(res, "name.givenName", "Pat "+c.s.run)
	c.wantStr(res, "title", "Pathless")
}

// RFC 7644 §3.5.2: operations are applied in sequence.
func (c *C) patchInOrder() {
	res := c.patchResource(c.patUser(), op("replace", "title", "First"), op("replace", "title", "Second"))
	c.wantStr(res, "title", "Second")
}

func (c *C) patchActive() {
	path := c.patUser()
	res := c.patchResource(path, op("replace", "active", false))
	if got, _ := lookup(res, "active"); got != false {
		c.Errorf("after replace active=false: active = %v", got)
	}
	res = c.patchResource(path, op("replace", "active", true))
	if got, _ := lookup(res, "active"); got != true {
		c.Errorf("after replace active=true: active = %v", got)
	}
}

func (c *C) patchExtension() {
	path := c.patUser()
	if !c.s.enterprise {
		c.Skipf("the User resource type does not advertise the enterprise extension")
	}
	res := c.patchResource(path, op("add", enterpriseURN+":department", "Patched Dept"))
	c.wantStr(res, enterpriseURN+".department", "Patched Dept")
	if !containsFold(res["schemas"], enterpriseURN) {
		c.Errorf("schemas = %v; want to include %s", res["schemas"], enterpriseURN)
	}
}

// RFC 7644 §3.5.2.2: remove without a path is 400 noTarget.
func (c *C) patchRemoveNoPath() {
	r := c.patch(c.patUser(), op("remove", "", nil))
	c.wantError(r, http.StatusBadRequest, "noTarget")
}

func (c *C) patchInvalidPath() {
	r := c.patch(c.patUser(), op("replace", `emails[type eq "work"`, "x@example.com"))
	c.wantError(r, http.StatusBadRequest, "invalidPath", "invalidSyntax")
}

// RFC 7644 §3.5.2: modifying a readOnly attribute (groups) is 400 mutability. A server whose User
// schema has no groups attribute has no readOnly attribute the suite can safely try to change.
func (c *C) patchReadOnly() {
	c.patUser()
	if c.s.userSchemaLacksGroups {
		c.Skipf("the User schema in /Schemas defines no groups attribute")
	}
	r := c.patch("/Users/"+c.user("pat"), op("replace", "groups", []any{map[string]any{"value": c.user("alice")}}))
	c.wantError(r, http.StatusBadRequest, "mutability")
}

// wantMembers compares the member ids of a group with the fixture users named.
func (c *C) wantMembers(res map[string]any, exact bool, names ...string) {
	got := values(res, "members", "value")
	slices.Sort(got)
	var want []string
	for _, n := range names {
		want = append(want, c.s.users[n])
	}
	slices.Sort(want)
	if exact {
		if !slices.Equal(got, want) {
			c.Errorf("members = %v; want exactly %v", c.names(got), names)
		}
		return
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			c.Errorf("members = %v; want to include %v", c.names(got), names)
			return
		}
	}
}
