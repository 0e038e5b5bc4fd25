package salesforce

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// A group's members are its PermissionSetAssignments to users SCIM sees. Here: reading the
// current ones a write depends on, and writing a group's assignments (with a label change riding
// along) in sObject Collections.

// groupMember is one assignment of a group.
type groupMember struct{ psa, user, display string }

// groupMemberOf is the member an assignment row of memberQuery names.
func (b *Backend) groupMemberOf(r map[string]any) groupMember {
	ref := b.memberRef(r)
	return groupMember{psa: str(r["Id"]), user: ref.ID, display: ref.Display}
}

// memberIDs validates member values as user ids. Malformed ids are an error for additions and
// ignored for removals (they cannot be members).
func memberIDs(values []string, strict bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for i, v := range values {
		id, ok := rest.CanonicalID(v, rest.PrefixUser)
		if !ok {
			if strict {
				return nil, invalid(fmt.Sprintf("members[%d].value: not a Salesforce User id", i), nil)
			}
			continue
		}
		if !seen[id[:15]] {
			seen[id[:15]] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// unassignments are the assignment ids and the users of a group's members to remove.
func unassignments(members []groupMember) (psa, users []string) {
	for _, m := range members {
		psa, users = append(psa, m.psa), append(users, m.user)
	}
	return psa, users
}

// memberRefs are a group's members after a write: those that stay, then those assigned.
func memberRefs(stay []groupMember, assigned []string) []scimschema.Ref {
	refs := []scimschema.Ref{}
	for _, m := range stay {
		refs = append(refs, scimschema.Ref{ID: m.user, Display: m.display})
	}
	for _, u := range assigned {
		refs = append(refs, scimschema.Ref{ID: u})
	}
	return refs
}

// currentMembers reads a group's record and its assignments, all of them or those of the given
// users: one call (the record rides along, so a group deleted meanwhile is KindNotFound), plus one
// per further 2000 assignments or 300 users.
func (o *operation) currentMembers(g group, users []string) (group, []groupMember, error) {
	if users == nil {
		return o.readGroupMembers(g, true)
	}
	b := o.b
	const perQuery = 300
	var fresh group
	var out []groupMember
	for i := 0; i < len(users); i += perQuery {
		ids := make([]any, 0, perQuery)
		for _, u := range users[i:min(i+perQuery, len(users))] {
			ids = append(ids, u)
		}
		if i == 0 {
			var err error
			if fresh, out, err = o.readGroupMembers(g, true, rest.In("AssigneeId", ids...)); err != nil {
				return group{}, nil, err
			}
			continue
		}
		q, err := b.memberQuery(g, rest.In("AssigneeId", ids...)).String()
		if err != nil {
			return group{}, nil, err
		}
		_, err = b.c.QueryEach(o.ctx, q, 0, func(r rest.Record) error {
			out = append(out, b.groupMemberOf(r))
			return nil
		})
		if err != nil {
			return group{}, nil, err
		}
	}
	return fresh, out, nil
}

// writeGroup changes a group: its label (when label is not nil) and its assignments, created and
// deleted with sObject Collections (allOrNone false: what succeeds stays), up to 5 query or
// collection subrequests per composite call. The label PATCH and, after the first assignment
// writes, the group's read-back ride in the first composite, so a PUT that renames and changes up
// to 800 assignments is one call after its read. A duplicate assignment is an existing member
// (success); an assignment already gone is a removed member (success). Failures are reported
// together, naming the members. On success *g holds the group as read back.
func (o *operation) writeGroup(g *group, label *string, add []string, delPSA, delUser []string) error {
	_, err := o.writeGroupThenRead(g, label, add, delPSA, delUser, nil)
	return err
}

// writeGroupThenRead is writeGroup followed by the query readBack (when not nil), which rides in
// the last composite when it has room and is sent alone otherwise; its subresponse is returned.
func (o *operation) writeGroupThenRead(g *group, label *string, add []string, delPSA, delUser []string, readBack *rest.Subrequest) (rest.SubResponse, error) {
	w, err := o.newGroupWrite(g, label, add, delPSA, delUser, readBack)
	if err != nil {
		return rest.SubResponse{}, err
	}
	if err := o.assignLicences(o.b.licencesFor(add, []group{*g})); err != nil {
		w.audit(err)
		return rest.SubResponse{}, err
	}
	for first := true; first || len(w.parts) > 0; first = false {
		subs, chunk := w.nextComposite(first)
		if len(subs) == 0 {
			break
		}
		if err := w.send(subs, chunk, first); err != nil {
			w.audit(err)
			return rest.SubResponse{}, err
		}
	}
	return w.finish()
}

// groupWritePart is one assignment collection of a group write: the users it assigns, or the
// assignments it deletes (del) with their users.
type groupWritePart struct {
	sub   rest.Subrequest
	users []string
	del   bool
}

// groupWriteParts cuts a group write's assignments into collections of collectionMax.
func groupWriteParts(g group, add, delPSA, delUser []string) []groupWritePart {
	var parts []groupWritePart
	for i := 0; i < len(add); i += collectionMax {
		chunk := add[i:min(i+collectionMax, len(add))]
		recs := make([]map[string]any, len(chunk))
		for j, u := range chunk {
			recs[j] = psaRecord(u, g)
		}
		parts = append(parts, groupWritePart{sub: collectionCreate("add"+strconv.Itoa(i/collectionMax), false, recs), users: chunk})
	}
	for i := 0; i < len(delPSA); i += collectionMax {
		end := min(i+collectionMax, len(delPSA))
		parts = append(parts, groupWritePart{sub: collectionDelete("del"+strconv.Itoa(i/collectionMax), false, delPSA[i:end]), users: delUser[i:end], del: true})
	}
	return parts
}

// groupWrite is a writeGroupThenRead under way: the composites still to send, and what its audit
// lines and its error need to know of those sent.
type groupWrite struct {
	o            *operation
	g            *group
	label        *string
	add, delUser []string
	parts        []groupWritePart  // the collections not sent yet
	lead, tail   []rest.Subrequest // the label PATCH and the group's read-back after it
	readBack     *rest.Subrequest
	readBackRes  *rest.SubResponse
	labelPending bool // the label's audit line is not written yet
	// unsent holds the members of the parts not yet answered: a failed call leaves them unapplied.
	unsent               []string
	existing             []string        // users already members (DUPLICATE_VALUE): no change, not audited as added
	failedAdd, failedDel []recordFailure // indexed into failedNames
	failedNames          []string
}

// groupWriteComposite is the most query and collection subrequests in one composite of a group
// write.
const groupWriteComposite = 5

func (o *operation) newGroupWrite(g *group, label *string, add, delPSA, delUser []string, readBack *rest.Subrequest) (*groupWrite, error) {
	w := &groupWrite{o: o, g: g, label: label, add: add, delUser: delUser, readBack: readBack,
		parts: groupWriteParts(*g, add, delPSA, delUser), labelPending: label != nil}
	for _, p := range w.parts {
		w.unsent = append(w.unsent, p.users...)
	}
	if label != nil {
		var err error
		if w.lead, w.tail, err = relabelSubrequests(*g, *label); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// nextComposite takes the subrequests of the next composite, and the parts among them: the label
// change rides in the first, the read-back in the last that has room.
func (w *groupWrite) nextComposite(first bool) (subs []rest.Subrequest, chunk []groupWritePart) {
	limit := groupWriteComposite
	if first {
		limit -= len(w.tail)
	}
	n := min(len(w.parts), limit)
	chunk, w.parts = w.parts[:n], w.parts[n:]
	if first {
		subs = append(subs, w.lead...)
	}
	for _, p := range chunk {
		subs = append(subs, p.sub)
	}
	if first {
		subs = append(subs, w.tail...)
	}
	if w.readBack != nil && len(w.parts) == 0 && len(subs)-len(w.lead) < groupWriteComposite {
		subs = append(subs, *w.readBack)
	}
	return subs, chunk
}

// send sends one composite and records its outcome.
func (w *groupWrite) send(subs []rest.Subrequest, chunk []groupWritePart, first bool) error {
	o, b := w.o, w.o.b
	res, err := b.c.Composite(o.ctx, false, subs)
	if err != nil {
		return err
	}
	by := byRef(res)
	if w.readBack != nil {
		if sr, ok := by[w.readBack.ReferenceID]; ok {
			w.readBackRes = &sr
		}
	}
	if first && w.label != nil {
		if err := o.labelResult(w.g, by["lbl"], by["rec"]); err != nil {
			return err
		}
		b.audit(o.ctx, Change{Operation: OpUpdateGroup, Target: w.g.ID, Changed: []string{"displayName"}}, nil)
		w.labelPending = false
	}
	for _, p := range chunk {
		if err := w.record(p, by[p.sub.ReferenceID]); err != nil {
			return err
		}
	}
	return nil
}

// record notes the outcome of one part: an assignment that exists already is an existing member,
// one already gone a removed member; other failures are kept, named.
func (w *groupWrite) record(p groupWritePart, sr rest.SubResponse) error {
	var ignore []string
	if p.del {
		ignore = []string{"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"}
	}
	failures, err := collectionFailures(sr, ignore...)
	if err != nil {
		return err
	}
	if !p.del {
		var dup []string
		failures, dup = splitDuplicates(failures, p.users)
		w.existing = append(w.existing, dup...)
	}
	w.unsent = w.unsent[len(p.users):]
	for _, f := range failures {
		w.failedNames = append(w.failedNames, p.users[f.index])
		f.index = len(w.failedNames) - 1
		if p.del {
			w.failedDel = append(w.failedDel, f)
		} else {
			w.failedAdd = append(w.failedAdd, f)
		}
	}
	return nil
}

// finish audits the write once every part is answered and returns its error, or the read-back.
func (w *groupWrite) finish() (rest.SubResponse, error) {
	o, b := w.o, w.o.b
	failures := append(w.failedAdd, w.failedDel...)
	if len(failures) > 0 {
		err := w.failure(failures)
		w.audit(err)
		return rest.SubResponse{}, err
	}
	w.audit(nil)
	if w.readBack == nil {
		return rest.SubResponse{}, nil
	}
	if w.readBackRes == nil {
		res, err := b.c.Composite(o.ctx, false, []rest.Subrequest{*w.readBack})
		if err != nil {
			return rest.SubResponse{}, err
		}
		w.readBackRes = &res[0]
	}
	return *w.readBackRes, nil
}

// failure explains the failed assignments: the group gone when every addition failed for a
// missing record and it is, a licence or recalculation problem, or the members refused.
func (w *groupWrite) failure(failures []recordFailure) error {
	o := w.o
	what := "updating members of group " + w.g.ID
	member := func(i int) string { return "member " + w.failedNames[i] }
	if len(w.failedAdd) == len(w.add) && len(w.failedDel) == 0 && w.label == nil && o.groupGone(*w.g, w.failedAdd) {
		return notFound("group")
	}
	err := o.failedGroupsError(what, w.failedAdd, func(int) group { return *w.g }, member)
	if err == nil || len(w.failedDel) > 0 {
		err = assignmentError(what, failures, member)
	}
	return err
}

// audit writes the write's audit lines: the label change while its line is pending, and the
// member lines, naming as failed the members not applied (their part unsent, or refused).
func (w *groupWrite) audit(err error) {
	o, b := w.o, w.o.b
	if w.labelPending {
		b.audit(o.ctx, Change{Operation: OpUpdateGroup, Target: w.g.ID, Changed: []string{"displayName"}}, err)
	}
	failed := slices.Clone(w.unsent)
	for _, f := range append(slices.Clone(w.failedAdd), w.failedDel...) {
		failed = append(failed, w.failedNames[f.index])
	}
	b.auditMembers(o.ctx, *w.g, without(w.add, w.existing), w.delUser, failed, failed, err)
}

// groupGone reports, after every assignment of a group failed as if it named a missing record,
// whether the group itself is missing (deleted through another replica, say). One query, on this
// error path only.
func (o *operation) groupGone(g group, failures []recordFailure) bool {
	for _, f := range failures {
		if f.code != "INVALID_CROSS_REFERENCE_KEY" && f.code != "ENTITY_IS_DELETED" {
			return false
		}
	}
	q, err := groupRecordQuery(g.ID, g.IsPSG).String()
	if err != nil {
		return false
	}
	res, err := o.b.c.Query(o.ctx, q, 0)
	if err != nil || res.TotalSize > 0 {
		return false
	}
	o.b.removeGroup(g.ID)
	return true
}

// auditMembers writes the add_members and remove_members lines of a group write. failedAdd and
// failedDel name the members whose change did not happen; when some others did, the result is
// partial and the line names what was applied.
func (b *Backend) auditMembers(ctx context.Context, g group, add, del, failedAdd, failedDel []string, err error) {
	line := func(op Operation, asked, failed []string) {
		if len(asked) == 0 {
			return
		}
		c := Change{Operation: op, Target: g.ID, Changed: []string{"members"}}
		ids, lineErr := asked, err
		if err != nil {
			if applied := without(asked, failed); len(applied) > 0 {
				ids, c.Result = applied, ResultPartial
				c.Failed = without(asked, applied)
			} else {
				ids, c.Failed = nil, asked // nothing was applied: the line names no member as added or removed
			}
		}
		if op == OpAddMembers {
			c.Added = ids
		} else {
			c.Removed = ids
		}
		b.audit(ctx, c, lineErr)
	}
	line(OpAddMembers, add, failedAdd)
	line(OpRemoveMembers, del, failedDel)
}
