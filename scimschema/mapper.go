package scimschema

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// MappingEntry is one users.mapping entry: a SCIM attribute path and the Salesforce User field it
// maps to. OnUpdate (default true) decides whether PUT and PATCH apply it; Required overrides
// whether the field must have a value on update.
type MappingEntry struct {
	SCIM, Salesforce string
	OnUpdate         *bool
	Required         *bool
}

// UserMappingConfig is the users section of the configuration.
type UserMappingConfig struct {
	// Defaults holds "profile" (a profile name or id) and Salesforce User field values used on
	// create when the request gives none (TimeZoneSidKey, LocaleSidKey, LanguageLocaleKey,
	// EmailEncodingKey, or any other field).
	Defaults map[string]string
	// Mapping overrides and extends the default table. An entry whose Salesforce is "" removes the
	// default mapping of its SCIM path, unless it only sets OnUpdate or Required: then it adjusts
	// the default mapping's flags.
	Mapping []MappingEntry
	// UsernameDomain turns a userName that is not an email ("jdoe") into "jdoe@<domain>", and back.
	UsernameDomain string
	// UsernameSuffix is appended to Salesforce usernames ("alice@acme.com" ⇄ "alice@acme.com.uat").
	UsernameSuffix string
	// StrictPicklists refuses (400) a language, locale or time zone the org lacks instead of
	// writing the users.defaults value.
	StrictPicklists bool
}

// UserMapper maps SCIM Users to Salesforce Users and back. It is immutable once built and safe for
// concurrent use.
type UserMapper struct {
	schemas userSchemas
	// slots are the mapped SCIM values, in default-table order followed by added entries.
	slots []*slot
	// fieldSlots lists, per Salesforce field, the slots feeding it, the Salesforce extension first.
	fieldSlots map[string][]*slot
	fields     []string // mapped fields in slot order
	// requiredOverride holds users.mapping's required flags per field.
	requiredOverride map[string]bool
	defaults         map[string]string // Salesforce field → default value
	defaultProfile   string
	domain, suffix   string
	strictPicklists  bool
	paths            *pathMemo // attribute paths parsed per request
}

// NewUserMapper validates cfg completely and builds the mapper. The error lists every problem, each
// naming its configuration key (`users.mapping[3].scim: unknown SCIM attribute "foo"`).
func NewUserMapper(cfg UserMappingConfig) (*UserMapper, error) {
	m := &UserMapper{
		schemas:          newUserSchemas(),
		paths:            newPathMemo(),
		fieldSlots:       map[string][]*slot{},
		requiredOverride: map[string]bool{},
		defaults:         map[string]string{},
		domain:           strings.ToLower(strings.TrimSpace(cfg.UsernameDomain)),
		suffix:           strings.ToLower(strings.TrimSpace(cfg.UsernameSuffix)),
		strictPicklists:  cfg.StrictPicklists,
	}
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	byKey := map[string]*slot{}
	var order []string
	for _, d := range defaultMapping() {
		s, err := m.schemas.parseSlot(d[0])
		if err != nil {
			return nil, fmt.Errorf("default mapping %s: %w", d[0], err) // a bug, not a configuration problem
		}
		s.field, s.onUpdate = d[1], true
		k := strings.ToLower(s.key())
		byKey[k] = s
		order = append(order, k)
	}

	origin := map[*slot]int{} // slot → index of the entry that set it
	seen := map[string]int{}
	for i, e := range cfg.Mapping {
		key := fmt.Sprintf("users.mapping[%d]", i)
		s, err := m.schemas.parseSlot(e.SCIM)
		if err != nil {
			fail(key+".scim", "%v", err)
			continue
		}
		k := strings.ToLower(s.key())
		if j, dup := seen[k]; dup {
			fail(key+".scim", "%q is already mapped by users.mapping[%d]", s.key(), j)
			continue
		}
		seen[k] = i
		field := strings.TrimSpace(e.Salesforce)
		if field == "" {
			existing, ok := byKey[k]
			switch {
			case !ok:
				fail(key+".salesforce", "must name the Salesforce User field %q maps to", s.key())
			case e.OnUpdate != nil || e.Required != nil:
				m.applyFlags(existing, e)
			case existing.field == "Username":
				fail(key+".salesforce", "userName cannot be unmapped: it is the Salesforce Username")
			default:
				delete(byKey, k)
			}
			continue
		}
		switch {
		case !validFieldName(field):
			fail(key+".salesforce", "%q is not a Salesforce field name (letters, digits and single underscores; custom fields end in __c)", field)
			continue
		case reservedField(field) != "":
			fail(key+".salesforce", "%s cannot be mapped: %s", field, reservedField(field))
			continue
		case s.urn == "" && s.attr == "userName" && field != "Username":
			fail(key+".salesforce", "userName can only map to Username")
			continue
		case field == "Username" && !(s.urn == "" && s.attr == "userName"):
			fail(key+".salesforce", "only userName can map to Username")
			continue
		}
		s.field, s.onUpdate = field, true
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = s
		origin[s] = i
		m.applyFlags(s, e)
	}

	for _, k := range order {
		s, ok := byKey[k]
		if !ok {
			continue
		}
		prev := m.fieldSlots[s.field]
		for _, p := range prev {
			if p.sfExtension() == s.sfExtension() {
				later, earlier := s, p
				if _, ok := origin[s]; !ok {
					later, earlier = p, s
				}
				fail(fmt.Sprintf("users.mapping[%d].salesforce", origin[later]), "%s is already mapped from %q", s.field, earlier.key())
			}
		}
		if len(prev) == 0 {
			m.fields = append(m.fields, s.field)
		}
		if s.sfExtension() {
			m.fieldSlots[s.field] = append([]*slot{s}, prev...)
		} else {
			m.fieldSlots[s.field] = append(prev, s)
		}
		m.slots = append(m.slots, s)
	}

	defaultKeys := make([]string, 0, len(cfg.Defaults))
	for k := range cfg.Defaults {
		defaultKeys = append(defaultKeys, k)
	}
	sort.Strings(defaultKeys)
	for _, k := range defaultKeys {
		v := strings.TrimSpace(cfg.Defaults[k])
		key := "users.defaults." + k
		switch {
		case v == "":
			fail(key, "must not be empty")
		case strings.EqualFold(k, "profile"):
			m.defaultProfile = v
		case !validFieldName(k):
			fail(key, "must be \"profile\" or a Salesforce User field name such as TimeZoneSidKey")
		case reservedField(k) != "" || k == "Username":
			fail(key, "%s cannot have a default", k)
		case maxLength(k) > 0 && utf8.RuneCountInString(v) > maxLength(k):
			fail(key, "is longer than %d characters", maxLength(k))
		default:
			m.defaults[k] = v
		}
	}

	if d := m.domain; d != "" && (strings.ContainsAny(d, "@ ") || !validDomain(d)) {
		fail("users.username_domain", "must be a domain such as example.com, without @")
	}
	if sfx := m.suffix; sfx != "" && (strings.ContainsAny(sfx, "@ ") || !validDomain("x"+sfx+".x")) {
		fail("users.username_suffix", "must be a domain suffix such as .uat")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

func (m *UserMapper) applyFlags(s *slot, e MappingEntry) {
	if e.OnUpdate != nil {
		s.onUpdate = *e.OnUpdate
	}
	if e.Required != nil {
		m.requiredOverride[s.field] = *e.Required
	}
}

// ReadFields returns every User field a read must select to build a resource: the fields the
// bridge itself needs and every mapped field.
func (m *UserMapper) ReadFields() []string {
	out := []string{"Id", "Username", "IsActive", "ProfileId", "CreatedDate", "LastModifiedDate", "SystemModstamp", "UserType"}
	if m.slot("", "displayName", "", "") == nil {
		out = append(out, "Name") // displayName reads as Name
	}
	seen := map[string]bool{}
	for _, f := range out {
		seen[f] = true
	}
	for _, f := range m.fields {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// ExternalIDField is the User field externalId maps to (FederationIdentifier unless users.mapping
// says otherwise), "" when it is unmapped. Managers are looked up by it.
func (m *UserMapper) ExternalIDField() string {
	if s := m.slot("", "externalId", "", ""); s != nil {
		return s.field
	}
	return ""
}

// slot returns the mapped slot with the given parts, or nil.
func (m *UserMapper) slot(urn, attr, typ, sub string) *slot {
	for _, s := range m.slots {
		if s.urn == urn && strings.EqualFold(s.attr, attr) && s.typ == typ && strings.EqualFold(s.sub, sub) {
			return s
		}
	}
	return nil
}

// slotsOf returns the mapped slots of one attribute.
func (m *UserMapper) slotsOf(urn, attr string) []*slot {
	var out []*slot
	for _, s := range m.slots {
		if s.urn == urn && strings.EqualFold(s.attr, attr) {
			out = append(out, s)
		}
	}
	return out
}

// UsernameToSalesforce turns a SCIM userName into a Salesforce Username: username_domain added to a
// name without "@", username_suffix appended (unless already there), lower-cased, then checked to
// be an email address of at most 80 characters.
func (m *UserMapper) UsernameToSalesforce(userName string) (string, error) {
	u := m.withDomain(userName)
	if u == "" {
		return "", Errorf(KindInvalidValue, "userName is required")
	}
	if m.suffix != "" && !strings.HasSuffix(u, m.suffix) {
		u += m.suffix
	}
	if !isEmail(u) {
		if m.domain == "" && !strings.Contains(u, "@") {
			return "", Errorf(KindInvalidValue, "userName must be an email address (name@domain), or set users.username_domain")
		}
		return "", Errorf(KindInvalidValue, "userName must be an email address (name@domain): Salesforce usernames are emails")
	}
	if n := utf8.RuneCountInString(u); n > maxLength("Username") {
		return "", Errorf(KindInvalidValue, "userName is longer than %d characters (Salesforce Username, after users.username_domain and users.username_suffix)", maxLength("Username"))
	}
	return u, nil
}

// withDomain trims and lower-cases userName and adds username_domain when it has no "@".
func (m *UserMapper) withDomain(userName string) string {
	u := strings.ToLower(strings.TrimSpace(userName))
	if u != "" && m.domain != "" && !strings.Contains(u, "@") {
		u += "@" + m.domain
	}
	return u
}

// UsernameToSCIM reverses UsernameToSalesforce: it strips username_suffix and username_domain.
func (m *UserMapper) UsernameToSCIM(username string) string {
	u := username
	lower := strings.ToLower(u)
	if m.suffix != "" && strings.HasSuffix(lower, m.suffix) && len(u) > len(m.suffix) {
		u, lower = u[:len(u)-len(m.suffix)], lower[:len(lower)-len(m.suffix)]
	}
	if m.domain != "" && strings.HasSuffix(lower, "@"+m.domain) {
		u = u[:len(u)-len(m.domain)-1]
	}
	return u
}

// isEmail is a deliberately plain check of the form Salesforce wants: a local part without
// spaces, "@", and a domain of at least two dot-separated labels of letters, digits and hyphens.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.ContainsAny(local, " \t\r\n\"<>(),;:\\[]") || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	return validDomain(domain)
}

func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
