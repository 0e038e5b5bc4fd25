package salesforce

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// SCIM Groups are the exposed permission sets (and, with groups.source including them, permission
// set groups) of the catalog. Lists and filters run on the cached catalog; members are
// PermissionSetAssignments, read only when the projection asks for them.

func (g group) record(members []scimschema.Ref, read bool) scimschema.GroupRecord {
	return scimschema.GroupRecord{
		ID: g.ID, Name: g.Name, Label: g.Label, Description: g.Description,
		Created: g.Created, LastModified: g.LastModified,
		Members: members, MembersRead: read,
	}
}

// groupRecordQuery reads one permission set or permission set group.
func groupRecordQuery(id string, psg bool) *Query {
	if psg {
		return Select("Id", "DeveloperName", "MasterLabel", "Description", "CreatedDate", "LastModifiedDate").
			From("PermissionSetGroup").Where(Eq("Id", id))
	}
	return Select("Id", "Name", "Label", "Description", "LicenseId", "PermissionSetGroupId", "CreatedDate", "LastModifiedDate").
		From("PermissionSet").Where(And(Eq("Id", id), Eq("IsOwnedByProfile", false)))
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

// memberQuery selects a group's assignments to users SCIM sees.
func (b *Backend) memberQuery(g group) *Query {
	return Select("Id", "AssigneeId", "Assignee.Username").From("PermissionSetAssignment").
		Where(And(Eq(g.assignmentField(), g.ID), In("Assignee.UserType", b.userTypes...)))
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

// exposedGroup finds an exposed group by id (reloading the catalog once on a miss).
func (o *op) exposedGroup(id string) (group, error) {
	gid, ok := canonicalID(id, prefixPermSet, prefixPermSetGr)
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

// GetGroup reads one group: one call (a composite of the record and the first page of members),
// plus one per further 2000 members. With members excluded, no assignment is read.
func (b *Backend) GetGroup(ctx context.Context, id string, opts scimschema.ReadOptions) (scimschema.Resource, error) {
	o := b.op(ctx)
	g, err := o.exposedGroup(id)
	if err != nil {
		return scimschema.Resource{}, err
	}
	withMembers := scimschema.Requested("members", opts.Attributes, opts.ExcludedAttributes)
	fresh, members, err := o.readGroup(g, withMembers)
	if err != nil {
		return scimschema.Resource{}, err
	}
	return scimschema.GroupToResource(fresh.record(members, withMembers)), nil
}

// readGroup reads a group's record, and its members when asked, in one composite.
func (o *op) readGroup(g group, withMembers bool) (group, []scimschema.Ref, error) {
	b := o.b
	rq, err := groupRecordQuery(g.ID, g.IsPSG).String()
	if err != nil {
		return group{}, nil, b.fail(o.ctx, err)
	}
	subs := []Subrequest{{Method: "GET", Path: QueryPath(rq), ReferenceID: "rec"}}
	if withMembers {
		mq, err := b.memberQuery(g).String()
		if err != nil {
			return group{}, nil, b.fail(o.ctx, err)
		}
		subs = append(subs, Subrequest{Method: "GET", Path: QueryPath(mq), ReferenceID: "members"})
	}
	res, err := b.c.Composite(o.ctx, false, subs)
	if err != nil {
		return group{}, nil, b.fail(o.ctx, err)
	}
	for _, s := range res {
		if s.Status >= 400 {
			return group{}, nil, b.queryFailure(o.ctx, s)
		}
	}
	by := byRef(res)
	rec, err := decodeQuery(by["rec"])
	if err != nil {
		return group{}, nil, b.fail(o.ctx, err)
	}
	if len(rec.Records) == 0 {
		b.invalidate() // the catalog named a group Salesforce no longer has
		return group{}, nil, notFound("group")
	}
	fresh := groupFromRecord(rec.Records[0], g.IsPSG)
	if !withMembers {
		return fresh, nil, nil
	}
	mq, err := decodeQuery(by["members"])
	if err != nil {
		return group{}, nil, b.fail(o.ctx, err)
	}
	members := []scimschema.Ref{}
	err = b.walk(o.ctx, mq, func(r map[string]any) bool {
		members = append(members, b.memberRef(r))
		return true
	})
	if err != nil {
		return group{}, nil, b.fail(o.ctx, err)
	}
	return fresh, members, nil
}

// ListGroups answers GET /Groups from the catalog (no call when it is cached). A members filter
// costs one assignment query; members in the answer cost one composite per 5 groups of the page
// (plus one call per further 2000 members of a group).
func (b *Backend) ListGroups(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	empty := scimschema.Page{Resources: []scimschema.Resource{}}
	o := b.op(ctx)
	cat, err := o.catalog()
	if err != nil {
		return empty, err
	}
	matches := slices.Clone(cat.exposed)
	if q.Filter != nil {
		nc, err := scimschema.GroupFilter(q.Filter)
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		memberships, err := b.memberships(ctx, nc)
		if err != nil {
			return empty, err
		}
		var kept []group
		for _, g := range matches {
			ok, err := evalGroup(nc, g, memberships)
			if err != nil {
				return empty, err
			}
			if ok {
				kept = append(kept, g)
			}
		}
		matches = kept
	}
	if q.SortBy != "" {
		field, err := scimschema.GroupSortField(q.SortBy)
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		slices.SortStableFunc(matches, func(x, y group) int {
			c := strings.Compare(strings.ToLower(groupField(x, field)), strings.ToLower(groupField(y, field)))
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
	matches = matches[start:min(start+q.Count, len(matches))]
	withMembers := scimschema.Requested("members", q.Attributes, q.ExcludedAttributes)
	var members map[string][]scimschema.Ref
	if withMembers {
		if members, err = b.membersOf(ctx, matches); err != nil {
			return empty, err
		}
	}
	for _, g := range matches {
		ms := members[g.ID]
		if withMembers && ms == nil {
			ms = []scimschema.Ref{}
		}
		page.Resources = append(page.Resources, scimschema.GroupToResource(g.record(ms, withMembers)))
	}
	return page, nil
}

// membersOf reads the members of several groups: composites of up to 5 member queries, then
// nextRecordsUrl for groups beyond one batch.
func (b *Backend) membersOf(ctx context.Context, groups []group) (map[string][]scimschema.Ref, error) {
	out := make(map[string][]scimschema.Ref, len(groups))
	for i := 0; i < len(groups); i += 5 {
		chunk := groups[i:min(i+5, len(groups))]
		var subs []Subrequest
		for j, g := range chunk {
			mq, err := b.memberQuery(g).String()
			if err != nil {
				return nil, b.fail(ctx, err)
			}
			subs = append(subs, Subrequest{Method: "GET", Path: QueryPath(mq), ReferenceID: fmt.Sprintf("m%d", j)})
		}
		res, err := b.c.Composite(ctx, false, subs)
		if err != nil {
			return nil, b.fail(ctx, err)
		}
		for j, s := range res {
			if s.Status >= 400 {
				return nil, b.queryFailure(ctx, s)
			}
			q, err := decodeQuery(s)
			if err != nil {
				return nil, b.fail(ctx, err)
			}
			g := chunk[j]
			refs := []scimschema.Ref{}
			if err := b.walk(ctx, q, func(r map[string]any) bool { refs = append(refs, b.memberRef(r)); return true }); err != nil {
				return nil, b.fail(ctx, err)
			}
			out[g.ID] = refs
		}
	}
	return out, nil
}

// memberships reads, for every user a members filter names, the groups assigned to them: one
// query. Keys are 15-character user ids, values sets of 15-character group ids.
func (b *Backend) memberships(ctx context.Context, c scimschema.Cond) (map[string]map[string]bool, error) {
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
			if id, ok := canonicalID(c.UserID, prefixUser); ok {
				users = append(users, id)
			}
		}
	}
	collect(c)
	out := map[string]map[string]bool{}
	if len(users) == 0 {
		return out, nil
	}
	q, err := Select("AssigneeId", "PermissionSetId", "PermissionSetGroupId").From("PermissionSetAssignment").
		Where(In("AssigneeId", users...)).String()
	if err != nil {
		return nil, b.fail(ctx, err)
	}
	_, err = b.c.QueryEach(ctx, q, 0, func(r Record) error {
		u := str(r["AssigneeId"])
		if len(u) < 15 {
			return nil
		}
		set := out[u[:15]]
		if set == nil {
			set = map[string]bool{}
			out[u[:15]] = set
		}
		for _, f := range []string{"PermissionSetId", "PermissionSetGroupId"} {
			if g := str(r[f]); len(g) >= 15 {
				set[g[:15]] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, b.fail(ctx, err)
	}
	return out, nil
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
		id, ok := canonicalID(c.UserID, prefixUser)
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
