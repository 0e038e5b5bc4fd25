package salesforce

import (
	"context"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// replaceGroup applies a PUT: displayName and the complete member set (overwrite: exactly that
// set; merge: only additions). Two calls: the group with its current members, then one composite
// with the label change, the assignment writes and the read-back. The answer carries the
// resulting members without reading them again.
func (b *Backend) replaceGroup(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	w, err := scimschema.GroupForReplace(attrs)
	if err != nil {
		return scimschema.Resource{}, err
	}
	return b.updateGroup(ctx, id, w, ifMatch, true)
}

// patchGroup applies a PATCH. Adding members is one call (an existing member is a no-op);
// removing up to removeInOneCall members and nothing else is one call (groups_remove.go), other
// removals two (the group with those members' assignments, then their deletion; a non-member
// is a no-op); replacing is two; a displayName change rides in the last composite. The answer
// is empty (204) unless displayName changed; then it is the group without members (reading a
// large group back would cost calls nobody asked for).
func (b *Backend) patchGroup(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error) {
	defer b.batch.enter(ctx)()
	w, err := scimschema.GroupForPatch(ops)
	if err != nil {
		return scimschema.Resource{}, err
	}
	return b.updateGroup(ctx, id, w, ifMatch, false)
}

// groupUpdate is what one PUT or PATCH writes to a group.
type groupUpdate struct {
	label           *string          // the new displayName; nil keeps it
	add             []string         // users to assign
	delPSA, delUser []string         // assignments to delete, and their users
	final           []scimschema.Ref // the resulting members, when known (a replace)
}

// updateGroup is PUT (put) and PATCH. A complete replace under Overwrite goes to overwriteMembers,
// a PATCH that only adds or only removes members to its batch (groups_coalesce.go,
// groups_remove_coalesce.go); anything else is planned here and written by writeGroup.
func (b *Backend) updateGroup(ctx context.Context, id string, w scimschema.GroupWrite, ifMatch string, put bool) (scimschema.Resource, error) {
	o := b.operation(ctx)
	g, err := o.exposedGroup(id)
	if err != nil {
		return scimschema.Resource{}, err
	}
	if g, err = o.matchVersion(g, ifMatch); err != nil {
		return scimschema.Resource{}, err
	}
	var u groupUpdate
	if u.label, err = o.relabel(g, w.DisplayName); err != nil {
		return scimschema.Resource{}, err
	}
	if m := w.Members; m != nil {
		adds, err := memberIDs(m.Add, true)
		if err != nil {
			return scimschema.Resource{}, err
		}
		removes, _ := memberIDs(m.Remove, false)
		dry := b.cfg.Provisioning.DryRun
		switch {
		case m.Replace && b.cfg.Provisioning.PermissionSets == Overwrite && !dry:
			return b.overwriteMembers(o, g, adds, u.label, put)
		case !m.Replace && len(removes) > 0 && len(adds) == 0 && u.label == nil && len(removes) <= removeInOneCall && !dry:
			return groupAnswer(g, nil, put, false), o.removeMembersCoalesced(g, removes)
		case !m.Replace && len(adds) > 0 && len(removes) == 0 && u.label == nil && len(adds) <= collectionMax && !dry && b.batch != nil:
			return groupAnswer(g, nil, put, false), o.addMembersCoalesced(g, adds)
		case m.Replace:
			g, err = o.planReplace(&u, g, adds)
		default:
			g, err = o.planIncremental(&u, g, adds, removes)
		}
		if err != nil {
			return scimschema.Resource{}, err
		}
	}
	return o.applyGroupUpdate(g, u, put)
}

// planReplace plans a complete member set (PUT, PATCH replace) from the group's current members,
// by the membership policy; under Merge, members the IdP did not name are kept, and the skip is
// logged. It returns the group as read with its members.
func (o *operation) planReplace(u *groupUpdate, g group, adds []string) (group, error) {
	g, cur, err := o.currentMembers(g, nil)
	if err != nil {
		return group{}, err
	}
	change := membershipChange[string]{replace: true, add: adds}
	plan := planMembership(o.b.cfg.Provisioning.PermissionSets, cur, change, groupMember.member, userID)
	if len(plan.kept) > 0 {
		o.b.skip(o.ctx, "permission_sets_merge", "remove_members", g.ID)
	}
	u.add = plan.assign
	u.delPSA, u.delUser = unassignments(plan.unassign)
	u.final = memberRefs(plan.stay, plan.assign)
	return g, nil
}

// planIncremental plans a PATCH's member additions and removals. Additions are written blind (an
// existing member's DUPLICATE_VALUE is success), except under dry_run, whose preview names only
// the members a write would add; removals need the removed members' assignments, read with the
// group (which it returns).
func (o *operation) planIncremental(u *groupUpdate, g group, adds, removes []string) (group, error) {
	mode := o.b.cfg.Provisioning.PermissionSets
	u.add = adds
	if len(adds) > 0 && o.b.cfg.Provisioning.DryRun {
		_, cur, err := o.currentMembers(g, adds)
		if err != nil {
			return group{}, err
		}
		u.add = planMembership(mode, cur, membershipChange[string]{add: adds}, groupMember.member, userID).assign
	}
	if len(removes) == 0 {
		return g, nil
	}
	g, cur, err := o.currentMembers(g, removes)
	if err != nil {
		return group{}, err
	}
	plan := planMembership(mode, cur, membershipChange[string]{remove: removes}, groupMember.member, userID)
	u.delPSA, u.delUser = unassignments(plan.unassign)
	return g, nil
}

// applyGroupUpdate writes u to g (or, under dry_run, audits what it would write) and answers the
// request.
func (o *operation) applyGroupUpdate(g group, u groupUpdate, put bool) (scimschema.Resource, error) {
	b := o.b
	relabelled := u.label != nil
	if !relabelled && len(u.add) == 0 && len(u.delPSA) == 0 {
		return groupAnswer(g, u.final, put, false), nil
	}
	if b.dryRun(o.ctx, "update_group", g.ID) {
		if relabelled {
			b.audit(o.ctx, Change{Operation: OpUpdateGroup, Target: g.ID, Changed: []string{"displayName"}}, nil)
		}
		b.auditMembers(o.ctx, g, u.add, u.delUser, nil, nil, nil)
		return groupAnswer(g, u.final, put, relabelled), nil
	}
	if err := o.writeGroup(&g, u.label, u.add, u.delPSA, u.delUser); err != nil {
		return scimschema.Resource{}, err
	}
	return groupAnswer(g, u.final, put, relabelled), nil
}

// groupAnswer is the answer to a PUT (the group with its resulting members, when known) or a
// PATCH (empty, or the group without members when it was relabelled).
func groupAnswer(g group, final []scimschema.Ref, put, relabelled bool) scimschema.Resource {
	switch {
	case put:
		return scimschema.GroupToResource(g.record(final, final != nil))
	case relabelled:
		return scimschema.GroupToResource(g.record(nil, false))
	}
	return scimschema.Resource{}
}
