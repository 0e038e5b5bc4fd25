package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// Coalesced member additions (see coalesce.go): PATCHes that only add members, to any groups,
// that arrive together are one composite of sObject Collections inserts (allOrNone false: a
// refused assignment never fails the others). Each PATCH gets the outcome of its own records.

// memberAdds is one PATCH's additions.
type memberAdds struct {
	g     group
	users []string
}

// addMembersCoalesced adds users (at most collectionMax) to g through the add batch. Outcomes
// and audit lines are those of writeGroup for the same additions. An addition that needs
// permission set licences (groups.assign_permission_set_licenses) is not coalesced: writeGroup
// assigns them before the assignments, as createCoalesced leaves a create with permission sets
// to createOnce.
func (o *operation) addMembersCoalesced(g group, users []string) error {
	b := o.b
	if len(b.licencesFor(users, []group{g})) > 0 {
		return o.writeGroup(&g, nil, users, nil, nil)
	}
	solo := func() (any, error) { return nil, o.writeGroup(&g, nil, users, nil, nil) }
	res, err := b.batch.do(o.ctx, "add_members", "", maxBatch, memberAdds{g: g, users: users}, solo, b.addMembersBatch)
	if res == nil {
		return err // added alone (writeGroup audited), or cancelled while waiting
	}
	if err != nil {
		b.auditMembers(o.ctx, g, users, nil, users, nil, err)
		return err
	}
	failures, existing := splitDuplicates(res.([]recordFailure), users)
	added := without(users, existing) // an existing member is no change and no audit entry
	if len(failures) == 0 {
		b.auditMembers(o.ctx, g, added, nil, nil, nil, nil)
		return nil
	}
	if len(failures) == len(users) && o.groupGone(g, failures) {
		err = notFound("group")
	} else if err = o.failedGroupsError("updating members of group "+g.ID, failures, func(int) group { return g },
		func(i int) string { return "member " + users[i] }); err == nil {
		err = assignmentError("updating members of group "+g.ID, failures, func(i int) string { return "member " + users[i] })
	}
	failed := make([]string, len(failures))
	for i, f := range failures {
		failed[i] = users[f.index]
	}
	b.auditMembers(o.ctx, g, added, nil, failed, nil, err)
	return err
}

// addMembersBatch runs a batch of additions: their records in collections of at most collectionMax
// (an addition's records stay in one collection), five collections per composite. Each item's
// result is its []recordFailure; an existing assignment (DUPLICATE_VALUE) is among them, and is
// success (splitDuplicates).
func (b *Backend) addMembersBatch(ctx context.Context, items []*batchItem) (calls int) {
	type chunk struct {
		records []map[string]any
		owners  []int // item index per record
	}
	var chunks []*chunk
	for i, it := range items {
		a := it.req.(memberAdds)
		if len(chunks) == 0 || len(chunks[len(chunks)-1].records)+len(a.users) > collectionMax {
			chunks = append(chunks, &chunk{})
		}
		c := chunks[len(chunks)-1]
		for _, u := range a.users {
			c.records = append(c.records, psaRecord(u, a.g))
			c.owners = append(c.owners, i)
		}
		it.res = []recordFailure{}
	}
	const perCall = 5 // collection subrequests per composite
	for start := 0; start < len(chunks); start += perCall {
		part := chunks[start:min(start+perCall, len(chunks))]
		subs := make([]rest.Subrequest, len(part))
		for j, c := range part {
			subs[j] = collectionCreate("add"+strconv.Itoa(j), false, c.records)
		}
		calls++
		res, err := b.c.Composite(ctx, false, subs)
		if err != nil {
			for _, c := range part {
				for _, owner := range c.owners {
					items[owner].err = err
				}
			}
			continue
		}
		by := byRef(res)
		for j, c := range part {
			if err := addOutcomes(by["add"+strconv.Itoa(j)], c.owners, items); err != nil {
				for _, owner := range c.owners {
					items[owner].err = err
				}
			}
		}
	}
	return calls
}

// addOutcomes hands each record's failure (if any) of one collection subresponse to its item,
// indexed within that item's users.
func addOutcomes(sr rest.SubResponse, owners []int, items []*batchItem) error {
	if sr.Status >= 400 || sr.Status == 0 {
		if sr.Err != nil {
			return sr.Err
		}
		return fmt.Errorf("collection subrequest %s: HTTP %d", sr.ReferenceID, sr.Status)
	}
	var saved []rest.SaveResponse
	if err := json.Unmarshal(sr.Body, &saved); err != nil || len(saved) != len(owners) {
		return fmt.Errorf("decoding the collection of %d assignments: %v", len(owners), err)
	}
	next := map[int]int{} // item → index of its next record
	for k, s := range saved {
		owner := owners[k]
		index := next[owner]
		next[owner]++
		if s.Success || len(s.Errors) == 0 {
			continue
		}
		e := s.Errors[0]
		items[owner].res = append(items[owner].res.([]recordFailure), recordFailure{index: index, code: e.StatusCode, message: e.Message})
	}
	return nil
}

// splitDuplicates separates the failures of a member add into real ones and the users that were
// already members (DUPLICATE_VALUE: success, but no change to audit). users are the add's users,
// which the failures index.
func splitDuplicates(all []recordFailure, users []string) (failures []recordFailure, existing []string) {
	for _, f := range all {
		if f.code == "DUPLICATE_VALUE" {
			existing = append(existing, users[f.index])
			continue
		}
		failures = append(failures, f)
	}
	return failures, existing
}

// without is ids less those in drop, in ids' order: nil when none is left. It splits the members
// a write asked for into those applied and those that failed.
func without(ids, drop []string) (left []string) {
	for _, id := range ids {
		if !slices.Contains(drop, id) {
			left = append(left, id)
		}
	}
	return left
}
