package rest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// After Salesforce refuses a call because the daily allowance is used up, later calls are refused
// locally (no call spent on a refusal) until a probe — at most one GET /limits a minute, shared
// by all callers — shows room again.
func TestExhaustedAllowanceIsAnsweredLocallyUntilAProbeShowsRoom(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{APILimit: 3})
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	reg := prometheus.NewRegistry()
	c := o.client(t, func(cfg *Config) { cfg.Now = clock; cfg.Registerer = reg })
	ctx := context.Background()
	q := adminQuery(t)
	const queries, limits = "GET /services/data/v66.0/query", "GET /services/data/v66.0/limits"
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		_, err = c.Query(ctx, q, 0)
	}
	if !IsCode(err, "REQUEST_LIMIT_EXCEEDED") {
		t.Fatalf("Query() error = %v; want the allowance used up", err)
	}
	if got := testutil.ToFloat64(c.metrics.exhausted); got != 1 {
		t.Errorf("scim_bridge_salesforce_allowance_exhausted = %v; want 1", got)
	}

	sent := o.count(queries)
	for range 20 {
		_, err := c.Query(ctx, q, 0)
		if KindOf(err) != KindLimited || !IsCode(err, "REQUEST_LIMIT_EXCEEDED") {
			t.Fatalf("Query() while used up error = %v; want KindLimited REQUEST_LIMIT_EXCEEDED", err)
		}
	}
	if got := o.count(queries) - sent; got != 0 {
		t.Errorf("%d queries sent to Salesforce while the allowance was used up; want 0", got)
	}
	if got := o.count(limits); got != 0 {
		t.Errorf("%d probes within the first minute; want 0", got)
	}

	// A minute later one probe is made; Salesforce still refuses, so still no query goes out.
	advance(allowanceProbeEvery + time.Second)
	for range 5 {
		if _, err := c.Query(ctx, q, 0); KindOf(err) != KindLimited {
			t.Fatalf("Query() after a refused probe error = %v; want KindLimited", err)
		}
	}
	if got := o.count(limits); got != 1 {
		t.Errorf("probes after a minute = %d; want 1", got)
	}
	if got := o.count(queries) - sent; got != 0 {
		t.Errorf("%d queries sent after a refused probe; want 0", got)
	}

	// The allowance frees up (the emulator's counter starts again); the next probe, a minute on,
	// shows room and the call goes through.
	o.emu.Reset()
	if _, err := c.Query(ctx, q, 0); KindOf(err) != KindLimited {
		t.Errorf("Query() before the next probe is due: %v; want still answered locally", err)
	}
	advance(allowanceProbeEvery + time.Second)
	if _, err := c.Query(ctx, q, 0); err != nil {
		t.Fatalf("Query() once a probe shows room: %v", err)
	}
	// Two probes; the reset org no longer knows the access token, so the second is sent twice
	// (401, refresh, resend).
	if got := o.count(limits); got != 3 {
		t.Errorf("GET /limits sent %d times; want 3", got)
	}
	if got := testutil.ToFloat64(c.metrics.exhausted); got != 0 {
		t.Errorf("scim_bridge_salesforce_allowance_exhausted = %v; want 0", got)
	}
}

// The concurrent-request limit (REQUEST_LIMIT_EXCEEDED while the daily usage is below the
// maximum) clears in seconds: each request still goes to Salesforce.
func TestConcurrencyLimitStaysPerRequest(t *testing.T) {
	t.Parallel()
	o := newOrg(t, emulator.Config{})
	c := o.client(t)
	ctx := context.Background()
	q := adminQuery(t)
	if _, err := c.Query(ctx, q, 0); err != nil {
		t.Fatal(err)
	}
	o.emu.InjectFault(emulator.Fault{PathPattern: "/services/data/v66.0/query", Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Times: 1})
	if _, err := c.Query(ctx, q, 0); !IsCode(err, "REQUEST_LIMIT_EXCEEDED") {
		t.Fatalf("Query() under the concurrency limit error = %v", err)
	}
	if _, err := c.Query(ctx, q, 0); err != nil {
		t.Errorf("Query() right after a concurrency-limit refusal: %v; want it sent and answered", err)
	}
}
