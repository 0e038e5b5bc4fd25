package salesforce

import (
	"context"
	"fmt"
	"strings"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// CreateGroup creates an empty permission set (and assigns the given members) in one composite:
// the PermissionSet create, the assignment collections referencing it, and the read-back.
func (b *Backend) CreateGroup(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	label, members, err := b.groupToCreate(ctx, attrs)
	if err != nil {
		return scimschema.Resource{}, err
	}
	o := b.operation(ctx)
	name, err := o.newGroupName(label)
	if err != nil {
		return scimschema.Resource{}, err
	}
	refs := make([]scimschema.Ref, len(members))
	for i, m := range members {
		refs[i] = scimschema.Ref{ID: m}
	}
	if b.dryRun(ctx, "create_group", "") {
		b.audit(ctx, Change{Operation: OpCreateGroup, Changed: []string{"displayName"}}, nil)
		if len(members) > 0 {
			b.audit(ctx, Change{Operation: OpAddMembers, Changed: []string{"members"}, Added: members}, nil)
		}
		g := group{ID: "0PSDRYRUN" + strings.Repeat("0", 9), Name: name, Label: label}
		return scimschema.GroupToResource(g.record(refs, true)), nil
	}
	first := members[:min(len(members), membersAtCreate)]
	g, err := o.createPermissionSet(name, label, first)
	if err != nil {
		return scimschema.Resource{}, err
	}
	if rest := members[len(first):]; len(rest) > 0 {
		if err := o.writeGroup(&g, nil, rest, nil, nil); err != nil {
			return scimschema.Resource{}, err
		}
	}
	return scimschema.GroupToResource(g.record(refs, true)), nil
}

// groupToCreate reads a POST /Groups: the new group's label and its members' user ids. It refuses
// what the configuration does not allow.
func (b *Backend) groupToCreate(ctx context.Context, attrs map[string]any) (label string, members []string, err error) {
	if !b.cfg.Groups.AllowCreate {
		return "", nil, forbidden("group creation is disabled (groups.allow_create)")
	}
	if b.cfg.Groups.Source == PermissionSetGroups {
		return "", nil, forbidden("groups.source is permission_set_groups: the bridge creates permission sets, which that setting does not expose")
	}
	w, err := scimschema.GroupForCreate(attrs)
	if err != nil {
		return "", nil, b.fail(ctx, err)
	}
	if w.DisplayName == nil {
		return "", nil, invalid("displayName: required", nil)
	}
	if err := validLabel(*w.DisplayName); err != nil {
		return "", nil, err
	}
	if w.Members != nil {
		if members, err = memberIDs(w.Members.Add, true); err != nil {
			return "", nil, err
		}
	}
	return *w.DisplayName, members, nil
}

// newGroupName is the API name of a new group labelled label: free among the permission sets the
// catalog knows, and matched by groups.include (or the group would not be visible).
func (o *operation) newGroupName(label string) (string, error) {
	cat, err := o.labelFree(label, "")
	if err != nil {
		return "", err
	}
	name := apiName(label, func(n string) bool {
		for _, g := range cat.groups {
			if strings.EqualFold(g.Name, n) {
				return true
			}
		}
		return false
	})
	if !o.b.included(name, label) {
		return "", invalid("displayName: the new group would match no groups.include pattern and would not be visible", nil)
	}
	return name, nil
}

// membersAtCreate is the most members assigned in the composite that creates their group: the
// create and the read-back take the other two subrequests.
const membersAtCreate = rest.MaxSubrequests - 2

// createPermissionSet creates the permission set and assigns members (at most membersAtCreate)
// in one composite (allOrNone): the create, one POST per member (a reference inside sObject
// Collections records is undocumented; see psaCreates) and the read-back. It returns the group as
// read back, and audits the create and the additions.
func (o *operation) createPermissionSet(name, label string, members []string) (group, error) {
	b := o.b
	subs, err := createGroupSubrequests(name, label, members)
	if err != nil {
		return group{}, b.fail(o.ctx, err)
	}
	res, err := b.c.Composite(o.ctx, true, subs)
	if err == nil {
		err = o.createRefusal(res, members)
	} else {
		err = b.fail(o.ctx, err)
	}
	if err != nil {
		b.audit(o.ctx, Change{Operation: OpCreateGroup, Changed: []string{"displayName"}}, err)
		return group{}, err
	}
	rec, err := decodeQuery(byRef(res)["rec"])
	if err != nil || len(rec.Records) == 0 {
		return group{}, b.fail(o.ctx, fmt.Errorf("reading the created permission set back: %v", err))
	}
	g := groupFromRecord(rec.Records[0], false)
	b.addGroup(g)
	b.audit(o.ctx, Change{Operation: OpCreateGroup, Target: g.ID, Changed: []string{"displayName"}}, nil)
	if len(members) > 0 {
		b.audit(o.ctx, Change{Operation: OpAddMembers, Target: g.ID, Changed: []string{"members"}, Added: members}, nil)
	}
	return g, nil
}

// createGroupSubrequests are the subrequests of createPermissionSet: the PermissionSet create
// (ps), an assignment create per member (psa0, psa1, …) and the read-back (rec).
func createGroupSubrequests(name, label string, members []string) ([]rest.Subrequest, error) {
	subs := []rest.Subrequest{{Method: "POST", Path: "sobjects/PermissionSet", ReferenceID: "ps", Body: map[string]any{"Name": name, "Label": label}}}
	recs := make([]map[string]any, len(members))
	for i, m := range members {
		recs[i] = map[string]any{"AssigneeId": m, "PermissionSetId": "@{ps.id}"}
	}
	subs = append(subs, psaCreates("psa", recs)...)
	rq, err := groupRecordQuery("@{ps.id}", false).String()
	if err != nil {
		return nil, err
	}
	return append(subs, rest.Subrequest{Method: "GET", Path: refQueryPath(rq, "@{ps.id}"), ReferenceID: "rec"}), nil
}

// createRefusal is why Salesforce refused createPermissionSet's composite, nil when it did not:
// the members it could not assign, or the permission set it would not create.
func (o *operation) createRefusal(res []rest.SubResponse, members []string) error {
	if failures := createFailures(byRef(res), "psa", len(members), "DUPLICATE_VALUE"); len(failures) > 0 {
		return assignmentError("assigning members", failures, func(j int) string { return "member " + members[j] })
	}
	_, e := subErr(res)
	if e == nil {
		return nil
	}
	switch e.Code {
	case "DUPLICATE_DEVELOPER_NAME", "DUPLICATE_VALUE", "DUPLICATE_NAME":
		o.b.invalidate() // a permission set the catalog did not know has this API name
		return &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "a Salesforce permission set already has the API name derived from displayName; retry", Err: e}
	case "STRING_TOO_LONG", "FIELD_INTEGRITY_EXCEPTION", "INVALID_FIELD", "REQUIRED_FIELD_MISSING":
		return invalid("displayName: Salesforce refused the permission set (check the name against Salesforce's rules for permission set labels)", e)
	}
	return o.b.fail(o.ctx, e)
}
