// Command sync measures what an identity provider's initial sync costs the Salesforce org and the
// bridge: Salesforce API calls per user, wall time, request latency (p50/p99), the bridge's CPU
// per request and its resident memory. Everything runs on loopback: the Salesforce emulator and
// the load generator in this process, the bridge (and, for comparison, a bare in-memory server on
// the same SCIM library) in child processes of this binary, so their CPU and memory are their own.
//
//	go run ./test/bench/sync [-users 400] [-concurrency 8] [-latency 150ms] [-list-users 20000] …
//
// Results and the exact command are recorded in docs/BENCHMARKS.md. Nothing here runs in CI.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app"
)

// roleEnv selects what a child process of this binary runs.
const roleEnv = "BENCH_SYNC_ROLE"

func main() {
	var err error
	switch os.Getenv(roleEnv) {
	case "bridge":
		err = runBridgeChild()
	case "bare":
		err = runBareChild()
	default:
		err = runBench(os.Args[1:], os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sync:", err)
		os.Exit(1)
	}
}

// runBridgeChild is the bridge's process: scim-bridge serve with the config file it is given.
func runBridgeChild() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if file := os.Getenv("BENCH_SYNC_CPUPROFILE"); file != "" {
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return app.Run(ctx, []string{"serve", "--config", os.Getenv("BENCH_SYNC_CONFIG")}, os.Environ(), io.Discard, os.Stderr)
}

// child is a server running in a child process of this binary.
type child struct {
	cmd  *exec.Cmd
	base string // the SCIM base URL
}

// startChild starts this binary in a role, listening on a free loopback port, and waits until
// it answers.
func startChild(role string, env ...string) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), roleEnv+"="+role, "BENCH_SYNC_LISTEN="+port, "SCIM_BRIDGE_LISTEN="+port)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, base: "http://" + port + "/scim/v2"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + port + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("%s did not start on %s", role, port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// cpu is the child's user+system CPU time so far.
func (c *child) cpu() time.Duration {
	raw, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(c.cmd.Process.Pid), "stat"))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are fields 14 and 15.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var utime, stime int64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// memory is the child's resident set now and its peak so far, in MiB.
func (c *child) memory() (rss, peak float64) {
	raw, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(c.cmd.Process.Pid), "status"))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		var kb float64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			fmt.Sscan(strings.TrimPrefix(line, "VmRSS:"), &kb)
			rss = kb / 1024
		case strings.HasPrefix(line, "VmHWM:"):
			fmt.Sscan(strings.TrimPrefix(line, "VmHWM:"), &kb)
			peak = kb / 1024
		}
	}
	return rss, peak
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var errUsage = errors.New("usage")
