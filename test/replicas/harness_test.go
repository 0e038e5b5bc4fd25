// Package replicas runs several bridge processes against one Salesforce emulator, the way an
// operator runs replicas behind a load balancer, and checks that they agree: on a rotating refresh
// token shared through token_file, on permission-set memberships replaced concurrently, and on the
// mass-deprovision brake counted in Salesforce. Each replica is this test binary re-executed as
// "scim-bridge serve" (see TestMain), so replicas share nothing but the emulator and the files the
// configuration names.
package replicas

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app"
	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/test/harness"
)

// replicaArgsEnv, when set, makes the test binary run "scim-bridge" with these arguments (a JSON
// array) instead of the tests. The name avoids the SCIM_BRIDGE_ prefix, which the bridge reads as
// configuration.
const replicaArgsEnv = "REPLICAS_TEST_BRIDGE_ARGS"

func TestMain(m *testing.M) {
	if raw := os.Getenv(replicaArgsEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := app.Run(ctx, args, nil, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	clientID     = "replicas-client"
	clientSecret = "replicas-secret-0123456789"
	refreshToken = "5Aep-replicas-refresh"
	bearer       = "replicas-bearer-0123456789abcdef"
)

// fleet is one emulator and the bridge processes in front of it.
type fleet struct {
	emu      *harness.Emulator
	dir      string // holds the config and the shared token_file
	replicas []*replica
}

// replica is one running bridge process.
type replica struct {
	name string
	url  string // http://127.0.0.1:port
	scim *harness.Client
	cmd  *exec.Cmd
	logs *harness.Logs
}

// startFleet starts an emulator (configured by emu) and n bridge processes sharing one config file
// whose salesforce and auth sections it writes; extraYAML adds further top-level sections.
func startFleet(t *testing.T, n int, emu func(*emulator.Config), extraYAML string) *fleet {
	t.Helper()
	return startFleetWith(t, n, emu, extraYAML, nil)
}

// startFleetWith is startFleet with the emulator's handler wrapped by wrap (nil: as it is), for
// faults the test decides per request.
func startFleetWith(t *testing.T, n int, emu func(*emulator.Config), extraYAML string, wrap func(*emulator.Emulator, http.Handler) http.Handler) *fleet {
	t.Helper()
	e := harness.StartEmulator(t, harness.EmulatorOptions{
		ClientID: clientID, ClientSecret: clientSecret, RefreshToken: refreshToken,
		Seats: 2000, APILimit: 1_000_000, Emulator: emu, Wrap: wrap,
	})
	f := &fleet{emu: e, dir: t.TempDir()}
	config := filepath.Join(f.dir, "bridge.yaml")
	yaml := fmt.Sprintf(`auth:
  tokens: [{name: idp, token: %q}]
salesforce:
  url: %s
  client_id: %s
  client_secret: %s
  refresh_token: %s
  token_file: %s
`, bearer, e.URL, clientID, clientSecret, refreshToken, filepath.Join(f.dir, "sf-refresh-token")) + extraYAML
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	f.replicas = make([]*replica, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			r, err := startReplica(t, fmt.Sprintf("replica-%d", i+1), config)
			f.replicas[i] = r
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// startReplica runs one bridge process on a free loopback port and waits until it serves. It is
// stopped with SIGTERM when the test ends; its log is shown when the test failed.
func startReplica(t *testing.T, name, config string) (*replica, error) {
	args, _ := json.Marshal([]string{"serve", "--config", config, "--listen", "127.0.0.1:0"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), replicaArgsEnv+"="+string(args))
	setParentDeathSignal(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	r := &replica{name: name, cmd: cmd, logs: &harness.Logs{}}
	cmd.Stderr = r.logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			r.logs.Write(append(line, '\n'))
			var l struct{ Message, Listen string }
			if json.Unmarshal(line, &l) == nil && l.Message == "scim-bridge serving" {
				addr <- l.Listen
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop within 30s of SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, tail(r.logs.String(), 40))
		}
	})
	select {
	case a := <-addr:
		r.url = "http://" + a
		r.scim = &harness.Client{BaseURL: r.url + "/scim/v2", Token: bearer, HTTP: client}
		return r, nil
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("%s did not start serving within 60s:\n%s", name, tail(r.logs.String(), 40))
	}
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

var client = &http.Client{Timeout: 60 * time.Second}

// do sends one SCIM request with the bearer token; path is relative to /scim/v2. A request that
// gets no answer is an error of the test and answers status 0 (callers may run in goroutines).
func (r *replica) do(t testing.TB, method, path string, body any) harness.Response {
	t.Helper()
	a, err := r.scim.Send(harness.Request{Method: method, Path: path, Body: harness.Body(t, body)})
	if err != nil {
		t.Errorf("%s: %s %s: %v", r.name, method, path, err)
		return harness.Response{}
	}
	return a
}

// createUser creates a user through r and returns its id.
func (r *replica) createUser(t testing.TB, userName string) string {
	t.Helper()
	a := r.do(t, "POST", "/Users", map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"name":     map[string]any{"givenName": "Rep", "familyName": "Lica"},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	})
	id, _ := a.Doc["id"].(string)
	if a.Status != http.StatusCreated || id == "" {
		t.Fatalf("%s: POST /Users %s = %d %s", r.name, userName, a.Status, a.Raw)
	}
	return id
}

// groupID finds a group by displayName through r, as an IdP does; the test fails unless exactly
// one matches.
func (r *replica) groupID(t testing.TB, displayName string) string {
	t.Helper()
	list := r.do(t, "GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(fmt.Sprintf("displayName eq %q", displayName)), nil)
	resources, _ := list.Doc["Resources"].([]any)
	if len(resources) != 1 {
		t.Fatalf("GET /Groups?filter = %d %s; want the %s group", list.Status, list.Raw, displayName)
	}
	return resources[0].(map[string]any)["id"].(string)
}

// metric returns the value of an unlabelled metric on r's /metrics, -1 when absent.
func (r *replica) metric(t testing.TB, name string) float64 {
	t.Helper()
	if v, ok := harness.Metric(t, r.url, name); ok {
		return v
	}
	return -1
}

func patchOp(op, path string, value any) map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": op, "path": path, "value": value}},
	}
}
