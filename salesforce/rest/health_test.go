package rest

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// TestHealthFollowsSalesforceAnswers: scim_bridge_salesforce_up is 1 while Salesforce answers (a 4xx
// is an answer), 0 from an outage (5xx) until the next good answer.
func TestHealthFollowsSalesforceAnswers(t *testing.T) {
	o := newOrg(t, emulator.Config{})
	reg := prometheus.NewRegistry()
	c := o.client(t, func(cfg *Config) { cfg.Registerer = reg; cfg.Retry.Attempts = 1 })
	gauge := func() float64 {
		t.Helper()
		n, err := testutil.GatherAndCount(reg, "scim_bridge_salesforce_up")
		if err != nil || n != 1 {
			t.Fatalf("scim_bridge_salesforce_up gathered %d times, %v", n, err)
		}
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "scim_bridge_salesforce_up" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}
	ctx := context.Background()
	if h := c.Health(); h.Known || gauge() != 0 {
		t.Fatalf("before any call: Health = %+v, gauge %v; want unknown and 0", h, gauge())
	}
	if err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if h := c.Health(); !h.Known || !h.Up || gauge() != 1 {
		t.Fatalf("after a token: Health = %+v, gauge %v; want up and 1", h, gauge())
	}

	o.emu.InjectFault(emulator.Fault{PathPattern: "/services/data/*", Status: http.StatusServiceUnavailable, Times: 1})
	if _, err := c.Versions(ctx); err == nil {
		t.Fatal("Versions during an outage succeeded")
	}
	if h := c.Health(); !h.Known || h.Up || gauge() != 0 {
		t.Errorf("during an outage: Health = %+v, gauge %v; want down and 0", h, gauge())
	}

	o.emu.InjectFault(emulator.Fault{PathPattern: "/services/data/*", Status: http.StatusNotFound, ErrorCode: "NOT_FOUND", Times: 1})
	_, _ = c.Versions(ctx)
	if h := c.Health(); !h.Up || gauge() != 1 {
		t.Errorf("after a 404: Health = %+v, gauge %v; want up (Salesforce answered) and 1", h, gauge())
	}
}

// TestHealthDownWhenUnreachable: a refused connection is an outage.
func TestHealthDownWhenUnreachable(t *testing.T) {
	c, err := New(context.Background(), Config{URL: closedURL(t), Flow: FlowRefreshToken, ClientID: "x", RefreshToken: "5Aep-x",
		Retry: RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Token(context.Background()); err == nil {
		t.Fatal("Token against a closed port succeeded")
	}
	if h := c.Health(); !h.Known || h.Up {
		t.Errorf("Health = %+v; want known and down", h)
	}
}

// closedURL is a loopback URL on which nothing listens.
func closedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
