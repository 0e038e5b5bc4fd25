package salesforce

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Coalescing (salesforce.batch_window): single-resource operations that arrive together are sent
// to Salesforce as one call. An identity provider's initial sync sends a lookup, a create and a
// few one-member group PATCHes per user, several users at a time; each kind of operation is
// combined into one query with IN, one sObject Collections call or one composite, and every SCIM
// request still gets exactly the answer it would have had alone.
//
// When a batch is sent. A request that is alone (every coalescing operation in the backend is
// queued and none just finished) is sent at once, by the same code as without coalescing, so
// concurrency 1 costs no latency. Otherwise a batch is sent when it is full, when every operation
// in the backend is queued and no operation just finished (nobody else is about to join), or
// batch_window after it opened. An operation that just finished usually comes straight back with
// its worker's next request, and a coalesced call in flight brings its operations back when it
// answers: both extend open batches by a window, within maxWindows windows of their opening. So
// an IdP's workers that drift apart fall back into step instead of splitting into two half-size
// batches for ever.

// maxWindows bounds how long a request waits in a batch: maxWindows × batch_window, or
// maxCompanionWait while companions it was started with (a BulkRequest's creates) are still on
// their way to the backend.
const (
	maxWindows       = 4
	maxCompanionWait = time.Second
)

// coalescer holds the open batches. Its zero value is not usable; see newCoalescer.
type coalescer struct {
	window time.Duration
	log    zerolog.Logger
	sizes  *prometheus.HistogramVec
	saved  *prometheus.CounterVec

	mu     sync.Mutex
	active int // operations inside a coalescing backend method (enter … leave)
	queued int // of them, waiting in an open batch
	// returning counts operations that left the backend less than maxWindows windows before
	// lastLeave and have not been followed by a new one: an IdP's worker is probably sending its
	// next request.
	returning int
	lastLeave time.Time
	open      map[string]*batch
	inflight  map[*batch]time.Time // sent batches by the time they were sent
	latency   time.Duration        // moving average of a coalesced call's duration
}

// batch is an open batch of one kind and variant.
type batch struct {
	key      string // kind and variant: operations that one batchRun can serve together
	kind     string // the metrics label
	max      int
	run      batchRun
	items    []*batchItem
	opened   time.Time
	deadline time.Time
	timer    *time.Timer
}

// batchRun sends items (2 or more) to Salesforce, sets each item's res or err, and returns how many
// calls it made.
type batchRun func(ctx context.Context, items []*batchItem) (calls int)

// batchItem is one operation in a batch.
type batchItem struct {
	req   any                 // what the kind's batchRun reads
	solo  func() (any, error) // the operation alone, used when its batch holds only it
	res   any                 // set by the batchRun
	err   error               // set by the batchRun
	done  chan struct{}       // closed when res/err are set
	sent  bool                // the batch left the queue (under coalescer.mu)
	alone bool                // sent as a batch of one: do runs solo (under coalescer.mu until done is closed)
	ctx   context.Context     // the request's context
	// companions is the group the operation was started with, nil when alone.
	companions *scimschema.Companions
}

func newCoalescer(window time.Duration, reg prometheus.Registerer, log zerolog.Logger) (*coalescer, error) {
	c := &coalescer{window: window, log: log, open: map[string]*batch{}, inflight: map[*batch]time.Time{}}
	c.sizes = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "scim_bridge_salesforce_batch_size",
		Help:    "SCIM operations per coalesced Salesforce call, by kind of operation (salesforce.batch_window).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 200},
	}, []string{"kind"})
	c.saved = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scim_bridge_salesforce_calls_saved_total",
		Help: "Salesforce API calls saved by coalescing concurrent SCIM operations, by kind of operation.",
	}, []string{"kind"})
	if reg != nil {
		var err error
		c.sizes = rest.Register(reg, c.sizes, &err)
		c.saved = rest.Register(reg, c.saved, &err)
		if err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	return c, nil
}

// enter counts an operation that may use a batch; the returned func ends it. An operation
// started together with companions (scimschema.Companions: the creates of one BulkRequest)
// arrives here.
func (c *coalescer) enter(ctx context.Context) (leave func()) {
	if c == nil {
		return func() {}
	}
	if comp := scimschema.CompanionOf(ctx); comp != nil {
		comp.Arrive()
	}
	c.mu.Lock()
	c.active++
	if c.returning > 0 {
		c.returning--
	}
	c.mu.Unlock()
	return func() {
		now := time.Now()
		c.mu.Lock()
		c.active--
		if now.Sub(c.lastLeave) >= maxWindows*c.window {
			c.returning = 0
		}
		c.returning++
		c.lastLeave = now
		c.extend(now)
		c.settle(now)
		c.mu.Unlock()
	}
}

// do runs one operation through the batch of its kind and variant and returns its result. solo
// is the operation on its own; run sends a batch of two or more. Operations of one kind and
// variant must be interchangeable for run (same query shape); max bounds a batch.
func (c *coalescer) do(ctx context.Context, kind, variant string, max int, req any, solo func() (any, error), run batchRun) (any, error) {
	if c == nil {
		return solo()
	}
	it := &batchItem{req: req, solo: solo, done: make(chan struct{}), ctx: ctx}
	if comp := scimschema.CompanionOf(ctx); comp != nil {
		it.companions = comp.Group
	}
	key := kind + "|" + variant
	now := time.Now()
	c.mu.Lock()
	b := c.open[key]
	if b == nil {
		b = &batch{key: key, kind: kind, max: max, run: run, opened: now}
		b.deadline = c.deadline(b)
		b.timer = time.AfterFunc(b.deadline.Sub(now), func() { c.expire(b) })
		c.open[key] = b
	}
	b.items = append(b.items, it)
	c.queued++
	if len(b.items) >= b.max {
		c.send(b)
	} else {
		c.settle(now)
	}
	c.mu.Unlock()

	select {
	case <-it.done:
		if it.alone {
			// Alone in its batch: the operation runs as without coalescing, in the request's
			// goroutine (its logger, its context, its panic recovery).
			defer func() {
				c.mu.Lock()
				c.complete(b)
				c.mu.Unlock()
			}()
			return solo()
		}
		return it.res, it.err
	case <-ctx.Done():
		c.mu.Lock()
		if !it.sent {
			c.withdraw(b, it)
		} else if it.alone {
			c.complete(b)
		}
		c.mu.Unlock()
		// As translate (seam.go) says it for a cancelled call; a batch already sent still completes for
		// the others.
		return nil, &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "the request was cancelled", RetryAfter: retryAfterUnavailable, Err: ctx.Err()}
	}
}

// deadline is when an open batch is sent at the latest: a window after it opened, or a window
// after a coalesced call in flight is expected back (its operations then come back with their
// next requests), whichever is later, within maxWindows windows. Called with mu held.
func (c *coalescer) deadline(b *batch) time.Time {
	d := b.opened.Add(c.window)
	limit := b.opened.Add(maxWindows * c.window)
	for _, sent := range c.inflight {
		if back := sent.Add(c.latency + c.window); back.After(d) && !back.After(limit) {
			d = back
		}
	}
	return d
}

// settle sends every open batch when no operation in the backend is about to join one. Called
// with mu held.
func (c *coalescer) settle(now time.Time) {
	if c.queued == 0 || c.queued < c.active {
		return
	}
	if c.returning > 0 && now.Sub(c.lastLeave) < maxWindows*c.window {
		return // operations just answered are probably on their way back
	}
	if c.awaitingCompanions() {
		return
	}
	for _, b := range c.open {
		c.send(b)
	}
}

// awaitingCompanions reports whether a queued operation's companions have not all arrived.
// Called with mu held.
func (c *coalescer) awaitingCompanions() bool {
	for _, b := range c.open {
		if b.awaitingCompanions() {
			return true
		}
	}
	return false
}

func (b *batch) awaitingCompanions() bool {
	var seen *scimschema.Companions
	for _, it := range b.items {
		if it.companions != nil && it.companions != seen {
			if it.companions.Pending() > 0 {
				return true
			}
			seen = it.companions
		}
	}
	return false
}

// expire sends a batch whose window has passed.
func (c *coalescer) expire(b *batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[b.key] != b {
		return // already sent
	}
	if b.awaitingCompanions() {
		// Companions started together are on their way (each arrives at the latest when it
		// ends): wait for them, up to maxCompanionWait.
		b.deadline = maxTime(b.deadline, minTime(time.Now().Add(c.window), b.opened.Add(maxCompanionWait)))
	}
	if wait := time.Until(b.deadline); wait > 0 {
		b.timer.Reset(wait) // extended meanwhile
		return
	}
	c.send(b)
}

// withdraw removes a cancelled item from its still open batch. Called with mu held.
func (c *coalescer) withdraw(b *batch, it *batchItem) {
	for i, x := range b.items {
		if x == it {
			b.items = append(b.items[:i], b.items[i+1:]...)
			c.queued--
			break
		}
	}
	if len(b.items) == 0 && c.open[b.key] == b {
		b.timer.Stop()
		delete(c.open, b.key)
	}
	c.settle(time.Now())
}

// send closes a batch: a batch of one is handed back to its request, a larger one runs in its own
// goroutine. Called with mu held.
func (c *coalescer) send(b *batch) {
	if c.open[b.key] != b {
		return
	}
	delete(c.open, b.key)
	b.timer.Stop()
	c.queued -= len(b.items)
	for _, it := range b.items {
		it.sent = true
	}
	c.inflight[b] = time.Now()
	if len(b.items) == 1 {
		b.items[0].alone = true // its request runs it (do)
		close(b.items[0].done)
		return
	}
	go c.run(b)
}

// run sends a batch of two or more operations and answers each. It runs on its own context (the
// bridge's logger, the client's per-call timeouts), so one request's cancellation cannot fail the
// others; a panic becomes every operation's internal error, never the process's end.
func (c *coalescer) run(b *batch) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error().Str("kind", b.kind).Str("panic", fmt.Sprint(r)).Str("stack", string(debug.Stack())).
				Msg("coalesced Salesforce call panicked")
			for _, it := range b.items {
				it.res, it.err = nil, &scimschema.Error{Kind: scimschema.KindInternal, Detail: "internal error", Err: fmt.Errorf("panic: %v", r)}
			}
		}
		c.mu.Lock()
		c.complete(b)
		c.mu.Unlock()
		for _, it := range b.items {
			close(it.done)
		}
	}()
	calls := b.run(c.log.WithContext(context.Background()), b.items)
	c.sizes.WithLabelValues(b.kind).Observe(float64(len(b.items)))
	if saved := len(b.items) - calls; saved > 0 {
		c.saved.WithLabelValues(b.kind).Add(float64(saved))
	}
}

// complete records that a sent batch has its answer. Called with mu held.
func (c *coalescer) complete(b *batch) {
	sent, ok := c.inflight[b]
	if !ok {
		return
	}
	delete(c.inflight, b)
	now := time.Now()
	if took := now.Sub(sent); c.latency == 0 {
		c.latency = took
	} else {
		c.latency += (took - c.latency) / 8
	}
	c.extend(now)
}

// extend gives open batches a window from now, within maxWindows windows of their opening: an
// answer or a finished operation means a worker is about to send its next request. Called with
// mu held.
func (c *coalescer) extend(now time.Time) {
	for _, o := range c.open {
		if d := now.Add(c.window); d.After(o.deadline) {
			o.deadline = minTime(d, o.opened.Add(maxWindows*c.window))
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
