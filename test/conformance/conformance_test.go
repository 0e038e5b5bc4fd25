package conformance_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/conformance"
	"github.com/scim-bridge/scim-bridge/test/harness"
)

var (
	jsonReport = flag.String("conformance.json", "", "write the JSON compliance report to `FILE`")
	textReport = flag.String("conformance.report", "", "also write the text compliance report to `FILE`")
)

// bridgeConfig makes the in-process bridge as RFC-conformant as its configuration allows:
// overwrite membership semantics and group deletion on. What remains is the documented deviation
// bridgeDeviations (Salesforce cannot delete users).
const bridgeConfig = `
provisioning:
  permission_sets: overwrite
groups:
  allow_create: true
  allow_delete: true
`

var bridgeDeviations = []conformance.Deviation{conformance.DeleteDeactivates}

// report is TestConformance's report; TestMain prints it after every test of the package has run,
// so its summary lines are the last lines of `go test -v` output rather than buried in the middle.
var report *conformance.Report

func TestMain(m *testing.M) {
	code := m.Run()
	if report != nil {
		if err := report.WriteText(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "text report:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// TestConformance runs the suite against SCIM_TEST_URL with SCIM_TEST_TOKEN when set, else against
// the bridge and its Salesforce emulator started in process. SCIM_TEST_DEVIATIONS (a comma list)
// names the deviations to accept; in process it defaults to the bridge's documented ones.
// SCIM_TEST_IDP=1 makes failed IdP-compatibility steps fail the test too.
func TestConformance(t *testing.T) {
	deviations, err := conformance.ParseDeviations(os.Getenv("SCIM_TEST_DEVIATIONS"))
	if err != nil {
		t.Fatalf("SCIM_TEST_DEVIATIONS: %v", err)
	}
	idp := false
	if v := os.Getenv("SCIM_TEST_IDP"); v != "" {
		if idp, err = strconv.ParseBool(v); err != nil {
			t.Fatalf("SCIM_TEST_IDP=%q: want true or false", v)
		}
	}
	target := conformance.Target{
		BaseURL:    os.Getenv("SCIM_TEST_URL"),
		Token:      os.Getenv("SCIM_TEST_TOKEN"),
		Deviations: deviations,
		IdP:        idp,
	}
	inProcess := target.BaseURL == ""
	if inProcess {
		demo := harness.Start(t, harness.Options{Config: bridgeConfig})
		target.BaseURL, target.Token = demo.BaseURL, demo.Token
		if _, set := os.LookupEnv("SCIM_TEST_DEVIATIONS"); !set {
			target.Deviations = bridgeDeviations
		}
	} else if target.Token == "" {
		t.Fatalf("SCIM_TEST_URL is set but SCIM_TEST_TOKEN is empty")
	}

	rep := conformance.Run(t, target)
	report = &rep
	// The bridge exists for these identity providers: in process, every replay step must pass.
	if inProcess && !rep.OK(true) {
		t.Errorf("the bridge fails IdP-compatibility steps: %s", rep.SummaryLines()[1])
	}
	writeFile(t, *textReport, rep.WriteText)
	writeFile(t, *jsonReport, rep.WriteJSON)
}

func writeFile(t *testing.T, name string, write func(io.Writer) error) {
	t.Helper()
	if name == "" {
		return
	}
	f, err := os.Create(name)
	if err != nil {
		t.Errorf("report: %v", err)
		return
	}
	if err := write(f); err != nil {
		t.Errorf("report %s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("report %s: %v", name, err)
	}
}
