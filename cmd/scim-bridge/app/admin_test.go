package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/server/status"
)

// startAdminDemo runs the demo with the admin listener on a free port.
func startAdminDemo(t *testing.T, configYAML string) *Demo {
	t.Helper()
	d, err := StartDemo(context.Background(), DemoOptions{Token: "admin-token-0123456789abcdef", DefaultAdminListen: "127.0.0.1:0", ConfigYAML: configYAML})
	if err != nil {
		t.Fatalf("StartDemo: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if d.AdminURL == "" {
		t.Fatal("the demo has no admin listener")
	}
	return d
}

// The demo's default status-page port may be taken (9090 is Prometheus's too, or another demo
// runs): the demo then takes a free port instead of refusing to start. An admin_listen the user
// set is not moved.
func TestDemoStatusPageMovesOffABusyDefaultPort(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	d, err := StartDemo(context.Background(), DemoOptions{Token: "admin-token-0123456789abcdef", DefaultAdminListen: busy.Addr().String()})
	if err != nil {
		t.Fatalf("StartDemo with its default admin port busy: %v", err)
	}
	defer d.Close()
	if d.AdminURL == "" || d.AdminURL == "http://"+busy.Addr().String() {
		t.Fatalf("AdminURL = %q; want another free port", d.AdminURL)
	}
	if code, _ := adminGet(t, d.AdminURL+"/status.json"); code != http.StatusOK {
		t.Errorf("GET /status.json = %d", code)
	}
	_, err = StartDemo(context.Background(), DemoOptions{Token: "admin-token-0123456789abcdef", DefaultAdminListen: "127.0.0.1:0",
		ConfigYAML: "admin_listen: " + busy.Addr().String() + "\n"})
	if err == nil || !strings.Contains(err.Error(), "admin_listen") {
		t.Errorf("StartDemo with a busy admin_listen the user set = %v; want the admin_listen error", err)
	}
}

// postUser sends body as an authenticated SCIM POST /Users to the demo and returns the status code
// and the decoded answer (nil when it is not JSON).
func postUser(t *testing.T, d *Demo, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.BaseURL+"/Users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	return resp.StatusCode, answer
}

func createUser(t *testing.T, d *Demo, userName string) string {
	t.Helper()
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName + `","name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"` + userName + `","primary":true}]}`
	code, created := postUser(t, d, body)
	if code != http.StatusCreated {
		t.Fatalf("POST /Users = %d", code)
	}
	id, _ := created["id"].(string)
	return id
}

func adminGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The admin listener serves the status page, its JSON, and the bridge's /metrics, /healthz and
// /readyz; no SCIM. The page shows a user created a moment before, the token that did it, the
// Salesforce connection and the policy.
func TestAdminListenerServesTheStatusPage(t *testing.T) {
	t.Parallel()
	d := startAdminDemo(t, "audit: {identify_users: true}\nprovisioning: {disable_action: freeze}\n")
	id := createUser(t, d, "ada.status@example.com")

	code, page := adminGet(t, d.AdminURL+"/status")
	if code != http.StatusOK {
		t.Fatalf("GET /status = %d", code)
	}
	for _, want := range []string{"create_user", id, "ada.status@example.com", "demo", `class="up"`, "freeze", "<svg", "100 per 1h"} {
		if !strings.Contains(page, want) {
			t.Errorf("/status does not show %q", want)
		}
	}

	code, body := adminGet(t, d.AdminURL+"/status.json")
	var s status.Snapshot
	if err := json.Unmarshal([]byte(body), &s); code != http.StatusOK || err != nil {
		t.Fatalf("GET /status.json = %d, %v", code, err)
	}
	if len(s.Events) == 0 || s.Events[0].Operation != "create_user" || s.Events[0].Target != id || s.Events[0].Actor != "demo" {
		t.Errorf("events = %+v; want the create_user of %s by demo first", s.Events, id)
	}
	if !s.Salesforce.Up || !s.Salesforce.APIKnown || s.Salesforce.APIMax == 0 || len(s.Tokens) != 1 || s.Tokens[0].Name != "demo" {
		t.Errorf("snapshot = %+v", s)
	}

	for path, want := range map[string]int{"/metrics": 200, "/healthz": 200, "/readyz": 200, "/scim/v2/Users": 404} {
		if code, _ := adminGet(t, d.AdminURL+path); code != want {
			t.Errorf("admin GET %s = %d; want %d", path, code, want)
		}
	}
}

// A dry run is announced at start and on the page, whose audit shows what would have been done
// and whose counts show the skipped writes.
func TestStatusPageAnnouncesDryRun(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	logger := zerolog.New(logs)
	d, err := StartDemo(context.Background(), DemoOptions{Token: "admin-token-0123456789abcdef", DefaultAdminListen: "127.0.0.1:0",
		ConfigYAML: "provisioning: {dry_run: true}\n", Logger: &logger})
	if err != nil {
		t.Fatalf("StartDemo: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if !strings.Contains(logs.String(), `"dry_run":true`) || !strings.Contains(logs.String(), "dry run: nothing is written to Salesforce") {
		t.Errorf("the start does not announce the dry run:\n%s", logs.String())
	}
	createUser(t, d, "dry.status@example.com")
	_, page := adminGet(t, d.AdminURL+"/status")
	if !strings.Contains(page, "Dry run: nothing is written to Salesforce") || !strings.Contains(page, "(dry run)") {
		t.Errorf("/status does not announce the dry run and its preview:\n%s", page)
	}
	if strings.Contains(page, "dry.status@example.com") {
		t.Error("/status shows a userName without audit.identify_users")
	}
	_, body := adminGet(t, d.AdminURL+"/status.json")
	var s status.Snapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if s.Counts.Skipped["dry_run"] < 1 || !s.Events[0].DryRun || s.Events[0].Target != "" {
		t.Errorf("snapshot counts %v, first event %+v; want a dry_run skip and a dry-run create_user", s.Counts, s.Events[0])
	}
}

// Soft data the bridge defaulted is counted on the page.
func TestStatusPageCountsDefaultedValues(t *testing.T) {
	t.Parallel()
	d := startAdminDemo(t, "")
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"tz.status@example.com","name":{"familyName":"Zone"},"timezone":"Mars/Olympus"}`
	if code, _ := postUser(t, d, body); code != http.StatusCreated {
		t.Fatalf("POST /Users with an unknown time zone = %d; want 201 (soft data is defaulted)", code)
	}
	_, js := adminGet(t, d.AdminURL+"/status.json")
	var s status.Snapshot
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, v := range s.Counts.Defaulted {
		n += v
	}
	if n < 1 {
		t.Errorf("defaulted counts = %v; want the time zone counted", s.Counts.Defaulted)
	}
}

// scim-bridge status prints the page's content from the running bridge named by the config.
func TestStatusCommandReadsTheAdminListener(t *testing.T) {
	t.Parallel()
	d := startAdminDemo(t, "")
	id := createUser(t, d, "cli.status@example.com")
	cfg := filepath.Join(t.TempDir(), "bridge.yaml")
	yaml := "admin_listen: " + strings.TrimPrefix(d.AdminURL, "http://") + "\nsalesforce:\n  url: https://acme.my.salesforce.com\n  client_id: x\n  refresh_token: y\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"status", "--config", cfg}, nil, &out, &errOut); err != nil {
		t.Fatalf("status = %v: %s", err, errOut.String())
	}
	for _, want := range []string{"Salesforce  " + d.EmulatorURL + "  up", "API allowance", "Policy", "demo", "create_user", id} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, out.String())
		}
	}

	// The running bridge's file may have no salesforce section (serve --demo --config FILE):
	// status needs only admin_listen.
	adminOnly := filepath.Join(t.TempDir(), "demo.yaml")
	if err := os.WriteFile(adminOnly, []byte("admin_listen: "+strings.TrimPrefix(d.AdminURL, "http://")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if err := Run(context.Background(), []string{"status", "--config", adminOnly}, nil, &out, &errOut); err != nil || !strings.Contains(out.String(), id) {
		t.Errorf("status with only admin_listen = %v: %s%s", err, errOut.String(), out.String())
	}

	off := filepath.Join(t.TempDir(), "off.yaml")
	if err := os.WriteFile(off, []byte("salesforce:\n  url: https://acme.my.salesforce.com\n  client_id: x\n  refresh_token: y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if err := Run(context.Background(), []string{"status", "--config", off}, nil, io.Discard, &errOut); !errors.Is(err, ErrReported) || !strings.Contains(errOut.String(), "admin_listen") {
		t.Errorf("status without admin_listen = %v: %s", err, errOut.String())
	}
}

// serve with admin_listen starts the admin listener beside the SCIM listener, logs its status URL,
// and announces a dry run at start.
func TestServeStartsTheAdminListener(t *testing.T) {
	t.Parallel()
	emuURL := startEmulator(t)
	s := startServe(t, checkConfig(t, emuURL, "check-secret", "5Aep-check", "Standard User"),
		[]string{"SCIM_BRIDGE_ADMIN_LISTEN=127.0.0.1:0", "SCIM_BRIDGE_PROVISIONING_DRY_RUN=true", "SCIM_BRIDGE_SHUTDOWN_DELAY=0s"})
	statusURL := regexp.MustCompile(`"status":"(http://127\.0\.0\.1:\d+/status)"`)
	waitFor(t, "the admin listener's log line", func() bool { return statusURL.MatchString(s.logs.String()) })
	url := statusURL.FindStringSubmatch(s.logs.String())[1]
	if code, page := adminGet(t, url); code != http.StatusOK || !strings.Contains(page, "Dry run: nothing is written") {
		t.Errorf("GET %s = %d; want the page with the dry-run banner", url, code)
	}
	if !strings.Contains(s.logs.String(), "dry run: nothing is written to Salesforce") {
		t.Errorf("serve does not announce the dry run:\n%s", s.logs.String())
	}
}

// The admin listener's shutdown lines say they are the admin listener's: an operator reading
// "not ready from now on" twice must know which listener each is about.
func TestAdminListenerLinesNameTheListener(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	logger := zerolog.New(&buf)
	d, err := StartDemo(context.Background(), DemoOptions{Token: "admin-token-0123456789abcdef", DefaultAdminListen: "127.0.0.1:0", Logger: &logger})
	if err != nil {
		t.Fatalf("StartDemo: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	admin, scim := 0, 0
	for _, line := range strings.Split(buf.String(), "\n") {
		if !strings.Contains(line, "shutting down: not ready") {
			continue
		}
		if strings.Contains(line, `"listener":"admin"`) {
			admin++
		} else {
			scim++
		}
	}
	if admin != 1 || scim != 1 {
		t.Errorf("shutdown lines: %d of the admin listener, %d of the SCIM listener; want one each, the admin one labelled:\n%s", admin, scim, buf.String())
	}
}

// status and healthcheck say in words why nothing answered, not with Go's `Get "…": dial tcp …`.
func TestNoAnswerIsSaidInWords(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(t.TempDir(), "bridge.yaml")
	if err := os.WriteFile(cfg, []byte("admin_listen: "+closed+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	for _, args := range [][]string{{"status", "--config", cfg}, {"healthcheck", "--url", "http://" + closed + "/healthz"}} {
		if err := Run(context.Background(), args, nil, io.Discard, &errOut); !errors.Is(err, ErrReported) {
			t.Fatalf("%s with nothing listening = %v", args[0], err)
		}
	}
	got := errOut.String()
	if strings.Count(got, "connection refused (nothing listens on that address)") != 2 || strings.Contains(got, "dial tcp") || strings.Contains(got, `Get "`) {
		t.Errorf("stderr:\n%s\nwant 'connection refused (nothing listens on that address)' twice and no Go error text", got)
	}
}

// serve says "scim-bridge serving" only when every listener is bound: with admin_listen busy it
// fails naming admin_listen and never claims to serve.
func TestServeWithABusyAdminListenNeverSaysServing(t *testing.T) {
	t.Parallel()
	emuURL := startEmulator(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var logs, errOut lockedBuffer
	env := []string{"SCIM_BRIDGE_ADMIN_LISTEN=" + busy.Addr().String(), "SCIM_BRIDGE_SHUTDOWN_DELAY=0s"}
	err = Run(context.Background(), []string{"serve", "--config", checkConfig(t, emuURL, "check-secret", "5Aep-check", "Standard User"), "--listen", "127.0.0.1:0"}, env, &logs, &errOut)
	if !errors.Is(err, ErrReported) || !strings.Contains(errOut.String(), "admin_listen: cannot listen on "+busy.Addr().String()) {
		t.Fatalf("serve = %v, stderr %q; want the busy admin_listen named", err, errOut.String())
	}
	if strings.Contains(logs.String(), "scim-bridge serving") {
		t.Errorf("serve said it serves although it could not start:\n%s", logs.String())
	}
}

// The brake's window reads as people write it on the status page.
func TestShortDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{time.Hour: "1h", 30 * time.Minute: "30m", 90 * time.Minute: "1h30m",
		24 * time.Hour: "24h", 45 * time.Second: "45s", 2*time.Minute + 5*time.Second: "2m5s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q; want %q", d, got, want)
		}
	}
}
