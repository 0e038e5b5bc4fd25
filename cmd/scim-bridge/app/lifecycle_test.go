package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// running is a `serve` started with Run on a free loopback port.
type running struct {
	addr   string
	logs   *lockedBuffer
	cancel context.CancelFunc // SIGTERM
	reload chan struct{}      // SIGHUP
	done   chan error
}

// startServe runs `serve --config file` with env; the bridge must become ready unless notReady.
func startServe(t *testing.T, file string, env []string) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &running{addr: ln.Addr().String(), logs: &lockedBuffer{}, reload: make(chan struct{}), done: make(chan error, 1)}
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		r.done <- RunWithSignals(ctx, []string{"serve", "--config", file, "--listen", r.addr}, env, r.logs, io.Discard, Signals{Reload: r.reload})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	return r
}

// get answers GET url's status and body, or -1 when no connection could be made.
func get(client *http.Client, url string) (int, string) {
	resp, err := client.Get(url)
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func scimGet(client *http.Client, url, token string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return -1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSIGTERMFailsReadinessThenDrains: the moment shutdown starts /readyz answers 503 while requests
// are still served for shutdown_delay (the load balancer's time to notice); then the listener
// closes and serve returns.
func TestSIGTERMFailsReadinessThenDrains(t *testing.T) {
	url := startEmulator(t)
	cfg := checkConfig(t, url, "check-secret", "5Aep-check", "Standard User")
	const delay = time.Second
	s := startServe(t, cfg, []string{fmt.Sprintf("SCIM_BRIDGE_SHUTDOWN_DELAY=%s", delay)})
	base := "http://" + s.addr
	waitFor(t, "/readyz 200", func() bool { code, _ := get(http.DefaultClient, base+"/readyz"); return code == 200 })

	start := time.Now()
	s.cancel()
	// The signal reaches the serving loop asynchronously (microseconds): the first answers may still
	// be 200, but readiness must fail while the listener is still open.
	for {
		code, body := get(http.DefaultClient, base+"/readyz")
		if code == http.StatusServiceUnavailable && strings.Contains(body, "shutting down") {
			break
		}
		if code != http.StatusOK || time.Since(start) > delay {
			t.Fatalf("/readyz after SIGTERM = %d %s after %v; want 503 shutting down within shutdown_delay", code, body, time.Since(start))
		}
		time.Sleep(time.Millisecond)
	}
	if code := scimGet(http.DefaultClient, base+"/scim/v2/Users?count=1", "0123456789abcdef0123"); code != 200 && time.Since(start) < delay {
		t.Errorf("a SCIM request within shutdown_delay = %d; want 200 (still serving)", code)
	}
	if code, _ := get(http.DefaultClient, base+"/healthz"); code != 200 && time.Since(start) < delay {
		t.Errorf("/healthz within shutdown_delay = %d; want 200 (alive)", code)
	}
	if err := <-s.done; err != nil {
		t.Errorf("serve returned %v", err)
	}
	s.done <- nil // for the cleanup
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("serve returned %v after SIGTERM; want no sooner than shutdown_delay %v", elapsed, delay)
	}
	if code, _ := get(http.DefaultClient, base+"/healthz"); code != -1 {
		t.Errorf("/healthz after serve returned = %d; want no listener", code)
	}
}

// TestReadinessIsAboutServingNotSalesforce: /readyz waits for the first access token, then stays
// 200 through a Salesforce outage, which scim_bridge_salesforce_up reports instead.
func TestReadinessIsAboutServingNotSalesforce(t *testing.T) {
	emu, err := emulator.New(emulator.Config{ClientID: "check-client", ClientSecret: "check-secret", RefreshToken: "5Aep-check"})
	if err != nil {
		t.Fatal(err)
	}
	// Two failed token calls: the first try and the retry after 1 s; the next, 2 s later, succeeds.
	emu.InjectFault(emulator.Fault{PathPattern: "/services/oauth2/token", Status: http.StatusServiceUnavailable, HTML: true, Times: 2})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	s := startServe(t, checkConfig(t, srv.URL, "check-secret", "5Aep-check", "Standard User"), []string{"SCIM_BRIDGE_SHUTDOWN_DELAY=0s"})
	base := "http://" + s.addr

	waitFor(t, "a first answer", func() bool { code, _ := get(http.DefaultClient, base+"/healthz"); return code == 200 })
	code, body := get(http.DefaultClient, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no Salesforce access token") {
		t.Errorf("/readyz before the first token = %d %s; want 503 naming the token", code, body)
	}
	waitFor(t, "/readyz 200 after the token endpoint recovers", func() bool { code, _ := get(http.DefaultClient, base+"/readyz"); return code == 200 })
	if !strings.Contains(s.logs.String(), "no Salesforce access token yet") {
		t.Errorf("the failed first token was not logged:\n%s", s.logs.String())
	}

	emu.InjectFault(emulator.Fault{PathPattern: "/services/data/*", Status: http.StatusServiceUnavailable, Times: -1})
	if code := scimGet(http.DefaultClient, base+"/scim/v2/Users?count=1", "0123456789abcdef0123"); code != http.StatusServiceUnavailable {
		t.Errorf("GET /Users during the outage = %d; want 503", code)
	}
	if code, body := get(http.DefaultClient, base+"/readyz"); code != 200 {
		t.Errorf("/readyz during a Salesforce outage = %d %s; want 200 (a replica that can serve stays in the load balancer)", code, body)
	}
	_, metrics := get(http.DefaultClient, base+"/metrics")
	if !strings.Contains(metrics, "\nscim_bridge_salesforce_up 0\n") {
		t.Errorf("scim_bridge_salesforce_up during the outage is not 0:\n%s", grepLines(metrics, "salesforce_up"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// reloadLine returns the n-th (from 1) "reloaded on SIGHUP" log line, waiting for it.
func reloadLine(t *testing.T, s *running, n int, message string) map[string]any {
	t.Helper()
	var found map[string]any
	waitFor(t, fmt.Sprintf("log line %d %q", n, message), func() bool {
		seen := 0
		for _, l := range strings.Split(s.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["message"] == message {
				if seen++; seen == n {
					found = m
					return true
				}
			}
		}
		return false
	})
	return found
}

func names(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// TestSIGHUPReloadsTokensKeepingConnections: SIGHUP re-reads auth.tokens (token_file included);
// a connection opened before it keeps working with the new token, the old value is refused, the
// log names what changed by token name and never shows a token.
func TestSIGHUPReloadsTokensKeepingConnections(t *testing.T) {
	url := startEmulator(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "entra-token")
	mustWrite(t, tokenFile, []byte("entra-old-token-0123456789\n"))
	cfgFile := filepath.Join(dir, "bridge.yaml")
	write := func(tokens string) {
		mustWrite(t, cfgFile, []byte(fmt.Sprintf(`
auth:
  tokens:
%s
salesforce: {url: %s, client_id: check-client, client_secret: check-secret, refresh_token: 5Aep-check}
`, tokens, url)))
	}
	write(fmt.Sprintf("    - {name: entra, token_file: %s}\n    - {name: okta, token: okta-token-0123456789abcdef}", tokenFile))
	s := startServe(t, cfgFile, []string{"SCIM_BRIDGE_SHUTDOWN_DELAY=0s"})
	base := "http://" + s.addr

	// One connection for everything: the transport keeps it alive and reuses it.
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	conns := 0
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			conns++
		}
	}}
	call := func(token string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, base+"/scim/v2/Users?count=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET /Users: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "/readyz 200", func() bool { code, _ := get(http.DefaultClient, base+"/readyz"); return code == 200 })
	if code := call("entra-old-token-0123456789"); code != 200 {
		t.Fatalf("GET with the entra token = %d; want 200", code)
	}

	mustWrite(t, tokenFile, []byte("entra-new-token-0123456789\n"))
	write(fmt.Sprintf("    - {name: entra, token_file: %s}\n    - {name: ping, token: ping-token-0123456789abcdef}", tokenFile))
	s.reload <- struct{}{}
	line := reloadLine(t, s, 1, "reloaded on SIGHUP")
	for key, want := range map[string][]string{"tokens_changed": {"entra"}, "tokens_removed": {"okta"}, "tokens_added": {"ping"}} {
		if got := names(line[key]); !slices.Equal(got, want) {
			t.Errorf("reload log %s = %v; want %v", key, got, want)
		}
	}
	for tok, want := range map[string]int{
		"entra-new-token-0123456789": 200, "ping-token-0123456789abcdef": 200,
		"entra-old-token-0123456789": 401, "okta-token-0123456789abcdef": 401,
	} {
		if code := call(tok); code != want {
			t.Errorf("after SIGHUP, GET with %.10s… = %d; want %d", tok, code, want)
		}
	}
	if conns != 1 {
		t.Errorf("the requests used %d connections; want the one opened before SIGHUP, kept", conns)
	}

	// An invalid configuration is refused as a whole: the tokens in force stay.
	mustWrite(t, tokenFile, []byte("short\n"))
	s.reload <- struct{}{}
	refused := reloadLine(t, s, 1, "reload refused: the configuration is invalid; still serving with the previous one")
	if !strings.Contains(fmt.Sprint(refused["problems"]), "auth.tokens[0].token") {
		t.Errorf("refused reload logged %v; want the problem naming auth.tokens[0].token", refused["problems"])
	}
	if code := call("entra-new-token-0123456789"); code != 200 {
		t.Errorf("after a refused reload the entra token in force = %d; want 200", code)
	}
	for _, secret := range []string{"entra-new-token", "entra-old-token", "ping-token-", "okta-token-", "short"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("the logs show a token (%s…)", secret)
		}
	}
}

// TestSIGHUPReloadsTheTLSCertificate: after SIGHUP new handshakes get the new certificate, while a
// connection made before it keeps working.
func TestSIGHUPReloadsTheTLSCertificate(t *testing.T) {
	url := startEmulator(t)
	certA, keyA := selfSignedCert(t)
	certB, keyB := selfSignedCert(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	install := func(cert, key string) {
		for src, dst := range map[string]string{cert: certFile, key: keyFile} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, dst, b)
		}
	}
	install(certA, keyA)
	cfg := writeFile(t, "c.yaml", fmt.Sprintf(`
tls: {cert_file: %q, key_file: %q}
auth:
  tokens: [{name: t, token: "0123456789abcdef0123"}]
salesforce: {url: %s, client_id: check-client, client_secret: check-secret, refresh_token: 5Aep-check}
`, certFile, keyFile, url))
	s := startServe(t, cfg, []string{"SCIM_BRIDGE_SHUTDOWN_DELAY=0s"})
	base := "https://" + s.addr

	serial := func(c *http.Client) (string, bool) {
		t.Helper()
		var reused bool
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
		}), http.MethodGet, base+"/healthz", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET /healthz over TLS: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return fingerprint(resp.TLS.PeerCertificates[0]), reused
	}
	newClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxConnsPerHost: 1}}
	}
	waitFor(t, "TLS answers", func() bool { code, _ := get(newClient(), base+"/healthz"); return code == 200 })
	before := newClient()
	first, _ := serial(before)
	if first != fingerprintFile(t, certA) {
		t.Fatal("the server does not present certificate A")
	}

	install(certB, keyB)
	s.reload <- struct{}{}
	line := reloadLine(t, s, 1, "reloaded on SIGHUP")
	if line["tls"] != "certificate reloaded" {
		t.Errorf("reload log tls = %v; want certificate reloaded", line["tls"])
	}
	if fp, reused := serial(before); !reused || fp != first {
		t.Errorf("the connection made before SIGHUP: reused %v, same certificate %v; want it kept", reused, fp == first)
	}
	if fp, _ := serial(newClient()); fp != fingerprintFile(t, certB) {
		t.Error("a new connection after SIGHUP does not get certificate B")
	}
}

func fingerprint(c *x509.Certificate) string { return fmt.Sprintf("%x", c.Signature) }

func fingerprintFile(t *testing.T, certFile string) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, strings.TrimSuffix(certFile, "cert.pem")+"key.pem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return fingerprint(c)
}
