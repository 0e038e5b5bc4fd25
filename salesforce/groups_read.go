package salesforce

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// SCIM Groups are the exposed permission sets (and, with groups.source including them, permission
// set groups). Reads go to Salesforce every time, never to the catalog cache: replicas behind a
// load balancer serve one org, and a group created or deleted through one must read the same
// through every other at once. Members are PermissionSetAssignments, read only when the projection
// asks for them.

func (g group) record(members []scimschema.Ref, read bool) scimschema.GroupRecord {
	return scimschema.GroupRecord{
		ID: g.ID, Name: g.Name, Label: g.Label, Description: g.Description,
		Created: g.Created, LastModified: g.LastModified,
		Members: members, MembersRead: read,
	}
}

// groupSelect selects the fields a group is read with.
func groupSelect(psg bool) *rest.Query {
	if psg {
		return rest.Select("Id", "DeveloperName", "MasterLabel", "Description", "CreatedDate", "LastModifiedDate")
	}
	return rest.Select("Id", "Name", "Label", "Description", "LicenseId", "PermissionSetGroupId", "CreatedDate", "LastModifiedDate")
}

// groupRecordQuery reads one permission set or permission set group.
func groupRecordQuery(id string, psg bool) *rest.Query {
	return groupRecordsQuery(psg, rest.Eq("Id", id))
}

// groupRecordsQuery reads the permission sets (psg false) or permission set groups where holds;
// a permission set owned by a profile is never one.
func groupRecordsQuery(psg bool, where rest.Cond) *rest.Query {
	if psg {
		return groupSelect(true).From("PermissionSetGroup").Where(where)
	}
	return groupSelect(false).From("PermissionSet").Where(rest.And(where, rest.Eq("IsOwnedByProfile", false)))
}

// groupsQuery reads every permission set (psg false) or permission set group that can be a SCIM
// Group, a permission set's members as a child subquery when withMembers. A permission set owned
// by a profile or by a permission set group (its aggregate) is never a group.
//
// The object reference lists the child relationship Assignments on PermissionSet only (O-PS); on
// PermissionSetGroup it is unconfirmed, and a real org may answer INVALID_TYPE. Permission set
// group members are therefore read from PermissionSetAssignment (psgMembersQuery), and the
// group query itself has no child: its INVALID_TYPE means the org has no permission set groups.
func (b *Backend) groupsQuery(psg, withMembers bool) *rest.Query {
	q := groupSelect(psg)
	if withMembers && !psg {
		q = q.SubQuery(rest.Select("Id", "AssigneeId", "Assignee.Username").From("Assignments").
			Where(rest.In("Assignee.UserType", b.userTypes...)))
	}
	if psg {
		return q.From("PermissionSetGroup").OrderBy("Id", false)
	}
	return q.From("PermissionSet").Where(rest.And(rest.Eq("IsOwnedByProfile", false), rest.Eq("PermissionSetGroupId", nil))).OrderBy("Id", false)
}

func groupFromRecord(rec map[string]any, psg bool) group {
	if psg {
		return group{ID: str(rec["Id"]), Name: str(rec["DeveloperName"]), Label: str(rec["MasterLabel"]),
			Description: str(rec["Description"]), Created: str(rec["CreatedDate"]), LastModified: str(rec["LastModifiedDate"]), IsPSG: true}
	}
	return group{ID: str(rec["Id"]), Name: str(rec["Name"]), Label: str(rec["Label"]), Description: str(rec["Description"]),
		LicenseID: str(rec["LicenseId"]), Created: str(rec["CreatedDate"]), LastModified: str(rec["LastModifiedDate"]),
		Aggregate: str(rec["PermissionSetGroupId"]) != ""}
}

// psgMembersQuery reads the assignments of every permission set group to users SCIM sees, by group.
func (b *Backend) psgMembersQuery() *rest.Query {
	return rest.Select("Id", "AssigneeId", "Assignee.Username", "PermissionSetGroupId").From("PermissionSetAssignment").
		Where(rest.And(rest.Ne("PermissionSetGroupId", nil), rest.In("Assignee.UserType", b.userTypes...))).
		OrderBy("PermissionSetGroupId", false).OrderBy("Id", false)
}

// childResult is a child subquery's result inside a query row: nil when Salesforce wrote null
// (no children).
func childResult(v any) *queryBody {
	child, _ := v.(map[string]any)
	if child == nil {
		return nil
	}
	q := &queryBody{NextRecordsURL: str(child["nextRecordsUrl"])}
	q.Done, _ = child["done"].(bool)
	if n, ok := child["totalSize"].(float64); ok {
		q.TotalSize = int(n)
	}
	recs, _ := child["records"].([]any)
	for _, r := range recs {
		if m, ok := r.(map[string]any); ok {
			q.Records = append(q.Records, m)
		}
	}
	return q
}

// memberQuery selects a group's assignments to users SCIM sees.
func (b *Backend) memberQuery(g group, where ...rest.Cond) *rest.Query {
	return rest.Select("Id", "AssigneeId", "Assignee.Username").From("PermissionSetAssignment").
		Where(rest.And(append([]rest.Cond{rest.Eq(g.assignmentField(), g.ID), rest.In("Assignee.UserType", b.userTypes...)}, where...)...))
}

func (b *Backend) memberRef(rec map[string]any) scimschema.Ref {
	ref := scimschema.Ref{ID: str(rec["AssigneeId"])}
	if a, ok := rec["Assignee"].(map[string]any); ok {
		if u := str(a["Username"]); u != "" {
			ref.Display = b.mapper.UsernameToSCIM(u)
		}
	}
	return ref
}

// sourceHolds reports whether groups.source exposes groups of this kind (permission set groups
// when psg).
func (b *Backend) sourceHolds(psg bool) bool {
	switch b.cfg.Groups.Source {
	case PermissionSets:
		return !psg
	case PermissionSetGroups:
		return psg
	}
	return true
}

// exposedGroup finds an exposed group for a write by id, in the catalog (reloading it once on a
// miss: the group may have been created through another replica). A group deleted through
// another replica may still be cached: the writes then fail at Salesforce, and those failures
// are checked for a missing group (404).
func (o *operation) exposedGroup(id string) (group, error) {
	gid, ok := rest.CanonicalID(id, rest.PrefixPermSet, rest.PrefixPermSetGroup)
	if !ok {
		return group{}, notFound("group")
	}
	cat, ok, err := o.find(func(c *catalog) bool { _, ok := c.exposedByID(gid); return ok })
	if err != nil {
		return group{}, err
	}
	if !ok {
		return group{}, notFound("group")
	}
	g, _ := cat.exposedByID(gid)
	return g, nil
}

// getGroup reads one group from Salesforce: one call (a composite of the record and the first
// page of members), plus one per further 2000 members. With members excluded, no assignment is
// read. A group that is not exposed (profile-owned, a group's aggregate, excluded by
// groups.source or groups.include) is not found.
func (b *Backend) getGroup(ctx context.Context, id string, opts scimschema.ReadOptions) (scimschema.Resource, error) {
	gid, ok := rest.CanonicalID(id, rest.PrefixPermSet, rest.PrefixPermSetGroup)
	if !ok {
		return scimschema.Resource{}, notFound("group")
	}
	psg := strings.HasPrefix(gid, rest.PrefixPermSetGroup)
	if !b.sourceHolds(psg) {
		return scimschema.Resource{}, notFound("group")
	}
	withMembers := scimschema.Requested("members", opts.Attributes, opts.ExcludedAttributes)
	g, members, err := b.operation(ctx).readGroup(group{ID: gid, IsPSG: psg}, withMembers)
	if err != nil {
		return scimschema.Resource{}, err
	}
	if !b.exposes(g) {
		return scimschema.Resource{}, notFound("group")
	}
	return scimschema.GroupToResource(g.record(members, withMembers)), nil
}

// readGroup reads a group's record, and its members when asked, in one composite, plus one call
// per further 2000 members. A group Salesforce does not have is KindNotFound (and leaves the
// catalog cache).
func (o *operation) readGroup(g group, withMembers bool) (group, []scimschema.Ref, error) {
	fresh, members, err := o.readGroupMembers(g, withMembers)
	if err != nil {
		return group{}, nil, err
	}
	var refs []scimschema.Ref
	if withMembers {
		refs = make([]scimschema.Ref, len(members))
		for i, m := range members {
			refs[i] = scimschema.Ref{ID: m.user, Display: m.display}
		}
	}
	return fresh, refs, nil
}

// readGroupMembers is readGroup returning the assignments with their ids; where narrows them.
func (o *operation) readGroupMembers(g group, withMembers bool, where ...rest.Cond) (group, []groupMember, error) {
	b := o.b
	rq, err := groupRecordQuery(g.ID, g.IsPSG).String()
	if err != nil {
		return group{}, nil, err
	}
	subs := []rest.Subrequest{{Method: "GET", Path: rest.QueryPath(rq), ReferenceID: "rec"}}
	if withMembers {
		mq, err := b.memberQuery(g, where...).String()
		if err != nil {
			return group{}, nil, err
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(mq), ReferenceID: "members"})
	}
	res, err := b.c.Composite(o.ctx, false, subs)
	if err != nil {
		return group{}, nil, err
	}
	for _, s := range res {
		if s.Status >= 400 {
			return group{}, nil, queryFailure(s)
		}
	}
	by := byRef(res)
	rec, err := decodeQuery(by["rec"])
	if err != nil {
		return group{}, nil, err
	}
	if len(rec.Records) == 0 {
		b.removeGroup(g.ID) // deleted in Salesforce (perhaps through another replica)
		return group{}, nil, notFound("group")
	}
	fresh := groupFromRecord(rec.Records[0], g.IsPSG)
	if !withMembers {
		return fresh, nil, nil
	}
	mq, err := decodeQuery(by["members"])
	if err != nil {
		return group{}, nil, err
	}
	members := []groupMember{}
	err = b.walkRerun(o.ctx, mq, soqlOf(pathsByRef(subs)["members"]), func(r map[string]any) bool {
		members = append(members, b.groupMemberOf(r))
		return true
	})
	if err != nil {
		return group{}, nil, err
	}
	return fresh, members, nil
}

// listedGroup is an exposed group as a list read it, with the first batch of its members when
// they were asked for.
type listedGroup struct {
	group
	members *queryBody
}

// readGroups reads every exposed group from Salesforce in one composite: the permission set and
// permission set group queries (per groups.source; with members as child subqueries when
// withMembers) and, for a members filter, the assignments of the users it names. Query results
// beyond one batch are followed with nextRecordsUrl; child results beyond their first batch are
// not (only the page's groups need them; see ListGroups).
func (b *Backend) readGroups(ctx context.Context, withMembers bool, users []any) ([]listedGroup, map[string]map[string]bool, error) {
	subs, err := b.groupsSubrequests(withMembers, users)
	if err != nil {
		return nil, nil, err
	}
	res, err := b.c.Composite(ctx, false, subs)
	if err != nil {
		return nil, nil, err
	}
	r := groupsRead{memberships: map[string]map[string]bool{}, psgMembers: map[string][]map[string]any{}}
	paths := pathsByRef(subs)
	noPSG := false
	for _, sr := range res {
		if sr.Status >= 400 {
			if sr.ReferenceID == "psg" && sr.Err != nil && (sr.Err.Code == "INVALID_TYPE" || sr.Err.Code == "NOT_FOUND") {
				noPSG = true // an org without permission set groups: the query has no child relationship
				continue
			}
			if sr.ReferenceID == "psgm" && noPSG {
				continue
			}
			if sr.Err != nil {
				return nil, nil, sr.Err
			}
			return nil, nil, fmt.Errorf("subrequest %s: HTTP %d", sr.ReferenceID, sr.Status)
		}
		if err := b.collectGroups(ctx, &r, sr, soqlOf(paths[sr.ReferenceID])); err != nil {
			return nil, nil, err
		}
	}
	if withMembers {
		r.attachPSGMembers()
	}
	return r.groups, r.memberships, nil
}

// groupsSubrequests are readGroups' queries: ps and psg (the groups), psgm (permission set group
// members) and mship (a members filter's assignments).
func (b *Backend) groupsSubrequests(withMembers bool, users []any) ([]rest.Subrequest, error) {
	var subs []rest.Subrequest
	for _, psg := range []bool{false, true} {
		if !b.sourceHolds(psg) {
			continue
		}
		q, err := b.groupsQuery(psg, withMembers).String()
		if err != nil {
			return nil, err
		}
		ref := "ps"
		if psg {
			ref = "psg"
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(q), ReferenceID: ref})
		if psg && withMembers {
			mq, err := b.psgMembersQuery().String()
			if err != nil {
				return nil, err
			}
			subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(mq), ReferenceID: "psgm"})
		}
	}
	if len(users) > 0 {
		q, err := rest.Select("AssigneeId", "PermissionSetId", "PermissionSetGroupId").From("PermissionSetAssignment").
			Where(rest.In("AssigneeId", users...)).String()
		if err != nil {
			return nil, err
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(q), ReferenceID: "mship"})
	}
	return subs, nil
}

// groupsRead is what readGroups has read so far.
type groupsRead struct {
	groups      []listedGroup
	memberships map[string]map[string]bool  // see addMembership
	psgMembers  map[string][]map[string]any // 15-character group id → its assignments
}

// collectGroups reads the rows of one of readGroups' queries (soql, for a rerun) into r.
func (b *Backend) collectGroups(ctx context.Context, r *groupsRead, sr rest.SubResponse, soql string) error {
	q, err := decodeQuery(sr)
	if err != nil {
		return err
	}
	return b.walkRerun(ctx, q, soql, func(rec map[string]any) bool {
		switch sr.ReferenceID {
		case "mship":
			addMembership(r.memberships, rec)
			return true
		case "psgm":
			if g := str(rec["PermissionSetGroupId"]); len(g) >= 15 {
				r.psgMembers[g[:15]] = append(r.psgMembers[g[:15]], rec)
			}
			return true
		}
		g := groupFromRecord(rec, sr.ReferenceID == "psg")
		if b.exposes(g) {
			r.groups = append(r.groups, listedGroup{group: g, members: childResult(rec["Assignments"])})
		}
		return true
	})
}

// attachPSGMembers gives each permission set group its members, read apart (psgm).
func (r *groupsRead) attachPSGMembers() {
	for i, g := range r.groups {
		if g.IsPSG && len(g.ID) >= 15 {
			if recs := r.psgMembers[g.ID[:15]]; len(recs) > 0 {
				r.groups[i].members = &queryBody{TotalSize: len(recs), Done: true, Records: recs}
			}
		}
	}
}

// addMembership records one assignment of a members filter's user. Keys are 15-character user
// ids, values sets of 15-character group ids.
func addMembership(m map[string]map[string]bool, r map[string]any) {
	u := str(r["AssigneeId"])
	if len(u) < 15 {
		return
	}
	set := m[u[:15]]
	if set == nil {
		set = map[string]bool{}
		m[u[:15]] = set
	}
	for _, f := range []string{"PermissionSetId", "PermissionSetGroupId"} {
		if g := str(r[f]); len(g) >= 15 {
			set[g[:15]] = true
		}
	}
}

// listGroups answers GET /Groups from Salesforce: one call, whatever the filter (a members
// filter's assignment query rides in the same composite) and with members (child subqueries).
// Filter, sort and paging run in Go on the exposed groups. Members past a group's first child
// batch are read, one call per batch, for the page's groups only.
func (b *Backend) listGroups(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	empty := scimschema.Page{Resources: []scimschema.Resource{}}
	var nc scimschema.Cond
	if q.Filter != nil {
		var err error
		if nc, err = scimschema.GroupFilter(q.Filter); err != nil {
			return empty, err
		}
	}
	sortField := ""
	if q.SortBy != "" {
		var err error
		if sortField, err = scimschema.GroupSortField(q.SortBy); err != nil {
			return empty, err
		}
	}
	withMembers := scimschema.Requested("members", q.Attributes, q.ExcludedAttributes) && q.Count > 0
	listed, memberships, err := b.readGroups(ctx, withMembers, filterUsers(nc))
	if err != nil {
		return empty, err
	}
	matches := listed
	if nc != nil {
		matches = nil
		for _, g := range listed {
			ok, err := evalGroup(nc, g.group, memberships)
			if err != nil {
				return empty, err
			}
			if ok {
				matches = append(matches, g)
			}
		}
	}
	if sortField != "" {
		slices.SortStableFunc(matches, func(x, y listedGroup) int {
			c := strings.Compare(strings.ToLower(groupField(x.group, sortField)), strings.ToLower(groupField(y.group, sortField)))
			if q.Descending {
				return -c
			}
			return c
		})
	}
	page := scimschema.Page{TotalResults: len(matches), Resources: []scimschema.Resource{}}
	start := max(q.StartIndex, 1) - 1
	if start >= len(matches) || q.Count <= 0 {
		return page, nil
	}
	for _, g := range matches[start:min(start+q.Count, len(matches))] {
		var members []scimschema.Ref
		if withMembers {
			members = []scimschema.Ref{}
			if g.members != nil {
				err := b.walkChild(ctx, g.members, b.memberQuery(g.group).OrderBy("Id", false),
					func(r map[string]any) bool { members = append(members, b.memberRef(r)); return true })
				if err != nil {
					return empty, err
				}
			}
		}
		page.Resources = append(page.Resources, scimschema.GroupToResource(g.record(members, withMembers)))
	}
	return page, nil
}

// filterUsers returns the user ids a members filter names.
func filterUsers(c scimschema.Cond) []any {
	var users []any
	var collect func(scimschema.Cond)
	collect = func(c scimschema.Cond) {
		switch c := c.(type) {
		case scimschema.And:
			for _, x := range c.Conds {
				collect(x)
			}
		case scimschema.Or:
			for _, x := range c.Conds {
				collect(x)
			}
		case scimschema.Not:
			collect(c.Cond)
		case scimschema.HasMember:
			if id, ok := rest.CanonicalID(c.UserID, rest.PrefixUser); ok {
				users = append(users, id)
			}
		}
	}
	if c != nil {
		collect(c)
	}
	return users
}

// groupField is the value of a Group field the neutral filter names.
func groupField(g group, field string) string {
	switch strings.ToLower(field) {
	case "label", "masterlabel":
		return g.Label
	case "id":
		return g.ID
	case "name", "developername":
		return g.Name
	case "lastmodifieddate", "systemmodstamp":
		return g.LastModified
	case "createddate":
		return g.Created
	case "description":
		return g.Description
	}
	return ""
}

func knownGroupField(field string) bool {
	switch strings.ToLower(field) {
	case "label", "masterlabel", "id", "name", "developername", "lastmodifieddate", "systemmodstamp", "createddate", "description":
		return true
	}
	return false
}

// sfTime parses a Salesforce datetime ("2006-01-02T15:04:05.000+0000").
func sfTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// evalGroup evaluates a neutral Group filter on a catalog group. Strings compare
// case-insensitively (displayName is not caseExact), ids by their 15-character form.
func evalGroup(c scimschema.Cond, g group, memberships map[string]map[string]bool) (bool, error) {
	switch c := c.(type) {
	case scimschema.And:
		for _, x := range c.Conds {
			ok, err := evalGroup(x, g, memberships)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case scimschema.Or:
		for _, x := range c.Conds {
			ok, err := evalGroup(x, g, memberships)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case scimschema.Not:
		ok, err := evalGroup(c.Cond, g, memberships)
		return !ok, err
	case scimschema.Nothing:
		return false, nil
	case scimschema.Present:
		if !knownGroupField(c.Field) {
			return false, filterError("groups cannot be filtered on this attribute")
		}
		return groupField(g, c.Field) != "", nil
	case scimschema.HasMember:
		id, ok := rest.CanonicalID(c.UserID, rest.PrefixUser)
		return ok && memberships[id[:15]][g.ID[:min(15, len(g.ID))]], nil
	case scimschema.Compare:
		return compareGroup(c, g)
	}
	return false, filterError("groups cannot be filtered this way")
}

func compareGroup(c scimschema.Compare, g group) (bool, error) {
	if !knownGroupField(c.Field) {
		return false, filterError("groups cannot be filtered on this attribute")
	}
	got := groupField(g, c.Field)
	var cmp int
	switch v := c.Value.(type) {
	case time.Time:
		t, ok := sfTime(got)
		if !ok {
			return false, nil
		}
		cmp = t.Compare(v)
	case string:
		if strings.EqualFold(c.Field, "Id") {
			if len(got) >= 15 && len(v) >= 15 {
				got, v = got[:15], v[:15]
			}
			cmp = strings.Compare(got, v)
			break
		}
		lg, lv := strings.ToLower(got), strings.ToLower(v)
		if c.CaseExact {
			lg, lv = got, v
		}
		switch c.Op {
		case "co":
			return strings.Contains(lg, lv), nil
		case "sw":
			return strings.HasPrefix(lg, lv), nil
		case "ew":
			return strings.HasSuffix(lg, lv), nil
		}
		cmp = strings.Compare(lg, lv)
	default:
		return false, filterError("groups cannot be compared with this value type")
	}
	switch c.Op {
	case "eq":
		return cmp == 0, nil
	case "ne":
		return cmp != 0, nil
	case "gt":
		return cmp > 0, nil
	case "ge":
		return cmp >= 0, nil
	case "lt":
		return cmp < 0, nil
	case "le":
		return cmp <= 0, nil
	}
	return false, filterError("unsupported comparison operator %q", c.Op)
}
