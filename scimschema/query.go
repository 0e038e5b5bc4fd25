package scimschema

// This file holds the neutral query that filter translation produces and the backend renders
// (to SOQL): the Cond types, and the combinators that fold constants while translating.

// Cond is a neutral query condition over Salesforce records, rendered to SOQL by the backend.
type Cond interface{ cond() }

// And matches when every condition matches.
type And struct{ Conds []Cond }

// Or matches when any condition matches.
type Or struct{ Conds []Cond }

// Not matches when Cond does not.
type Not struct{ Cond Cond }

// Compare compares a Salesforce field with a value.
type Compare struct {
	Field string // Salesforce field name: "Username", "Email", "Id", "SystemModstamp", "Label", …
	Op    string // "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"
	// Value is a string, bool, float64 or, for datetime fields, a time.Time; already transformed
	// (Username domain and suffix).
	Value any
	// CaseExact is set for caseExact SCIM attributes (externalId). SOQL compares case-insensitively,
	// so the backend must re-check these rows exactly.
	CaseExact bool
}

// Present matches when the field is not null.
type Present struct{ Field string }

// ActiveIs matches users whose SCIM active (IsActive ∧ ¬UserLogin.IsFrozen) is Value.
type ActiveIs struct{ Value bool }

// MemberOf matches users assigned the permission set (or group) GroupID.
type MemberOf struct{ GroupID string }

// HasMember matches groups that have UserID as a member.
type HasMember struct{ UserID string }

// Nothing matches no record (e.g. id eq a malformed id).
type Nothing struct{}

func (And) cond()       {}
func (Or) cond()        {}
func (Not) cond()       {}
func (Compare) cond()   {}
func (Present) cond()   {}
func (ActiveIs) cond()  {}
func (MemberOf) cond()  {}
func (HasMember) cond() {}
func (Nothing) cond()   {}

// constant is a condition known while translating; it never leaves this package.
type constant bool

func (constant) cond() {}

// everything is how a condition that always holds leaves the package: every record has an Id.
func everything() Cond { return Present{Field: "Id"} }

func and(a, b Cond) Cond {
	var out []Cond
	for _, c := range []Cond{a, b} {
		switch c := c.(type) {
		case constant:
			if !c {
				return constant(false)
			}
		case And:
			out = append(out, c.Conds...)
		default:
			out = append(out, c)
		}
	}
	switch len(out) {
	case 0:
		return constant(true)
	case 1:
		return out[0]
	}
	return And{Conds: out}
}

func or(a, b Cond) Cond {
	var out []Cond
	for _, c := range []Cond{a, b} {
		switch c := c.(type) {
		case constant:
			if c {
				return constant(true)
			}
		case Or:
			out = append(out, c.Conds...)
		default:
			out = append(out, c)
		}
	}
	switch len(out) {
	case 0:
		return constant(false)
	case 1:
		return out[0]
	}
	return Or{Conds: out}
}

func not(c Cond) Cond {
	switch c := c.(type) {
	case constant:
		return !c
	case Not:
		return c.Cond
	}
	return Not{Cond: c}
}

// finish replaces a constant result by what the backend understands.
func finish(c Cond) Cond {
	if k, ok := c.(constant); ok {
		if k {
			return everything()
		}
		return Nothing{}
	}
	return c
}
