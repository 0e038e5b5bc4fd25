package scimschema

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/scim2/filter-parser/v2"
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

// memberValues reads member ids from a members/permissionSets value: [{"value": "id"}, …], a single
// {"value": "id"}, bare strings, or a list of those. Empty ids are dropped.
func memberValues(v any) ([]string, error) {
	var out []string
	for _, e := range toList(v) {
		var id string
		switch e := e.(type) {
		case string:
			id = e
		case map[string]any:
			raw, _ := get(e, "value")
			s, err := toString(raw)
			if err != nil {
				return nil, err
			}
			id = s
		default:
			return nil, fmt.Errorf("not a member")
		}
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out, nil
}

// add merges ids into the change: they are added, and no longer removed.
func (c *MemberChange) add(ids []string) {
	for _, id := range ids {
		c.Remove = without(c.Remove, id)
		if !contains(c.Add, id) {
			c.Add = append(c.Add, id)
		}
	}
}

// remove merges removals into the change. In a replacing change the ids leave the desired set.
func (c *MemberChange) remove(ids []string) {
	for _, id := range ids {
		c.Add = without(c.Add, id)
		if !c.Replace && !contains(c.Remove, id) {
			c.Remove = append(c.Remove, id)
		}
	}
}

// replace makes the change the complete desired set ids.
func (c *MemberChange) replace(ids []string) {
	c.Replace, c.Add, c.Remove = true, []string{}, nil
	c.add(ids)
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

// idsOfFilter reads the ids of a member path filter: value eq "x", possibly or-combined
// (members[value eq "a" or value eq "b"]).
func idsOfFilter(e filter.Expression) ([]string, bool) {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		p := e.AttributePath
		if p.URIPrefix != nil || p.SubAttribute != nil || !strings.EqualFold(p.AttributeName, "value") || e.Operator != filter.EQ {
			return nil, false
		}
		s, ok := e.CompareValue.(string)
		return []string{s}, ok
	case *filter.LogicalExpression:
		if e.Operator != filter.OR {
			return nil, false
		}
		l, ok := idsOfFilter(e.Left)
		if !ok {
			return nil, false
		}
		r, ok := idsOfFilter(e.Right)
		return append(l, r...), ok
	}
	return nil, false
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
