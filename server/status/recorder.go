// Package status is the bridge's status page: an in-memory Recorder of what this replica did
// lately (audit events, IdP token use, API allowance samples), the Snapshot built from it and
// the live state, and its three renderings: HTML (/status, server-rendered, no JavaScript),
// JSON (/status.json) and plain text (the status command).
//
// Nothing here is shared between replicas: each shows what it saw. Audit events carry ids and
// attribute names, and a userName only when audit.identify_users allows it.
package status

import (
	"slices"
	"sync"
	"time"
)

const (
	// MaxEvents is how many audit events the recorder keeps.
	MaxEvents = 100
	// sampleEvery and keepSamples shape the allowance chart: one point per 5 minutes over 6 hours.
	sampleEvery = 5 * time.Minute
	keepSamples = 72
)

// Event is one audit event: a Salesforce change made or, under dry run, one that would have been.
type Event struct {
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	DryRun    bool      `json:"dry_run,omitempty"`
	Operation string    `json:"operation"`
	Target    string    `json:"target,omitempty"`
	UserName  string    `json:"userName,omitempty"`
	Changed   []string  `json:"changed,omitempty"`
	Added     []string  `json:"added,omitempty"`
	Removed   []string  `json:"removed,omitempty"`
	Failed    []string  `json:"failed,omitempty"`
	Result    string    `json:"result"`
	Error     string    `json:"error,omitempty"`
}

// TokenUse is when an IdP's bearer token was last presented, and how often since the start.
type TokenUse struct {
	Name     string    `json:"name"`
	LastUsed time.Time `json:"last_used"`
	Requests int       `json:"requests"`
}

// Sample is the org's API usage at one moment.
type Sample struct {
	Time time.Time `json:"time"`
	Used int       `json:"used"`
	Max  int       `json:"max"`
}

// Recorder keeps the recent history the status page shows. It is safe for concurrent use and
// never blocks for long: its methods are called on the request path.
type Recorder struct {
	now func() time.Time

	mu      sync.Mutex
	events  []Event // oldest first, at most MaxEvents
	tokens  map[string]*TokenUse
	samples []Sample // oldest first, one per sampleEvery bucket
}

// NewRecorder returns an empty recorder; now nil means time.Now.
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{now: now, tokens: map[string]*TokenUse{}}
}

// Audit records one audit event, dropping the oldest beyond MaxEvents.
func (r *Recorder) Audit(e Event) {
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == MaxEvents {
		copy(r.events, r.events[1:])
		r.events = r.events[:MaxEvents-1]
	}
	r.events = append(r.events, e)
}

// TokenUsed records that an IdP presented the token with this name.
func (r *Recorder) TokenUsed(name string) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.tokens[name]
	if u == nil {
		u = &TokenUse{Name: name}
		r.tokens[name] = u
	}
	u.LastUsed = now
	u.Requests++
}

// SampleAllowance records the API usage now. Within one 5-minute bucket the latest sample wins;
// buckets older than 6 hours are dropped.
func (r *Recorder) SampleAllowance(used, max int) {
	now := r.now()
	s := Sample{Time: now, Used: used, Max: max}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.samples); n > 0 && r.samples[n-1].Time.Truncate(sampleEvery).Equal(now.Truncate(sampleEvery)) {
		r.samples[n-1] = s
	} else {
		r.samples = append(r.samples, s)
	}
	cutoff := now.Add(-keepSamples * sampleEvery)
	i := 0
	for i < len(r.samples) && r.samples[i].Time.Before(cutoff) {
		i++
	}
	r.samples = r.samples[i:]
}

// Events returns the recorded audit events, newest first.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	out := slices.Clone(r.events)
	r.mu.Unlock()
	slices.Reverse(out)
	return out
}

// Tokens returns the token use, most recent first.
func (r *Recorder) Tokens() []TokenUse {
	r.mu.Lock()
	out := make([]TokenUse, 0, len(r.tokens))
	for _, u := range r.tokens {
		out = append(out, *u)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b TokenUse) int { return b.LastUsed.Compare(a.LastUsed) })
	return out
}

// Allowance returns the usage samples, oldest first.
func (r *Recorder) Allowance() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples)
}
