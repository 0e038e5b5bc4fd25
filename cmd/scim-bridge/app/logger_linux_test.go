//go:build linux

package app

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openTerminal opens a pseudo-terminal pair: what the program writes to tty, the test reads from
// pty.
func openTerminal(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { pty.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, pty.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatal(e)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return pty, tty
}

// TestLogFormatOnATerminal: unset, a terminal gets the console format; SCIM_BRIDGE_LOG_FORMAT=json
// keeps JSON on a terminal (docker run -t feeding a log pipeline).
func TestLogFormatOnATerminal(t *testing.T) {
	for _, tt := range []struct {
		format   string
		wantJSON bool
	}{
		{"", false},
		{"json", true},
	} {
		pty, tty := openTerminal(t)
		env := map[string]string{}
		if tt.format != "" {
			env[envLogFormat] = tt.format
		}
		logger := newLogger(tty, env)
		logger.Info().Msg("scim-bridge serving")
		_ = pty.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := pty.Read(buf)
		if err != nil {
			t.Fatalf("reading the terminal: %v", err)
		}
		out := string(buf[:n])
		if isJSON := strings.HasPrefix(strings.TrimSpace(out), "{"); isJSON != tt.wantJSON || !strings.Contains(out, "scim-bridge serving") {
			t.Errorf("SCIM_BRIDGE_LOG_FORMAT=%q on a terminal wrote %q; want JSON %v", tt.format, out, tt.wantJSON)
		}
	}
}
