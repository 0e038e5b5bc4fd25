package salesforce

import (
	"sync"
	"time"
)

// Health is what the client has seen of the org: the connection and token state the status page
// shows. It is this replica's view, from the calls it made.
type Health struct {
	LastSuccess time.Time // the last call Salesforce answered with 2xx
	LastFailure time.Time // the last call that got no answer, or a 5xx
	// The last token request (refresh, client credentials or JWT) and its outcome. TokenError is
	// Salesforce's OAuth error code (invalid_grant, …) or the kind of failure, never a message.
	TokenAt       time.Time
	TokenOK       bool
	TokenError    string
	TokenRequests int
	Usage         Usage
}

// Up reports whether the last thing the client saw of Salesforce was a success: a 2xx answer no
// later failure or failed token request followed.
func (h Health) Up() bool {
	if h.LastSuccess.IsZero() || h.LastFailure.After(h.LastSuccess) {
		return false
	}
	return h.TokenAt.IsZero() || h.TokenOK || h.LastSuccess.After(h.TokenAt)
}

// Health returns the client's view of the org.
func (c *Client) Health() Health {
	h := c.health
	h.mu.Lock()
	out := h.state
	h.mu.Unlock()
	out.Usage = c.Usage()
	return out
}

// health records calls and token requests as they happen.
type health struct {
	now   func() time.Time
	mu    sync.Mutex
	state Health
}

// call records one HTTP exchange; status 0 means no answer came.
func (h *health) call(status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case status >= 200 && status < 300:
		h.state.LastSuccess = h.now()
	case status == 0 || status >= 500:
		h.state.LastFailure = h.now()
	}
}

// token records the outcome of one token request.
func (h *health) token(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state.TokenAt, h.state.TokenOK, h.state.TokenError = h.now(), err == nil, ""
	h.state.TokenRequests++
	if err != nil {
		h.state.TokenError = codeOf(err)
		if h.state.TokenError == "refused" {
			h.state.TokenError = KindOf(err).String()
		}
	}
}
