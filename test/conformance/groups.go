package conformance

import (
	"fmt"
	"net/http"
	"net/url"
)

const checkCreateGroup = "RFC7644-3.3/create-group"

func groupChecks() []check {
	return []check{
		{name: checkCreateGroup, fn: (*C).createGroup},
		{name: "RFC7644-3.4.1/get-group", fn: (*C).getGroup},
		{name: "RFC7644-3.4.2.2/filter-group-displayName", fn: (*C).filterGroup},
		{name: "RFC7644-3.4.2.2/filter-group-members-value", fn: (*C).filterGroupMembers},
		{name: "RFC7644-3.4.2.5/group-excludedAttributes-members", fn: (*C).groupExcludeMembers},
		{name: "RFC7643-4.1.2/user-groups-reflect-membership", fn: (*C).userGroups},
		{name: "RFC7644-3.5.1/replace-group", fn: (*C).replaceGroup},
		{name: "RFC7644-3.5.2.1/group-add-members", fn: (*C).groupAddMembers},
		{name: "RFC7644-3.5.2.2/group-remove-member-filtered", fn: (*C).groupRemoveMember},
		{name: "RFC7644-3.5.2.3/group-replace-members", fn: (*C).groupReplaceMembers},
		{name: "RFC7644-3.5.2.3/group-replace-displayName", fn: (*C).groupReplaceName},
		{name: "RFC7644-3.6/delete-group", fn: (*C).deleteGroup},
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
	c.wantLocationHeader(r, res, "/Groups")
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

// userGroups: RFC 7643 §4.1.2 describes User.groups but does not require a server to return it.
// A server that returns it must list the memberships; one that never does gets a warning, because
// some clients read memberships from it.
func (c *C) userGroups() {
	gid := c.group()
	res := c.wantResource(c.get("/Users/"+c.user("alice"), nil), http.StatusOK)
	if lookupKey(res, "groups") == nil {
		c.Warnf("the server does not return User.groups (allowed by RFC 7643 §4.1.2); clients cannot read a user's memberships from the user")
		return
	}
	if _, ok := lookup(res, "groups[value="+gid+"]"); !ok {
		c.Errorf("alice's groups = %v; want to include %s (a server that returns groups must list the memberships)", lookupKey(res, "groups"), gid)
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
	c.dependsOn("RFC7644-3.5.1/replace-group")
	res := c.patchResource(c.groupPath(), op("add", "members", []any{c.member("carol")}))
	c.wantMembers(res, false, "bob", "carol")
}

func (c *C) groupRemoveMember() {
	c.dependsOn("RFC7644-3.5.2.1/group-add-members")
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
