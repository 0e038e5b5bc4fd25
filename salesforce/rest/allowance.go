package rest

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// The org's daily API allowance, used up.
//
// Salesforce refuses every call with 403 REQUEST_LIMIT_EXCEEDED once the rolling 24-hour allowance
// is used up, and the allowance frees up only as old calls age out. Sending each SCIM request's
// call anyway only to have it refused is pointless, so after such a refusal the client answers
// locally with the same error until a probe shows room again: at most one GET /limits per
// allowanceProbeEvery per process, made by the first call after the interval (the others keep
// being answered locally meanwhile). A refusal is the daily allowance when the Sforce-Limit-Info
// that came with it shows the usage at the maximum; otherwise it is the concurrent-request limit
// (reference salesforce-api.md §2.10), which clears in seconds and is left to each request.

const allowanceProbeEvery = time.Minute

// allowance is the client's view of whether the daily allowance is used up.
type allowance struct {
	mu        sync.Mutex
	exhausted bool
	probing   bool
	lastProbe time.Time
}

// exhaustedLocally is the error of a call not sent because the allowance is used up.
func exhaustedLocally() *Error {
	return &Error{Status: http.StatusForbidden, Code: "REQUEST_LIMIT_EXCEEDED", Kind: KindLimited, ownMessage: true, notSent: true,
		Message: "the org's daily API allowance is used up (answered without calling Salesforce until a probe shows room)"}
}

// admit lets a call through unless the allowance is known to be used up. Then it probes when the
// last probe is older than allowanceProbeEvery and no other call is probing, and lets the call
// through when the probe shows room.
func (c *Client) admit(ctx context.Context) *Error {
	a := &c.allowance
	now := c.tokens.now()
	a.mu.Lock()
	if !a.exhausted {
		a.mu.Unlock()
		return nil
	}
	if a.probing || now.Sub(a.lastProbe) < allowanceProbeEvery {
		a.mu.Unlock()
		return exhaustedLocally()
	}
	a.probing, a.lastProbe = true, now
	a.mu.Unlock()

	room := c.probeAllowance(ctx)
	a.mu.Lock()
	a.probing = false
	if room {
		a.exhausted = false
	}
	a.mu.Unlock()
	c.metrics.allowanceExhausted(!room)
	if !room {
		return exhaustedLocally()
	}
	c.logger(ctx).Info().Msg("salesforce: the daily API allowance has room again")
	return nil
}

// probeAllowance asks GET /limits whether calls remain. A refusal, or any failure, means no.
func (c *Client) probeAllowance(ctx context.Context) bool {
	var limits struct {
		DailyAPIRequests struct{ Max, Remaining int } `json:"DailyApiRequests"`
	}
	err := c.call(ctx, request{op: "limits", method: http.MethodGet, path: c.DataPath("limits"), safe: true, probe: true}, &limits)
	if err != nil {
		return false
	}
	return limits.DailyAPIRequests.Remaining > 0
}

// noteRefusal records a REQUEST_LIMIT_EXCEEDED answer: the daily allowance when the usage that
// came with it is at the maximum.
func (c *Client) noteRefusal(ctx context.Context, e *Error) {
	if e.Code != "REQUEST_LIMIT_EXCEEDED" || e.notSent {
		return
	}
	if u := c.Usage(); !u.Known || u.Max == 0 || u.Used < u.Max {
		return // the concurrent-request limit, or unknown: per request
	}
	a := &c.allowance
	a.mu.Lock()
	first := !a.exhausted
	a.exhausted = true
	if first {
		a.lastProbe = c.tokens.now()
	}
	a.mu.Unlock()
	if first {
		c.metrics.allowanceExhausted(true)
		c.logger(ctx).Error().Msg("salesforce: the org's daily API allowance is used up; SCIM requests get 429 without calling Salesforce until a /limits probe (at most one a minute) shows room")
	}
}
