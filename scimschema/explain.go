package scimschema

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Rules that produce a value a user write sends, as `scim-bridge explain` names them.
const (
	RuleMapping       = "mapping"       // the value of a mapped SCIM attribute, as sent
	RuleNormalisation = "normalisation" // a mapped SCIM value, rewritten (picklist spelling, Username transforms, …)
	RuleDefault       = "default"       // users.defaults, the request naming no value
	RuleDerivation    = "derivation"    // computed from other attributes (Alias, CommunityNickname, Email, …)
	RuleCleared       = "cleared"       // an optional mapped attribute absent from a PUT, or removed by PATCH
	RuleConflict      = "conflict"      // two attributes of a PUT set the field differently; settled against the current record
)

// FieldSource is one Salesforce User field a write sends, and the rule that produced its value.
type FieldSource struct {
	Field string // Salesforce User field
	Value any    // what is sent; nil clears the field
	Rule  string // one of the Rule… constants
	// From names the origin: the SCIM attribute path (mapping, normalisation), the
	// users.defaults key (default), or what the value was derived from.
	From string
	Sent any // for normalisation: the value the request carried
}

// ExplainFields says, for every field of w, where its value came from. attrs is the request's
// full representation (POST, PUT), or nil for a PATCH (whose values are then attributed to the
// field's mapped attributes without comparing). It is descriptive only: w is what ForCreate,
// ForReplace or ForPatch produced and is not changed.
func (m *UserMapper) ExplainFields(attrs map[string]any, w UserWrite) []FieldSource {
	names := make([]string, 0, len(w.Fields))
	for f := range w.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	out := make([]FieldSource, 0, len(names))
	for _, f := range names {
		fs := m.explainField(attrs, f, w.Fields[f])
		switch {
		case slices.Contains(w.Defaulted, f):
			fs.Rule, fs.From = RuleDefault, "users.defaults."+f+" (the request's value is none of the org's "+f+" values)"
		case slices.Contains(w.Truncated, f):
			fs.Rule, fs.From = RuleNormalisation, fs.From+", truncated to the length Salesforce allows"
		case slices.Contains(w.Derived, f) && fs.Rule != RuleDefault:
			fs.Rule, fs.From = RuleDerivation, derivedFrom(f)
		}
		out = append(out, fs)
	}
	for _, c := range w.Conflicts {
		out = append(out, FieldSource{Field: c.Field, Rule: RuleConflict, From: strings.Join(c.Attributes, " and ") + " disagree; the one that changes the current record wins"})
	}
	return out
}

func (m *UserMapper) explainField(attrs map[string]any, field string, value any) FieldSource {
	fs := FieldSource{Field: field, Value: value}
	slots := m.fieldSlots[field]
	if value == nil {
		fs.Rule, fs.From = RuleCleared, slotPaths(slots)
		return fs
	}
	if attrs == nil {
		fs.Rule, fs.From = RuleMapping, slotPaths(slots)
		return fs
	}
	for _, s := range slots {
		v, ok := m.slotValue(attrs, s)
		if !ok || v == nil {
			continue
		}
		fs.From = displayPath(s)
		if fmt.Sprint(v) == fmt.Sprint(value) {
			fs.Rule = RuleMapping
		} else {
			fs.Rule, fs.Sent = RuleNormalisation, v
		}
		return fs
	}
	if d, ok := m.defaults[field]; ok && d == fmt.Sprint(value) {
		fs.Rule, fs.From = RuleDefault, "users.defaults."+field
		return fs
	}
	fs.Rule, fs.From = RuleDerivation, derivedFrom(field)
	return fs
}

// slotPaths names the SCIM attributes mapped to a field.
func slotPaths(slots []*slot) string {
	paths := make([]string, 0, len(slots))
	for _, s := range slots {
		paths = append(paths, displayPath(s))
	}
	return strings.Join(paths, " or ")
}

// derivedFrom says what a derived field is computed from (DESIGN.md "Users").
func derivedFrom(field string) string {
	switch field {
	case "Alias":
		return "name.givenName, name.familyName and userName (at most 8 characters)"
	case "CommunityNickname":
		return "userName's local part (made unique in the org)"
	case "Email":
		return "userName (an email address)"
	case "LastName":
		return "displayName's last word, else userName's local part"
	case "Username":
		return "userName with users.username_domain / users.username_suffix"
	}
	return "other attributes of the request"
}

// FieldAttributes names the SCIM attributes mapped to a Salesforce User field (the profile
// attribute for ProfileId), as UserWrite.Attributes names them; nil for a field no attribute feeds.
func (m *UserMapper) FieldAttributes(field string) []string {
	if field == "ProfileId" {
		return []string{profilePath}
	}
	var out []string
	for _, s := range m.fieldSlots[field] {
		out = append(out, s.key())
	}
	return out
}
