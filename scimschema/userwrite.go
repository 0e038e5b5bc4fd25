package scimschema

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Picklists maps a restricted picklist field (TimeZoneSidKey, LocaleSidKey, …) to its active values,
// as read from the org's User describe. A field that is missing is not validated.
type Picklists map[string][]string

// UserWrite is what one SCIM write asks of Salesforce, mapped but not yet sent.
type UserWrite struct {
	// Fields are the User fields to send (never Id, IsActive or ProfileId); a nil value clears the field.
	Fields map[string]any
	// Profile is the profile name or id to set; "" leaves it as is (ForCreate fills the default).
	Profile string
	// Active is the requested active state; nil when the request does not mention it.
	Active *bool
	// PermissionSets is the change to the Salesforce extension's permissionSets; nil when not mentioned.
	PermissionSets *MemberChange
	// Attributes are the SCIM attribute paths written, sorted, for the audit line (names, no values).
	Attributes []string
	// Skipped are the SCIM attributes ignored because their mapping has on_update: false.
	Skipped []string
}

// MemberChange is a change to a set of memberships (group members, a user's permission sets).
type MemberChange struct {
	// Replace means Add is the complete desired set (PUT, replace); otherwise the change is incremental.
	Replace bool
	// Add holds the ids or names to add (with Replace: the desired set, possibly empty).
	Add []string
	// Remove holds the ids or names to remove (never set with Replace).
	Remove []string
}

type writeMode int

const (
	modeCreate writeMode = iota
	modeReplace
	modePatch
)

// collected is what a SCIM request says about the mapped values, before it becomes fields.
type collected struct {
	values   map[*slot]any // mentioned slots: a string, or nil to clear
	active   *bool
	profile  *string
	permSets *MemberChange
	skipped  map[string]bool
	written  map[string]bool // attribute paths other than slots (active, profile, permissionSets)
}

func newCollected() *collected {
	return &collected{values: map[*slot]any{}, skipped: map[string]bool{}, written: map[string]bool{}}
}

// setSlot records a value for s: v is a SCIM value (string-like) or nil to clear. In an update a
// slot whose mapping has on_update: false is only recorded as skipped.
func (c *collected) setSlot(mode writeMode, s *slot, v any) error {
	if mode != modeCreate && !s.onUpdate {
		c.skipped[s.key()] = true
		return nil
	}
	str, err := toString(v)
	if err != nil {
		return Errorf(KindInvalidValue, "%s must be a string", s.key())
	}
	if str == "" {
		c.values[s] = nil
	} else {
		c.values[s] = str
	}
	return nil
}

const (
	profilePath        = SalesforceUserURN + ":profile"
	permissionSetsPath = SalesforceUserURN + ":permissionSets"
)

// ForCreate maps a POST /Users body (validated by the SCIM library: schema-cased names, extension
// attributes nested under their URN) to a create. Missing required Salesforce values come from
// users.defaults or are derived; what is still missing or invalid is a KindInvalidValue *Error
// naming the attribute.
func (m *UserMapper) ForCreate(attrs map[string]any, pl Picklists) (UserWrite, error) {
	c, err := m.collectResource(attrs, modeCreate)
	if err != nil {
		return UserWrite{}, err
	}
	return m.assemble(c, modeCreate, attrs, pl)
}

// ForReplace maps a PUT /Users body. Mapped attributes with on_update true are applied: optional
// fields whose attributes are absent are cleared; a Salesforce-required field whose attributes are
// absent is a 400 unless its mapping says required: false (then it is left as is). Fields the
// bridge can default or derive (Alias, CommunityNickname, the locale keys) and externalId's field
// are left as they are when absent: SCIM clients that never set externalId do not send it back,
// and clearing a federation id on a profile push would break single sign-on. profile and
// permissionSets are only changed when present.
func (m *UserMapper) ForReplace(attrs map[string]any, pl Picklists) (UserWrite, error) {
	c, err := m.collectResource(attrs, modeReplace)
	if err != nil {
		return UserWrite{}, err
	}
	return m.assemble(c, modeReplace, attrs, pl)
}

// collectResource reads every mapped slot from a full representation.
func (m *UserMapper) collectResource(attrs map[string]any, mode writeMode) (*collected, error) {
	c := newCollected()
	for _, s := range m.slots {
		v, ok := m.slotValue(attrs, s)
		if !ok {
			continue
		}
		if err := c.setSlot(mode, s, v); err != nil {
			return nil, err
		}
	}
	if v, ok := get(attrs, "active"); ok && v != nil {
		b, err := toBool(v)
		if err != nil {
			return nil, Errorf(KindInvalidValue, "active must be a boolean")
		}
		c.active = &b
	}
	ext, _ := get(attrs, SalesforceUserURN)
	if extMap, ok := toMap(ext); ok {
		if v, ok := get(extMap, "profile"); ok && v != nil {
			p, err := toString(v)
			if err != nil {
				return nil, Errorf(KindInvalidValue, "%s must be a string", profilePath)
			}
			if p = strings.TrimSpace(p); p != "" {
				c.profile = &p
			}
		}
		if v, ok := get(extMap, "permissionSets"); ok && v != nil {
			ids, err := memberValues(v)
			if err != nil {
				return nil, Errorf(KindInvalidValue, "%s must be a list of {\"value\": id or API name}", permissionSetsPath)
			}
			c.permSets = &MemberChange{}
			c.permSets.replace(ids)
		}
	}
	return c, nil
}

// slotValue finds the value of s in a full representation; ok is false when the attribute is
// absent (a present attribute with an empty value is ("", true)).
func (m *UserMapper) slotValue(attrs map[string]any, s *slot) (any, bool) {
	container := attrs
	if s.urn != "" {
		ext, _ := get(attrs, s.urn)
		var ok bool
		if container, ok = toMap(ext); !ok {
			return nil, false
		}
	}
	v, ok := get(container, s.attr)
	if !ok || v == nil {
		return nil, false
	}
	switch {
	case s.typ != "":
		el, ok := selectElement(s, toList(v))
		if !ok {
			return nil, false
		}
		sv, ok := get(el, s.sub)
		return sv, ok && sv != nil
	case s.sub != "":
		obj, isMap := toMap(v)
		if !isMap {
			// Entra sends manager as a bare id.
			if str, isStr := v.(string); isStr && strings.EqualFold(s.sub, "value") {
				return str, true
			}
			return nil, false
		}
		sv, ok := get(obj, s.sub)
		return sv, ok && sv != nil
	}
	return v, true
}

// selectElement picks the element of a multi-valued attribute that feeds s: the element of s's
// type, and for the primary email the primary element, else the work one, else the first.
func selectElement(s *slot, list []any) (map[string]any, bool) {
	if el, ok := designatedElement(s, list); ok {
		return el, true
	}
	if s.isPrimaryEmail() {
		for _, e := range list {
			if m, ok := toMap(e); ok {
				return m, true
			}
		}
	}
	return nil, false
}

// designatedElement picks the element that names itself as feeding s: for the primary email the
// primary element, else the one of s's type. Unlike selectElement it never falls back to the first
// element, so a PATCH that adds or removes a second, non-primary email leaves Email alone.
func designatedElement(s *slot, list []any) (map[string]any, bool) {
	var elems []map[string]any
	for _, e := range list {
		if m, ok := toMap(e); ok {
			elems = append(elems, m)
		}
	}
	if s.isPrimaryEmail() {
		for _, e := range elems {
			if p, ok := get(e, "primary"); ok {
				if b, err := toBool(p); err == nil && b {
					return e, true
				}
			}
		}
	}
	for _, e := range elems {
		if t, ok := get(e, "type"); ok {
			if ts, ok := t.(string); ok && strings.EqualFold(ts, s.typ) {
				return e, true
			}
		}
	}
	return nil, false
}

// assemble turns collected values into a UserWrite: it picks, per Salesforce field, the value of
// its highest-priority slot, applies the mode's rules for absent values, fills defaults and
// derivations on create and validates every value.
func (m *UserMapper) assemble(c *collected, mode writeMode, attrs map[string]any, pl Picklists) (UserWrite, error) {
	w := UserWrite{Fields: map[string]any{}, Active: c.active, PermissionSets: c.permSets}
	written := map[string]bool{}
	for k := range c.written {
		written[k] = true
	}
	source := map[string]string{} // field → attribute path for messages
	var userName string

	for _, field := range m.fields {
		var consider []*slot
		for _, s := range m.fieldSlots[field] {
			if mode == modeCreate || s.onUpdate {
				consider = append(consider, s)
			}
		}
		if len(consider) == 0 {
			continue
		}
		source[field] = displayPath(consider[len(consider)-1])
		var val any
		var from *slot
		var mentioned []*slot
		for _, s := range consider {
			v, ok := c.values[s]
			if !ok {
				continue
			}
			mentioned = append(mentioned, s)
			if v != nil && val == nil {
				val, from = v, s
			}
		}
		if val != nil {
			source[field] = displayPath(from)
			if field == "Username" {
				userName = val.(string)
			}
			w.Fields[field] = val
			for _, s := range mentioned {
				written[s.key()] = true
			}
			continue
		}
		// No value for the field.
		keepAsIs := false
		switch mode {
		case modeCreate:
			continue // defaults and derivations below
		case modePatch:
			if len(mentioned) == 0 {
				continue
			}
		case modeReplace:
			for _, s := range consider {
				if s.urn == "" && s.attr == "externalId" && len(mentioned) == 0 {
					keepAsIs = true
				}
			}
		}
		if keepAsIs {
			continue
		}
		override, overridden := m.requiredOverride[field]
		required := requiredField(field) || overridden && override
		if requiredField(field) && (fallbackField(field) || overridden && !override) {
			continue // left as it is: defaulted or derived on create, or made optional by users.mapping
		}
		if required {
			if mode == modePatch {
				return UserWrite{}, Errorf(KindInvalidValue, "%s cannot be removed: Salesforce needs %s", source[field], field)
			}
			return UserWrite{}, Errorf(KindInvalidValue, "%s is required: Salesforce needs %s", source[field], field)
		}
		w.Fields[field] = nil
		for _, s := range consider {
			written[s.key()] = true
		}
	}

	if mode == modeCreate {
		if err := m.fillCreate(&w, c, attrs, userName, source); err != nil {
			return UserWrite{}, err
		}
	}
	if err := m.validateFields(w.Fields, pl, source); err != nil {
		return UserWrite{}, err
	}

	if c.profile != nil {
		w.Profile = *c.profile
		written[profilePath] = true
	}
	if mode == modeCreate && w.Profile == "" {
		w.Profile = m.defaultProfile
		if w.Profile == "" {
			return UserWrite{}, Errorf(KindInvalidValue, "%s is required: Salesforce needs a profile; set users.defaults.profile", profilePath)
		}
	}
	if c.active != nil {
		written["active"] = true
	}
	if c.permSets != nil {
		written[permissionSetsPath] = true
	}
	w.Attributes = sortedKeys(written)
	w.Skipped = sortedKeys(c.skipped)
	return w, nil
}

// displayPath names a slot in messages: the primary email is simply "emails".
func displayPath(s *slot) string {
	if s.isPrimaryEmail() {
		return "emails"
	}
	return s.key()
}

// fillCreate completes a create with defaults and derived values and checks required fields.
func (m *UserMapper) fillCreate(w *UserWrite, c *collected, attrs map[string]any, userName string, source map[string]string) error {
	if _, err := m.UsernameToSalesforce(userName); err != nil {
		return err
	}
	if _, ok := w.Fields["LastName"]; !ok && m.fieldSlots["LastName"] != nil {
		return Errorf(KindInvalidValue, "%s is required: Salesforce needs LastName", source["LastName"])
	}
	if _, ok := w.Fields["Email"]; !ok {
		// Salesforce requires Email: a userName that is an email address stands in for it.
		if e := m.withDomain(userName); isEmail(e) {
			w.Fields["Email"] = e
		}
	}
	if _, ok := w.Fields["Alias"]; !ok {
		given, _ := m.nameValue(attrs, "givenName")
		family, _ := m.nameValue(attrs, "familyName")
		w.Fields["Alias"] = deriveAlias(given, family, m.withDomain(userName))
		source["Alias"] = "the alias derived from name and userName"
	}
	if _, ok := w.Fields["CommunityNickname"]; !ok {
		w.Fields["CommunityNickname"] = deriveNickname(m.withDomain(userName))
		source["CommunityNickname"] = "the community nickname derived from userName"
	}
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

// validateFields transforms and checks every value about to be sent: Username transforms, email
// form, User ids, lengths (reference §3.3) and restricted picklists.
func (m *UserMapper) validateFields(fields map[string]any, pl Picklists, source map[string]string) error {
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		v, ok := fields[f].(string)
		if !ok {
			continue
		}
		attr := source[f]
		if attr == "" {
			attr = f
		}
		switch f {
		case "Username":
			u, err := m.UsernameToSalesforce(v)
			if err != nil {
				return err
			}
			fields[f] = u
			continue
		case "Email":
			if !isEmail(v) {
				return Errorf(KindInvalidValue, "%s must be an email address (name@domain)", attr)
			}
		case "ManagerId":
			if !looksLikeID(v, "005") {
				return Errorf(KindInvalidValue, "%s must be the id of a Salesforce User (18 characters, starting 005)", attr)
			}
		}
		if values, ok := pl[f]; ok {
			canonical, ok := pickValue(values, v)
			if !ok {
				return Errorf(KindInvalidValue, "%s must be one of the org's %s values, e.g. %s", attr, f, examples(f, values))
			}
			fields[f] = canonical
			v = canonical
		}
		if max := maxLength(f); max > 0 && utf8.RuneCountInString(v) > max {
			return Errorf(KindInvalidValue, "%s is longer than %d characters (Salesforce %s)", attr, max, f)
		}
	}
	return nil
}

// pickValue finds v among a picklist's values: exactly, then ignoring case, then with "-" read as
// "_" — IdPs send BCP 47 tags such as "en-US" where Salesforce wants "en_US". The picklist's own
// spelling is returned.
func pickValue(values []string, v string) (string, bool) {
	for _, a := range values {
		if a == v {
			return a, true
		}
	}
	for _, a := range values {
		if strings.EqualFold(a, v) {
			return a, true
		}
	}
	alt := strings.ReplaceAll(v, "-", "_")
	for _, a := range values {
		if strings.EqualFold(a, alt) {
			return a, true
		}
	}
	return "", false
}

// examples lists a few accepted values of a picklist for an error message, well-known ones first.
func examples(field string, values []string) string {
	preferred := map[string][]string{
		"TimeZoneSidKey":    {"America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Paris", "Asia/Tokyo"},
		"LocaleSidKey":      {"en_US", "en_GB", "de_DE", "fr_FR", "ja_JP"},
		"LanguageLocaleKey": {"en_US", "de", "fr", "es", "ja"},
		"EmailEncodingKey":  {"UTF-8", "ISO-8859-1", "Shift_JIS"},
	}[field]
	var out []string
	for _, p := range preferred {
		if contains(values, p) && len(out) < 5 {
			out = append(out, p)
		}
	}
	for _, v := range values {
		if len(out) >= 5 {
			break
		}
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	quoted := make([]string, len(out))
	for i, v := range out {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(quoted, ", ")
}

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

func asciiAlnum(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
