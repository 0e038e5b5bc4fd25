// Package architecture holds the import and size rules of the module as a plain `go test` (it runs
// in .ci/run through go test ./...). The rules read the module's non-test Go files with go/build
// (build constraints of this platform) and go/parser; each rule is also run on small synthetic
// modules (rules_test.go) to show that it can fail.
package architecture

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// pkg is one package of the module as the rules see it: only its non-test files.
type pkg struct {
	rel     string   // directory relative to the module root, slash-separated: "server/status"
	imports []string // import paths of the non-test files
	files   []*ast.File
}

// module is the module's packages, by directory relative to its root.
type module struct {
	path string // the module path of go.mod
	fset *token.FileSet
	pkgs map[string]*pkg
}

// loadModule reads every package of the module rooted at root: each directory with non-test Go
// files, except testdata, hidden and underscore directories and nested modules.
func loadModule(root string) (*module, error) {
	modPath, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	m := &module{path: modPath, fset: token.NewFileSet(), pkgs: map[string]*pkg{}}
	err = filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if dir != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && dir != root {
			return filepath.SkipDir
		}
		bp, err := build.Default.ImportDir(dir, 0)
		if _, none := err.(*build.NoGoError); none {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return err
		}
		p := &pkg{rel: filepath.ToSlash(rel), imports: bp.Imports}
		for _, f := range bp.GoFiles {
			af, err := parser.ParseFile(m.fset, filepath.Join(dir, f), nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			p.files = append(p.files, af)
		}
		m.pkgs[p.rel] = p
		return nil
	})
	return m, err
}

func modulePath(goMod string) (string, error) {
	raw, err := os.ReadFile(goMod)
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s names no module", goMod)
}

// internal returns the directory (relative to the root) of an import path of this module, or
// false for the standard library and other modules.
func (m *module) internal(importPath string) (string, bool) {
	if importPath == m.path {
		return ".", true
	}
	rel, ok := strings.CutPrefix(importPath, m.path+"/")
	return rel, ok
}

// closure returns the packages of the module that rel reaches through imports of the module's
// own packages, rel included, sorted.
func (m *module) closure(rel string) []string {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(r string) {
		if seen[r] {
			return
		}
		seen[r] = true
		if p := m.pkgs[r]; p != nil {
			for _, imp := range p.imports {
				if dep, ok := m.internal(imp); ok {
					visit(dep)
				}
			}
		}
	}
	visit(rel)
	var out []string
	for r := range seen {
		if m.pkgs[r] != nil {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// under reports whether rel is dir or inside it.
func under(rel, dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }

// ioImport reports whether an import path does I/O, HTTP, logging or system calls.
func ioImport(path string) bool {
	switch path {
	case "net", "os", "io/ioutil", "syscall", "log", "plugin":
		return true
	}
	for _, prefix := range []string{"net/", "os/", "database/", "log/", "syscall/"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// randImport reports whether an import path is a source of randomness.
func randImport(path string) bool {
	return path == "math/rand" || path == "math/rand/v2" || path == "crypto/rand"
}

// clockFuncs are the time functions that read or wait on the clock.
var clockFuncs = []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker"}

// pureMapping is rule (a): the mapping layer, and every package of the module it imports, does no
// I/O or HTTP, reads no clock and draws no random numbers (STYLE.md: "scimschema is pure").
func pureMapping(m *module, mapping string) []string {
	var out []string
	for _, rel := range m.closure(mapping) {
		via := ""
		if rel != mapping {
			via = " (imported by " + mapping + ")"
		}
		p := m.pkgs[rel]
		for _, imp := range p.imports {
			switch {
			case ioImport(imp):
				out = append(out, fmt.Sprintf("%s%s imports %s, which does I/O", rel, via, imp))
			case randImport(imp):
				out = append(out, fmt.Sprintf("%s%s imports %s: no random numbers in the mapping layer", rel, via, imp))
			}
		}
		for _, f := range p.files {
			out = append(out, clockCalls(m.fset, f, rel+via)...)
		}
	}
	return out
}

// clockCalls finds the uses of time's clock functions in one file (under whatever name it imports
// time), and a dot import of time, which would hide them.
func clockCalls(fset *token.FileSet, f *ast.File, where string) []string {
	timeName := ""
	var out []string
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != "time" {
			continue
		}
		timeName = "time"
		if imp.Name != nil {
			timeName = imp.Name.Name
		}
		if timeName == "." {
			out = append(out, fmt.Sprintf("%s: %s dot-imports time", where, fset.Position(imp.Pos())))
		}
	}
	if timeName == "" || timeName == "_" || timeName == "." {
		return out
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == timeName && slices.Contains(clockFuncs, sel.Sel.Name) {
			out = append(out, fmt.Sprintf("%s: %s uses time.%s: no clock in the mapping layer", where, fset.Position(sel.Pos()), sel.Sel.Name))
		}
		return true
	})
	return out
}

// emulatorAlone is rule (b): the emulator (and any package under it) imports no package of this
// module outside itself (DESIGN.md: "imports nothing else from this module").
func emulatorAlone(m *module, emulator string) []string {
	var out []string
	for _, rel := range sortedKeys(m.pkgs) {
		if !under(rel, emulator) {
			continue
		}
		for _, imp := range m.pkgs[rel].imports {
			if dep, ok := m.internal(imp); ok && !under(dep, emulator) {
				out = append(out, fmt.Sprintf("%s imports %s", rel, imp))
			}
		}
	}
	return out
}

// oneSeam is rule (c): the server and the Salesforce packages meet only at the seam; neither
// reaches the other, directly or through other packages of this module.
func oneSeam(m *module, server, salesforce string) []string {
	var out []string
	for _, pair := range [][2]string{{server, salesforce}, {salesforce, server}} {
		from, to := pair[0], pair[1]
		for _, rel := range sortedKeys(m.pkgs) {
			if !under(rel, from) {
				continue
			}
			for _, dep := range m.closure(rel) {
				if under(dep, to) {
					out = append(out, fmt.Sprintf("%s reaches %s through imports of this module", rel, dep))
				}
			}
		}
	}
	return out
}

// productionClean is rule (d): no production package (outside testDir, or one of shipped)
// imports net/http/httptest or a package under testDir other than those shipped.
func productionClean(m *module, testDir string, shipped map[string]string) []string {
	var out []string
	for _, rel := range sortedKeys(m.pkgs) {
		if under(rel, testDir) && shipped[rel] == "" {
			continue
		}
		for _, imp := range m.pkgs[rel].imports {
			if imp == "net/http/httptest" {
				out = append(out, fmt.Sprintf("%s imports net/http/httptest, which is for tests", rel))
			}
			if dep, ok := m.internal(imp); ok && under(dep, testDir) && shipped[dep] == "" {
				out = append(out, fmt.Sprintf("%s imports the test package %s", rel, imp))
			}
		}
	}
	return out
}

// layoutProblems is rule (e): every package lives under one of the top-level directories the
// layout allows (the module root holds no package).
func layoutProblems(m *module, topLevel []string) []string {
	var out []string
	for _, rel := range sortedKeys(m.pkgs) {
		if !slices.ContainsFunc(topLevel, func(dir string) bool { return under(rel, dir) }) {
			out = append(out, fmt.Sprintf("%s is outside the fixed top-level layout (%s)", rel, strings.Join(topLevel, ", ")))
		}
	}
	return out
}

// funcInfo is what the size rule knows of one function.
type funcInfo struct {
	lines int  // from `func` to the closing brace
	data  bool // no control flow and no function literals: a table of data
}

// funcLengths measures every function and method of the packages outside the excluded
// directories, keyed "dir.Name" or "dir.Recv.Name".
func funcLengths(m *module, exclude ...string) map[string]funcInfo {
	out := map[string]funcInfo{}
	for _, rel := range sortedKeys(m.pkgs) {
		if slices.ContainsFunc(exclude, func(dir string) bool { return under(rel, dir) }) {
			continue
		}
		for _, f := range m.pkgs[rel].files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				info := funcInfo{lines: m.fset.Position(fd.End()).Line - m.fset.Position(fd.Pos()).Line + 1, data: isData(fd.Body)}
				if key := funcKey(rel, fd); info.lines > out[key].lines {
					out[key] = info
				}
			}
		}
	}
	return out
}

// isData reports whether a function body holds no control flow and no function literals.
func isData(body *ast.BlockStmt) bool {
	data := true
	ast.Inspect(body, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt,
			*ast.SelectStmt, *ast.GoStmt, *ast.DeferStmt, *ast.FuncLit, *ast.BranchStmt:
			data = false
		}
		return data
	})
	return data
}

func funcKey(rel string, fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return rel + "." + fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr: // generic receiver T[P]
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	name := "?"
	if id, ok := t.(*ast.Ident); ok {
		name = id.Name
	}
	return rel + "." + name + "." + fd.Name.Name
}

// lengthProblems compares the function lengths with the limit and the pure data tables allowed
// over it. A function over the limit that is not listed is a problem; so is a listed one that is no
// longer over it (or gone), so that the list only shrinks, and a listed data table that has
// control flow.
func lengthProblems(funcs map[string]funcInfo, limit int, dataTables map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(funcs) {
		f := funcs[k]
		switch {
		case f.lines <= limit:
		case dataTables[k] != "" && !f.data:
			out = append(out, fmt.Sprintf("%s is listed in dataTables but has control flow or function literals: it is no pure data table", k))
		case dataTables[k] == "":
			out = append(out, fmt.Sprintf("%s is %d lines; the limit is %d (split it, or, for a pure data table, list it in dataTables with its reason)", k, f.lines, limit))
		}
	}
	for _, k := range sortedKeys(dataTables) {
		f, ok := funcs[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s is listed in dataTables but no longer exists: delete it from the list", k))
		case f.lines <= limit:
			out = append(out, fmt.Sprintf("%s is listed in dataTables but is now %d lines (limit %d): delete it from the list", k, f.lines, limit))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
