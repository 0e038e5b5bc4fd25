package conformance

import (
	"fmt"
	"net/http"
	"net/url"
)

func groupChecks() []check {
	return []check{
		{"RFC7644-3.3/create-group", (*C).createGroup},
		{"RFC7644-3.4.1/get-group", (*C).getGroup},
		{"RFC7644-3.4.2.2/filter-group-displayName", (*C).filterGroup},
		{"RFC7644-3.4.2.2/filter-group-members-value", (*C).filterGroupMembers},
		{"RFC7644-3.4.2.5/group-excludedAttributes-members", (*C).groupExcludeMembers},
		{"RFC7643-4.1.2/user-groups-reflect-membership", (*C).userGroups},
		{"RFC7644-3.5.1/replace-group", (*C).replaceGroup},
		{"RFC7644-3.5.2.1/group-add-members", (*C).groupAddMembers},
		{"RFC7644-3.5.2.2/group-remove-member-filtered", (*C).groupRemoveMember},
		{"RFC7644-3.5.2.3/group-replace-members", (*C).groupReplaceMembers},
		{"RFC7644-3.5.2.3/group-replace-displayName", (*C).groupReplaceName},
		{"RFC7644-3.6/delete-group", (*C).deleteGroup},
	}
}

func (c *C) member(name string) map[string]any { return map[string]any{"value": c.user(name)} }

func (c *C) createGroup() {
	dn := c.s.prefix + "conformance"
	r := c.post("/Groups", map[string]any{
		"schemas":     []any{groupURN},
		"displayName": dn,
		"members":     []any{c.member("alice")},
	})
	if r.status == http.StatusCreated && r.obj != nil {
		c.s.track("Groups", str(r.obj, "id"))
	}
	res := c.wantResource(r, http.StatusCreated)
	c.s.groupID, c.s.groupDN = str(res, "id"), dn
	c.wantStr(res, "displayName", dn)
	c.wantMembers(res, true, "alice")
	c.wantMeta(res, "Group", "/Groups")
	if !containsFold(res["schemas"], groupURN) {
		c.Errorf("schemas = %v; want to include %s", res["schemas"], groupURN)
	}
	if loc := r.header.Get("Location"); loc == "" || loc != str(res, "meta.location") {
		c.Errorf("Location header %q; want meta.location %q", loc, str(res, "meta.location"))
	}
}

func (c *C) getGroup() {
	id := c.group()
	res := c.wantResource(c.get("/Groups/"+id, nil), http.StatusOK)
	c.wantStr(res, "displayName", c.s.groupDN)
	c.wantMembers(res, true, "alice")
	c.wantMeta(res, "Group", "/Groups")
}

func (c *C) filterGroup() {
	c.requireCaps("filter")
	id := c.group()
	l := c.wantList(c.get("/Groups", url.Values{"filter": {fmt.Sprintf("displayName eq %q", c.s.groupDN)}, "excludedAttributes": {"members"}}))
	if l.total != 1 || len(l.ids()) != 1 || l.ids()[0] != id {
		c.Errorf("filter displayName eq: totalResults %d, ids %v; want exactly %s", l.total, l.ids(), id)
	}
}

func (c *C) filterGroupMembers() {
	c.requireCaps("filter")
	id := c.group()
	l := c.wantList(c.get("/Groups", url.Values{"filter": {fmt.Sprintf("members[value eq %q]", c.user("alice"))}, "excludedAttributes": {"members"}}))
	if l.total != 1 || len(l.ids()) != 1 || l.ids()[0] != id {
		c.Errorf("filter members[value eq alice]: totalResults %d, ids %v; want exactly %s", l.total, l.ids(), id)
	}
}

func (c *C) groupExcludeMembers() {
	id := c.group()
	res := c.wantResource(c.get("/Groups/"+id, url.Values{"excludedAttributes": {"members"}}), http.StatusOK)
	c.wantAbsent(res, "members")
	c.wantStr(res, "displayName", c.s.groupDN)
}

func (c *C) userGroups() {
	gid := c.group()
	res := c.wantResource(c.get("/Users/"+c.user("alice"), nil), http.StatusOK)
	if _, ok := lookup(res, "groups[value="+gid+"]"); !ok {
		c.Errorf("alice's groups = %v; want to include %s", lookupKey(res, "groups"), gid)
	}
}

func (c *C) replaceGroup() {
	id := c.group()
	dn := c.s.groupDN + " renamed"
	r := c.put("/Groups/"+id, map[string]any{
		"schemas":     []any{groupURN},
		"displayName": dn,
		"members":     []any{c.member("bob")},
	})
	res := c.wantResource(r, http.StatusOK)
	c.s.groupDN = dn
	c.wantStr(res, "displayName", dn)
	c.wantMembersOrMerge(res, "bob")
}

func (c *C) groupPath() string {
	c.requireCaps("patch")
	return "/Groups/" + c.group()
}

func (c *C) groupAddMembers() {
	res := c.patchResource(c.groupPath(), op("add", "members", []any{c.member("carol")}))
	c.wantMembers(res, false, "bob", "carol")
}

func (c *C) groupRemoveMember() {
	res := c.patchResource(c.groupPath(), op("remove", fmt.Sprintf("members[value eq %q]", c.user("carol")), nil))
	c.wantMembers(res, false, "bob")
	for _, v := range values(res, "members", "value") {
		if v == c.user("carol") {
			c.Errorf("carol is still a member after remove members[value eq carol]")
		}
	}
}

func (c *C) groupReplaceMembers() {
	res := c.patchResource(c.groupPath(), op("replace", "members", []any{c.member("alice")}))
	c.wantMembersOrMerge(res, "alice")
}

func (c *C) groupReplaceName() {
	dn := c.s.prefix + "conformance patched"
	res := c.patchResource(c.groupPath(), op("replace", "displayName", dn))
	c.s.groupDN = dn
	c.wantStr(res, "displayName", dn)
}

func (c *C) deleteGroup() {
	id := c.group()
	r := c.delete("/Groups/" + id)
	if r.status == http.StatusForbidden && c.deviate(GroupDeleteForbidden) {
		c.wantError(r, http.StatusForbidden)
		return
	}
	c.wantStatus(r, http.StatusNoContent)
	c.s.untrack("Groups", id)
	c.wantError(c.get("/Groups/"+id, nil), http.StatusNotFound)
}

// wantMembersOrMerge wants exactly the named members; with the membership-merge deviation, members
// the request did not name may stay.
func (c *C) wantMembersOrMerge(res map[string]any, names ...string) {
	got := values(res, "members", "value")
	if len(got) != len(names) && c.deviate(MembershipMerge) {
		c.wantMembers(res, false, names...)
		return
	}
	c.wantMembers(res, true, names...)
}
