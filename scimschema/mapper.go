package scimschema

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/scim-bridge/scim-bridge/scimschema/setting"
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

// DefaultUserMappingConfig is the users section's defaults: the users.defaults values a create
// uses when the request gives none.
func DefaultUserMappingConfig() UserMappingConfig {
	return UserMappingConfig{Defaults: map[string]string{
		"profile":           "Standard User",
		"TimeZoneSidKey":    "America/Los_Angeles",
		"LocaleSidKey":      "en_US",
		"LanguageLocaleKey": "en_US",
		"EmailEncodingKey":  "UTF-8",
	}}
}

// Validate checks cfg completely and returns every problem, keyed relative to the users section
// (mapping[3].scim, defaults.profile, username_domain).
func (cfg UserMappingConfig) Validate() setting.FieldErrors {
	_, problems := buildUserMapper(cfg)
	return problems
}

// NewUserMapper validates cfg completely and builds the mapper. The error lists every problem, each
// naming its configuration key (`users.mapping[3].scim: unknown SCIM attribute "foo"`); it is a
// setting.FieldErrors.
func NewUserMapper(cfg UserMappingConfig) (*UserMapper, error) {
	m, problems := buildUserMapper(cfg)
	if len(problems) > 0 {
		return nil, problems.In("users")
	}
	return m, nil
}

// buildUserMapper is the one place the users section's rules live: building the mapper and
// checking the configuration are the same walk. m is nil when there are problems.
func buildUserMapper(cfg UserMappingConfig) (m *UserMapper, problems setting.FieldErrors) {
	m = &UserMapper{
		schemas:          newUserSchemas(),
		paths:            newPathMemo(),
		fieldSlots:       map[string][]*slot{},
		requiredOverride: map[string]bool{},
		defaults:         map[string]string{},
		domain:           strings.ToLower(strings.TrimSpace(cfg.UsernameDomain)),
		suffix:           strings.ToLower(strings.TrimSpace(cfg.UsernameSuffix)),
		strictPicklists:  cfg.StrictPicklists,
	}
	t := m.defaultTable(&problems)
	m.applyEntries(t, cfg.Mapping, &problems)
	m.indexSlots(t, &problems)
	m.applyDefaults(cfg.Defaults, &problems)
	if cfg.UsernameDomain != "" && !usernameDomainPattern.MatchString(cfg.UsernameDomain) {
		problems.Add("username_domain", "must be a lower-case domain such as acme.com")
	}
	if cfg.UsernameSuffix != "" && !usernameSuffixPattern.MatchString(cfg.UsernameSuffix) {
		problems.Add("username_suffix", "must be a dot and lower-case letters or digits, such as .uat")
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return m, nil
}

// mappingTable is the mapping while users.mapping is applied to the default table.
type mappingTable struct {
	byKey  map[string]*slot // lower-cased SCIM path → slot
	order  []string         // keys of byKey: default-table order, then added entries
	origin map[*slot]int    // slot → index of the users.mapping entry that set it
}

// defaultTable is the built-in mapping (userfields.go). An entry that does not parse is a bug of
// the table, not of the configuration, but it is reported like a problem rather than a panic.
func (m *UserMapper) defaultTable(problems *setting.FieldErrors) *mappingTable {
	t := &mappingTable{byKey: map[string]*slot{}, origin: map[*slot]int{}}
	for _, d := range defaultMapping() {
		s, err := m.schemas.parseSlot(d[0])
		if err != nil {
			problems.Add("mapping", "the built-in default mapping of %s does not parse (%v): a bug of scim-bridge", d[0], err)
			continue
		}
		s.field, s.onUpdate = d[1], true
		k := strings.ToLower(s.key())
		t.byKey[k] = s
		t.order = append(t.order, k)
	}
	return t
}

// applyEntries applies the users.mapping entries to t: each adds, replaces, removes or adjusts one
// SCIM path's mapping.
func (m *UserMapper) applyEntries(t *mappingTable, entries []MappingEntry, problems *setting.FieldErrors) {
	seen := map[string]int{}
	for i, e := range entries {
		key := fmt.Sprintf("mapping[%d]", i)
		s, err := m.schemas.parseSlot(e.SCIM)
		if err != nil {
			problems.Add(key+".scim", "%v", err)
			continue
		}
		k := strings.ToLower(s.key())
		if j, dup := seen[k]; dup {
			problems.Add(key+".scim", "%q is already mapped by users.mapping[%d]", s.key(), j)
			continue
		}
		seen[k] = i
		field := strings.TrimSpace(e.Salesforce)
		if field == "" {
			existing, ok := t.byKey[k]
			switch {
			case !ok:
				problems.Add(key+".salesforce", "must name the Salesforce User field %q maps to", s.key())
			case e.OnUpdate != nil || e.Required != nil:
				m.applyFlags(existing, e)
			case existing.field == "Username":
				problems.Add(key+".salesforce", "userName cannot be unmapped: it is the Salesforce Username")
			default:
				delete(t.byKey, k)
			}
			continue
		}
		if problem := fieldRefusal(s, field); problem != "" {
			problems.Add(key+".salesforce", "%s", problem)
			continue
		}
		s.field, s.onUpdate = field, true
		if _, ok := t.byKey[k]; !ok {
			t.order = append(t.order, k)
		}
		t.byKey[k] = s
		t.origin[s] = i
		m.applyFlags(s, e)
	}
}

// fieldRefusal says why the SCIM slot s cannot map to the Salesforce User field, or "".
func fieldRefusal(s *slot, field string) string {
	switch {
	case !validFieldName(field):
		return fmt.Sprintf("%q is not a Salesforce field name (letters, digits and single underscores; custom fields end in __c)", field)
	case reservedField(field) != "":
		return fmt.Sprintf("%s cannot be mapped: %s", field, reservedField(field))
	case s.urn == "" && s.attr == "userName" && field != "Username":
		return "userName can only map to Username"
	case field == "Username" && !(s.urn == "" && s.attr == "userName"):
		return "only userName can map to Username"
	}
	return ""
}

// indexSlots records t's slots in m, per Salesforce field; two slots feeding one field from the
// same schema are a problem of the later entry.
func (m *UserMapper) indexSlots(t *mappingTable, problems *setting.FieldErrors) {
	for _, k := range t.order {
		s, ok := t.byKey[k]
		if !ok {
			continue
		}
		prev := m.fieldSlots[s.field]
		for _, p := range prev {
			if p.sfExtension() == s.sfExtension() {
				later, earlier := s, p
				if _, ok := t.origin[s]; !ok {
					later, earlier = p, s
				}
				problems.Add(fmt.Sprintf("mapping[%d].salesforce", t.origin[later]), "%s is already mapped from %q", s.field, earlier.key())
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
}

// applyDefaults records users.defaults: the default profile and field values.
func (m *UserMapper) applyDefaults(defaults map[string]string, problems *setting.FieldErrors) {
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(defaults[k])
		key := "defaults." + k
		switch {
		case v == "":
			problems.Add(key, "must not be empty")
		case strings.EqualFold(k, "profile"):
			m.defaultProfile = v
		case !validFieldName(k):
			problems.Add(key, "must be \"profile\" or a Salesforce User field name such as TimeZoneSidKey")
		case reservedField(k) != "" || k == "Username":
			problems.Add(key, "%s cannot have a default", k)
		case maxLength(k) > 0 && utf8.RuneCountInString(v) > maxLength(k):
			problems.Add(key, "is longer than %d characters", maxLength(k))
		default:
			m.defaults[k] = v
		}
	}
}

var (
	usernameDomainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	usernameSuffixPattern = regexp.MustCompile(`^\.[a-z0-9]+$`)
)

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
