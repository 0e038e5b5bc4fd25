package scimschema

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

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

	// Defaulted are the picklist fields whose value matched nothing in the org: they got
	// users.defaults, or were left out when it has none.
	Defaulted []string
	// Truncated are the soft fields cut to the length Salesforce allows.
	Truncated []string
	// Derived are the fields the bridge filled because the request gave no value (LastName,
	// Alias, CommunityNickname, Email).
	Derived []string
	// Rederive are the derived fields whose attributes a PATCH removed: the caller derives them
	// again from the current record with Rederive.
	Rederive []string
	// Conflicts are the fields of a PUT that two attributes set to different values; the caller
	// settles them against the current record with SettleConflicts before writing.
	Conflicts []Conflict
}

// Conflict is a field that a core and an extension attribute of one PUT set differently.
type Conflict struct {
	Field string
	// Attributes are the SCIM paths, Values their (mapped, length-checked) values, in the same order.
	Attributes []string
	Values     []string
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
// users.defaults or are derived; soft values are normalised, defaulted or truncated (UserWrite
// says which); what is still missing or invalid is a KindInvalidValue *Error naming the attribute.
func (m *UserMapper) ForCreate(attrs map[string]any, org UserDescribe) (UserWrite, error) {
	c, err := m.collectResource(attrs, modeCreate)
	if err != nil {
		return UserWrite{}, err
	}
	return m.assemble(c, modeCreate, attrs, org)
}

// ForReplace maps a PUT /Users body. Mapped attributes with on_update true are applied: optional
// fields whose attributes are absent are cleared. Fields Salesforce requires and the bridge can
// default or derive (LastName, Email, Alias, CommunityNickname, the locale keys) and externalId's
// field are left as they are when absent, unless users.mapping says required: true (then absence
// is a 400): SCIM clients that never set externalId do not send it back, and clearing a federation
// id on a profile push would break single sign-on. profile and permissionSets are only changed
// when present. Two attributes of one field that disagree are reported in Conflicts.
func (m *UserMapper) ForReplace(attrs map[string]any, org UserDescribe) (UserWrite, error) {
	c, err := m.collectResource(attrs, modeReplace)
	if err != nil {
		return UserWrite{}, err
	}
	return m.assemble(c, modeReplace, attrs, org)
}

// collectResource reads every mapped slot from a full representation.
func (m *UserMapper) collectResource(attrs map[string]any, mode writeMode) (*collected, error) {
	if err := checkResourceCharacters(attrs); err != nil {
		return nil, err
	}
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

// assembly is a UserWrite being assembled, with what assemble tracks beside it.
type assembly struct {
	w         UserWrite
	written   map[string]bool   // attribute paths the write takes into account
	source    map[string]string // field → attribute path for messages
	userName  string
	conflicts []Conflict
}

// markWritten records the slots' attribute paths as written.
func (a *assembly) markWritten(slots []*slot) {
	for _, s := range slots {
		a.written[s.key()] = true
	}
}

// assemble turns collected values into a UserWrite: it picks, per Salesforce field, the value of
// its highest-priority slot, applies the mode's rules for absent values, fills defaults and
// derivations on create and validates every value.
func (m *UserMapper) assemble(c *collected, mode writeMode, attrs map[string]any, org UserDescribe) (UserWrite, error) {
	a := &assembly{
		w:       UserWrite{Fields: map[string]any{}, Active: c.active, PermissionSets: c.permSets},
		written: map[string]bool{},
		source:  map[string]string{},
	}
	for k := range c.written {
		a.written[k] = true
	}
	for _, field := range m.fields {
		if err := m.assembleField(a, c, mode, field); err != nil {
			return UserWrite{}, err
		}
	}
	if mode == modeCreate {
		if err := m.fillCreate(&a.w, attrs, a.userName, a.source); err != nil {
			return UserWrite{}, err
		}
	}
	if err := m.validateFields(&a.w, org, a.source, mode); err != nil {
		return UserWrite{}, err
	}
	for _, cf := range a.conflicts {
		m.keepConflict(&a.w, cf, org)
	}
	if err := m.assembleProfile(a, c, mode); err != nil {
		return UserWrite{}, err
	}
	if c.active != nil {
		a.written["active"] = true
	}
	if c.permSets != nil {
		a.written[permissionSetsPath] = true
	}
	a.w.Attributes = sortedKeys(a.written)
	a.w.Skipped = sortedKeys(c.skipped)
	return a.w, nil
}

// assembleField sets one Salesforce field from the slots the mode writes: the value of the first
// slot that has one (slots are in priority order); without one, assembleAbsent decides.
func (m *UserMapper) assembleField(a *assembly, c *collected, mode writeMode, field string) error {
	var consider []*slot
	for _, s := range m.fieldSlots[field] {
		if mode == modeCreate || s.onUpdate {
			consider = append(consider, s)
		}
	}
	if len(consider) == 0 {
		return nil
	}
	a.source[field] = displayPath(consider[len(consider)-1])
	val, from, mentioned, conflict := chooseValue(c, field, consider)
	if val == nil {
		return m.assembleAbsent(a, mode, field, consider, mentioned)
	}
	a.source[field] = displayPath(from)
	if field == "Username" {
		a.userName = val.(string)
	}
	a.w.Fields[field] = val
	a.markWritten(mentioned)
	if mode == modeReplace && len(conflict.Values) > 1 {
		a.conflicts = append(a.conflicts, conflict)
	}
	return nil
}

// chooseValue picks a field's value among its slots: the first non-empty value, from the slot
// from. mentioned are the slots the request gave (with a value or cleared); conflict lists the
// distinct values they gave, for a PUT whose attributes disagree.
func chooseValue(c *collected, field string, consider []*slot) (val any, from *slot, mentioned []*slot, conflict Conflict) {
	conflict = Conflict{Field: field}
	for _, s := range consider {
		v, ok := c.values[s]
		if !ok {
			continue
		}
		mentioned = append(mentioned, s)
		if v == nil {
			continue
		}
		if val == nil {
			val, from = v, s
		}
		if !slices.Contains(conflict.Values, v.(string)) {
			conflict.Attributes = append(conflict.Attributes, displayPath(s))
			conflict.Values = append(conflict.Values, v.(string))
		}
	}
	return val, from, mentioned, conflict
}

// assembleAbsent applies the mode's rule to a field none of whose slots has a value. A create
// leaves it to fillCreate's defaults and derivations. A PATCH that removed its attributes
// re-derives a derived field, leaves a field the bridge fills or Salesforce requires as it is (or
// refuses the removal) and clears the others. A PUT clears it unless Salesforce requires it,
// users.mapping makes it required (a 400) or it is externalId's field and externalId is absent.
func (m *UserMapper) assembleAbsent(a *assembly, mode writeMode, field string, consider, mentioned []*slot) error {
	override, overridden := m.requiredOverride[field]
	switch mode {
	case modeCreate:
		return nil
	case modePatch:
		if len(mentioned) == 0 {
			return nil
		}
		switch {
		case overridden && override:
			return Errorf(KindInvalidValue, "%s cannot be removed: users.mapping makes %s required", a.source[field], field)
		case derivedField(field):
			a.w.Rederive = append(a.w.Rederive, field)
			a.markWritten(mentioned)
			return nil
		case fallbackField(field), overridden && !override && requiredField(field):
			return nil // left as it is
		case requiredField(field):
			return Errorf(KindInvalidValue, "%s cannot be removed: Salesforce needs %s", a.source[field], field)
		}
	case modeReplace:
		keep := false
		for _, s := range consider {
			if s.urn == "" && s.attr == "externalId" && len(mentioned) == 0 {
				keep = true
			}
		}
		switch {
		case overridden && override:
			return Errorf(KindInvalidValue, "%s is required: users.mapping makes %s required", a.source[field], field)
		case field == "Username":
			return Errorf(KindInvalidValue, "userName is required")
		case keep || requiredField(field):
			return nil // left as it is
		}
	}
	a.w.Fields[field] = nil
	a.markWritten(consider)
	return nil
}

// assembleProfile sets the profile the request names; a create without one takes
// users.defaults.profile, and without that default it is refused.
func (m *UserMapper) assembleProfile(a *assembly, c *collected, mode writeMode) error {
	if c.profile != nil {
		a.w.Profile = *c.profile
		a.written[profilePath] = true
	}
	if mode == modeCreate && a.w.Profile == "" {
		a.w.Profile = m.defaultProfile
		if a.w.Profile == "" {
			return Errorf(KindInvalidValue, "%s is required: Salesforce needs a profile; set users.defaults.profile", profilePath)
		}
	}
	return nil
}

// displayPath names a slot in messages: the primary email is simply "emails".
func displayPath(s *slot) string {
	if s.isPrimaryEmail() {
		return "emails"
	}
	return s.key()
}

// validateFields transforms and checks every value about to be sent. Hard values (Username,
// Email, ids, phone numbers) are refused when malformed or too long. Soft values are forgiven:
// a restricted picklist value is normalised to the org's spelling, else replaced by
// users.defaults (a 400 only with users.strict_picklists); a soft text longer than the org's
// describe allows is truncated. ManagerId is left to the caller, which resolves it.
func (m *UserMapper) validateFields(w *UserWrite, org UserDescribe, source map[string]string, mode writeMode) error {
	fields := w.Fields
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
			continue
		}
		if values, ok := org.Picklists[f]; ok {
			canonical, ok := normalizePicklist(f, values, v, org.Zones)
			if !ok {
				if m.strictPicklists {
					return Errorf(KindInvalidValue, "%s must be one of the org's %s values, e.g. %s", attr, f, examples(f, values))
				}
				if attr == "users.defaults."+f {
					return Errorf(KindInvalidValue, "users.defaults.%s must be one of the org's %s values, e.g. %s", f, f, examples(f, values))
				}
				w.Defaulted = append(w.Defaulted, f)
				def, has := m.defaults[f]
				if has {
					def, has = normalizePicklist(f, values, def, org.Zones)
				}
				if !has {
					if mode == modeCreate && requiredField(f) {
						return Errorf(KindInvalidValue, "%s matches none of the org's %s values and users.defaults.%s gives none either", attr, f, f)
					}
					delete(fields, f) // left unset, or as it is
					continue
				}
				canonical = def
			}
			fields[f] = canonical
			v = canonical
		}
		max := org.Lengths[f]
		if max == 0 {
			max = maxLength(f)
		}
		if max > 0 && utf8.RuneCountInString(v) > max {
			if m.hardField(f) {
				return Errorf(KindInvalidValue, "%s is longer than %d characters (Salesforce %s)", attr, max, f)
			}
			fields[f] = string([]rune(v)[:max])
			w.Truncated = append(w.Truncated, f)
		}
	}
	return nil
}

// hardField reports whether a field holds hard data that is never truncated: the Username,
// emails, identifiers and phone numbers, or any field an identifier attribute maps to.
func (m *UserMapper) hardField(field string) bool {
	switch field {
	case "Username", "Email", "FederationIdentifier", "ManagerId", "EmployeeNumber", "Phone", "MobilePhone", "Fax":
		return true
	}
	for _, s := range m.fieldSlots[field] {
		switch s.attr {
		case "userName", "externalId", "emails", "phoneNumbers", "employeeNumber", "federationIdentifier", "manager":
			return true
		}
	}
	return false
}

// keepConflict records a PUT conflict in w.Conflicts unless the values agree once mapped (a long
// nickName and its truncated alias are no conflict).
func (m *UserMapper) keepConflict(w *UserWrite, cf Conflict, org UserDescribe) {
	var vals []string
	for _, v := range cf.Values {
		vals = append(vals, m.mappedValue(cf.Field, v, org))
	}
	cf.Values = vals
	if distinct := slices.Compact(slices.Sorted(slices.Values(vals))); len(distinct) > 1 {
		w.Conflicts = append(w.Conflicts, cf)
	}
}

// mappedValue is what a soft value becomes in Salesforce (normalised, truncated), for comparisons.
func (m *UserMapper) mappedValue(field, v string, org UserDescribe) string {
	if values, ok := org.Picklists[field]; ok {
		if c, ok := normalizePicklist(field, values, v, org.Zones); ok {
			v = c
		}
	}
	max := org.Lengths[field]
	if max == 0 {
		max = maxLength(field)
	}
	if max > 0 && !m.hardField(field) && utf8.RuneCountInString(v) > max {
		v = string([]rune(v)[:max])
	}
	return v
}

// SettleConflicts decides the fields of w.Conflicts against the current record: the attribute
// whose value differs from the record is the change and wins (a GET-modify-PUT echoes the other
// one unchanged). When more than one differs, the request contradicts itself: a KindInvalidValue
// naming the attributes.
func (m *UserMapper) SettleConflicts(w *UserWrite, current map[string]any) error {
	for _, cf := range w.Conflicts {
		cur := fieldString(current[cf.Field])
		var changed []int
		for i, v := range cf.Values {
			if v != cur {
				changed = append(changed, i)
			}
		}
		switch len(changed) {
		case 0:
			w.Fields[cf.Field] = cur
		case 1:
			w.Fields[cf.Field] = cf.Values[changed[0]]
		default:
			return Errorf(KindInvalidValue, "%s and %s both set Salesforce %s, to different values; send one of them, or the same value in both", cf.Attributes[changed[0]], cf.Attributes[changed[1]], cf.Field)
		}
	}
	w.Conflicts = nil
	return nil
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
