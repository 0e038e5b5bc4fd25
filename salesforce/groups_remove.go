package salesforce

import (
	"fmt"
	"strconv"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// removeInOneCall is the most members a PATCH that only removes members deletes in one composite:
// the group's record and the members' assignments are queried, and one DELETE per assignment
// follows, each referencing a row of that query (25 subrequests in all).
const removeInOneCall = rest.MaxSubrequests - 2

// removeMembers deletes the assignments of the given users to g in one call (reference
// salesforce-api.md §7.8, the composite variant): a composite (allOrNone false) of the group's
// record, the users' assignments, and a DELETE of @{members.records[i].Id} for each i < len(users).
// A user who is not a member has no row, so the DELETEs past the rows found fail on their missing
// reference and are ignored: removing a non-member is a no-op, as before. A group deleted
// meanwhile is KindNotFound. users holds at most removeInOneCall ids.
func (o *operation) removeMembers(g group, users []string) error {
	b := o.b
	if len(users) > removeInOneCall {
		return b.fail(o.ctx, fmt.Errorf("removeMembers: %d users; at most %d", len(users), removeInOneCall))
	}
	rq, err := groupRecordQuery(g.ID, g.IsPSG).String()
	if err != nil {
		return b.fail(o.ctx, err)
	}
	ids := make([]any, len(users))
	for i, u := range users {
		ids[i] = u
	}
	mq, err := b.memberQuery(g, rest.In("AssigneeId", ids...)).String()
	if err != nil {
		return b.fail(o.ctx, err)
	}
	subs := []rest.Subrequest{
		{Method: "GET", Path: rest.QueryPath(rq), ReferenceID: "rec"},
		{Method: "GET", Path: rest.QueryPath(mq), ReferenceID: "members"},
	}
	for i := range users {
		subs = append(subs, rest.Subrequest{Method: "DELETE", ReferenceID: "del" + strconv.Itoa(i),
			Path: "sobjects/PermissionSetAssignment/@{members.records[" + strconv.Itoa(i) + "].Id}"})
	}
	res, err := b.c.Composite(o.ctx, false, subs)
	if err != nil {
		err = b.fail(o.ctx, err)
		b.auditMembers(o.ctx, g, nil, users, nil, users, err)
		return err
	}
	by := byRef(res)
	for _, ref := range []string{"rec", "members"} {
		if s := by[ref]; s.Status >= 400 || s.Status == 0 {
			return b.queryFailure(o.ctx, s)
		}
	}
	rec, err := decodeQuery(by["rec"])
	if err != nil {
		return b.fail(o.ctx, err)
	}
	if len(rec.Records) == 0 {
		b.removeGroup(g.ID) // deleted in Salesforce (perhaps through another replica)
		return notFound("group")
	}
	members, err := decodeQuery(by["members"])
	if err != nil {
		return b.fail(o.ctx, err)
	}
	var r removal
	for i, m := range members.Records {
		if i < len(users) {
			r.record(str(m["AssigneeId"]), by["del"+strconv.Itoa(i)])
		}
	}
	return o.finishRemoval(g, r)
}

// removal is the outcome of one PATCH's member removals: the members whose assignment was found
// (removed), and those whose DELETE failed.
type removal struct {
	removed, failed []string
	failures        []recordFailure
}

// record notes the DELETE of member's assignment.
func (r *removal) record(member string, s rest.SubResponse) {
	r.removed = append(r.removed, member)
	if s.Status < 400 && s.Status != 0 {
		return
	}
	e := s.Err
	if e == nil {
		e = &rest.Error{Status: s.Status, Code: "UNKNOWN", Kind: rest.KindOther}
	}
	switch e.Code {
	case "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND":
		return // already gone: the member is removed
	}
	r.failed = append(r.failed, member)
	r.failures = append(r.failures, recordFailure{index: len(r.failed) - 1, code: e.Code, message: e.Message})
}

// finishRemoval audits a removal and returns its error. Removing only non-members is a no-op
// without an audit line.
func (o *operation) finishRemoval(g group, r removal) error {
	b := o.b
	if len(r.removed) == 0 {
		return nil // none of them is a member: nothing was deleted
	}
	if len(r.failures) == 0 {
		b.auditMembers(o.ctx, g, nil, r.removed, nil, nil, nil)
		return nil
	}
	err := assignmentError("updating members of group "+g.ID, r.failures, func(i int) string { return "member " + r.failed[i] })
	b.auditMembers(o.ctx, g, nil, r.removed, nil, r.failed, err)
	return err
}
