package scimschema

import (
	"fmt"
	"strings"

	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"
)

// This file resolves SCIM attribute paths in the User schemas (core, enterprise, Salesforce
// extension) and turns a configured path into a slot, the mappable value a Salesforce field
// reads or writes.

// userSchemas holds the User schema and its extensions, for resolving attribute paths.
type userSchemas struct {
	core schema.Schema
	exts []schema.Schema // enterprise, Salesforce
}

func newUserSchemas() userSchemas {
	return userSchemas{core: UserSchema(), exts: []schema.Schema{EnterpriseUserSchema(), SalesforceUserSchema()}}
}

// attrRef is a resolved attribute: its schema ("" for core), the attribute and, when the path named
// one, the sub-attribute.
type attrRef struct {
	urn  string
	attr schema.CoreAttribute
	sub  *schema.CoreAttribute
}

func findAttr(attrs schema.Attributes, name string) (schema.CoreAttribute, bool) {
	for _, a := range attrs {
		if strings.EqualFold(a.Name(), name) {
			return a, true
		}
	}
	return schema.CoreAttribute{}, false
}

// path renders the reference as a SCIM path for messages and audit lines ("name.givenName",
// "urn:…:enterprise:2.0:User:department").
func (r attrRef) path() string {
	s := r.attr.Name()
	if r.urn != "" {
		s = r.urn + ":" + s
	}
	if r.sub != nil {
		s += "." + r.sub.Name()
	}
	return s
}

// resolve finds the attribute an AttributePath names. A path without URN prefix is looked up in
// the core schema first and then in the extensions (lenient: IdPs sometimes omit the prefix). sub
// is the sub-attribute name given outside the AttributePath (filter.Path.SubAttribute), or "".
func (s userSchemas) resolve(p filter.AttributePath, sub string) (attrRef, error) {
	if p.SubAttribute != nil {
		if sub != "" {
			return attrRef{}, fmt.Errorf("%q has two sub-attributes", p.String())
		}
		sub = *p.SubAttribute
	}
	var ref attrRef
	found := false
	switch uri := p.URI(); {
	case uri == "":
		if a, ok := s.findCore(p.AttributeName); ok {
			ref, found = attrRef{attr: a}, true
			break
		}
		for _, ext := range s.exts {
			if a, ok := findAttr(ext.Attributes, p.AttributeName); ok {
				ref, found = attrRef{urn: ext.ID, attr: a}, true
				break
			}
		}
	case strings.EqualFold(uri, s.core.ID):
		if a, ok := s.findCore(p.AttributeName); ok {
			ref, found = attrRef{attr: a}, true
		}
	default:
		for _, ext := range s.exts {
			if strings.EqualFold(uri, ext.ID) {
				if a, ok := findAttr(ext.Attributes, p.AttributeName); ok {
					ref, found = attrRef{urn: ext.ID, attr: a}, true
				}
			}
		}
	}
	if !found {
		return attrRef{}, fmt.Errorf("unknown SCIM attribute %q", p.String())
	}
	if sub != "" {
		if !ref.attr.HasSubAttributes() {
			return attrRef{}, fmt.Errorf("attribute %q has no sub-attribute %q", ref.path(), sub)
		}
		sa, ok := findAttr(ref.attr.SubAttributes(), sub)
		if !ok {
			return attrRef{}, fmt.Errorf("attribute %q has no sub-attribute %q", ref.path(), sub)
		}
		ref.sub = &sa
	}
	return ref, nil
}

// extensionByURN returns the extension schema whose URN matches u case-insensitively.
func (s userSchemas) extensionByURN(u string) (schema.Schema, bool) {
	for _, ext := range s.exts {
		if strings.EqualFold(ext.ID, u) {
			return ext, true
		}
	}
	return schema.Schema{}, false
}

// wholeExtension reports whether a PATCH path names an extension itself
// ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"), which the filter parser splits
// into URI "…:2.0" and attribute "User".
func (s userSchemas) wholeExtension(p filter.AttributePath) (schema.Schema, bool) {
	if p.URIPrefix == nil || p.SubAttribute != nil {
		return schema.Schema{}, false
	}
	return s.extensionByURN(p.URI() + ":" + p.AttributeName)
}

// findCore looks name up in the core schema and then among the common attributes (id,
// externalId, meta, schemas).
func (s userSchemas) findCore(name string) (schema.CoreAttribute, bool) {
	if a, ok := findAttr(s.core.Attributes, name); ok {
		return a, true
	}
	return findAttr(schema.CommonAttributes(), name)
}

// The multi-valued core attributes the mapping can address, element by element, through a type.
func isTypedMulti(ref attrRef) bool {
	if ref.urn != "" {
		return false
	}
	switch ref.attr.Name() {
	case "emails", "phoneNumbers", "addresses":
		return true
	}
	return false
}

// primaryEmailType is the element type of the default Email slot. Writes take the primary email
// (else the one of this type, else the first); reads return Email as {type: work, primary: true}.
const primaryEmailType = "work"

// slot is one mappable SCIM value: a simple attribute, a sub-attribute of a singular complex
// attribute (name.givenName, manager.value), or a sub-attribute of the element of one type of a
// multi-valued attribute (phoneNumbers[type eq "mobile"].value).
type slot struct {
	urn  string // "" for core
	attr string // schema-cased
	typ  string // element type of a multi-valued attribute, lower-case; "" otherwise
	sub  string // schema-cased sub-attribute; "" for a simple attribute

	field    string // Salesforce User field
	onUpdate bool
}

// key is the canonical SCIM path of the slot, used in messages, audit lines and lookups.
func (s *slot) key() string {
	k := s.attr
	if s.urn != "" {
		k = s.urn + ":" + k
	}
	if s.typ != "" {
		k += fmt.Sprintf("[type eq %q]", s.typ)
	}
	if s.sub != "" {
		k += "." + s.sub
	}
	return k
}

// sfExtension reports whether the slot is an attribute of the Salesforce extension. Those win over
// core and enterprise attributes mapped to the same field (alias over nickName, …).
func (s *slot) sfExtension() bool { return s.urn == SalesforceUserURN }

// isPrimaryEmail reports whether the slot is the one fed by the primary email.
func (s *slot) isPrimaryEmail() bool {
	return s.urn == "" && s.attr == "emails" && s.typ == primaryEmailType
}

// parseSlot turns a configured SCIM path into a slot (without its Salesforce side). It accepts
// simple attributes ("title", "urn:…:enterprise:2.0:User:costCenter"), sub-attributes of singular
// complex attributes ("name.middleName", "…:manager.value") and typed elements of emails,
// phoneNumbers and addresses (`phoneNumbers[type eq "fax"].value`; "emails" and "emails.value"
// mean the primary email).
func (s userSchemas) parseSlot(path string) (*slot, error) {
	p, err := filter.ParsePath([]byte(strings.TrimSpace(path)))
	if err != nil {
		return nil, fmt.Errorf("not a SCIM attribute path")
	}
	ref, err := s.resolve(p.AttributePath, p.SubAttributeName())
	if err != nil {
		return nil, err
	}
	if reason := unmappable(ref); reason != "" {
		return nil, fmt.Errorf("%q cannot be mapped: %s", ref.attr.Name(), reason)
	}
	out := &slot{urn: ref.urn, attr: ref.attr.Name()}
	if ref.sub != nil {
		out.sub = ref.sub.Name()
	}
	switch {
	case isTypedMulti(ref):
		typ, ok := typeOfFilter(p.ValueExpression)
		switch {
		case p.ValueExpression == nil && out.attr == "emails":
			typ, ok = primaryEmailType, true
		case p.ValueExpression == nil:
			return nil, fmt.Errorf("%q needs a type filter, e.g. %s[type eq \"work\"]", out.attr, out.attr)
		}
		if !ok {
			return nil, fmt.Errorf("%q: the only supported filter is [type eq \"…\"]", out.attr)
		}
		out.typ = typ
		if out.sub == "" && out.attr != "addresses" {
			out.sub = "value"
		}
		switch strings.ToLower(out.sub) {
		case "":
			return nil, fmt.Errorf("%q needs a sub-attribute, e.g. addresses[type eq \"work\"].locality", out.attr)
		case "type", "primary", "display":
			return nil, fmt.Errorf("%q.%s cannot be mapped", out.attr, out.sub)
		}
	case p.ValueExpression != nil:
		return nil, fmt.Errorf("%q is not multi-valued: it takes no filter", out.attr)
	case ref.attr.HasSubAttributes() && out.sub == "":
		return nil, fmt.Errorf("%q is complex: name one of its sub-attributes, e.g. %s.%s", out.attr, out.attr, ref.attr.SubAttributes()[0].Name())
	case ref.attr.MultiValued():
		return nil, fmt.Errorf("%q is multi-valued and cannot be mapped", out.attr)
	}
	if ref.sub != nil && ref.sub.Mutability() == "readOnly" {
		return nil, fmt.Errorf("%q is read-only", ref.path())
	}
	return out, nil
}

// unmappable says why an attribute cannot appear in users.mapping ("" when it can).
func unmappable(ref attrRef) string {
	switch ref.urn {
	case "":
		switch ref.attr.Name() {
		case "active":
			return "the bridge maps it to IsActive and UserLogin.IsFrozen itself"
		case "password":
			return "passwords are not provisioned to Salesforce"
		case "groups":
			return "it is read-only (the user's permission sets)"
		case "id", "meta", "schemas":
			return "it is set by the bridge"
		}
	case SalesforceUserURN:
		switch ref.attr.Name() {
		case "profile":
			return "the bridge maps it to ProfileId itself"
		case "permissionSets":
			return "the bridge maps it to permission-set assignments itself"
		case "userType", "frozen":
			return "it is read-only"
		}
	}
	return ""
}

// typeOfFilter recognises the value filter `type eq "x"` (also `primary eq true`, the primary
// email) and returns the lower-cased type.
func typeOfFilter(e filter.Expression) (string, bool) {
	ae, ok := e.(*filter.AttributeExpression)
	if !ok || ae.AttributePath.URIPrefix != nil || ae.AttributePath.SubAttribute != nil || ae.Operator != filter.EQ {
		return "", false
	}
	switch {
	case strings.EqualFold(ae.AttributePath.AttributeName, "type"):
		s, ok := ae.CompareValue.(string)
		return strings.ToLower(s), ok && s != ""
	case strings.EqualFold(ae.AttributePath.AttributeName, "primary"):
		b, ok := ae.CompareValue.(bool)
		return primaryEmailType, ok && b
	}
	return "", false
}
