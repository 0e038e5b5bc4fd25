package scimschema

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// This file holds what the bridge fills in itself on a User write: the users.defaults and the
// values it derives (LastName, Email, Alias, CommunityNickname) when no attribute gives them.

// fillCreate completes a create with defaults and derived values and checks required fields.
// LastName is derived from displayName's last word, else from userName's local part (service
// accounts and meeting rooms have no family name), unless users.mapping makes it required.
func (m *UserMapper) fillCreate(w *UserWrite, attrs map[string]any, userName string, source map[string]string) error {
	if _, err := m.UsernameToSalesforce(userName); err != nil {
		return err
	}
	derive := func(field, value, how string) {
		if _, ok := w.Fields[field]; ok || value == "" {
			return
		}
		if required, overridden := m.requiredOverride[field]; overridden && required {
			return
		}
		w.Fields[field] = value
		w.Derived = append(w.Derived, field)
		source[field] = how
	}
	if m.fieldSlots["LastName"] != nil {
		display, _ := get(attrs, "displayName")
		derive("LastName", deriveLastName(display, m.withDomain(userName)), "the last name derived from displayName or userName")
	}
	// Salesforce requires Email: a userName that is an email address stands in for it.
	if e := m.withDomain(userName); isEmail(e) {
		derive("Email", e, "the email derived from userName")
	}
	given, _ := m.nameValue(attrs, "givenName")
	family, _ := m.nameValue(attrs, "familyName")
	if family == "" {
		family, _ = w.Fields["LastName"].(string)
	}
	derive("Alias", deriveAlias(given, family, m.withDomain(userName)), "the alias derived from name and userName")
	derive("CommunityNickname", deriveNickname(m.withDomain(userName)), "the community nickname derived from userName")
	for field, v := range m.defaults {
		if _, ok := w.Fields[field]; !ok {
			w.Fields[field] = v
			source[field] = "users.defaults." + field
		}
	}
	required := map[string]bool{"Username": true, "LastName": true, "Email": true, "Alias": true,
		"TimeZoneSidKey": true, "LocaleSidKey": true, "EmailEncodingKey": true, "LanguageLocaleKey": true, "CommunityNickname": true}
	for f, r := range m.requiredOverride {
		if r {
			required[f] = true
		}
	}
	fields := make([]string, 0, len(required))
	for f := range required {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		if v, ok := w.Fields[f]; ok && v != nil {
			continue
		}
		if src, ok := source[f]; ok {
			return Errorf(KindInvalidValue, "%s is required: Salesforce needs %s", src, f)
		}
		return Errorf(KindInvalidValue, "Salesforce needs %s: map a SCIM attribute to it in users.mapping or set users.defaults.%s", f, f)
	}
	return nil
}

// deriveLastName is displayName's last word, else userName's local part.
func deriveLastName(displayName any, userName string) string {
	if d, err := toString(displayName); err == nil {
		if words := strings.Fields(d); len(words) > 0 {
			return words[len(words)-1]
		}
	}
	local, _, _ := strings.Cut(userName, "@")
	return local
}

// nameValue reads name.<sub> from a full representation.
func (m *UserMapper) nameValue(attrs map[string]any, sub string) (string, bool) {
	n, _ := get(attrs, "name")
	obj, ok := toMap(n)
	if !ok {
		return "", false
	}
	v, _ := get(obj, sub)
	s, err := toString(v)
	return s, err == nil && s != ""
}

// Rederive fills w.Rederive's fields from the current record (and the values w itself sets):
// Alias from the name and Username, CommunityNickname from the Username's local part (the caller
// makes it unique). It answers a PATCH that removes an attribute the bridge derives.
func (m *UserMapper) Rederive(w *UserWrite, current map[string]any) {
	value := func(f string) string {
		if v, ok := w.Fields[f]; ok {
			s, _ := v.(string)
			return s
		}
		return fieldString(current[f])
	}
	for _, f := range w.Rederive {
		switch f {
		case "Alias":
			w.Fields[f] = deriveAlias(value("FirstName"), value("LastName"), value("Username"))
		case "CommunityNickname":
			w.Fields[f] = deriveNickname(value("Username"))
		}
		w.Derived = append(w.Derived, f)
	}
	w.Rederive = nil
}

// derivedField reports whether the bridge derives the field itself when no attribute gives it:
// removing its attribute derives it again.
func derivedField(field string) bool { return field == "Alias" || field == "CommunityNickname" }

// deriveAlias builds an Alias (at most 8 characters) from the first letter of the given name and
// the family name, ASCII letters and digits only, lower-case; else from the userName's local part.
func deriveAlias(given, family, userName string) string {
	a := asciiAlnum(firstRune(given)) + asciiAlnum(family)
	if a == "" {
		local, _, _ := strings.Cut(userName, "@")
		a = asciiAlnum(local)
	}
	if a == "" {
		a = "user"
	}
	if len(a) > 8 {
		a = a[:8]
	}
	return a
}

// deriveNickname builds a CommunityNickname (at most 40 characters) from the userName's local
// part. It must be unique in the org: the backend resolves collisions.
func deriveNickname(userName string) string {
	local, _, _ := strings.Cut(userName, "@")
	if local == "" {
		local = userName
	}
	if utf8.RuneCountInString(local) > 40 {
		local = string([]rune(local)[:40])
	}
	return local
}

func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}
