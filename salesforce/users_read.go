package salesforce

import (
	"context"
	"fmt"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// assignment is one PermissionSetAssignment of a user to an exposed group.
type assignment struct {
	id    string // the PermissionSetAssignment Id
	group group
}

// userState is a Salesforce User as read, with what writes need to know about it.
type userState struct {
	rec      scimschema.UserRecord
	assigned []assignment // exposed assignments; only when rec.GroupsRead
	loginID  string       // the UserLogin Id, "" when the user has none
	frozen   bool
}

// userQuery selects a user's mapped fields (and, withGroups, the assignments) among the users
// SCIM sees (users.user_types).
func (b *Backend) userQuery(where rest.Cond, withGroups bool) *rest.Query {
	return b.userQueryAnyType(b.withUserTypes(where), withGroups)
}

// userQueryAnyType is userQuery without the users.user_types restriction.
func (b *Backend) userQueryAnyType(where rest.Cond, withGroups bool) *rest.Query {
	q := rest.Select(b.mapper.ReadFields()...)
	if withGroups {
		// Not filtered on PermissionSet.IsOwnedByProfile inside the subquery: an assignment of a
		// permission set group has no PermissionSetId on some orgs. Each row carries what decides
		// whether its group is exposed (assignedGroup), so a group created through another
		// replica shows without waiting for this replica's catalog.
		q = q.SubQuery(userAssignmentSelect().From("PermissionSetAssignments"))
	}
	return q.From("User").Where(where)
}

// userAssignmentSelect selects what a user's assignment row needs (assignedGroup), in the child
// subquery and in the query of the rows past its first batch.
func userAssignmentSelect() *rest.Query {
	return rest.Select("Id", "PermissionSetId", "PermissionSetGroupId",
		"PermissionSet.Name", "PermissionSet.Label", "PermissionSet.IsOwnedByProfile", "PermissionSet.PermissionSetGroupId",
		"PermissionSetGroup.DeveloperName", "PermissionSetGroup.MasterLabel")
}

func (b *Backend) withUserTypes(where rest.Cond) rest.Cond {
	types := rest.In("UserType", b.userTypes...)
	if where == nil {
		return types
	}
	return rest.And(where, types)
}

func loginQuery(where rest.Cond) *rest.Query {
	return rest.Select("Id", "UserId", "IsFrozen").From("UserLogin").Where(where)
}

// frozenLoginsOf reads the frozen UserLogins of the users where holds, among the user types the
// bridge serves.
func (b *Backend) frozenLoginsOf(where rest.Cond) *rest.Query {
	return loginQuery(rest.And(rest.Eq("IsFrozen", true), rest.InQuery("UserId", rest.Select("Id").From("User").Where(b.withUserTypes(where)))))
}

// loginRow is a user's UserLogin.
type loginRow struct {
	id     string
	frozen bool
}

func logins(q *queryBody) map[string]loginRow {
	m := make(map[string]loginRow, len(q.Records))
	for _, r := range q.Records {
		id := str(r["UserId"])
		if len(id) >= 15 {
			frozen, _ := r["IsFrozen"].(bool)
			m[id[:15]] = loginRow{id: str(r["Id"]), frozen: frozen}
		}
	}
	return m
}

func loginOf(m map[string]loginRow, userID string) (loginRow, bool) {
	if len(userID) < 15 {
		return loginRow{}, false
	}
	l, ok := m[userID[:15]]
	return l, ok
}

// parseUser turns a User query row into a userState.
func (b *Backend) parseUser(o *operation, row userRow, login loginRow, hasLogin, withGroups bool) (*userState, error) {
	profileID := str(row.fields["ProfileId"])
	cat, _, err := o.find(func(c *catalog) bool { return profileID == "" || c.profileName(profileID) != "" })
	if err != nil {
		return nil, err
	}
	u := &userState{rec: scimschema.UserRecord{
		Fields:      row.fields,
		Frozen:      hasLogin && login.frozen,
		ProfileName: cat.profileName(profileID),
		GroupsRead:  withGroups,
	}}
	if hasLogin {
		u.loginID, u.frozen = login.id, login.frozen
	}
	if !withGroups {
		return u, nil
	}
	u.rec.Groups = []scimschema.Ref{}
	rest := userAssignmentSelect().From("PermissionSetAssignment").Where(rest.Eq("AssigneeId", str(row.fields["Id"]))).OrderBy("Id", false)
	err = b.walkAssignments(o.ctx, row.assignments, rest, func(psa assignmentRow) {
		if g, ok := b.assignedGroup(psa); ok {
			u.assigned = append(u.assigned, assignment{id: psa.ID, group: g})
			u.rec.Groups = append(u.rec.Groups, scimschema.Ref{ID: g.ID, Display: g.Label})
		}
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// assignedGroup is the group of one row of a user's assignment subquery, and whether it is
// exposed.
func (b *Backend) assignedGroup(psa assignmentRow) (group, bool) {
	var g group
	if id := psa.PermissionSetGroupID; id != "" {
		g = group{ID: id, IsPSG: true}
		if p := psa.PermissionSetGroup; p != nil {
			g.Name, g.Label = p.DeveloperName, p.MasterLabel
		}
	} else {
		p := psa.PermissionSet
		if p == nil || p.IsOwnedByProfile {
			return group{}, false
		}
		g = group{ID: psa.PermissionSetID, Name: p.Name, Label: p.Label, Aggregate: p.PermissionSetGroupID != ""}
	}
	return g, g.ID != "" && b.exposes(g)
}

// readUser reads one user in one call: a composite of the user query and its UserLogin query.
// A user that does not exist or whose UserType SCIM does not see is KindNotFound.
func (o *operation) readUser(id string, withGroups bool) (*userState, error) {
	if _, err := o.catalog(); err != nil {
		return nil, err
	}
	return o.readUserBy(rest.Eq("Id", id), rest.Eq("UserId", id), withGroups)
}

// readUserBy reads the one user matching where, and the UserLogin rows matching login, in one
// composite call.
func (o *operation) readUserBy(where, login rest.Cond, withGroups bool) (*userState, error) {
	b := o.b
	uq, err := b.userQuery(where, withGroups).Limit(1).String()
	if err != nil {
		return nil, err
	}
	lq, err := loginQuery(login).String()
	if err != nil {
		return nil, err
	}
	found, res, err := b.readUsersTyped(o.ctx, []rest.Subrequest{
		{Method: "GET", Path: rest.QueryPath(uq), ReferenceID: "users"},
		{Method: "GET", Path: rest.QueryPath(lq), ReferenceID: "logins"},
	})
	if err != nil {
		return nil, err
	}
	if res != nil {
		return o.userFromResponses(byRef(res), "users", "logins", withGroups)
	}
	if len(found.rows) == 0 {
		return nil, notFound("user")
	}
	row := found.rows[0]
	l, has := loginOf(found.logins, str(row.fields["Id"]))
	return b.parseUser(o, row, l, has, withGroups)
}

// userFromResponses reads the user and login query subresponses of a composite.
func (o *operation) userFromResponses(subs map[string]rest.SubResponse, userRef, loginRef string, withGroups bool) (*userState, error) {
	b := o.b
	us, ok1 := subs[userRef]
	ls, ok2 := subs[loginRef]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("composite answer lacks %s or %s", userRef, loginRef)
	}
	for _, s := range []rest.SubResponse{us, ls} {
		if s.Status >= 400 {
			if s.Err != nil {
				return nil, s.Err
			}
			return nil, fmt.Errorf("subrequest %s: HTTP %d", s.ReferenceID, s.Status)
		}
	}
	uq, err := decodeQuery(us)
	if err != nil {
		return nil, err
	}
	if len(uq.Records) == 0 {
		return nil, notFound("user")
	}
	lq, err := decodeQuery(ls)
	if err != nil {
		return nil, err
	}
	row := rowOf(uq.Records[0])
	login, has := loginOf(logins(lq), str(row.fields["Id"]))
	return b.parseUser(o, row, login, has, withGroups)
}

// getUser reads one user: one Salesforce call (a composite of the user query, with its
// assignments unless the projection excludes groups, and its UserLogin). A malformed id is
// "not found", like any unknown id.
func (b *Backend) getUser(ctx context.Context, id string, opts scimschema.ReadOptions) (scimschema.Resource, error) {
	uid, ok := rest.CanonicalID(id, rest.PrefixUser)
	if !ok {
		return scimschema.Resource{}, notFound("user")
	}
	defer b.batch.enter(ctx)()
	o := b.operation(ctx)
	u, err := o.readUserCoalesced(uid, scimschema.Requested("groups", opts.Attributes, opts.ExcludedAttributes))
	if err != nil {
		return scimschema.Resource{}, err
	}
	return b.mapper.ToResource(u.rec), nil
}
