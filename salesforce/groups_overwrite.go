package salesforce

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Overwrite mode's complete replaces (PUT, PATCH replace members) under concurrency.
//
// A replace reads the members, plans the difference and writes it; two replaces of one group
// that read the same members write two differences, and the group ends up with neither set.
// Within a replica, replaces of one group are serialised. Across replicas there is no lock to
// take, so each replace reads the members back after writing: when they are not exactly its set,
// another replace wrote in between, and it plans again from what it read, after a random pause
// that lets one of the contenders finish first. The last write is always followed by its
// writer's check, so the group ends with exactly one of the requested sets. A replace that does
// not settle within overwriteAttempts answers 503 with Retry-After; the IdP repeats it.

const (
	overwriteAttempts = 5
	overwritePause    = 20 * time.Millisecond // the first re-plan waits up to this, doubling after
)

// groupLocks serialises overwrite replaces per group within a replica; waiting honours ctx.
type groupLocks struct {
	mu    sync.Mutex // guards slots
	slots map[string]chan struct{}
}

func (l *groupLocks) lock(ctx context.Context, id string) (unlock func(), err error) {
	l.mu.Lock()
	if l.slots == nil {
		l.slots = map[string]chan struct{}{}
	}
	slot, ok := l.slots[id]
	if !ok {
		slot = make(chan struct{}, 1)
		l.slots[id] = slot
	}
	l.mu.Unlock()
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// overwriteMembers makes g's members exactly want (user ids) and applies label when not nil:
// two calls when uncontended (read; write and read back).
func (b *Backend) overwriteMembers(o *operation, g group, want []string, label *string, put bool) (scimschema.Resource, error) {
	unlock, err := b.groupLocks.lock(o.ctx, g.ID)
	if err != nil {
		return scimschema.Resource{}, err
	}
	defer unlock()
	relabelled := label != nil
	g, cur, err := o.currentMembers(g, nil)
	if err != nil {
		return scimschema.Resource{}, err
	}
	answer := func() (scimschema.Resource, error) {
		return groupAnswer(g, memberRefs(cur, nil), put, relabelled), nil
	}
	for attempt := 1; ; attempt++ {
		add, delPSA, delUser := planExact(cur, want)
		if len(add) == 0 && len(delPSA) == 0 && label == nil {
			return answer()
		}
		if attempt > 1 {
			// Another replace wrote in between.
			if attempt > overwriteAttempts {
				b.logger(o.ctx).Warn().Str("target", g.ID).Int("attempts", overwriteAttempts).
					Msg("concurrent replaces of the group's members did not settle")
				return scimschema.Resource{}, &scimschema.Error{Kind: scimschema.KindUnavailable, RetryAfter: 5 * time.Second,
					Detail: "the group's members are being replaced concurrently by other requests; retry"}
			}
			b.logger(o.ctx).Debug().Str("target", g.ID).Int("attempt", attempt).
				Msg("the group's members changed concurrently; planning the replace again")
			if err := rest.Sleep(o.ctx, time.Duration(rand.Int64N(int64(overwritePause<<(attempt-2))))); err != nil {
				return scimschema.Resource{}, err
			}
			// What was read before the pause may be stale already.
			if g, cur, err = o.currentMembers(g, nil); err != nil {
				return scimschema.Resource{}, err
			}
			if add, delPSA, delUser = planExact(cur, want); len(add) == 0 && len(delPSA) == 0 {
				return answer()
			}
		}
		if cur, err = o.writeAndReadMembers(&g, label, add, delPSA, delUser); err != nil {
			return scimschema.Resource{}, err
		}
		label = nil
	}
}

// writeAndReadMembers writes the changes and reads the members back in the same composite (when
// it has room): exactly the wanted set means no other replace interleaved, or one that did
// finished first and this one overwrote it; anything else is planned again.
func (o *operation) writeAndReadMembers(g *group, label *string, add, delPSA, delUser []string) ([]groupMember, error) {
	b := o.b
	mq, err := b.memberQuery(*g).String()
	if err != nil {
		return nil, err
	}
	sr, err := o.writeGroupThenRead(g, label, add, delPSA, delUser, &rest.Subrequest{Method: "GET", Path: rest.QueryPath(mq), ReferenceID: "members"})
	if err != nil {
		return nil, err
	}
	if sr.Status >= 400 {
		return nil, queryFailure(sr)
	}
	q, err := decodeQuery(sr)
	if err != nil {
		return nil, err
	}
	members := []groupMember{}
	err = b.walk(o.ctx, q, func(r map[string]any) bool {
		members = append(members, b.groupMemberOf(r))
		return true
	})
	if err != nil {
		return nil, err
	}
	return members, nil
}

// planExact is the difference from the members cur to exactly the users want: the users to
// assign, and the assignments (with their users) to delete.
func planExact(cur []groupMember, want []string) (add, delPSA, delUser []string) {
	plan := planMembership(Overwrite, cur, membershipChange[string]{replace: true, add: want}, groupMember.member, userID)
	delPSA, delUser = unassignments(plan.unassign)
	return plan.assign, delPSA, delUser
}
