package scimschema

import (
	"context"
	"sync"
)

// Companions marks operations that a caller starts at the same moment (the creates of one SCIM
// BulkRequest). A backend that combines concurrent operations into one upstream call may wait
// until every companion has arrived instead of sending the first one alone. Each operation's
// context carries its own Companion; an operation arrives once, when the backend sees it or when
// it ends without reaching the backend.
type Companions struct {
	mu      sync.Mutex
	pending int
}

// NewCompanions returns a group of n operations, none arrived.
func NewCompanions(n int) *Companions { return &Companions{pending: n} }

// Pending is the number of companions that have not arrived.
func (g *Companions) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pending
}

// Companion is one operation of a group.
type Companion struct {
	Group *Companions
	once  sync.Once
}

// Arrive marks the operation as arrived; later calls do nothing.
func (c *Companion) Arrive() {
	c.once.Do(func() {
		c.Group.mu.Lock()
		c.Group.pending--
		c.Group.mu.Unlock()
	})
}

type companionKey struct{}

// WithCompanion returns ctx carrying c.
func WithCompanion(ctx context.Context, c *Companion) context.Context {
	return context.WithValue(ctx, companionKey{}, c)
}

// CompanionOf returns the Companion WithCompanion stored, or nil.
func CompanionOf(ctx context.Context) *Companion {
	c, _ := ctx.Value(companionKey{}).(*Companion)
	return c
}
