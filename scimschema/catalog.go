package scimschema

import (
	"fmt"
	"strings"

	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"
)

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

// defaultMapping is DESIGN.md's Users table: SCIM path → Salesforce User field. Several SCIM
// attributes may feed one field; the Salesforce extension's attribute wins. displayName is not
// stored: it reads as Salesforce's Name (FirstName LastName). CommunityNickname, which Salesforce
// keeps unique across the org, is derived from userName unless the extension gives it.
func defaultMapping() [][2]string {
	const ent = EnterpriseUserURN + ":"
	const sf = SalesforceUserURN + ":"
	return [][2]string{
		{"userName", "Username"},
		{"externalId", "FederationIdentifier"},
		{"name.givenName", "FirstName"},
		{"name.familyName", "LastName"},
		{`emails[type eq "work"].value`, "Email"},
		{"nickName", "Alias"},
		{"title", "Title"},
		{`phoneNumbers[type eq "work"].value`, "Phone"},
		{`phoneNumbers[type eq "mobile"].value`, "MobilePhone"},
		{`addresses[type eq "work"].streetAddress`, "Street"},
		{`addresses[type eq "work"].locality`, "City"},
		{`addresses[type eq "work"].region`, "State"},
		{`addresses[type eq "work"].postalCode`, "PostalCode"},
		{`addresses[type eq "work"].country`, "Country"},
		{"preferredLanguage", "LanguageLocaleKey"},
		{"locale", "LocaleSidKey"},
		{"timezone", "TimeZoneSidKey"},
		{ent + "employeeNumber", "EmployeeNumber"},
		{ent + "department", "Department"},
		{ent + "division", "Division"},
		{ent + "organization", "CompanyName"},
		{ent + "manager.value", "ManagerId"},
		{sf + "alias", "Alias"},
		{sf + "emailEncodingKey", "EmailEncodingKey"},
		{sf + "federationIdentifier", "FederationIdentifier"},
		{sf + "communityNickname", "CommunityNickname"},
	}
}

// maxLength is the Salesforce length limit of standard User fields (reference §3.3); custom fields
// are left to Salesforce.
func maxLength(field string) int {
	switch field {
	case "Username", "LastName", "Department", "Division", "Title", "CompanyName", "State", "Country":
		return 80
	case "FirstName", "CommunityNickname", "Phone", "MobilePhone", "Fax", "City",
		"TimeZoneSidKey", "LocaleSidKey", "LanguageLocaleKey", "EmailEncodingKey":
		return 40
	case "Email":
		return 128
	case "Alias":
		return 8
	case "FederationIdentifier":
		return 512
	case "EmployeeNumber", "PostalCode":
		return 20
	case "Street":
		return 255
	case "ManagerId":
		return 18
	}
	return 0
}

// requiredFields are the Salesforce User fields required on create (reference §3.2, ProfileId
// aside) plus CommunityNickname, which is not nillable.
func requiredField(field string) bool {
	switch field {
	case "Username", "LastName", "Email", "Alias", "TimeZoneSidKey", "LocaleSidKey",
		"EmailEncodingKey", "LanguageLocaleKey", "CommunityNickname":
		return true
	}
	return false
}

// fallbackField reports whether the bridge fills a required field itself when no SCIM value is
// given (a default from users.defaults or a derivation). On update such a field is left as it is
// when its attributes are absent or removed.
func fallbackField(field string) bool {
	switch field {
	case "Alias", "CommunityNickname", "TimeZoneSidKey", "LocaleSidKey", "EmailEncodingKey", "LanguageLocaleKey":
		return true
	}
	return false
}

// reservedField says why a Salesforce field cannot be a mapping target ("" when it can).
func reservedField(field string) string {
	switch field {
	case "Id", "IsActive", "ProfileId":
		return "the bridge sets it itself"
	case "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
		"UserType", "Name", "LastLoginDate":
		return "it is read-only in Salesforce"
	}
	return ""
}

// validFieldName reports whether s is a Salesforce field API name: a letter, then letters, digits
// and single underscores, not ending in an underscore; custom fields end in "__c".
func validFieldName(s string) bool {
	base, _ := strings.CutSuffix(s, "__c")
	if base == "" || len(s) > 80 {
		return false
	}
	for i, r := range base {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' || r == '_':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return !strings.Contains(base, "__") && !strings.HasSuffix(base, "_")
}
