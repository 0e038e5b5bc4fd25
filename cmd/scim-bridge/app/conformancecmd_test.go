package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConformanceCommandPassesTheBridge runs `scim-bridge conformance` against the bridge in its
// default configuration (merge mode, group deletion off), accepting the deviations that
// configuration documents.
func TestConformanceCommandPassesTheBridge(t *testing.T) {
	demo, err := StartDemo(t.Context(), DemoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = demo.Close() })
	jsonFile := filepath.Join(t.TempDir(), "report.json")

	var out, errOut bytes.Buffer
	err = Run(context.Background(), []string{"conformance", "--url", demo.BaseURL, "--json", jsonFile, "--idp",
		"--deviations", "delete-deactivates,membership-merge,group-delete-forbidden"},
		[]string{"SCIM_TEST_TOKEN=" + demo.Token}, &out, &errOut)
	if err != nil {
		t.Fatalf("conformance: %v\nstderr: %s\nstdout:\n%s", err, errOut.String(), out.String())
	}
	summary := regexp.MustCompile(`\nRFC: [1-9][0-9]* passed, 0 failed, [0-9]+ skipped\nIdP compatibility: [1-9][0-9]* passed, 0 failed, 0 skipped\n$`)
	if !summary.MatchString(out.String()) {
		t.Errorf("stdout does not end with the two summary lines:\n%s", out.String())
	}
	for _, want := range []string{"by deviation membership-merge", "[idp-specific]", "[standard]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		RFC     struct{ Passed, Failed int }
		Results []struct{ Check string }
	}
	if err := json.Unmarshal(data, &rep); err != nil || rep.RFC.Passed == 0 || len(rep.Results) == 0 {
		t.Errorf("JSON report %v: %+v", err, rep.RFC)
	}
}

func TestConformanceCommandSetupErrors(t *testing.T) {
	demo, err := StartDemo(t.Context(), DemoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = demo.Close() })
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"wrong token", []string{"--url", demo.BaseURL, "--token", "not-the-token"}, "conformance: the token was rejected"},
		{"not the SCIM base", []string{"--url", demo.URL, "--token", demo.Token}, "conformance: no SCIM service at this URL"},
		{"no url", []string{"--token", demo.Token}, "conformance: --url is required"},
		{"unknown deviation", []string{"--url", demo.BaseURL, "--token", demo.Token, "--deviations", "nonsense"}, "conformance: --deviations: unknown deviation nonsense"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := Run(context.Background(), append([]string{"conformance"}, tt.args...), nil, &out, &errOut)
		if !errors.Is(err, ErrReported) {
			t.Errorf("%s: error %v; want ErrReported (exit 1)", tt.name, err)
		}
		if !strings.HasPrefix(errOut.String(), tt.want) {
			t.Errorf("%s: stderr %q; want it to start %q", tt.name, errOut.String(), tt.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: a report was printed:\n%s", tt.name, out.String())
		}
	}
}
