package rest

import (
	"sync"
	"time"
)

// Activity is when the client last reached the org and obtained a token: the connection and
// token state the status page shows beside Health. It is this replica's view, from its own calls.
type Activity struct {
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

// Activity returns when the client last reached the org and obtained a token.
func (c *Client) Activity() Activity {
	h := c.activity
	h.mu.Lock()
	out := h.state
	h.mu.Unlock()
	out.Usage = c.Usage()
	return out
}

// activity records calls and token requests as they happen.
type activity struct {
	now   func() time.Time
	mu    sync.Mutex
	state Activity
}

// call records one HTTP exchange; status 0 means no answer came.
func (h *activity) call(status int) {
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
func (h *activity) token(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state.TokenAt, h.state.TokenOK, h.state.TokenError = h.now(), err == nil, ""
	h.state.TokenRequests++
	if err != nil {
		h.state.TokenError = CodeOf(err)
		if h.state.TokenError == "refused" {
			h.state.TokenError = KindOf(err).String()
		}
	}
}
