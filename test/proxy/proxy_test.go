// Package proxy tests scim-bridge deployed as an operator would: two replicas of the real binary's
// code path (config file, environment, serve) behind a real nginx, serving one Salesforce org.
package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app"
	"github.com/scim-bridge/scim-bridge/test/harness"
)

const token = "proxy-test-token-0123456789abcdef"

// nginxPath finds nginx; .ci/run installs it from Debian's packages when it is missing. Without
// nginx the test is skipped with a message, so that `go test ./...` runs on any machine with Go;
// under CI (CI set) a missing nginx fails instead, so that CI cannot go green by skipping.
func nginxPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	const msg = "nginx is not installed: run `bash .ci/run`, or install nginx (Debian: apt-get install nginx-light)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this test may not be skipped)")
	}
	t.Skip(msg)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not become healthy", url)
}

// stack is nginx in front of two replicas in front of one emulator.
type stack struct {
	url      string // nginx root
	scim     *harness.Client
	replicas []string
}

func startStack(t *testing.T, bridgeYAML func(nginxPort int) string) *stack {
	t.Helper()
	nginxPath(t) // skip before starting anything when nginx is absent
	np := freePort(t)
	st := &stack{url: fmt.Sprintf("http://127.0.0.1:%d", np), replicas: startReplicas(t, bridgeYAML(np))}
	st.scim = &harness.Client{BaseURL: st.url + "/scim/v2", Token: token}
	var upstream strings.Builder
	for _, r := range st.replicas {
		fmt.Fprintf(&upstream, "    server %s;\n", strings.TrimPrefix(r, "http://"))
	}
	startNginx(t, fmt.Sprintf(`
  upstream scim_bridge {
%[1]s  }
  server {
    listen 127.0.0.1:%[2]d;
    location / {
      proxy_pass http://scim_bridge;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host scim.example.test;
      proxy_set_header X-Request-Id $request_id;
    }
  }
`, upstream.String(), np), st.url+"/healthz")
	return st
}

// startReplicas runs two bridges (Run "serve", as the binary does) on one emulated org and returns
// their root URLs.
func startReplicas(t *testing.T, extraYAML string) []string {
	t.Helper()
	emu := harness.StartEmulator(t, harness.EmulatorOptions{ClientID: "proxy-client", ClientSecret: "proxy-secret", RefreshToken: "5Aep-proxy-refresh"})

	cfgFile := filepath.Join(t.TempDir(), "bridge.yaml")
	yaml := fmt.Sprintf("salesforce:\n  url: %s\n  client_id: proxy-client\n", emu.URL) + extraYAML
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"SCIM_BRIDGE_TOKEN=" + token,
		"SCIM_BRIDGE_SALESFORCE_CLIENT_SECRET=proxy-secret",
		"SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN=5Aep-proxy-refresh",
		"SCIM_BRIDGE_SHUTDOWN_DELAY=0s", // no load balancer to wait for when a test ends
	}
	ctx, cancel := context.WithCancel(context.Background())
	var replicas []string
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		replicas = append(replicas, "http://"+addr)
		go func() {
			done <- app.Run(ctx, []string{"serve", "--config", cfgFile, "--listen", addr}, env, io.Discard, io.Discard)
		}()
	}
	t.Cleanup(func() {
		cancel()
		for i := 0; i < 2; i++ {
			if err := <-done; err != nil {
				t.Errorf("replica stopped with %v", err)
			}
		}
	})
	for _, r := range replicas {
		waitHealthy(t, r+"/healthz")
	}
	return replicas
}

// writeNginxConf writes dir/nginx.conf for an nginx running in the foreground with dir as its
// prefix (pid, error log and temporary files stay in dir), workers worker processes and httpBlock
// inside its http { } context, and returns the file's path.
func writeNginxConf(t *testing.T, dir string, workers int, httpBlock string) string {
	t.Helper()
	conf := fmt.Sprintf(`worker_processes %[2]d;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  # Keep bodies in memory: the workers may not write to this temporary directory.
  client_body_buffer_size 8m;
%[3]s
}
`, dir, workers, httpBlock)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return confFile
}

// startNginx runs nginx in the foreground with httpBlock inside its http { } context, until the
// test ends, and waits for healthURL.
func startNginx(t *testing.T, httpBlock, healthURL string) {
	t.Helper()
	nginx := nginxPath(t)
	dir := t.TempDir()
	confFile := writeNginxConf(t, dir, 1, httpBlock)
	proc, err := startProcessGroup(exec.Command(nginx, "-p", dir, "-c", confFile))
	if err != nil {
		t.Fatalf("starting nginx: %v", err)
	}
	t.Cleanup(func() {
		if err := proc.stop(syscall.SIGQUIT, 10*time.Second); err != nil {
			t.Errorf("stopping nginx: %v", err)
		}
	})
	exited := proc.exited
	stderr := &proc.stderr
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %s%s", stderr.String(), errLog)
		default:
		}
		if resp, err := client.Get(healthURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy through nginx", healthURL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends one SCIM request through nginx; path is under /scim/v2. The answer must be empty or a
// JSON object.
func (st *stack) do(t *testing.T, method, path string, body any) (harness.Response, map[string]any) {
	t.Helper()
	resp := st.scim.Do(t, method, path, body)
	if resp.DecodeErr != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, resp.Raw)
	}
	return resp, resp.Doc
}

func newUser(userName string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"name":     map[string]any{"givenName": "Grace", "familyName": "Hopper"},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
	}
}

// requestsServed reads a replica's SCIM request counter for one resource from /metrics.
func requestsServed(t *testing.T, replica, resource string) int {
	t.Helper()
	resp, err := http.Get(replica + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^scim_bridge_scim_requests_total\{[^}]*resource="` + resource + `"[^}]*\} (\d+)`)
	total := 0
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	return total
}

func TestPublicURLBehindNginxWithTwoReplicas(t *testing.T) {
	st := startStack(t, func(int) string { return "public_url: https://scim.example.com\n" })

	resp, body := st.do(t, http.MethodPost, "/Users", newUser("grace@example.com"))
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /Users through nginx = %d %v; want 201", resp.Status, body)
	}
	id, _ := body["id"].(string)
	want := "https://scim.example.com/scim/v2/Users/" + id
	if got := resp.Header.Get("Location"); got != want {
		t.Errorf("Location = %q; want %q", got, want)
	}
	if meta, _ := body["meta"].(map[string]any); meta["location"] != want {
		t.Errorf("meta.location = %v; want %q", meta["location"], want)
	}

	// nginx balances round-robin: every replica reads the user the other one created.
	for i := 0; i < 6; i++ {
		resp, got := st.do(t, http.MethodGet, "/Users/"+id, nil)
		if resp.Status != http.StatusOK || got["userName"] != "grace@example.com" {
			t.Fatalf("GET %d through nginx = %d %v", i, resp.Status, got)
		}
	}
	for _, r := range st.replicas {
		if n := requestsServed(t, r, "Users"); n == 0 {
			t.Errorf("replica %s served no /Users request; want both replicas in use", r)
		}
	}
}

func TestForwardedHeadersBehindNginx(t *testing.T) {
	st := startStack(t, func(int) string { return "trust_proxy_headers: true\n" })

	resp, body := st.do(t, http.MethodPost, "/Users", newUser("ada@example.com"))
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /Users through nginx = %d %v; want 201", resp.Status, body)
	}
	id, _ := body["id"].(string)
	want := "https://scim.example.test/scim/v2/Users/" + id
	if got := resp.Header.Get("Location"); got != want {
		t.Errorf("Location = %q; want %q (from X-Forwarded-Proto/Host)", got, want)
	}
	resp, got := st.do(t, http.MethodGet, "/Users?filter="+strings.ReplaceAll(`userName eq "ada@example.com"`, " ", "%20"), nil)
	if resp.Status != http.StatusOK || got["totalResults"] != float64(1) {
		t.Fatalf("filter through nginx = %d %v; want one result", resp.Status, got)
	}
}
