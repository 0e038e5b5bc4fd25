package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheckAsksTheLocalBridge: `healthcheck` (Docker's HEALTHCHECK) finds the bridge from the
// same configuration serve reads, over HTTP or HTTPS, and exits 0 only when /healthz answers 200.
func TestHealthcheckAsksTheLocalBridge(t *testing.T) {
	url := startEmulator(t)
	healthcheck := func(args []string, env []string) (string, error) {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), append([]string{"healthcheck"}, args...), env, &out, &errOut)
		return out.String() + errOut.String(), err
	}

	plain := startServe(t, checkConfig(t, url, "check-secret", "5Aep-check", "Standard User"), []string{"SCIM_BRIDGE_SHUTDOWN_DELAY=0s"})
	waitFor(t, "/healthz", func() bool { code, _ := get(http.DefaultClient, "http://"+plain.addr+"/healthz"); return code == 200 })
	if out, err := healthcheck(nil, []string{"SCIM_BRIDGE_LISTEN=" + plain.addr}); err != nil {
		t.Errorf("healthcheck with SCIM_BRIDGE_LISTEN of a running bridge: %v %s", err, out)
	}

	certFile, keyFile := selfSignedCert(t)
	tlsCfg := writeFile(t, "tls.yaml", fmt.Sprintf(`
tls: {cert_file: %q, key_file: %q}
auth: {tokens: [{name: t, token: "0123456789abcdef0123"}]}
salesforce: {url: %s, client_id: check-client, client_secret: check-secret, refresh_token: 5Aep-check}
`, certFile, keyFile, url))
	secure := startServe(t, tlsCfg, []string{"SCIM_BRIDGE_SHUTDOWN_DELAY=0s"})
	waitFor(t, "TLS listener", func() bool {
		return healthcheckOK(t, []string{"--config", tlsCfg}, []string{"SCIM_BRIDGE_LISTEN=" + secure.addr})
	})

	closed := closedAddr(t)
	if out, err := healthcheck(nil, []string{"SCIM_BRIDGE_LISTEN=" + closed}); err == nil || !strings.Contains(out, "no answer") {
		t.Errorf("healthcheck with nothing listening = %v %q; want failure saying no answer", err, out)
	}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(failing.Close)
	if out, err := healthcheck([]string{"--url", failing.URL + "/healthz"}, nil); err == nil || !strings.Contains(out, "answered 500") {
		t.Errorf("healthcheck against a 500 = %v %q; want failure naming the status", err, out)
	}
}

func healthcheckOK(t *testing.T, args, env []string) bool {
	t.Helper()
	var out bytes.Buffer
	return Run(context.Background(), append([]string{"healthcheck"}, args...), env, &out, &out) == nil
}

func closedAddr(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}

func TestHealthzURL(t *testing.T) {
	for _, tt := range []struct {
		listen, tls, want string
	}{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", "", "http://127.0.0.1:8080/healthz"},
		{"[::]:9000", "", "http://127.0.0.1:9000/healthz"},
		{":8443", "x.pem", "https://127.0.0.1:8443/healthz"},
		{"[::1]:8080", "", "http://[::1]:8080/healthz"},
	} {
		env := map[string]string{"SCIM_BRIDGE_LISTEN": tt.listen}
		if tt.tls != "" {
			env["SCIM_BRIDGE_TLS_CERT_FILE"] = tt.tls
		}
		if got, err := healthzURL("", env); err != nil || got != tt.want {
			t.Errorf("healthzURL(listen %s, tls %q) = %q, %v; want %q", tt.listen, tt.tls, got, err, tt.want)
		}
	}
}
