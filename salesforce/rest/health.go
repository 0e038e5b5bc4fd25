package rest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Health is what the client last learnt about Salesforce's availability from its own calls (REST
// and token endpoint). It is a signal for dashboards and alerts, never a readiness condition: an
// outage must not take every replica out of the load balancer at once.
type Health struct {
	// Known is false until the first call got an answer or failed.
	Known bool
	// Up is true when the last call got an answer that was not an outage (not a 5xx, not a network
	// failure or timeout). A 4xx is an answer: Salesforce is up.
	Up bool
	// Since is when Up last changed.
	Since time.Time
}

// healthTracker records Health from every HTTP exchange and exports it as the gauge
// scim_bridge_salesforce_up (1 up, 0 down or not yet known).
type healthTracker struct {
	gauge prometheus.Gauge
	now   func() time.Time

	mu sync.Mutex
	h  Health
}

func newHealthTracker(reg prometheus.Registerer, now func() time.Time) (*healthTracker, error) {
	t := &healthTracker{now: now, gauge: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "scim_bridge_salesforce_up",
		Help: "1 when Salesforce answered the bridge's last call (REST or OAuth) with anything but an outage, else 0. Not part of readiness.",
	})}
	if reg == nil {
		return t, nil
	}
	var err error
	t.gauge = Register(reg, t.gauge, &err)
	return t, err
}

func (t *healthTracker) record(up bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.h.Known || t.h.Up != up {
		t.h = Health{Known: true, Up: up, Since: t.now()}
	}
	if up {
		t.gauge.Set(1)
	} else {
		t.gauge.Set(0)
	}
}

func (t *healthTracker) get() Health {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h
}

// observe wraps a transport so that every exchange updates t. A request its caller canceled says
// nothing about Salesforce and is not recorded.
func (t *healthTracker) observe(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		switch {
		case err != nil && errors.Is(err, context.Canceled):
		case err != nil:
			t.record(false)
		default:
			t.record(resp.StatusCode < 500)
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Health reports what the client's calls last showed about Salesforce's availability.
func (c *Client) Health() Health { return c.health.get() }
