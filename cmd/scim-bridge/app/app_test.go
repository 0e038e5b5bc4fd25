package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

func TestVersionAndUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"version"}, nil, &out, &errOut); err != nil {
		t.Fatalf("version: %v", err)
	}
	if !strings.HasPrefix(out.String(), "scim-bridge ") {
		t.Errorf("version printed %q", out.String())
	}
	if err := Run(context.Background(), []string{"frobnicate"}, nil, &out, &errOut); err == nil {
		t.Error("an unknown command succeeded")
	}
}

// startEmulator runs an emulator on loopback with known credentials.
func startEmulator(t *testing.T) string {
	t.Helper()
	emu, err := emulator.New(emulator.Config{ClientID: "check-client", ClientSecret: "check-secret", RefreshToken: "5Aep-check"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func checkConfig(t *testing.T, url, secret, refresh, profile string) string {
	return writeFile(t, "c.yaml", fmt.Sprintf(`
auth:
  tokens: [{name: t, token: "0123456789abcdef0123"}]
salesforce:
  url: %s
  client_id: check-client
  client_secret: %s
  refresh_token: %s
users:
  defaults: {profile: %q}
`, url, secret, refresh, profile))
}

func TestCheckReportsSuccess(t *testing.T) {
	url := startEmulator(t)
	var out bytes.Buffer
	err := Run(context.Background(), []string{"check", "--config", checkConfig(t, url, "check-secret", "5Aep-check", "Standard User")}, nil, &out, io.Discard)
	if err != nil {
		t.Fatalf("check failed: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "The connection works.") || strings.Contains(out.String(), "FAIL") {
		t.Errorf("check output:\n%s", out.String())
	}
}

func TestCheckExplainsFailures(t *testing.T) {
	url := startEmulator(t)
	for _, tc := range []struct {
		name, secret, refresh, profile, want string
	}{
		{"wrong client secret", "not-the-secret", "5Aep-check", "Standard User", "salesforce.client_secret"},
		{"revoked refresh token", "check-secret", "5Aep-revoked", "Standard User", "salesforce.refresh_token"},
		{"unknown profile", "check-secret", "5Aep-check", "No Such Profile", "users.defaults.profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Run(context.Background(), []string{"check", "--config", checkConfig(t, url, tc.secret, tc.refresh, tc.profile)}, nil, &out, io.Discard)
			if err == nil {
				t.Fatalf("check passed:\n%s", out.String())
			}
			if !strings.Contains(out.String(), tc.want) || strings.Contains(out.String(), tc.secret) && tc.secret != "check-secret" {
				t.Errorf("check output does not explain the failure (or shows the secret):\n%s", out.String())
			}
		})
	}
}

func TestDemoServesSCIMOverRealOAuth(t *testing.T) {
	d, err := StartDemo(context.Background(), DemoOptions{Token: "demo-token-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@example.com","type":"work","primary":true}]}`
	code, created := postUser(t, d, body)
	if code != http.StatusCreated {
		t.Fatalf("POST /Users = %d %v", code, created)
	}
	id, _ := created["id"].(string)
	if u := d.Emulator.Get("User", id); u == nil || u["Username"] != "ada@example.com" {
		t.Errorf("emulator has no user %s: %v", id, u)
	}
}

// TestDemoBannerCurlCommandsWork runs serve --demo as a user would and pastes its curl commands;
// the status page it announces answers. (The admin listener moves to a free port: serve --demo
// puts it on 127.0.0.1:9090 unless admin_listen says otherwise.)
func TestDemoBannerCurlCommandsWork(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is needed to check the demo's printed commands (CI is set, so this test may not be skipped)")
		}
		t.Skip("curl is not installed: the demo's printed curl commands are not checked")
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--demo", "--listen", "127.0.0.1:0"}, []string{"SCIM_BRIDGE_TOKEN=banner-token-0123456789", "SCIM_BRIDGE_ADMIN_LISTEN=127.0.0.1:0"}, out, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve --demo: %v", err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	banner := out.String()
	if !strings.Contains(banner, "banner-token-0123456789") {
		t.Errorf("banner does not show SCIM_BRIDGE_TOKEN")
	}
	statusURL := regexp.MustCompile(`Status page +(http://\S+/status)\n`).FindStringSubmatch(banner)
	if statusURL == nil {
		t.Fatalf("banner does not show the status page:\n%s", banner)
	}
	resp, err := http.Get(statusURL[1])
	if err != nil {
		t.Fatalf("GET %s: %v", statusURL[1], err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "scim-bridge status") {
		t.Errorf("GET %s = %d:\n%s", statusURL[1], resp.StatusCode, page)
	}
	cmds := regexp.MustCompile(`(?s)  (curl .*?)\n\n`).FindAllStringSubmatch(banner, -1)
	if len(cmds) != 2 {
		t.Fatalf("want two curl commands in the banner, got %d:\n%s", len(cmds), banner)
	}
	for _, c := range cmds {
		line := strings.ReplaceAll(c[1], "\\\n", " ")
		res, err := exec.Command("bash", "-c", line+" -w '\n%{http_code}'").Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		lines := strings.Split(strings.TrimSpace(string(res)), "\n")
		if code := lines[len(lines)-1]; code != "200" && code != "201" {
			t.Errorf("%s answered %s: %s", line, code, res)
		}
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDemoExportsMetrics checks the metric families operators alert on, after one SCIM request.
func TestDemoExportsMetrics(t *testing.T) {
	d, err := StartDemo(context.Background(), DemoOptions{Token: "metrics-token-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	req, _ := http.NewRequest(http.MethodGet, d.BaseURL+"/Users?count=1", nil)
	req.Header.Set("Authorization", "Bearer "+d.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(d.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, family := range []string{
		`scim_bridge_scim_requests_total{method="GET",resource="Users",status="200"}`,
		"scim_bridge_scim_request_duration_seconds_bucket",
		`scim_bridge_salesforce_requests_total{operation="composite"`,
		"scim_bridge_salesforce_request_duration_seconds_bucket",
		`scim_bridge_salesforce_api_usage{kind="used"}`,
		`scim_bridge_salesforce_api_usage{kind="max"} 15000`,
		`scim_bridge_salesforce_token_refreshes_total{result="ok"}`,
		`scim_bridge_skipped_actions_total{setting="dry_run"} 0`,
		"go_goroutines",
	} {
		if !strings.Contains(string(b), family) {
			t.Errorf("/metrics lacks %s", family)
		}
	}
}

func TestCheckExplainsAnUnreachableURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	var out bytes.Buffer
	err := Run(context.Background(), []string{"check", "--config", checkConfig(t, url, "s", "5Aep-x", "Standard User")}, nil, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "could not be reached") || !strings.Contains(out.String(), "salesforce.url") {
		t.Errorf("check against an unreachable URL = %v:\n%s", err, out.String())
	}
	// The step reads as a sentence, not as an error kind followed by the message.
	if strings.Contains(out.String(), "token obtained: unavailable:") {
		t.Errorf("check names the error kind before the cause:\n%s", out.String())
	}
}

// TestDemoAppliesTheEnvironment: serve --demo honours SCIM_BRIDGE_* like serve does (a container
// sets SCIM_BRIDGE_LISTEN=0.0.0.0:8080), and reads the token from SCIM_BRIDGE_TOKEN_FILE.
func TestDemoAppliesTheEnvironment(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := []string{
		"SCIM_BRIDGE_LISTEN=" + addr,
		"SCIM_BRIDGE_PROVISIONING_CREATE_USERS=false",
		"SCIM_BRIDGE_TOKEN_FILE=" + writeFile(t, "token", "file-token-0123456789\n"),
	}
	d, err := startDemo(context.Background(), DemoOptions{Env: env}, "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.URL != "http://"+addr || d.Token != "file-token-0123456789" {
		t.Errorf("demo at %s with token %q; want %s and the token file's", d.URL, d.Token, addr)
	}
	if code, _ := postUser(t, d, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","name":{"familyName":"Lovelace"}}`); code != http.StatusForbidden {
		t.Errorf("POST /Users with SCIM_BRIDGE_PROVISIONING_CREATE_USERS=false = %d; want 403", code)
	}
}

func TestDemoRejectsAMisspeltVariable(t *testing.T) {
	var errOut bytes.Buffer
	err := Run(context.Background(), []string{"serve", "--demo", "--listen", "127.0.0.1:0"}, []string{"SCIM_BRIDGE_PROVISIONING_DRYRUN=true"}, io.Discard, &errOut)
	if err == nil || !strings.Contains(errOut.String(), "SCIM_BRIDGE_PROVISIONING_DRYRUN") {
		t.Errorf("serve --demo with a misspelt variable = %v:\n%s", err, errOut.String())
	}
}

func TestFlagsHelpAndStrayArguments(t *testing.T) {
	var errOut bytes.Buffer
	if err := Run(context.Background(), []string{"check", "-h"}, nil, io.Discard, &errOut); err != nil {
		t.Errorf("check -h = %v; want success", err)
	}
	if !strings.Contains(errOut.String(), "-config") {
		t.Errorf("check -h printed %q", errOut.String())
	}
	errOut.Reset()
	if err := Run(context.Background(), []string{"serve", "--print-config", "bridge.yaml"}, nil, io.Discard, &errOut); err == nil || !strings.Contains(errOut.String(), `unexpected argument "bridge.yaml"`) {
		t.Errorf("serve with a stray argument = %v:\n%s", err, errOut.String())
	}
}
