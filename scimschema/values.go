package scimschema

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// toString reads a SCIM string value. Numbers are accepted and formatted (some IdPs send an
// employee number as a JSON number). A {"value": …} object or a one-element list is unwrapped,
// as some clients wrap simple values that way. nil and "" give "".
func toString(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case map[string]any:
		if k, ok := lookupKey(v, "value"); ok {
			return toString(v[k])
		}
	case []any:
		if len(v) == 1 {
			return toString(v[0])
		}
		if len(v) == 0 {
			return "", nil
		}
	}
	return "", fmt.Errorf("not a string")
}

// toBool reads a SCIM boolean, accepting Entra's "True"/"False" strings.
func toBool(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("not a boolean")
}

// toList reads a multi-valued attribute: a list, or a single element given without brackets.
func toList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

// toMap reads a complex value.
func toMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

// get returns m[key] with key matched case-insensitively.
func get(m map[string]any, key string) (any, bool) {
	k, ok := lookupKey(m, key)
	if !ok {
		return nil, false
	}
	return m[k], true
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func without(list []string, s string) []string {
	out := list[:0:0]
	for _, e := range list {
		if e != s {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func sortedKeys(set map[string]bool) []string {
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// looksLikeID reports whether s has the form of a Salesforce record id (15 or 18 alphanumerics),
// optionally with the given key prefix ("005" for users).
func looksLikeID(s, prefix string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return prefix == "" || strings.HasPrefix(s, prefix)
}

// asciiAlnum is s lower-cased, with everything but ASCII letters and digits dropped: the form in
// which a picklist value is compared loosely ("UTF8" = "utf-8") and from which an Alias is built.
func asciiAlnum(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
