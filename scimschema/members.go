package scimschema

import (
	"fmt"
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// MemberChange is a change to a set of memberships (group members, a user's permission sets).
type MemberChange struct {
	// Replace means Add is the complete desired set (PUT, replace); otherwise the change is incremental.
	Replace bool
	// Add holds the ids or names to add (with Replace: the desired set, possibly empty).
	Add []string
	// Remove holds the ids or names to remove (never set with Replace).
	Remove []string
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
