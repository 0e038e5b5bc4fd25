package rest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestNetworkErrorsNameTheirCause: an operator reading `check` or a log line learns why Salesforce
// could not be reached, for the token endpoint and for REST calls alike.
func TestNetworkErrorsNameTheirCause(t *testing.T) {
	untrusted := httptest.NewTLSServer(http.NotFoundHandler()) // its certificate is in no trust store
	t.Cleanup(untrusted.Close)
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) }) // runs first
	// No test may reach a real DNS server: the resolver's answer for an unknown name is what
	// the dialer returns.
	noSuchHost := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}}}

	tests := []struct {
		name    string
		url     string
		client  *http.Client
		timeout time.Duration
		want    string
	}{
		{"closed port", closedURL(t), nil, time.Minute, "connection refused"},
		{"unknown host", "https://acme.my.salesforce.com", noSuchHost, time.Minute, "no such host"},
		{"untrusted certificate", untrusted.URL, nil, time.Minute, "certificate signed by an unknown authority"},
		{"no answer", hanging.URL, nil, 200 * time.Millisecond, "did not answer in time (timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(context.Background(), Config{URL: tt.url, Flow: FlowRefreshToken, ClientID: "x", RefreshToken: "5Aep-x",
				HTTPClient: tt.client, Timeout: tt.timeout, Retry: RetryPolicy{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			_, restErr := c.Versions(context.Background())
			tokenErr := c.Token(context.Background())
			for what, err := range map[string]error{"REST call": restErr, "token call": tokenErr} {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s error = %v; want it to say %q", what, err, tt.want)
				}
				if KindOf(err) != KindUnavailable {
					t.Errorf("%s error kind = %v; want unavailable", what, KindOf(err))
				}
			}
		})
	}
}
