package salesforce

import (
	"context"
	"strconv"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// Coalesced member removals (see coalesce.go): PATCHes that only remove members, from any
// groups, that arrive together share composites (allOrNone false: a refused DELETE never fails the
// others). A composite holds a record query of the batch's permission sets and/or permission set
// groups (a group deleted meanwhile is then 404 for its PATCHes only), one assignment query per
// group over the users its PATCHes remove, and a DELETE per such user referencing a row of that
// query, within the composite limits (5 queries, 25 subrequests). Each PATCH gets the outcome of
// its own users, as removeMembers alone would give it.

// memberRemovals is one PATCH's removals.
type memberRemovals struct {
	g     group
	users []string
}

// removalResult is one PATCH's share of a batch.
type removalResult struct {
	gone bool // the group no longer exists
	r    removal
}

// removeMembersCoalesced removes users (at most removeInOneCall) from g through the remove batch.
func (o *operation) removeMembersCoalesced(g group, users []string) error {
	b := o.b
	solo := func() (any, error) { return nil, o.removeMembers(g, users) }
	res, err := b.batch.do(o.ctx, "remove_members", "", maxBatch, memberRemovals{g: g, users: users}, solo, b.removeMembersBatch)
	if res == nil {
		return err // removed alone (removeMembers audited), or cancelled while waiting
	}
	if err != nil {
		b.auditMembers(o.ctx, g, nil, users, nil, users, err)
		return err
	}
	out := res.(removalResult)
	if out.gone {
		b.removeGroup(g.ID) // deleted in Salesforce (perhaps through another replica)
		return notFound("group")
	}
	return o.finishRemoval(g, out.r)
}

// removalGroup is one group of a removal composite: the users its PATCHes remove, each once.
type removalGroup struct {
	g     group
	users []string
	items []int
}

// removalCall is one composite of a removal batch.
type removalCall struct {
	groups  []*removalGroup
	ps, psg bool // a record query of each kind is needed
	deletes int
}

func (c *removalCall) subrequests() int { return c.queries() + c.deletes }

func (c *removalCall) queries() int {
	n := len(c.groups)
	if c.ps {
		n++
	}
	if c.psg {
		n++
	}
	return n
}

// fit adds item i's removals to c when the composite limits allow it.
func (c *removalCall) fit(i int, m memberRemovals) bool {
	var rg *removalGroup
	for _, x := range c.groups {
		if x.g.ID == m.g.ID {
			rg = x
		}
	}
	next := *c
	newUsers := 0
	for _, u := range m.users {
		if rg == nil || !containsID(rg.users, u) {
			newUsers++
		}
	}
	next.deletes += newUsers
	if rg == nil {
		next.groups = append(next.groups[:len(next.groups):len(next.groups)], &removalGroup{g: m.g})
		next.ps, next.psg = next.ps || !m.g.IsPSG, next.psg || m.g.IsPSG
	}
	if len(c.groups) > 0 && (next.queries() > rest.MaxQuerySubrequests || next.subrequests() > rest.MaxSubrequests) {
		return false
	}
	*c = next
	if rg == nil {
		rg = c.groups[len(c.groups)-1]
	}
	for _, u := range m.users {
		if !containsID(rg.users, u) {
			rg.users = append(rg.users, u)
		}
	}
	rg.items = append(rg.items, i)
	return true
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if rest.SameID(x, id) {
			return true
		}
	}
	return false
}

// removeMembersBatch runs a batch of removals, packed into as few composites as the limits allow.
// Each item's result is its removalResult.
func (b *Backend) removeMembersBatch(ctx context.Context, items []*batchItem) (calls int) {
	var composites []*removalCall
	for i, it := range items {
		m := it.req.(memberRemovals)
		if len(composites) == 0 || !composites[len(composites)-1].fit(i, m) {
			c := &removalCall{}
			c.fit(i, m) // a removal alone always fits: removeInOneCall
			composites = append(composites, c)
		}
	}
	for _, c := range composites {
		calls++
		b.sendRemovals(ctx, c, items)
	}
	return calls
}

// sendRemovals sends one removal composite and hands each of its items its outcome.
func (b *Backend) sendRemovals(ctx context.Context, c *removalCall, items []*batchItem) {
	subs, err := b.removalSubrequests(c)
	if err != nil {
		c.failAll(items, err)
		return
	}
	res, err := b.c.Composite(ctx, false, subs)
	if err != nil {
		c.failAll(items, err)
		return
	}
	by := byRef(res)
	exists, err := existingGroups(by)
	if err != nil {
		c.failAll(items, err)
		return
	}
	for k, rg := range c.groups {
		if !exists[canonical(rg.g.ID)] {
			rg.setAll(items, removalResult{gone: true}, nil)
			continue
		}
		handOutRemovals(rg, memberRemovalsRef(k), by, items)
	}
}

// failAll gives every item of the composite err.
func (c *removalCall) failAll(items []*batchItem, err error) {
	for _, rg := range c.groups {
		rg.setAll(items, removalResult{}, err) // audited as failed by the request
	}
}

// setAll gives every item of the group one outcome.
func (rg *removalGroup) setAll(items []*batchItem, res any, err error) {
	for _, i := range rg.items {
		items[i].res, items[i].err = res, err
	}
}

// memberRemovalsRef is the reference of the k-th group's assignment query in a removal
// composite; its DELETEs are ref_0, ref_1, ….
func memberRemovalsRef(k int) string { return "m" + strconv.Itoa(k) }

// removalSubrequests are a removal composite's subrequests: a record query per kind of group
// (recfalse for permission sets, rectrue for permission set groups), then per group the query of
// its users' assignments and a DELETE referencing each row.
func (b *Backend) removalSubrequests(c *removalCall) ([]rest.Subrequest, error) {
	var subs []rest.Subrequest
	for _, psg := range []bool{false, true} {
		var ids []any
		for _, rg := range c.groups {
			if rg.g.IsPSG == psg {
				ids = append(ids, rg.g.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		soql, err := groupRecordsQuery(psg, rest.In("Id", ids...)).String()
		if err != nil {
			return nil, err
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(soql), ReferenceID: "rec" + strconv.FormatBool(psg)})
	}
	for k, rg := range c.groups {
		ids := make([]any, len(rg.users))
		for i, u := range rg.users {
			ids[i] = u
		}
		mq, err := b.memberQuery(rg.g, rest.In("AssigneeId", ids...)).String()
		if err != nil {
			return nil, err
		}
		ref := memberRemovalsRef(k)
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(mq), ReferenceID: ref})
		for i := range rg.users {
			subs = append(subs, rest.Subrequest{Method: "DELETE", ReferenceID: ref + "_" + strconv.Itoa(i),
				Path: "sobjects/PermissionSetAssignment/@{" + ref + ".records[" + strconv.Itoa(i) + "].Id}"})
		}
	}
	return subs, nil
}

// existingGroups are the canonical ids of the composite's groups that its record queries found.
func existingGroups(by map[string]rest.SubResponse) (map[string]bool, error) {
	exists := map[string]bool{}
	for _, ref := range []string{"recfalse", "rectrue"} {
		s, ok := by[ref]
		if !ok {
			continue
		}
		if s.Status >= 400 || s.Status == 0 {
			return nil, queryFailure(s)
		}
		rec, err := decodeQuery(s)
		if err != nil {
			return nil, err
		}
		for _, r := range rec.Records {
			exists[canonical(str(r["Id"]))] = true
		}
	}
	return exists, nil
}

// handOutRemovals gives each item of one group its removal: the DELETEs of its own users'
// assignments (the query under ref and its DELETEs).
func handOutRemovals(rg *removalGroup, ref string, by map[string]rest.SubResponse, items []*batchItem) {
	s := by[ref]
	if s.Status >= 400 || s.Status == 0 {
		rg.setAll(items, removalResult{}, queryFailure(s))
		return
	}
	members, err := decodeQuery(s)
	if err != nil {
		rg.setAll(items, removalResult{}, err)
		return
	}
	for _, i := range rg.items {
		var r removal
		for j, m := range members.Records {
			member := str(m["AssigneeId"])
			if j < len(rg.users) && containsID(items[i].req.(memberRemovals).users, member) {
				r.record(member, by[ref+"_"+strconv.Itoa(j)])
			}
		}
		items[i].res = removalResult{r: r}
	}
}
