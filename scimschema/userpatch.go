package scimschema

import (
	"sort"
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// ForPatch maps RFC 7644 §3.5.2 operations to one update. It accepts what IdPs send: any op case,
// Entra's "True"/"False" strings, path-less add/replace whose value has plain, dotted
// ("name.givenName") and URN-prefixed keys or extension containers, Okta's "id" inside values,
// manager as a bare id, typed paths (`emails[type eq "work"].value`, `addresses[type eq
// "work"].locality`) and whole multi-valued attributes. Attributes the schema knows but the
// mapping does not are accepted and ignored; unknown paths are KindInvalidPath; groups and other
// read-only attributes are KindMutability; removing a value Salesforce requires is KindInvalidValue.
// Removing an attribute the bridge derives (nickName, a displayName mapped to CommunityNickname)
// lists its field in Rederive.
func (m *UserMapper) ForPatch(ops []PatchOp, org UserDescribe) (UserWrite, error) {
	c := newCollected()
	for _, op := range ops {
		name := strings.ToLower(strings.TrimSpace(op.Op))
		switch name {
		case "add", "replace", "remove":
		default:
			return UserWrite{}, Errorf(KindInvalidSyntax, "PATCH op must be add, remove or replace")
		}
		if op.Path == nil {
			if name == "remove" {
				return UserWrite{}, Errorf(KindNoTarget, "a remove operation needs a path")
			}
			obj, ok := toMap(op.Value)
			if !ok {
				return UserWrite{}, Errorf(KindInvalidValue, "a PATCH operation without path needs an object value")
			}
			if err := m.patchObject(c, name, "", obj); err != nil {
				return UserWrite{}, err
			}
			continue
		}
		if err := m.patchPath(c, name, *op.Path, op.Value); err != nil {
			return UserWrite{}, err
		}
	}
	return m.assemble(c, modePatch, nil, org)
}

// patchObject applies a path-less value: each key is an attribute path, relative to the extension
// urn when the object is an extension container.
func (m *UserMapper) patchObject(c *collected, op, urn string, obj map[string]any) error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		switch strings.ToLower(k) {
		case "id", "schemas", "meta":
			continue // Okta repeats the resource id in values
		}
		if _, ok := m.schemas.extensionByURN(k); ok || strings.EqualFold(k, UserSchemaURN) {
			inner, ok := toMap(v)
			if !ok {
				return Errorf(KindInvalidValue, "%s must be an object", k)
			}
			u := k
			if strings.EqualFold(k, UserSchemaURN) {
				u = ""
			}
			if err := m.patchObject(c, op, u, inner); err != nil {
				return err
			}
			continue
		}
		raw := k
		if urn != "" && !strings.HasPrefix(strings.ToLower(k), "urn:") {
			raw = urn + ":" + k
		}
		p, err := m.paths.path(raw)
		if err != nil {
			return Errorf(KindInvalidPath, "%q is not an attribute path", k)
		}
		if err := m.patchPath(c, op, p, v); err != nil {
			return err
		}
	}
	return nil
}

// patchPath applies one operation on a path: a whole extension, an attribute the bridge handles
// itself (active, profile, permissionSets, the read-only ones) or a mapped attribute.
func (m *UserMapper) patchPath(c *collected, op string, p filter.Path, value any) error {
	if ext, ok := m.schemas.wholeExtension(p.AttributePath); ok && p.ValueExpression == nil && p.SubAttribute == nil {
		return m.patchExtension(c, op, ext.ID, value)
	}
	ref, err := m.schemas.resolve(p.AttributePath, p.SubAttributeName())
	if err != nil {
		return Errorf(KindInvalidPath, "%v", err)
	}
	if op != "remove" {
		if err := checkPatchCharacters(ref, value); err != nil {
			return err
		}
	}
	if handled, err := m.patchBridgeAttribute(c, op, ref, p, value); handled {
		return err
	}
	return m.patchMapped(c, op, ref, p, value)
}

// patchExtension applies an operation whose path is an extension's URN: remove clears every slot
// of the extension, add and replace apply the value's keys.
func (m *UserMapper) patchExtension(c *collected, op, urn string, value any) error {
	if op == "remove" {
		for _, s := range m.slots {
			if s.urn == urn {
				if err := c.setSlot(modePatch, s, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	obj, ok := toMap(value)
	if !ok {
		return Errorf(KindInvalidValue, "%s must be an object", urn)
	}
	return m.patchObject(c, op, urn, obj)
}

// checkPatchCharacters refuses a value of a core attribute whose text must be visible text
// (checkedAttributes) when it holds a character hard data never holds.
func checkPatchCharacters(ref attrRef, value any) error {
	attr := ref.attr.Name()
	if ref.urn != "" || !checkedAttributes[attr] {
		return nil
	}
	path := attr
	if ref.sub != nil {
		path += "." + ref.sub.Name()
	}
	return checkCharacters(path, value)
}

// patchBridgeAttribute applies an operation on an attribute that users.mapping does not map
// because the bridge handles it itself; handled is false for any other attribute.
func (m *UserMapper) patchBridgeAttribute(c *collected, op string, ref attrRef, p filter.Path, value any) (handled bool, err error) {
	remove := op == "remove"
	attr := ref.attr.Name()
	switch ref.urn {
	case "":
		switch attr {
		case "groups", "id", "meta", "schemas":
			return true, Errorf(KindMutability, "%s is read-only", attr)
		case "password":
			return true, nil // accepted, never sent to Salesforce
		case "active":
			return true, patchActive(c, remove, value)
		}
	case SalesforceUserURN:
		switch attr {
		case "userType", "frozen":
			return true, Errorf(KindMutability, "%s is read-only", ref.path())
		case "profile":
			return true, patchProfile(c, remove, value)
		case "permissionSets":
			return true, m.patchPermissionSets(c, op, p, value)
		}
	}
	return false, nil
}

// patchActive applies an operation on active, which can be replaced but not removed.
func patchActive(c *collected, remove bool, value any) error {
	if remove {
		return Errorf(KindInvalidValue, "active cannot be removed: replace it with false")
	}
	b, err := toBool(value)
	if err != nil {
		return Errorf(KindInvalidValue, "active must be a boolean")
	}
	c.active = &b
	return nil
}

// patchProfile applies an operation on the Salesforce extension's profile: a name or id, never
// removed.
func patchProfile(c *collected, remove bool, value any) error {
	if remove {
		return Errorf(KindInvalidValue, "%s cannot be removed: every Salesforce user has a profile", profilePath)
	}
	s, err := toString(value)
	if err != nil || strings.TrimSpace(s) == "" {
		return Errorf(KindInvalidValue, "%s must be a profile name or id", profilePath)
	}
	s = strings.TrimSpace(s)
	c.profile = &s
	return nil
}

// patchMapped applies an operation on an attribute the mapping may use: a typed multi-valued one,
// a complex one or a simple one. Attributes the mapping does not use are accepted and ignored.
func (m *UserMapper) patchMapped(c *collected, op string, ref attrRef, p filter.Path, value any) error {
	if ref.sub != nil && ref.sub.Mutability() == "readOnly" {
		return nil // e.g. manager.displayName: informational, never written
	}
	switch {
	case isTypedMulti(ref):
		return m.patchMulti(c, op, ref, p, value)
	case p.ValueExpression != nil:
		return Errorf(KindInvalidPath, "%s is not multi-valued: it takes no filter", ref.path())
	case ref.attr.HasSubAttributes():
		return m.patchComplex(c, op, ref, value)
	}
	if s := m.slot(ref.urn, ref.attr.Name(), "", ""); s != nil {
		if op == "remove" {
			value = nil
		}
		return c.setSlot(modePatch, s, value)
	}
	return nil // a schema attribute the mapping does not use
}

// patchComplex applies an operation to a singular complex attribute (name, manager) or one of its
// sub-attributes. add and replace set the given sub-attributes and leave the others (RFC 7644
// §3.5.2.3); remove clears all of them.
func (m *UserMapper) patchComplex(c *collected, op string, ref attrRef, value any) error {
	if ref.sub != nil {
		if s := m.slot(ref.urn, ref.attr.Name(), "", ref.sub.Name()); s != nil {
			if op == "remove" {
				value = nil
			}
			return c.setSlot(modePatch, s, value)
		}
		return nil
	}
	slots := m.slotsOf(ref.urn, ref.attr.Name())
	if op == "remove" || value == nil {
		for _, s := range slots {
			if err := c.setSlot(modePatch, s, nil); err != nil {
				return err
			}
		}
		return nil
	}
	obj, ok := toMap(value)
	if !ok {
		// Entra sends manager as a bare id.
		if str, isStr := value.(string); isStr {
			if s := m.slot(ref.urn, ref.attr.Name(), "", "value"); s != nil {
				return c.setSlot(modePatch, s, str)
			}
			return nil
		}
		return Errorf(KindInvalidValue, "%s must be an object", ref.path())
	}
	for _, s := range slots {
		if v, ok := get(obj, s.sub); ok {
			if err := c.setSlot(modePatch, s, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// patchMulti applies an operation to emails, phoneNumbers or addresses, whole or through a type
// filter, with or without sub-attribute.
func (m *UserMapper) patchMulti(c *collected, op string, ref attrRef, p filter.Path, value any) error {
	attr := ref.attr.Name()
	slots := m.slotsOf("", attr)
	sub := ""
	if ref.sub != nil {
		sub = ref.sub.Name()
		switch sub {
		case "type", "primary", "display":
			return nil // element bookkeeping, not mapped
		}
	}
	switch {
	case p.ValueExpression != nil:
		return patchTypedElement(c, op, attr, slots, sub, p, value)
	case sub != "":
		// emails.value means the primary email; phoneNumbers.value every mapped number.
		var targets []*slot
		for _, s := range slots {
			if strings.EqualFold(s.sub, sub) && (attr != "emails" || s.isPrimaryEmail()) {
				targets = append(targets, s)
			}
		}
		return c.setSlots(targets, value, op == "remove")
	}
	return patchWholeList(c, op, slots, value)
}

// patchTypedElement applies an operation through a type filter (`emails[type eq "work"]`,
// `phoneNumbers[type eq "mobile"].value`) to the slots of that type.
func patchTypedElement(c *collected, op, attr string, slots []*slot, sub string, p filter.Path, value any) error {
	typ, ok := typeOfFilter(p.ValueExpression)
	if !ok {
		return Errorf(KindInvalidPath, "%s: only [type eq \"…\"] filters are supported", attr)
	}
	var targets []*slot
	for _, s := range slots {
		if s.typ == typ && (sub == "" || strings.EqualFold(s.sub, sub)) {
			targets = append(targets, s)
		}
	}
	if op == "replace" && len(targets) == 0 && !canonicalType(attr, typ) {
		// RFC 7644 §3.5.2.3: a value filter that matches nothing is noTarget. Canonical types
		// the mapping does not store (a "home" email, a "fax" number) are accepted and ignored
		// like other unmapped attributes, so IdPs' default mappings keep working.
		return Errorf(KindNoTarget, "%s: no value matches the filter", attr)
	}
	if sub != "" || op == "remove" {
		return c.setSlots(targets, value, op == "remove")
	}
	// A whole element: replace clears the sub-attributes it does not give.
	el, ok := toMap(value)
	if !ok {
		list := toList(value)
		if len(list) == 1 {
			el, ok = toMap(list[0])
		}
		if !ok {
			return Errorf(KindInvalidValue, "%s must be an object", p.String())
		}
	}
	for _, s := range targets {
		v, present := get(el, s.sub)
		if !present && op == "add" {
			continue
		}
		if err := c.setSlot(modePatch, s, v); err != nil {
			return err
		}
	}
	return nil
}

// patchWholeList applies an operation on a whole multi-valued attribute (path "emails", or its
// key in a path-less value) to every slot of it.
func patchWholeList(c *collected, op string, slots []*slot, value any) error {
	remove := op == "remove"
	list := toList(value)
	if remove && len(list) > 0 {
		// Remove with the elements to remove as value: clear the slots those elements feed.
		for _, s := range slots {
			if _, ok := designatedElement(s, list); ok {
				if err := c.setSlot(modePatch, s, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// replace gives the whole new list: with no primary or work email its first one becomes Email.
	// add only appends elements, so only a primary or work element changes Email.
	pick := selectElement
	if op == "add" {
		pick = designatedElement
	}
	for _, s := range slots {
		var v any
		present := false
		if !remove {
			if el, ok := pick(s, list); ok {
				v, present = get(el, s.sub)
			}
		}
		if !present && op == "add" {
			continue
		}
		if err := c.setSlot(modePatch, s, v); err != nil {
			return err
		}
	}
	return nil
}

// setSlots sets every slot to value, or clears them for a remove.
func (c *collected) setSlots(slots []*slot, value any, remove bool) error {
	if remove {
		value = nil
	}
	for _, s := range slots {
		if err := c.setSlot(modePatch, s, value); err != nil {
			return err
		}
	}
	return nil
}

// patchPermissionSets applies an operation on the Salesforce extension's permissionSets.
func (m *UserMapper) patchPermissionSets(c *collected, op string, p filter.Path, value any) error {
	if c.permSets == nil {
		c.permSets = &MemberChange{}
	}
	c.written[permissionSetsPath] = true
	ids, err := memberValues(value)
	if err != nil {
		return Errorf(KindInvalidValue, "%s must be a list of {\"value\": id or API name}", permissionSetsPath)
	}
	if p.ValueExpression != nil {
		fids, ok := idsOfFilter(p.ValueExpression)
		if !ok {
			return Errorf(KindInvalidPath, "%s: only [value eq \"…\"] filters are supported", permissionSetsPath)
		}
		ids = append(ids, fids...)
	}
	switch op {
	case "add":
		c.permSets.add(ids)
	case "replace":
		c.permSets.replace(ids)
	case "remove":
		if len(ids) == 0 && p.ValueExpression == nil {
			c.permSets.replace(nil)
		} else {
			c.permSets.remove(ids)
		}
	}
	return nil
}

// canonicalTypes are the RFC 7643 §4.1.2 canonical "type" values of the multi-valued attributes.
var canonicalTypes = map[string][]string{
	"emails":       {"work", "home", "other"},
	"phonenumbers": {"work", "home", "mobile", "fax", "pager", "other"},
	"addresses":    {"work", "home", "other"},
}

func canonicalType(attr, typ string) bool {
	if typ == primaryEmailType {
		return true
	}
	for _, t := range canonicalTypes[strings.ToLower(attr)] {
		if strings.EqualFold(t, typ) {
			return true
		}
	}
	return false
}
