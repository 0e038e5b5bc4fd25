package salesforce

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// The SCIM filter arrives as scimschema's neutral condition tree and is rendered here with the
// client's SOQL builder: values always become escaped literals.

func filterError(format string, args ...any) error {
	return &scimschema.Error{Kind: scimschema.KindInvalidFilter, Detail: fmt.Sprintf(format, args...)}
}

// frozenLogins is the semi-join "users whose UserLogin is frozen".
func frozenLogins() *Query {
	return Select("UserId").From("UserLogin").Where(Eq("IsFrozen", true))
}

// renderUserCond renders a neutral condition on User as SOQL.
func renderUserCond(c scimschema.Cond) (Cond, error) {
	switch c := c.(type) {
	case scimschema.And:
		return renderJunction(c.Conds, And)
	case scimschema.Or:
		return renderJunction(c.Conds, Or)
	case scimschema.Not:
		inner, err := renderUserCond(c.Cond)
		if err != nil {
			return nil, err
		}
		return Not(inner), nil
	case scimschema.Compare:
		return renderCompare(c)
	case scimschema.Present:
		return Ne(c.Field, nil), nil
	case scimschema.ActiveIs:
		// active = IsActive ∧ ¬UserLogin.IsFrozen
		if c.Value {
			return And(Eq("IsActive", true), NotInQuery("Id", frozenLogins())), nil
		}
		return Or(Eq("IsActive", false), InQuery("Id", frozenLogins())), nil
	case scimschema.MemberOf:
		field := "PermissionSetId"
		if strings.HasPrefix(c.GroupID, prefixPermSetGr) {
			field = "PermissionSetGroupId"
		}
		id, ok := canonicalID(c.GroupID, prefixPermSet, prefixPermSetGr)
		if !ok {
			return Eq("Id", nil), nil // no such group: matches nothing
		}
		return InQuery("Id", Select("AssigneeId").From("PermissionSetAssignment").Where(Eq(field, id))), nil
	case scimschema.Nothing:
		return Eq("Id", nil), nil // every record has an Id: matches nothing
	case scimschema.HasMember:
		return nil, filterError("members is not an attribute of Users")
	}
	return nil, filterError("the filter cannot be translated to a Salesforce query")
}

func renderJunction(cs []scimschema.Cond, join func(...Cond) Cond) (Cond, error) {
	out := make([]Cond, 0, len(cs))
	for _, c := range cs {
		r, err := renderUserCond(c)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return join(out...), nil
}

// soqlValue converts a filter value to a type the SOQL builder renders.
func soqlValue(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, time.Time, nil:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case int:
		return x, nil
	case int64:
		return x, nil
	}
	return nil, filterError("a filter value has a type Salesforce cannot compare")
}

func renderCompare(c scimschema.Compare) (Cond, error) {
	v, err := soqlValue(c.Value)
	if err != nil {
		return nil, err
	}
	like := func(pattern func(string) string) (Cond, error) {
		s, ok := v.(string)
		if !ok {
			return nil, filterError("%s: %s needs a string value", c.Field, c.Op)
		}
		return Like(c.Field, pattern(LikeEscape(s))), nil
	}
	switch c.Op {
	case "eq":
		return Eq(c.Field, v), nil
	case "ne":
		return Ne(c.Field, v), nil
	case "gt":
		return Gt(c.Field, v), nil
	case "ge":
		return Ge(c.Field, v), nil
	case "lt":
		return Lt(c.Field, v), nil
	case "le":
		return Le(c.Field, v), nil
	case "co":
		return like(func(s string) string { return "%" + s + "%" })
	case "sw":
		return like(func(s string) string { return s + "%" })
	case "ew":
		return like(func(s string) string { return "%" + s })
	}
	return nil, filterError("unsupported comparison operator %q", c.Op)
}

// exactChecks returns the case-exact comparisons that must hold for every row: those reached from
// the root through AND only. SOQL compares strings case-insensitively, so these rows are
// re-checked in Go. (A case-exact comparison under OR or NOT stays case-insensitive.)
func exactChecks(c scimschema.Cond) []scimschema.Compare {
	switch c := c.(type) {
	case scimschema.And:
		var out []scimschema.Compare
		for _, x := range c.Conds {
			out = append(out, exactChecks(x)...)
		}
		return out
	case scimschema.Compare:
		if c.CaseExact {
			return []scimschema.Compare{c}
		}
	}
	return nil
}

// matchesExact re-checks case-exact comparisons on a row.
func matchesExact(rec map[string]any, checks []scimschema.Compare) bool {
	for _, c := range checks {
		want, ok := c.Value.(string)
		if !ok {
			continue
		}
		got, _ := lookupField(rec, c.Field).(string)
		var m bool
		switch c.Op {
		case "eq":
			m = got == want
		case "ne":
			m = got != want
		case "co":
			m = strings.Contains(got, want)
		case "sw":
			m = strings.HasPrefix(got, want)
		case "ew":
			m = strings.HasSuffix(got, want)
		case "gt":
			m = got > want
		case "ge":
			m = got >= want
		case "lt":
			m = got < want
		case "le":
			m = got <= want
		default:
			m = true
		}
		if !m {
			return false
		}
	}
	return true
}

// lookupField finds a field in a query row by case-insensitive name.
func lookupField(rec map[string]any, field string) any {
	if v, ok := rec[field]; ok {
		return v
	}
	for k, v := range rec {
		if strings.EqualFold(k, field) {
			return v
		}
	}
	return nil
}
