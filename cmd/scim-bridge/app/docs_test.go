package app

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// configKey is one documented key of Config: a scalar, a list, users.defaults, or a list of
// entries (auth.tokens, users.mapping), which the docs describe as one key.
type configKey struct {
	path  string
	value reflect.Value // its default
}

func configKeys(v reflect.Value, prefix string) []configKey {
	var keys []configKey
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		path := joinKey(prefix, yamlKey(f))
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			keys = append(keys, configKeys(v.Field(i), path)...)
			continue
		}
		keys = append(keys, configKey{path, v.Field(i)})
	}
	return keys
}

// readmeConfigTable returns the README's configuration table: every key named in the first column
// (`auth.tokens[]` is auth.tokens) with its default cell.
func readmeConfigTable(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(data), "| key | default | meaning |\n")
	if !ok {
		t.Fatal("README.md has no configuration table (| key | default | meaning |)")
	}
	code := regexp.MustCompile("`([^`]+)`")
	rows := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			rows[strings.TrimSuffix(m[1], "[]")] = strings.TrimSpace(cells[2])
		}
	}
	return rows
}

// TestREADMEConfigTableMatchesConfig: the README documents exactly the keys Config has, with the
// defaults defaultConfig sets, so the two cannot drift apart.
func TestREADMEConfigTableMatchesConfig(t *testing.T) {
	rows := readmeConfigTable(t)
	var want, got []string
	for _, k := range configKeys(reflect.ValueOf(defaultConfig()), "") {
		want = append(want, k.path)
	}
	for k := range rows {
		got = append(got, k)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README configuration keys differ from Config's yaml tags (-code +README):\n%s", diff)
	}

	for _, k := range configKeys(reflect.ValueOf(defaultConfig()), "") {
		cell, ok := rows[k.path]
		if !ok {
			continue
		}
		switch v := k.value.Interface().(type) {
		case string:
			if v != "" && !strings.Contains(cell, "`"+v+"`") {
				t.Errorf("README: %s default is %q; want `%s`", k.path, cell, v)
			}
		case time.Duration:
			if !cellHasDuration(cell, v) {
				t.Errorf("README: %s default is %q; want a duration of %s (e.g. `%s`)", k.path, cell, v, v)
			}
		case bool, int:
			if s := fmt.Sprint(v); !strings.Contains(cell, "`"+s+"`") {
				t.Errorf("README: %s default is %q; want `%s`", k.path, cell, s)
			}
		case []string:
			var doc []string
			if err := yaml.Unmarshal([]byte(strings.Trim(cell, "`")), &doc); err != nil || !slices.Equal(doc, v) {
				t.Errorf("README: %s default is %q; want %q", k.path, cell, v)
			}
		case map[string]string:
			for field, value := range v {
				if !strings.Contains(cell, field) || !strings.Contains(cell, "`"+value+"`") {
					t.Errorf("README: %s default %q lacks %s `%s`", k.path, cell, field, value)
				}
			}
		}
	}
}

// TestExampleConfigNamesEveryKey: docs/config.example.yaml says it shows every key.
func TestExampleConfigNamesEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../../docs/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range configKeys(reflect.ValueOf(defaultConfig()), "") {
		n := doc.Content[0]
		for _, part := range strings.Split(k.path, ".") {
			var next *yaml.Node
			for i := 0; n != nil && i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					next = n.Content[i+1]
				}
			}
			n = next
		}
		if n == nil {
			t.Errorf("docs/config.example.yaml does not show %s", k.path)
		}
	}
}

// cellHasDuration: a README cell names duration d in a code span, in any form time.ParseDuration
// reads (`1h` and `1h0m0s` are the same default).
func cellHasDuration(cell string, d time.Duration) bool {
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cell, -1) {
		if got, err := time.ParseDuration(m[1]); err == nil && got == d {
			return true
		}
	}
	return false
}
