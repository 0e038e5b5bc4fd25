package architecture

import (
	"strings"
	"testing"
)

// The module's layout (DESIGN.md "Layout"), relative to its root.
const (
	mappingDir    = "scimschema"
	emulatorDir   = "salesforce/emulator"
	serverDir     = "server"
	salesforceDir = "salesforce"
	testDir       = "test"
)

// goDirs are the top-level directories that hold Go packages (DESIGN.md "Layout (top level is
// fixed)"); a shared helper package goes under one of them.
var goDirs = []string{"cmd", serverDir, mappingDir, salesforceDir, testDir}

// shipped are the packages under test/ that the binary itself runs; they are held to the rules of
// production code, and production code may import them.
var shipped = map[string]string{
	"test/conformance": "`scim-bridge conformance` runs this suite against any SCIM server (DESIGN.md \"The binary\")",
}

// maxFuncLines is the longest a non-test function may be (issue 11: one screen).
const maxFuncLines = 80

// dataTables are the functions allowed over maxFuncLines because they are pure data tables, each
// with its reason.
var dataTables = map[string]string{
	"scimschema.UserSchema": "the SCIM core User schema (RFC 7643 §4.1) as one literal of attribute definitions",
}

func load(t *testing.T) *module {
	t.Helper()
	m, err := loadModule("../..")
	if err != nil {
		t.Fatalf("reading the module: %v", err)
	}
	for _, dir := range []string{mappingDir, emulatorDir, serverDir, salesforceDir} {
		if m.pkgs[dir] == nil {
			t.Fatalf("the module has no package %s: the rules below would check nothing", dir)
		}
	}
	return m
}

func report(t *testing.T, rule string, problems []string) {
	t.Helper()
	if len(problems) > 0 {
		t.Errorf("%s:\n\t%s", rule, strings.Join(problems, "\n\t"))
	}
}

func TestMappingLayerIsPure(t *testing.T) {
	report(t, "the mapping layer must do no I/O and read no clock (STYLE.md: scimschema is pure)",
		pureMapping(load(t), mappingDir))
}

func TestEmulatorImportsNothingOfTheModule(t *testing.T) {
	report(t, "the emulator must import nothing else from this module (DESIGN.md)",
		emulatorAlone(load(t), emulatorDir))
}

func TestServerAndSalesforceMeetOnlyAtTheSeam(t *testing.T) {
	report(t, "server and the Salesforce packages must not import each other (STYLE.md: one seam)",
		oneSeam(load(t), serverDir, salesforceDir))
}

func TestProductionCodeImportsNoTestCode(t *testing.T) {
	report(t, "production code must not import httptest or test packages",
		productionClean(load(t), testDir, shipped))
}

func TestPackagesKeepTheFixedLayout(t *testing.T) {
	report(t, "Go packages live under the fixed top-level directories (DESIGN.md \"Layout\")",
		layoutProblems(load(t), goDirs))
}

func TestFunctionsFitOnAScreen(t *testing.T) {
	lengths := funcLengths(load(t), emulatorDir, testDir)
	// The figure for issue 11's closing note: go test -v -run TestFunctionsFitOnAScreen ./test/architecture
	over, longest := 0, ""
	for _, k := range sortedKeys(lengths) {
		if n := lengths[k].lines; n > maxFuncLines {
			over++
			if longest == "" || n > lengths[longest].lines {
				longest = k
			}
		}
	}
	if longest != "" {
		t.Logf("%d of %d functions are over %d lines (%d data tables); the longest is %s (%d lines)",
			over, len(lengths), maxFuncLines, len(dataTables), longest, lengths[longest].lines)
	}
	report(t, "no non-test function over 80 lines outside the emulator and test/ (issue 11)",
		lengthProblems(lengths, maxFuncLines, dataTables))
}
