package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// runEmulatorCommand starts `scim-bridge emulator` with args on a free port and returns its URL.
func runEmulatorCommand(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"emulator", "--listen", addr}, args...), nil, io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emulator command: %v", err)
		}
	})
	url := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp, err := http.Get(url + "/services/data/"); err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatal("the emulator command did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The JWT-bearer flow end to end: the emulator command trusts a certificate, check signs with its key.
func TestCheckWithTheJWTFlowAgainstTheEmulatorCommand(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "jwt.pub"), filepath.Join(dir, "jwt.key")
	mustWrite(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	mustWrite(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))
	url := runEmulatorCommand(t, "--client-id", "jwt-app", "--jwt-certificate", certFile)

	cfg := writeFile(t, "c.yaml", fmt.Sprintf(`
salesforce:
  url: %s
  flow: jwt
  client_id: jwt-app
  jwt: {username: admin@emulator.example.com, private_key_file: %q}
`, url, keyFile))
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"check", "--config", cfg}, nil, &out, io.Discard); err != nil {
		t.Fatalf("check with the jwt flow failed: %v\n%s", err, out.String())
	}
}

// check needs no bearer tokens: it tests the Salesforce side only.
func TestCheckNeedsNoBearerTokens(t *testing.T) {
	url := runEmulatorCommand(t, "--client-id", "c", "--client-secret", "s", "--refresh-token", "5Aep-r", "--rotate-refresh-tokens")
	tokenFile := filepath.Join(t.TempDir(), "refresh-token")
	cfg := writeFile(t, "c.yaml", fmt.Sprintf("salesforce:\n  url: %s\n  client_id: c\n  client_secret: s\n  refresh_token: 5Aep-r\n  token_file: %s\n", url, tokenFile))
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"check", "--config", cfg}, nil, &out, io.Discard); err != nil {
		t.Fatalf("check without auth.tokens failed: %v\n%s", err, out.String())
	}
	// With rotation on, the refresh rotated the token, and the new one was persisted.
	b, err := readFile(tokenFile)
	if got := string(bytes.TrimSpace(b)); err != nil || got == "" || got == "5Aep-r" {
		t.Errorf("token_file after a rotating refresh = %q, %v; want the new refresh token", b, err)
	}
}

func TestTopLevelHelpListsTheCommands(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "help"} {
		var out bytes.Buffer
		if err := Run(context.Background(), []string{arg}, nil, &out, io.Discard); err != nil {
			t.Errorf("%s: %v", arg, err)
		}
		for _, cmd := range []string{"serve", "check", "emulator", "version", "--rotate-refresh-tokens"} {
			if !strings.Contains(out.String(), cmd) {
				t.Errorf("%s does not list %s:\n%s", arg, cmd, out.String())
			}
		}
	}
}

// The seed example in docs/emulator.md is a valid seed.
func TestDocumentedSeedLoads(t *testing.T) {
	doc, err := readFile("../../../docs/emulator.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "```json\n")
	example, _, found := strings.Cut(rest, "```")
	if !found {
		t.Fatal("docs/emulator.md has no JSON seed example")
	}
	seed, err := emulator.LoadSeed(strings.NewReader(example))
	if err != nil {
		t.Fatalf("the documented seed does not load: %v", err)
	}
	if _, err := emulator.New(emulator.Config{Seed: seed}); err != nil {
		t.Fatalf("the documented seed does not start an emulator: %v", err)
	}
}

// --profile strict serves an org without the relationships no Salesforce source documents.
func TestEmulatorCommandStrictProfile(t *testing.T) {
	url := runEmulatorCommand(t, "--profile", "strict", "--client-id", "c", "--client-secret", "s", "--refresh-token", "5Aep-r")
	resp, err := http.PostForm(url+"/services/oauth2/token", map[string][]string{
		"grant_type": {"refresh_token"}, "client_id": {"c"}, "client_secret": {"s"}, "refresh_token": {"5Aep-r"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/services/data/v66.0/query?q="+
		neturl.QueryEscape("SELECT Id, (SELECT Id FROM Assignments) FROM PermissionSetGroup"), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "INVALID_TYPE") {
		t.Fatalf("PermissionSetGroup.Assignments under --profile strict: %d %s, want 400 INVALID_TYPE", resp.StatusCode, body)
	}
}

func TestEmulatorCommandRefusesAnUnknownProfile(t *testing.T) {
	var stderr bytes.Buffer
	err := Run(context.Background(), []string{"emulator", "--listen", "127.0.0.1:0", "--profile", "lenient"}, nil, io.Discard, &stderr)
	if err == nil || !strings.Contains(stderr.String(), "--profile") || !strings.Contains(stderr.String(), "lenient") {
		t.Fatalf("Run = %v, stderr %q; want a --profile error naming the value", err, stderr.String())
	}
}
