package salesforce

import (
	"context"
	"errors"
	"strconv"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// deleteGroup deletes a permission set (groups.allow_delete). The DELETE goes first: an
// unassigned set goes in one call. Salesforce refuses to delete a set that is still assigned (the
// error code is not documented); on a refusal the bridge reads the assignments and, when there are
// any, deletes them and retries the DELETE in the same composite: three calls (more past 800
// assignments: one composite per 4×200).
func (b *Backend) deleteGroup(ctx context.Context, id string, ifMatch string) error {
	if !b.cfg.Groups.AllowDelete {
		return forbidden("group deletion is disabled (groups.allow_delete)")
	}
	o := b.operation(ctx)
	g, err := o.exposedGroup(id)
	if err != nil {
		return err
	}
	if _, err := o.matchVersion(g, ifMatch); err != nil {
		return err
	}
	if b.dryRun(ctx, "delete_group", g.ID) {
		b.audit(ctx, Change{Operation: OpDeleteGroup, Target: g.ID}, nil)
		return nil
	}
	refusal := b.c.Delete(ctx, g.object(), g.ID)
	if refusal == nil || !refusedDelete(refusal) {
		return o.deleted(g, refusal)
	}
	psa, err := o.allAssignments(g)
	if err != nil {
		return o.deleted(g, err)
	}
	if len(psa) == 0 {
		// Refused for another reason (the set is in use elsewhere in Salesforce, say).
		b.audit(ctx, Change{Operation: OpDeleteGroup, Target: g.ID}, refusal)
		return &scimschema.Error{Kind: scimschema.KindInvalidValue, Detail: "Salesforce refused to delete the permission set (" + rest.CodeOf(refusal) + ")", Err: refusal}
	}
	return o.deleted(g, o.deleteWithAssignments(g, psa))
}

// matchVersion checks a write's If-Match against the group as Salesforce has it now, which it
// returns (g itself without If-Match).
func (o *operation) matchVersion(g group, ifMatch string) (group, error) {
	if ifMatch == "" {
		return g, nil
	}
	fresh, _, err := o.readGroup(g, false)
	if err != nil {
		return group{}, err
	}
	if scimschema.GroupToResource(fresh.record(nil, false)).Version != ifMatch {
		return group{}, &scimschema.Error{Kind: scimschema.KindPrecondition, Detail: "the group was modified since the version in If-Match"}
	}
	return fresh, nil
}

// deleted finishes a delete whose outcome is err: a group gone (deleted, or deleted meanwhile,
// perhaps through another replica) leaves the catalog; the delete is audited.
func (o *operation) deleted(g group, err error) error {
	b := o.b
	switch {
	case err == nil:
		b.removeGroup(g.ID)
	case rest.KindOf(err) == rest.KindNotFound:
		b.removeGroup(g.ID)
		err = notFound("group")
	}
	b.audit(o.ctx, Change{Operation: OpDeleteGroup, Target: g.ID}, err)
	return err
}

// allAssignments are the ids of every assignment of g, of any user type: the permission set cannot
// go while one remains.
func (o *operation) allAssignments(g group) ([]string, error) {
	q, err := rest.Select("Id").From("PermissionSetAssignment").Where(rest.Eq(g.assignmentField(), g.ID)).String()
	if err != nil {
		return nil, err
	}
	var psa []string
	if _, err := o.b.c.QueryEach(o.ctx, q, 0, func(r rest.Record) error { psa = append(psa, str(r["Id"])); return nil }); err != nil {
		return nil, err
	}
	return psa, nil
}

// deleteWithAssignments deletes the assignments psa and then g, in composites (allOrNone) of
// four collections of collectionMax; the last one deletes g too.
func (o *operation) deleteWithAssignments(g group, psa []string) error {
	const perCall = 4 * collectionMax
	for len(psa) > 0 {
		chunk := psa[:min(len(psa), perCall)]
		psa = psa[len(chunk):]
		var subs []rest.Subrequest
		for i := 0; i < len(chunk); i += collectionMax {
			subs = append(subs, collectionDelete("del"+strconv.Itoa(i/collectionMax), true, chunk[i:min(i+collectionMax, len(chunk))]))
		}
		if len(psa) == 0 {
			subs = append(subs, rest.Subrequest{Method: "DELETE", Path: "sobjects/" + g.object() + "/" + g.ID, ReferenceID: "group"})
		}
		res, err := o.b.c.Composite(o.ctx, true, subs)
		if err == nil {
			err = deleteFailure(res)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// refusedDelete reports whether a DELETE failed because Salesforce refused it (rather than not
// finding the record, or not being reachable).
func refusedDelete(err error) bool {
	switch rest.KindOf(err) {
	case rest.KindInvalid, rest.KindConflict, rest.KindOther:
		var e *rest.Error
		return errors.As(err, &e) && e.Status >= 400 && e.Status < 500
	}
	return false
}

// deleteFailure is the root failure of an assignment-deletion composite, nil when it succeeded
// (an assignment already gone counts as deleted).
func deleteFailure(res []rest.SubResponse) error {
	for _, sr := range res {
		if sr.ReferenceID == "group" {
			continue
		}
		failures, err := collectionFailures(sr, "ENTITY_IS_DELETED")
		if err != nil {
			return err
		}
		if len(failures) > 0 {
			return &rest.Error{Code: failures[0].code, Message: failures[0].message, Kind: rest.KindOther}
		}
	}
	if _, e := subErr(res); e != nil {
		return e
	}
	return nil
}
