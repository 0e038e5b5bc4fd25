package architecture

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's "Where things happen" table sends a reader from a behaviour to the files and
// functions that carry it out. It must not point at a file or a function that a later restructure
// moved away.
func TestREADMEWhereThingsHappenPointsAtCode(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := whereTable(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 {
		t.Fatalf("the Where things happen table has %d rows; want the table of README's Development section", len(rows))
	}
	report(t, "README \"Where things happen\" names files and functions that exist",
		whereProblems(rows, "../.."))
}

// whereTable returns the rows of the table under the "### Where things happen" heading.
func whereTable(readme string) ([]string, error) {
	_, after, ok := strings.Cut(readme, "\n### Where things happen\n")
	if !ok {
		return nil, fmt.Errorf("README has no \"### Where things happen\" section")
	}
	var rows []string
	for _, line := range strings.Split(after, "\n") {
		switch {
		case strings.HasPrefix(line, "| behaviour") || strings.HasPrefix(line, "| ---"):
		case strings.HasPrefix(line, "|"):
			rows = append(rows, line)
		case len(rows) > 0:
			return rows, nil
		}
	}
	return rows, nil
}

var (
	// a file or directory of the module in backticks: `salesforce/seam.go`, `groups_delete.go`,
	// `server/status`; optionally followed by ` (`function`` naming what in it does the work.
	codeRef = regexp.MustCompile("`((?:[a-z_]+/)*[a-z_]+(?:\\.go)?)`(?: \\(`([A-Za-z_][A-Za-z0-9_]*)`)?")
)

// whereProblems checks every row: each file exists (a bare file name is in the directory of the
// row's previous path), each directory exists, and a function named in parentheses right after a
// file is declared there.
func whereProblems(rows []string, root string) []string {
	var out []string
	for _, row := range rows {
		dir := ""
		for _, m := range codeRef.FindAllStringSubmatch(row, -1) {
			ref, fn := m[1], m[2]
			if !strings.Contains(ref, "/") && !strings.HasSuffix(ref, ".go") {
				continue // a word in backticks: a key, a value, an attribute
			}
			file := ref
			if !strings.Contains(ref, "/") {
				if dir == "" {
					out = append(out, fmt.Sprintf("%s: a bare file name with no directory before it in the row", ref))
					continue
				}
				file = path.Join(dir, ref)
			}
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
				out = append(out, fmt.Sprintf("%s does not exist", file))
				continue
			}
			if strings.HasSuffix(file, ".go") {
				dir = path.Dir(file)
			} else {
				dir = file
			}
			if fn != "" && strings.HasSuffix(file, ".go") && !declares(filepath.Join(root, filepath.FromSlash(file)), fn) {
				out = append(out, fmt.Sprintf("%s declares no %s", file, fn))
			}
		}
	}
	return out
}

// declares reports whether the Go file declares a function, method or type named name.
func declares(file, name string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return false
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.Name == name {
				return true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.Name == name {
					return true
				}
			}
		}
	}
	return false
}

func TestWhereProblemsFire(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "server"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "server", "errors.go"), []byte("package server\n\nfunc writeError() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		row  string
		want string // "" = no problem
	}{
		{"| error | `server/errors.go` (`writeError`) |", ""},
		{"| error | `server/errors.go` (`writeError`), `errors.go` again, `server` the package |", ""},
		{"| error | `disable_action`, `users.mapping` are words |", ""},
		{"| error | `server/gone.go` |", "server/gone.go does not exist"},
		{"| error | `server/errors.go` (`classify`) |", "server/errors.go declares no classify"},
		{"| error | `server/errors.go`, `gone.go` |", "server/gone.go does not exist"},
		{"| error | `errors.go` |", "errors.go: a bare file name"},
	} {
		got := strings.Join(whereProblems([]string{tc.row}, root), "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("whereProblems(%q) = %q; want %q", tc.row, got, tc.want)
		}
	}
}
