package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// selfSignedCert writes a certificate and key for 127.0.0.1 and returns their paths.
func selfSignedCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "scim-bridge test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	mustWrite(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	mustWrite(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

func TestServeWithBuiltInTLS(t *testing.T) {
	url := startEmulator(t)
	certFile, keyFile := selfSignedCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := writeFile(t, "c.yaml", fmt.Sprintf(`
tls: {cert_file: %q, key_file: %q}
auth:
  tokens: [{name: t, token: "0123456789abcdef0123"}]
salesforce:
  url: %s
  client_id: check-client
  client_secret: check-secret
  refresh_token: 5Aep-check
`, certFile, keyFile, url))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--config", cfg, "--listen", addr}, []string{"SCIM_BRIDGE_SHUTDOWN_DELAY=0s"}, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("https://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.TLS == nil {
				t.Fatalf("GET /healthz over TLS = %d (TLS %v)", resp.StatusCode, resp.TLS != nil)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShutdownDrainsInFlightRequests: SIGTERM (the context ending) lets a request that is waiting on
// Salesforce finish before serve returns.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	emu, err := emulator.New(emulator.Config{ClientID: "check-client", ClientSecret: "check-secret", RefreshToken: "5Aep-check"})
	if err != nil {
		t.Fatal(err)
	}
	// compositeArrived is closed when a composite request reaches Salesforce: the SCIM request is
	// then in flight, waiting on it.
	compositeArrived := make(chan struct{})
	var once sync.Once
	var armed atomic.Bool // set once the slow request is about to be sent (readiness uses composites too)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if armed.Load() && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/composite") {
			once.Do(func() { close(compositeArrived) })
		}
		emu.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := checkConfig(t, srv.URL, "check-secret", "5Aep-check", "Standard User")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--config", cfg, "--listen", addr}, []string{"SCIM_BRIDGE_SHUTDOWN_DELAY=10ms"}, io.Discard, io.Discard)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("bridge never became ready")
		}
		time.Sleep(20 * time.Millisecond)
	}

	emu.InjectFault(emulator.Fault{Method: "POST", PathPattern: "/services/data/*/composite", Latency: 500 * time.Millisecond})
	armed.Store(true)
	type result struct {
		status int
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"slow@example.com","name":{"familyName":"Slow"}}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/scim/v2/Users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer 0123456789abcdef0123")
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		resp.Body.Close()
		inflight <- result{status: resp.StatusCode}
	}()
	select {
	case <-compositeArrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the SCIM request never reached Salesforce")
	}
	cancel()
	r := <-inflight
	if r.err != nil || r.status != http.StatusCreated {
		t.Errorf("in-flight POST during shutdown = %d, %v; want 201", r.status, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("serve returned %v after draining", err)
	}
}

// TestHTTPServerHasTimeouts: a server facing IdPs over the internet must not let slow clients hold
// connections open forever.
func TestHTTPServerHasTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), zerolog.Nop())
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("%s = %v; want a bound of at most 5m", name, d)
		}
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d", srv.MaxHeaderBytes)
	}
}
