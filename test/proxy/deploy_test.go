package proxy

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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// deployNginx returns the nginx configuration that docs/deploy.md tells operators to use, with only
// its addresses and certificate paths replaced. Each replacement must find its text, so the
// document and this test cannot drift apart.
func deployNginx(t *testing.T, replicas []string, listen, certFile, keyFile string) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```nginx\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/deploy.md has no nginx block")
	}
	conf := string(m[1])
	for _, r := range []struct{ old, new string }{
		{"server 10.0.0.11:8080;", "server " + strings.TrimPrefix(replicas[0], "http://") + ";"},
		{"server 10.0.0.12:8080;", "server " + strings.TrimPrefix(replicas[1], "http://") + ";"},
		{"listen 443 ssl;", "listen " + listen + " ssl;"},
		{"/etc/ssl/scim.example.com.crt", certFile},
		{"/etc/ssl/scim.example.com.key", keyFile},
	} {
		if !strings.Contains(conf, r.old) {
			t.Fatalf("docs/deploy.md's nginx block no longer contains %q; update this test with it", r.old)
		}
		conf = strings.ReplaceAll(conf, r.old, r.new)
	}
	return conf
}

// certFor writes a self-signed certificate for host and returns its pool and file paths.
func certFor(t *testing.T, host string) (*x509.CertPool, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for name, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return pool, certFile, keyFile
}

// TestDeployGuideNginx runs docs/deploy.md's nginx configuration, TLS included, in front of two
// replicas with trust_proxy_headers, and checks what the guide promises: absolute URLs built from
// the forwarded headers, the request id passed through, bodies up to the bridge's own limit
// reaching it, and /metrics kept off the internet.
func TestDeployGuideNginx(t *testing.T) {
	nginxPath(t) // skip before starting anything when nginx is absent
	replicas := startReplicas(t, "trust_proxy_headers: true\n")
	pool, certFile, keyFile := certFor(t, "scim.example.com")
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startNginx(t, deployNginx(t, replicas, listen, certFile, keyFile), "https://"+listen+"/healthz")

	// The IdP's view: https://scim.example.com, resolved to the local nginx.
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, listen)
		},
	}}
	base := "https://scim.example.com"
	call := func(method, path, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := call(http.MethodPost, "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kay@example.com","name":{"familyName":"Kay"},"emails":[{"value":"kay@example.com","primary":true}]}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /Users through the guide's nginx = %d %s", resp.StatusCode, body)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, base+"/scim/v2/Users/") {
		t.Errorf("Location = %q; want it under %s/scim/v2/Users/ (X-Forwarded-Proto/Host)", loc, base)
	}
	if id := resp.Header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("X-Request-Id = %q; want nginx's $request_id passed through", id)
	}

	huge := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big@example.com","title":"` + strings.Repeat("x", 1<<20) + `"}`
	if resp, body := call(http.MethodPost, "/scim/v2/Users", huge); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("a body over 1 MiB = %d %.200s; want the bridge's SCIM 413 (nginx lets it through)", resp.StatusCode, body)
	}

	if resp, _ := call(http.MethodGet, "/metrics", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /metrics from outside 10.0.0.0/8 = %d; want nginx's 403", resp.StatusCode)
	}
}
