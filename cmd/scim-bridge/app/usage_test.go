package app

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// The usage text names every flag of every command: a flag that only `COMMAND --help` shows is
// one nobody finds.
func TestUsageNamesEveryFlag(t *testing.T) {
	t.Parallel()
	flagLine := regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`)
	for _, cmd := range []string{"serve", "check", "emulator", "status", "explain", "conformance", "healthcheck"} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), []string{cmd, "--help"}, nil, &stdout, &stderr); err != nil {
			t.Fatalf("%s --help: %v", cmd, err)
		}
		synopsis := commandUsage(usage, cmd)
		if synopsis == "" {
			t.Errorf("usage has no line for %s:\n%s", cmd, usage)
			continue
		}
		for _, m := range flagLine.FindAllStringSubmatch(stderr.String(), -1) {
			if !strings.Contains(synopsis, "--"+m[1]) {
				t.Errorf("usage of %s lacks --%s:\n%s", cmd, m[1], synopsis)
			}
		}
	}
}

// commandUsage is the part of the usage text about one command (its line and continuation lines).
func commandUsage(text, cmd string) string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "  scim-bridge ") {
			in = strings.HasPrefix(line, "  scim-bridge "+cmd+" ")
		} else if !strings.HasPrefix(line, "    ") {
			in = false
		}
		if in {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
