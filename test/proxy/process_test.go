package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// groupProcess is a child started in its own process group, so that stopping it also reaches the
// processes it forks (nginx's workers) and none outlives the test.
type groupProcess struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan struct{}

	stopOnce sync.Once
	stopErr  error
}

func startProcessGroup(cmd *exec.Cmd) (*groupProcess, error) {
	p := &groupProcess{cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = &p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// stop sends sig (nginx: SIGQUIT, a graceful stop) to the whole group and waits up to grace for the
// leader to exit, then kills what is left of the group. It reports an error when the leader needed
// killing or when a process of the group survives. Only the first call acts; later calls return its
// result, so a cleanup may call stop again without signalling a process group whose id the system
// may since have given to someone else.
func (p *groupProcess) stop(sig syscall.Signal, grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.stopGroup(sig, grace) })
	return p.stopErr
}

func (p *groupProcess) stopGroup(sig syscall.Signal, grace time.Duration) error {
	pgid := p.cmd.Process.Pid // the leader's pid is the group id (Setpgid)
	var errs []error
	_ = syscall.Kill(-pgid, sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		errs = append(errs, fmt.Errorf("%s did not exit within %s of %v; killed", p.cmd.Path, grace, sig))
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // workers that outlived their master
	<-p.exited
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("process group %d still has processes after SIGKILL", pgid))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.Join(errs...)
}

// TestNginxStopsWithoutSurvivors starts nginx as the tests do and checks that stopping it leaves no
// process of its group behind (a leftover worker would hold its port and outlive go test).
func TestNginxStopsWithoutSurvivors(t *testing.T) {
	nginx := nginxPath(t)
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("counting a process group's members needs Linux's /proc")
	}
	dir := t.TempDir()
	confFile := writeNginxConf(t, dir, 2, fmt.Sprintf("  server { listen 127.0.0.1:%d; return 200; }", freePort(t)))
	p, err := startProcessGroup(exec.Command(nginx, "-p", dir, "-c", confFile))
	if err != nil {
		t.Fatal(err)
	}
	// If the test fails before its own stop, nginx and its workers must not outlive it; after that
	// stop this is a no-op (stop runs once).
	t.Cleanup(func() { _ = p.stop(syscall.SIGKILL, time.Second) })
	// Wait until the master has forked its workers: the group then has more than one member.
	deadline := time.Now().Add(10 * time.Second)
	for groupSize(p.cmd.Process.Pid) < 2 {
		select {
		case <-p.exited:
			t.Fatalf("nginx exited: %s", p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx started no worker within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.stop(syscall.SIGQUIT, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := groupSize(p.cmd.Process.Pid); n != 0 {
		t.Fatalf("%d processes of nginx's group survive its stop; want none", n)
	}
}

// groupSize counts the live processes whose process group is pgid, from /proc (Linux).
func groupSize(pgid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process ended meanwhile
		}
		// pid (comm) state ppid pgrp …; comm may contain spaces, so split after its ')'.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) < 3 || fields[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(fields[2]); g == pgid {
			n++
		}
	}
	return n
}
