package architecture

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cleanModule is a small module laid out like this one that breaks no rule. Its test files do
// what production files may not: the rules read non-test files only.
var cleanModule = map[string]string{
	"go.mod": "module example.com/m\n\ngo 1.22\n",
	"scimschema/mapping.go": `package scimschema

import (
	"strings"
	"time"
)

// Map uses time's types, not its clock.
func Map(s string, d time.Duration) string { return strings.ToUpper(s) + d.String() }
`,
	"scimschema/mapping_test.go": `package scimschema

import (
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

func TestMap(t *testing.T) { _, _, _ = httptest.NewRecorder(), os.Getenv("X"), time.Now() }
`,
	"salesforce/emulator/emulator.go": "package emulator\n\nimport \"net/http\"\n\nfunc Handler() http.Handler { return nil }\n",
	"salesforce/backend.go":           "package salesforce\n\nimport (\n\t\"net/http\"\n\n\t_ \"example.com/m/scimschema\"\n)\n\nvar _ = http.MethodGet\n",
	"salesforce/rest/client.go":       "package rest\n\nimport \"net/http\"\n\nvar _ = http.MethodGet\n",
	"server/server.go":                "package server\n\nimport _ \"example.com/m/scimschema\"\n",
	"server/status/status.go":         "package status\n\nimport \"net/http\"\n\nvar _ = http.MethodGet\n",
	"cmd/app/app.go": `package app

import (
	_ "example.com/m/salesforce"
	_ "example.com/m/salesforce/emulator"
	_ "example.com/m/server"
	_ "example.com/m/test/conformance"
)
`,
	"test/conformance/suite.go": "package conformance\n\nimport \"net/http\"\n\nvar _ = http.MethodGet\n",
	"test/harness/harness.go":   "package harness\n\nimport (\n\t\"net/http/httptest\"\n\n\t_ \"example.com/m/cmd/app\"\n)\n\nvar _ = httptest.NewRecorder\n",
	// Long functions where they are allowed: the emulator and test/.
	"salesforce/emulator/seed.go": longFunc("emulator", "Seed", 120, "if true {}"),
	"test/harness/long.go":        longFunc("harness", "Start", 120, "if true {}"),
	// A pure data table over the limit, listed in the dataTables of the cases below.
	"scimschema/schema.go": longFunc("scimschema", "Schema", 90, ""),
}

// longFunc is a Go file of package pkg with a function name of n lines whose body repeats stmt
// (nothing when stmt is "": a table of data).
func longFunc(pkg, name string, n int, stmt string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n\nfunc %s() []int {\n\treturn []int{\n", pkg, name)
	lines := n - 4 // func, return, closing brace of the literal, closing brace of the function
	if stmt != "" {
		lines--
	}
	for range lines {
		b.WriteString("\t\t1,\n")
	}
	b.WriteString("\t}\n")
	if stmt != "" {
		b.WriteString("\t" + stmt + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// writeModule writes the clean module with changes (a file to "" is removed) into a fresh
// directory and loads it.
func writeModule(t *testing.T, changes map[string]string) *module {
	t.Helper()
	files := maps.Clone(cleanModule)
	for name, src := range changes {
		if src == "" {
			delete(files, name)
			continue
		}
		files[name] = src
	}
	root := t.TempDir()
	for name, src := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := loadModule(root)
	if err != nil {
		t.Fatalf("loading the synthetic module: %v", err)
	}
	return m
}

// The rules of architecture_test.go, with the same directories, run on a synthetic module.
var rules = map[string]func(*module) []string{
	"pure mapping":     func(m *module) []string { return pureMapping(m, mappingDir) },
	"emulator alone":   func(m *module) []string { return emulatorAlone(m, emulatorDir) },
	"one seam":         func(m *module) []string { return oneSeam(m, serverDir, salesforceDir) },
	"production clean": func(m *module) []string { return productionClean(m, testDir, shipped) },
	"fixed layout":     func(m *module) []string { return layoutProblems(m, append(goDirs, "internal")) },
	"functions on a screen": func(m *module) []string {
		return lengthProblems(funcLengths(m, emulatorDir, testDir), maxFuncLines,
			map[string]string{"scimschema.Schema": "a table"})
	},
}

// TestRulesFire shows that each rule can fail: every case breaks one rule once, and that rule, and
// no other, reports it.
func TestRulesFire(t *testing.T) {
	cases := []struct {
		name    string
		changes map[string]string
		rule    string // the rule that must fire; "" = none
		want    string // a phrase of its report
	}{
		{"the clean module", nil, "", ""},
		{"mapping imports net/http", with(nil, "scimschema/http.go", "package scimschema\n\nimport _ \"net/http\"\n"),
			"pure mapping", "scimschema imports net/http, which does I/O"},
		{"mapping imports os", with(nil, "scimschema/env.go", "package scimschema\n\nimport _ \"os\"\n"),
			"pure mapping", "imports os"},
		{"mapping imports net/url", with(nil, "scimschema/url.go", "package scimschema\n\nimport _ \"net/url\"\n"),
			"pure mapping", "imports net/url"},
		{"mapping reaches database/sql through the module", with(nil,
			"scimschema/store.go", "package scimschema\n\nimport _ \"example.com/m/internal/store\"\n",
			"internal/store/store.go", "package store\n\nimport _ \"database/sql\"\n"),
			"pure mapping", "internal/store (imported by scimschema) imports database/sql"},
		{"mapping reads the clock", with(nil, "scimschema/clock.go", "package scimschema\n\nimport \"time\"\n\nfunc Stamp() string { return time.Now().String() }\n"),
			"pure mapping", "uses time.Now"},
		{"mapping sleeps under another name", with(nil, "scimschema/wait.go", "package scimschema\n\nimport clock \"time\"\n\nfunc Wait() { clock.Sleep(1) }\n"),
			"pure mapping", "uses time.Sleep"},
		{"mapping measures time through the module", with(nil,
			"scimschema/age.go", "package scimschema\n\nimport _ \"example.com/m/internal/age\"\n",
			"internal/age/age.go", "package age\n\nimport \"time\"\n\nvar Since = time.Since\n"),
			"pure mapping", "uses time.Since"},
		{"mapping dot-imports time", with(nil, "scimschema/dot.go", "package scimschema\n\nimport . \"time\"\n\nvar _ Duration\n"),
			"pure mapping", "dot-imports time"},
		{"mapping draws random numbers", with(nil, "scimschema/rand.go", "package scimschema\n\nimport _ \"math/rand/v2\"\n"),
			"pure mapping", "imports math/rand/v2"},
		{"emulator imports the mapping layer", with(nil, "salesforce/emulator/mapping.go", "package emulator\n\nimport _ \"example.com/m/scimschema\"\n"),
			"emulator alone", "salesforce/emulator imports example.com/m/scimschema"},
		{"a package under the emulator imports the backend", with(nil, "salesforce/emulator/soql/soql.go", "package soql\n\nimport _ \"example.com/m/salesforce\"\n"),
			"emulator alone", "salesforce/emulator/soql imports example.com/m/salesforce"},
		{"server imports salesforce", with(nil, "server/backend.go", "package server\n\nimport _ \"example.com/m/salesforce\"\n"),
			"one seam", "server reaches salesforce"},
		{"server reaches salesforce/rest through another package", with(nil,
			"server/status/rest.go", "package status\n\nimport _ \"example.com/m/internal/glue\"\n",
			"internal/glue/glue.go", "package glue\n\nimport _ \"example.com/m/salesforce/rest\"\n"),
			"one seam", "server/status reaches salesforce/rest"},
		{"salesforce imports server", with(nil, "salesforce/rest/server.go", "package rest\n\nimport _ \"example.com/m/server\"\n"),
			"one seam", "salesforce/rest reaches server"},
		{"production code imports httptest", with(nil, "server/recorder.go", "package server\n\nimport _ \"net/http/httptest\"\n"),
			"production clean", "server imports net/http/httptest"},
		{"cmd imports the test harness", with(nil, "cmd/app/harness.go", "package app\n\nimport _ \"example.com/m/test/harness\"\n"),
			"production clean", "cmd/app imports the test package example.com/m/test/harness"},
		{"the shipped conformance suite imports httptest", with(nil, "test/conformance/fake.go", "package conformance\n\nimport _ \"net/http/httptest\"\n"),
			"production clean", "test/conformance imports net/http/httptest"},
		{"a new long function", with(nil, "salesforce/long.go", longFunc("salesforce", "ListUsers", 81, "if true {}")),
			"functions on a screen", "salesforce.ListUsers is 81 lines"},
		{"a long method", with(nil, "server/method.go", "package server\n\ntype H struct{}\n\n"+strings.Replace(longFunc("server", "Serve", 95, "if true {}"), "package server\n\nfunc ", "func (h *H) ", 1)),
			"functions on a screen", "server.H.Serve is 95 lines"},
		{"a data table grown short", with(nil, "scimschema/schema.go", longFunc("scimschema", "Schema", 80, "")),
			"functions on a screen", "scimschema.Schema is listed in dataTables but is now 80 lines"},
		{"a data table gone", with(nil, "scimschema/schema.go", ""), "functions on a screen", "scimschema.Schema is listed in dataTables but no longer exists"},
		{"a new top-level package", with(nil, "setting/setting.go", "package setting\n"),
			"fixed layout", "setting is outside the fixed top-level layout"},
		{"a package at the module root", with(nil, "doc.go", "package m\n"),
			"fixed layout", ". is outside the fixed top-level layout"},
		{"a data table with logic", with(nil, "scimschema/schema.go", longFunc("scimschema", "Schema", 90, "for {}")),
			"functions on a screen", "scimschema.Schema is listed in dataTables but has control flow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := writeModule(t, tc.changes)
			for name, rule := range rules {
				problems := strings.Join(rule(m), "\n")
				switch {
				case name == tc.rule && !strings.Contains(problems, tc.want):
					t.Errorf("rule %q reported %q; want it to report %q", name, problems, tc.want)
				case name != tc.rule && problems != "":
					t.Errorf("rule %q reported %q; want nothing", name, problems)
				}
			}
		})
	}
}

// with is changes plus the files given as name, source pairs.
func with(changes map[string]string, files ...string) map[string]string {
	out := maps.Clone(changes)
	if out == nil {
		out = map[string]string{}
	}
	for i := 0; i+1 < len(files); i += 2 {
		out[files[i]] = files[i+1]
	}
	return out
}
