package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// The mass-deprovision brake (provisioning.deprovision_limit).
//
// An IdP that mis-scopes a group or a filter deprovisions everyone; Entra's "accidental deletions
// prevention" exists only inside Entra. The brake refuses deprovisioning (deactivation, freeze,
// and DELETE, which performs one of them) once Max users were deprovisioned within Window, so at
// most Max are. Replicas must agree without a store of their own, so the count is read from Salesforce:
// users that are inactive now and were last modified by the integration user within the window,
// plus UserLogin rows frozen now and last modified by it within the window. Both objects carry
// LastModifiedById and LastModifiedDate (Salesforce Field Reference, "UserLogin":
// https://developer.salesforce.com/docs/platform/field-reference/references/field-reference/salesforce-field-reference-userlogin.html;
// User's audit fields: reference salesforce-api.md, the User field table, "CreatedDate /
// LastModifiedDate / SystemModstamp").
// A user deprovisioned and later edited by someone else drops out of the count; one deprovisioned
// by another tool signed in as the same user counts.
//
// The count is cached for brakeCountTTL while the estimate (last count + this replica's own
// deprovisionings since, finished or in flight) is below half the limit; past half, every
// deprovisioning counts afresh. So a burst costs few queries while far from the limit, and near it
// replicas overshoot by at most the deprovisionings in flight at the same instant on other replicas.
// Before refusing, a replica lets its own in-flight deprovisionings finish and counts again: one
// the count already saw would otherwise be counted twice.

// DeprovisionLimit is provisioning.deprovision_limit: at most Max deactivations, freezes and
// deletes within Window; Max 0 turns the brake off.
type DeprovisionLimit struct {
	Max    int
	Window time.Duration
}

const (
	brakeCountTTL = 3 * time.Second
	// retryAfterBrake is the IdP's back-off while the brake holds: deprovisionings age out of the
	// window one by one, and an operator has to look first.
	retryAfterBrake = 10 * time.Minute
)

// brake is one replica's view of the deprovision count.
type brake struct {
	limit   DeprovisionLimit
	engaged prometheus.Gauge

	counting chan struct{} // one slot: one count query at a time

	mu        sync.Mutex
	counted   int       // Salesforce's count at countedAt
	countedAt time.Time // zero: never counted
	done      int       // this replica's deprovisionings finished since countedAt
	pending   int       // this replica's deprovisionings in flight
}

func newBrake(limit DeprovisionLimit, reg prometheus.Registerer) (*brake, error) {
	br := &brake{limit: limit, counting: make(chan struct{}, 1)}
	var err error
	br.engaged = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "scim_bridge_deprovision_brake_engaged",
		Help: "1 while provisioning.deprovision_limit refuses deprovisioning, else 0.",
	})
	if reg != nil {
		br.engaged = rest.Register(reg, br.engaged, &err)
	}
	return br, err
}

// reserveDeprovision admits one deprovisioning of target or refuses it with a 503. On admission
// the caller calls sent once the write was sent. It counts as done whether or not Salesforce
// applied it (a failed composite may still have applied the deactivation): over-counting only
// brings the next fresh count sooner, never a refusal, since a refusal always follows a count.
func (b *Backend) reserveDeprovision(ctx context.Context, target, operation string) (sent func(), err error) {
	br := b.brake
	if br.limit.Max <= 0 {
		return func() {}, nil
	}
	for attempt := 0; ; attempt++ {
		estimate, fresh := br.estimate(b.now())
		if attempt > 0 || !fresh || estimate >= br.limit.Max/2 {
			if err := b.countDeprovisions(ctx); err != nil {
				return nil, err
			}
		}
		br.mu.Lock()
		estimate = br.counted + br.done + br.pending
		if estimate < br.limit.Max {
			break // still holding br.mu
		}
		inFlight := br.pending
		br.mu.Unlock()
		if inFlight > 0 && attempt < 2 {
			// This replica's own deprovisionings in flight may already be in the count, and would
			// then be counted twice: let them finish and count again before refusing.
			if err := br.awaitIdle(ctx); err != nil {
				return nil, err
			}
			continue
		}
		br.engaged.Set(1)
		b.logger(ctx).Error().Str("setting", "provisioning.deprovision_limit").Int("count", estimate).
			Int("max", br.limit.Max).Dur("window", br.limit.Window).Str("operation", operation).Str("target", target).
			Str("actor", scimschema.Actor(ctx)).
			Msg("deprovision brake engaged: refusing to deactivate, freeze or delete more users; check the IdP's scope, then wait or raise the limit")
		return nil, &scimschema.Error{Kind: scimschema.KindUnavailable, RetryAfter: min(retryAfterBrake, br.limit.Window),
			Detail: fmt.Sprintf("provisioning.deprovision_limit: %d users were deactivated, frozen or deleted within %s, the most the bridge allows; nothing was written. An operator must confirm the IdP's scope, then raise the limit or wait",
				estimate, br.limit.Window)}
	}
	br.pending++
	br.mu.Unlock()
	br.engaged.Set(0)
	var once sync.Once
	return func() {
		once.Do(func() {
			br.mu.Lock()
			defer br.mu.Unlock()
			br.pending--
			br.done++
		})
	}, nil
}

// awaitIdle waits (up to a few seconds) until none of this replica's deprovisionings is in flight.
func (br *brake) awaitIdle(ctx context.Context) error {
	for range 400 {
		br.mu.Lock()
		idle := br.pending == 0
		br.mu.Unlock()
		if idle {
			return nil
		}
		if err := rest.Sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// estimate is the last count plus this replica's deprovisionings since; fresh says the count is
// younger than brakeCountTTL.
func (br *brake) estimate(now time.Time) (int, bool) {
	br.mu.Lock()
	defer br.mu.Unlock()
	fresh := !br.countedAt.IsZero() && now.Sub(br.countedAt) < brakeCountTTL
	return br.counted + br.done + br.pending, fresh
}

// countDeprovisions reads the deprovision count from Salesforce. Concurrent callers share one
// query: a caller that waited finds a count taken after it started waiting and uses it.
func (b *Backend) countDeprovisions(ctx context.Context) error {
	br := b.brake
	asked := b.now()
	select {
	case br.counting <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-br.counting }()
	br.mu.Lock()
	recent := !br.countedAt.Before(asked)
	br.mu.Unlock()
	if recent {
		return nil
	}
	self, err := b.c.IntegrationUser(ctx)
	if err != nil {
		return err
	}
	started := b.now()
	since := started.Add(-br.limit.Window)
	// One call: a composite of the two counts (a deactivation is IsActive = false, a freeze
	// UserLogin.IsFrozen = true).
	var subs []rest.Subrequest
	for _, c := range []struct {
		ref, object, field string
		value              bool
	}{
		{"deactivated", "User", "IsActive", false}, {"frozen", "UserLogin", "IsFrozen", true},
	} {
		q, err := rest.Select("COUNT()").From(c.object).Where(rest.And(
			rest.Eq(c.field, c.value), rest.Eq("LastModifiedById", self), rest.Ge("LastModifiedDate", since))).String()
		if err != nil {
			return err
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(q), ReferenceID: c.ref})
	}
	res, err := b.c.Composite(ctx, false, subs)
	if err != nil {
		return err
	}
	total := 0
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
		var page rest.QueryResult
		if err := json.Unmarshal(r.Body, &page); err != nil {
			return rest.NewError(rest.KindOther, "the deprovision count is not the JSON the client expects")
		}
		total += page.TotalSize
	}
	br.mu.Lock()
	br.counted, br.countedAt, br.done = total, started, 0
	br.mu.Unlock()
	return nil
}

// reserveIfDeprovisioning passes ch through the brake when it deactivates or freezes.
func (b *Backend) reserveIfDeprovisioning(ctx context.Context, ch *userChange, operation string) (func(), error) {
	if (ch.active == nil || *ch.active) && (ch.freeze == nil || !*ch.freeze) {
		return func() {}, nil
	}
	return b.reserveDeprovision(ctx, ch.id, operation)
}
