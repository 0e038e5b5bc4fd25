package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// The test binary doubles as scim-bridge: with this variable set it runs main, so that real
// signals reach the real wiring.
const runMain = "RUN_SCIM_BRIDGE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// process is the scim-bridge binary running as a child, its stdout read line by line.
type process struct {
	cmd   *exec.Cmd
	lines chan string
}

func start(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMain+"=1", "SCIM_BRIDGE_SHUTDOWN_DELAY=100ms")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

// waitLine waits for a stdout line containing s.
func (p *process) waitLine(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("scim-bridge ended before logging %q", s)
			}
			if strings.Contains(l, s) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line with %q within 10s", s)
		}
	}
}

// TestSignals: SIGHUP reloads and the process keeps serving; SIGTERM ends it cleanly after
// shutdown_delay.
func TestSignals(t *testing.T) {
	emu, err := emulator.New(emulator.Config{ClientID: "main-client", ClientSecret: "main-secret", RefreshToken: "5Aep-main"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	cfg := filepath.Join(t.TempDir(), "bridge.yaml")
	yaml := fmt.Sprintf(`auth: {tokens: [{name: t, token: "0123456789abcdef0123"}]}
salesforce: {url: %s, client_id: main-client, client_secret: main-secret, refresh_token: 5Aep-main}
`, srv.URL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	p := start(t, "serve", "--config", cfg, "--listen", addr)
	p.waitLine(t, "access token obtained: ready")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, "reloaded on SIGHUP")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, "not ready from now on")
	for range p.lines { // drain until the process closes stdout
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("scim-bridge after SIGTERM: %v; want exit status 0", err)
	}
}
