package rest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
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

// NetworkCause is shared by the bridge's Salesforce calls and the status and healthcheck commands:
// each cause in words, never Go's error text.
func TestNetworkCauseNamesEachCause(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "https://secret.example/q?token=x", Err: err} }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "connection refused (nothing listens on that address)"},
		{"no such host", wrap(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}}), "no such host"},
		{"https URL for an http listener", wrap(http.ErrSchemeMismatch), "TLS handshake failed"},
		{"closed without an answer", wrap(io.EOF), "closed without an answer"},
		{"reset", wrap(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), "connection reset"},
		{"deadline", wrap(context.DeadlineExceeded), "timeout"},
		{"anything else", wrap(errors.New("boom")), "network error"},
	} {
		got := NetworkCause(tc.err)
		if !strings.Contains(got, tc.want) || strings.Contains(got, "secret.example") || strings.Contains(got, "Get ") {
			t.Errorf("%s: NetworkCause = %q; want it to say %q and no Go error text", tc.name, got, tc.want)
		}
	}
}
