package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app"
)

// The release script and the Dockerfile stamp this variable with -ldflags -X; renaming it must
// fail here.
var _ = app.Version

// TestReleaseScript runs .ci/release with a stand-in `go` that records how it was called: every
// default target is built static and trimmed, with the version stamped into the variable the binary
// prints, and SHA256SUMS matches what was built. (Cross-compiling for real takes minutes.)
func TestReleaseScript(t *testing.T) {
	bin := t.TempDir()
	fakeGo := `#!/usr/bin/env bash
# Records the environment and arguments of "go build" into the -o file.
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
printf 'CGO_ENABLED=%s GOOS=%s GOARCH=%s\n%s\n' "$CGO_ENABLED" "$GOOS" "$GOARCH" "$*" > "$out"
`
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../../.ci/release", "v1.2.3")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "OUT="+out, "TARGETS=")
	cmd.Env = slices.DeleteFunc(cmd.Env, func(s string) bool { return strings.HasPrefix(s, "TARGETS=") })
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf(".ci/release: %v\n%s", err, b)
	}

	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var built []string
	for _, target := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"} {
		goos, goarch, _ := strings.Cut(target, "/")
		name := fmt.Sprintf("scim-bridge_v1.2.3_%s_%s", goos, goarch)
		built = append(built, name)
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Errorf("%s was not built: %v", name, err)
			continue
		}
		rec := string(b)
		for _, want := range []string{
			"CGO_ENABLED=0 GOOS=" + goos + " GOARCH=" + goarch,
			"build -trimpath",
			"-X github.com/scim-bridge/scim-bridge/cmd/scim-bridge/app.Version=v1.2.3",
			"./cmd/scim-bridge",
		} {
			if !strings.Contains(rec, want) {
				t.Errorf("%s was built without %q:\n%s", name, want, rec)
			}
		}
		if line := fmt.Sprintf("%x  %s\n", sha256.Sum256(b), name); !strings.Contains(string(sums), line) {
			t.Errorf("SHA256SUMS lacks %q:\n%s", line, sums)
		}
	}
	if n := strings.Count(string(sums), "\n"); n != len(built) {
		t.Errorf("SHA256SUMS has %d lines; want %d", n, len(built))
	}

	bad := exec.Command("bash", "../../.ci/release", "v1; rm -rf /")
	bad.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "OUT="+t.TempDir())
	if b, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(b), "may only hold") {
		t.Errorf(".ci/release with a version holding shell syntax = %v %s; want refused", err, b)
	}
}
