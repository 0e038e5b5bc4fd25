package conformance

import (
	"fmt"
	"strconv"
	"strings"
)

// lookupKey returns m[key], matching the key case-insensitively as RFC 7643 §2.1 requires of
// attribute names; an exact match wins.
func lookupKey(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// lookup resolves a path in a decoded JSON value. Syntax: dot-separated attribute names (matched
// case-insensitively), a leading schema URN ("urn:…:enterprise:2.0:User.department"), array indexes
// ("Resources.0.id") and selectors on arrays ("emails[type=work].value" picks the first element whose
// type is "work"). It reports whether the path exists and is not null.
func lookup(v any, path string) (any, bool) {
	for path != "" {
		switch cur := v.(type) {
		case map[string]any:
			key, rest := splitKey(cur, path)
			next := lookupKey(cur, key)
			if next == nil {
				return nil, false
			}
			v, path = next, rest
		case []any:
			if strings.HasPrefix(path, "[") {
				end := strings.Index(path, "]")
				if end < 0 {
					return nil, false
				}
				sub, want, _ := strings.Cut(path[1:end], "=")
				path = strings.TrimPrefix(path[end+1:], ".")
				var found any
				for _, e := range cur {
					if got, ok := lookup(e, sub); ok && fmt.Sprint(got) == want {
						found = e
						break
					}
				}
				if found == nil {
					return nil, false
				}
				v = found
				continue
			}
			seg, rest, _ := strings.Cut(path, ".")
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(cur) {
				return nil, false
			}
			v, path = cur[i], rest
		default:
			return nil, false
		}
	}
	return v, v != nil
}

// splitKey takes the first key off path for map m. A URN key is the longest key of m that prefixes
// path; an ordinary key ends at "." or "[".
func splitKey(m map[string]any, path string) (key, rest string) {
	if len(path) > 4 && strings.EqualFold(path[:4], "urn:") {
		best := ""
		for k := range m {
			if len(k) > len(best) && len(path) >= len(k) && strings.EqualFold(path[:len(k)], k) &&
				(len(path) == len(k) || path[len(k)] == '.' || path[len(k)] == '[') {
				best = k
			}
		}
		if best != "" {
			return best, strings.TrimPrefix(path[len(best):], ".")
		}
	}
	end := strings.IndexAny(path, ".[")
	if end < 0 {
		return path, ""
	}
	if path[end] == '[' {
		return path[:end], path[end:]
	}
	return path[:end], path[end+1:]
}

// str returns the string at path, "" when absent or not a string.
func str(v any, path string) string {
	got, _ := lookup(v, path)
	s, _ := got.(string)
	return s
}

// containsFold reports whether v is a JSON array holding s (case-insensitively).
func containsFold(v any, s string) bool {
	arr, _ := v.([]any)
	for _, e := range arr {
		if es, ok := e.(string); ok && strings.EqualFold(es, s) {
			return true
		}
	}
	return false
}

// values returns the string values of sub-attribute sub of every element of the array at path.
func values(v any, path, sub string) []string {
	got, _ := lookup(v, path)
	arr, _ := got.([]any)
	var out []string
	for _, e := range arr {
		if s := str(e, sub); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// findNull returns the path of the first JSON null inside v, "" when there is none.
func findNull(v any, at string) string {
	switch x := v.(type) {
	case nil:
		return at
	case map[string]any:
		for k, e := range x {
			if p := findNull(e, at+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range x {
			if p := findNull(e, fmt.Sprintf("%s[%d]", at, i)); p != "" {
				return p
			}
		}
	}
	return ""
}
