package scimschema

import (
	"fmt"
	"strings"
	"time"

	"github.com/scim2/filter-parser/v2"
)

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

func invalidFilter(format string, args ...any) error {
	return Errorf(KindInvalidFilter, format, args...)
}

// compareOps are the SCIM operators that compare a value (all but pr).
func compareOp(op filter.CompareOperator) (string, bool) {
	switch op {
	case filter.EQ, filter.NE, filter.CO, filter.SW, filter.EW, filter.GT, filter.GE, filter.LT, filter.LE:
		return string(op), true
	}
	return "", false
}

// compareField builds a comparison on a Salesforce field from a filter's operator and value.
func compareField(attr, field string, e *filter.AttributeExpression, caseExact bool) (Cond, error) {
	if e.Operator == filter.PR {
		return Present{Field: field}, nil
	}
	op, ok := compareOp(e.Operator)
	if !ok {
		return nil, invalidFilter("unsupported operator on %s", attr)
	}
	var v any
	switch cv := e.CompareValue.(type) {
	case string:
		v = cv
	case bool:
		if op != "eq" && op != "ne" {
			return nil, invalidFilter("a boolean can only be compared with eq or ne (%s)", attr)
		}
		v = cv
	case int:
		v = float64(cv)
	case int64:
		v = float64(cv)
	case float64:
		v = cv
	default:
		return nil, invalidFilter("%s needs a string, number or boolean value", attr)
	}
	if _, isString := v.(string); !isString && (op == "co" || op == "sw" || op == "ew") {
		return nil, invalidFilter("%s: co, sw and ew need a string value", attr)
	}
	return Compare{Field: field, Op: op, Value: v, CaseExact: caseExact}, nil
}

// compareID compares an Id field: a malformed id matches nothing (eq) or everything (ne), so that
// no malformed value reaches SOQL.
func compareID(attr, field string, e *filter.AttributeExpression) (Cond, error) {
	switch e.Operator {
	case filter.PR:
		return constant(true), nil
	case filter.EQ, filter.NE:
	default:
		return nil, invalidFilter("%s can only be compared with eq, ne or pr", attr)
	}
	s, ok := e.CompareValue.(string)
	if !ok {
		return nil, invalidFilter("%s needs a string value", attr)
	}
	if !looksLikeID(s, "") {
		return constant(e.Operator == filter.NE), nil
	}
	return Compare{Field: field, Op: string(e.Operator), Value: s}, nil
}

// compareTime compares a datetime field (meta.created, meta.lastModified).
func compareTime(attr, field string, e *filter.AttributeExpression) (Cond, error) {
	if e.Operator == filter.PR {
		return constant(true), nil
	}
	switch e.Operator {
	case filter.EQ, filter.NE, filter.GT, filter.GE, filter.LT, filter.LE:
	default:
		return nil, invalidFilter("%s can only be compared with eq, ne, gt, ge, lt, le or pr", attr)
	}
	s, _ := e.CompareValue.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, invalidFilter("%s needs a datetime such as \"2024-01-31T12:00:00Z\"", attr)
	}
	return Compare{Field: field, Op: string(e.Operator), Value: t.UTC()}, nil
}

// memberOf builds the condition of groups[value eq "…"] (mk = MemberOf) or members[…] (HasMember).
func memberCond(attr string, expr filter.Expression, mk func(string) Cond) (Cond, error) {
	ids, ok := idsOfFilter(expr)
	if !ok {
		return nil, invalidFilter("%s can only be filtered by value eq \"…\"", attr)
	}
	var c Cond = constant(false)
	for _, id := range ids {
		c = or(c, mk(id))
	}
	return c, nil
}

// absent is how a comparison on an attribute the mapping never fills evaluates.
func absent(op filter.CompareOperator) Cond {
	return constant(op == filter.NE)
}

// Filter translates a SCIM filter on Users into a neutral condition. Attributes go through the
// mapping (so a custom externalId field is honoured); userName values get username_domain and
// username_suffix; value paths such as emails[type eq "work" and value eq "x"] and their dotted
// form emails.value eq "x" become comparisons on the fields of the matching typed elements;
// groups[value eq "…"] and groups.value eq "…" become MemberOf. Schema attributes the mapping
// does not fill are absent: they match nothing (ne: everything). What cannot be translated is a
// KindInvalidFilter *Error naming the attribute.
func (m *UserMapper) Filter(expr filter.Expression) (Cond, error) {
	c, err := m.translate(expr)
	if err != nil {
		return nil, err
	}
	return finish(c), nil
}

func (m *UserMapper) translate(expr filter.Expression) (Cond, error) {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		l, err := m.translate(e.Left)
		if err != nil {
			return nil, err
		}
		r, err := m.translate(e.Right)
		if err != nil {
			return nil, err
		}
		if e.Operator == filter.OR {
			return or(l, r), nil
		}
		return and(l, r), nil
	case *filter.NotExpression:
		c, err := m.translate(e.Expression)
		if err != nil {
			return nil, err
		}
		return not(c), nil
	case *filter.ValuePath:
		ref, err := m.schemas.resolve(e.AttributePath, "")
		if err != nil {
			return nil, invalidFilter("%v", err)
		}
		return m.valuePath(ref, e.ValueFilter)
	case *filter.AttributeExpression:
		return m.attributeExpression(e)
	case nil:
		return constant(true), nil
	}
	return nil, invalidFilter("unsupported filter expression")
}

// attributeExpression translates `attr op value`: attributes the bridge filters on itself first,
// then the attribute's mapped field.
func (m *UserMapper) attributeExpression(e *filter.AttributeExpression) (Cond, error) {
	ref, err := m.schemas.resolve(e.AttributePath, "")
	if err != nil {
		return nil, invalidFilter("%v", err)
	}
	var c Cond
	ok := false
	switch ref.urn {
	case "":
		c, ok, err = m.coreAttributeCond(ref, e)
	case SalesforceUserURN:
		c, ok, err = m.salesforceAttributeCond(ref, e)
	}
	if ok {
		return c, err
	}
	return m.mappedAttributeCond(ref, e)
}

// coreAttributeCond translates a comparison on a core attribute the bridge filters on itself (id,
// meta, active, groups, userName, the typed multi-valued ones); the bool is false for the others.
func (m *UserMapper) coreAttributeCond(ref attrRef, e *filter.AttributeExpression) (Cond, bool, error) {
	attr := ref.attr.Name()
	switch attr {
	case "id":
		return handled(compareID(ref.path(), "Id", e))
	case "meta":
		return handled(metaCond(ref, e))
	case "active":
		return handled(activeCond(e))
	case "groups":
		return handled(m.valuePath(ref, subExpression(ref, e, "value")))
	case "password", "schemas":
		return nil, true, invalidFilter("cannot filter on %s", attr)
	case "userName":
		return handled(m.userNameCompare(e))
	}
	if !isTypedMulti(ref) {
		return nil, false, nil
	}
	if e.Operator == filter.PR && ref.sub == nil {
		return m.anyPresent(ref), true, nil
	}
	return handled(m.valuePath(ref, subExpression(ref, e, "value")))
}

// handled marks a condition (or its error) as translated by the bridge itself.
func handled(c Cond, err error) (Cond, bool, error) { return c, true, err }

// metaCond compares meta.created or meta.lastModified; meta's other sub-attributes are not
// filterable.
func metaCond(ref attrRef, e *filter.AttributeExpression) (Cond, error) {
	switch {
	case ref.sub != nil && ref.sub.Name() == "created":
		return compareTime(ref.path(), "CreatedDate", e)
	case ref.sub != nil && ref.sub.Name() == "lastModified":
		return compareTime(ref.path(), "LastModifiedDate", e)
	}
	return nil, invalidFilter("cannot filter on %s", ref.path())
}

// activeCond compares active, which is IsActive and not frozen (ActiveIs).
func activeCond(e *filter.AttributeExpression) (Cond, error) {
	switch e.Operator {
	case filter.PR:
		return constant(true), nil
	case filter.EQ, filter.NE:
		b, err := toBool(e.CompareValue)
		if err != nil {
			return nil, invalidFilter("active needs true or false")
		}
		return ActiveIs{Value: b == (e.Operator == filter.EQ)}, nil
	}
	return nil, invalidFilter("active can only be compared with eq, ne or pr")
}

// salesforceAttributeCond translates a comparison on an attribute of the Salesforce extension
// the bridge filters on itself (permissionSets, profile, userType, frozen); the bool is false for
// the mapped ones.
func (m *UserMapper) salesforceAttributeCond(ref attrRef, e *filter.AttributeExpression) (Cond, bool, error) {
	path := ref.path()
	switch ref.attr.Name() {
	case "permissionSets":
		return handled(m.valuePath(ref, subExpression(ref, e, "value")))
	case "profile":
		if s, ok := e.CompareValue.(string); ok && looksLikeID(s, "00e") && (e.Operator == filter.EQ || e.Operator == filter.NE) {
			return Compare{Field: "ProfileId", Op: string(e.Operator), Value: s}, true, nil
		}
		if e.Operator == filter.PR {
			return constant(true), true, nil
		}
		return handled(compareField(path, "Profile.Name", e, false))
	case "userType":
		return handled(compareField(path, "UserType", e, false))
	case "frozen":
		return nil, true, invalidFilter("cannot filter on %s", path)
	}
	return nil, false, nil
}

// mappedAttributeCond compares the Salesforce field users.mapping maps the attribute to. A complex
// attribute is only tested for presence; displayName, unless mapped, reads as Name; an attribute
// the mapping never fills is absent.
func (m *UserMapper) mappedAttributeCond(ref attrRef, e *filter.AttributeExpression) (Cond, error) {
	attr := ref.attr.Name()
	path := ref.path()
	sub := ""
	if ref.sub != nil {
		sub = ref.sub.Name()
	}
	if ref.attr.HasSubAttributes() && sub == "" {
		if e.Operator == filter.PR {
			return m.anyPresent(ref), nil // RFC 7644 §3.4.2.2: a complex attribute is present when a sub-attribute is
		}
		return nil, invalidFilter("%s is complex: filter on one of its sub-attributes", path)
	}
	s := m.slot(ref.urn, attr, "", sub)
	if s == nil && ref.urn == "" && attr == "displayName" {
		return compareField(path, "Name", e, false) // displayName reads as Name
	}
	if s == nil {
		return absent(e.Operator), nil
	}
	if s.field == "ManagerId" {
		return compareID(path, s.field, e)
	}
	if err := checkCompareValue(path, ref, e); err != nil {
		return nil, err
	}
	return compareField(path, s.field, e, ref.urn == "" && attr == "externalId")
}

// anyPresent is `attr pr` on a complex attribute: one of its mapped fields is set.
func (m *UserMapper) anyPresent(ref attrRef) Cond {
	var c Cond = constant(false)
	for _, s := range m.slotsOf(ref.urn, ref.attr.Name()) {
		c = or(c, Present{Field: s.field})
	}
	return c
}

// checkCompareValue rejects a comparison whose value cannot have the SCIM type of the attribute
// (title eq true, a boolean attribute compared with a string): Salesforce would refuse the query,
// and RFC 7644 §3.4.2.2 makes it an invalidFilter. Numbers stay allowed on string attributes:
// users.mapping may map one to a numeric custom field.
func checkCompareValue(label string, ref attrRef, e *filter.AttributeExpression) error {
	if e.Operator == filter.PR {
		return nil
	}
	a := ref.attr
	if ref.sub != nil {
		a = *ref.sub
	}
	_, isBool := e.CompareValue.(bool)
	switch a.AttributeType() {
	case "string", "reference", "binary", "dateTime", "integer", "decimal":
		if isBool {
			return invalidFilter("%s is not a boolean: compare it with a %s value", label, a.AttributeType())
		}
	case "boolean":
		if !isBool {
			return invalidFilter("%s is a boolean: compare it with true or false", label)
		}
	}
	return nil
}

// subExpression turns the dotted form (emails.value eq "x", emails eq "x") into the value-path
// filter it means (emails[value eq "x"]).
func subExpression(ref attrRef, e *filter.AttributeExpression, def string) filter.Expression {
	sub := def
	if ref.sub != nil {
		sub = ref.sub.Name()
	}
	return &filter.AttributeExpression{
		AttributePath: filter.AttributePath{AttributeName: sub},
		Operator:      e.Operator,
		CompareValue:  e.CompareValue,
	}
}

// userNameCompare compares Username with a userName given the configured transforms. Only the
// suffix and domain are added; SOQL compares case-insensitively, and the value stays a plain value
// whatever it contains.
func (m *UserMapper) userNameCompare(e *filter.AttributeExpression) (Cond, error) {
	s, ok := e.CompareValue.(string)
	if e.Operator == filter.PR {
		return constant(true), nil
	}
	if !ok {
		return nil, invalidFilter("userName needs a string value")
	}
	switch e.Operator {
	case filter.CO, filter.SW:
	case filter.EW:
		if m.suffix != "" && !strings.HasSuffix(strings.ToLower(s), m.suffix) {
			s += m.suffix
		}
	default:
		if m.domain != "" && !strings.Contains(s, "@") {
			s += "@" + m.domain
		}
		if m.suffix != "" && !strings.HasSuffix(strings.ToLower(s), m.suffix) {
			s += m.suffix
		}
	}
	return compareField("userName", "Username", &filter.AttributeExpression{
		AttributePath: e.AttributePath, Operator: e.Operator, CompareValue: s}, false)
}

// valuePath translates attr[filter]: there is an element of attr satisfying filter.
func (m *UserMapper) valuePath(ref attrRef, expr filter.Expression) (Cond, error) {
	attr := ref.attr.Name()
	path := ref.path()
	switch {
	case ref.urn == "" && attr == "groups", ref.urn == SalesforceUserURN && attr == "permissionSets":
		return memberCond(path, expr, func(id string) Cond { return MemberOf{GroupID: id} })
	case isTypedMulti(ref):
		var types []string
		for _, s := range m.slotsOf("", attr) {
			if !contains(types, s.typ) {
				types = append(types, s.typ)
			}
		}
		var out Cond = constant(false)
		for _, typ := range types {
			c, err := m.element(ref, typ, expr)
			if err != nil {
				return nil, err
			}
			if !impliesPresence(c) {
				c = and(m.elementExists(ref, typ), c)
			}
			out = or(out, c)
		}
		if len(types) == 0 {
			// Nothing is mapped: still reject what is malformed.
			if _, err := m.element(ref, "", expr); err != nil {
				return nil, err
			}
		}
		return out, nil
	case ref.attr.HasSubAttributes() && !ref.attr.MultiValued() && ref.sub == nil:
		return m.element(ref, "", expr)
	}
	return nil, invalidFilter("%s takes no value filter", path)
}

// elementExists is the condition that the element of type typ exists: one of its fields is set.
func (m *UserMapper) elementExists(ref attrRef, typ string) Cond {
	var c Cond = constant(false)
	for _, s := range m.slotsOf(ref.urn, ref.attr.Name()) {
		if s.typ == typ {
			c = or(c, Present{Field: s.field})
		}
	}
	return c
}

// impliesPresence reports whether c can only hold when a field of the element is set.
func impliesPresence(c Cond) bool {
	switch c := c.(type) {
	case Present:
		return true
	case Compare:
		return c.Op != "ne"
	case And:
		for _, e := range c.Conds {
			if impliesPresence(e) {
				return true
			}
		}
	case constant:
		return !bool(c)
	}
	return false
}

// element evaluates a value filter against the element of type typ ("" for a singular complex
// attribute): type and primary are known, other sub-attributes are its mapped fields.
func (m *UserMapper) element(ref attrRef, typ string, expr filter.Expression) (Cond, error) {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		l, err := m.element(ref, typ, e.Left)
		if err != nil {
			return nil, err
		}
		r, err := m.element(ref, typ, e.Right)
		if err != nil {
			return nil, err
		}
		if e.Operator == filter.OR {
			return or(l, r), nil
		}
		return and(l, r), nil
	case *filter.NotExpression:
		c, err := m.element(ref, typ, e.Expression)
		if err != nil {
			return nil, err
		}
		return not(c), nil
	case *filter.AttributeExpression:
		p := e.AttributePath
		if p.URIPrefix != nil || p.SubAttribute != nil {
			return nil, invalidFilter("%s: a value filter names sub-attributes only", ref.path())
		}
		sa, ok := findAttr(ref.attr.SubAttributes(), p.AttributeName)
		if !ok {
			return nil, invalidFilter("attribute %q has no sub-attribute %q", ref.path(), p.AttributeName)
		}
		sub := sa.Name()
		label := ref.path() + "." + sub
		switch {
		case sub == "type" && isTypedMulti(ref):
			return compareConstant(label, typ, e)
		case sub == "primary":
			primary := ref.attr.Name() == "emails" && typ == primaryEmailType
			switch e.Operator {
			case filter.PR:
				return constant(primary), nil
			case filter.EQ, filter.NE:
				b, err := toBool(e.CompareValue)
				if err != nil {
					return nil, invalidFilter("%s needs true or false", label)
				}
				return constant((primary == b) == (e.Operator == filter.EQ)), nil
			}
			return nil, invalidFilter("%s can only be compared with eq, ne or pr", label)
		}
		s := m.slot(ref.urn, ref.attr.Name(), typ, sub)
		if s == nil {
			if _, ok := compareOp(e.Operator); !ok && e.Operator != filter.PR {
				return nil, invalidFilter("unsupported operator on %s", label)
			}
			return absent(e.Operator), nil
		}
		if s.field == "ManagerId" {
			return compareID(label, s.field, e)
		}
		if err := checkCompareValue(label, attrRef{urn: ref.urn, attr: ref.attr, sub: &sa}, e); err != nil {
			return nil, err
		}
		return compareField(label, s.field, e, false)
	}
	return nil, invalidFilter("%s: unsupported value filter", ref.path())
}

// compareConstant evaluates a comparison whose left side is known (an element's type).
func compareConstant(label, known string, e *filter.AttributeExpression) (Cond, error) {
	if e.Operator == filter.PR {
		return constant(known != ""), nil
	}
	v, ok := e.CompareValue.(string)
	if !ok {
		return nil, invalidFilter("%s needs a string value", label)
	}
	k, v := strings.ToLower(known), strings.ToLower(v)
	switch e.Operator {
	case filter.EQ:
		return constant(k == v), nil
	case filter.NE:
		return constant(k != v), nil
	case filter.CO:
		return constant(strings.Contains(k, v)), nil
	case filter.SW:
		return constant(strings.HasPrefix(k, v)), nil
	case filter.EW:
		return constant(strings.HasSuffix(k, v)), nil
	case filter.GT:
		return constant(k > v), nil
	case filter.GE:
		return constant(k >= v), nil
	case filter.LT:
		return constant(k < v), nil
	case filter.LE:
		return constant(k <= v), nil
	}
	return nil, invalidFilter("unsupported operator on %s", label)
}

// SortField maps a sortBy path to the Salesforce field to order by ("" for ""). Attributes that
// cannot be sorted (active, groups, complex or unmapped attributes, textarea fields) are a
// KindInvalidValue *Error.
func (m *UserMapper) SortField(path string) (string, error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return "", nil
	}
	unsortable := Errorf(KindInvalidValue, "cannot sort by %q", path)
	p, err := m.paths.attrPath(path)
	if err != nil {
		return "", unsortable
	}
	ref, err := m.schemas.resolve(p, "")
	if err != nil {
		return "", unsortable
	}
	attr := ref.attr.Name()
	sub := ""
	if ref.sub != nil {
		sub = ref.sub.Name()
	}
	if ref.urn == "" {
		switch attr {
		case "id":
			return "Id", nil
		case "meta":
			switch sub {
			case "created":
				return "CreatedDate", nil
			case "lastModified":
				return "LastModifiedDate", nil
			}
			return "", unsortable
		}
	}
	var s *slot
	switch {
	case isTypedMulti(ref):
		if sub == "" {
			sub = "value"
		}
		for _, c := range m.slotsOf("", attr) {
			if strings.EqualFold(c.sub, sub) && (attr != "emails" || c.isPrimaryEmail()) {
				s = c
				break
			}
		}
	default:
		s = m.slot(ref.urn, attr, "", sub)
		if s == nil && ref.urn == "" && attr == "displayName" {
			return "Name", nil // displayName reads as Name
		}
	}
	if s == nil || s.field == "Street" {
		return "", unsortable
	}
	return s.field, nil
}

// GroupFilter translates a SCIM filter on Groups: displayName (→ Label), id (→ Id), externalId
// (→ Name, the API name), members[value eq "…"] and members.value eq "…" (→ HasMember),
// meta.created and meta.lastModified, with and, or, not.
func GroupFilter(expr filter.Expression) (Cond, error) {
	c, err := groupTranslate(expr)
	if err != nil {
		return nil, err
	}
	return finish(c), nil
}

func groupTranslate(expr filter.Expression) (Cond, error) {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		l, err := groupTranslate(e.Left)
		if err != nil {
			return nil, err
		}
		r, err := groupTranslate(e.Right)
		if err != nil {
			return nil, err
		}
		if e.Operator == filter.OR {
			return or(l, r), nil
		}
		return and(l, r), nil
	case *filter.NotExpression:
		c, err := groupTranslate(e.Expression)
		if err != nil {
			return nil, err
		}
		return not(c), nil
	case *filter.ValuePath:
		name, _, err := groupAttr(e.AttributePath)
		if err != nil {
			return nil, err
		}
		if name != "members" {
			return nil, invalidFilter("%s takes no value filter", name)
		}
		return memberCond("members", e.ValueFilter, func(id string) Cond { return HasMember{UserID: id} })
	case *filter.AttributeExpression:
		name, sub, err := groupAttr(e.AttributePath)
		if err != nil {
			return nil, err
		}
		switch {
		case name == "displayName" && sub == "":
			return compareField(name, "Label", e, false)
		case name == "id" && sub == "":
			return compareID(name, "Id", e)
		case name == "externalId" && sub == "":
			return compareField(name, "Name", e, true)
		case name == "members" && (sub == "" || sub == "value"):
			if e.Operator != filter.EQ {
				return nil, invalidFilter("members can only be filtered by value eq \"…\"")
			}
			id, ok := e.CompareValue.(string)
			if !ok {
				return nil, invalidFilter("members.value needs a string value")
			}
			return HasMember{UserID: id}, nil
		case name == "meta" && sub == "created":
			return compareTime("meta.created", "CreatedDate", e)
		case name == "meta" && sub == "lastModified":
			return compareTime("meta.lastModified", "LastModifiedDate", e)
		}
		label := name
		if sub != "" {
			label += "." + sub
		}
		return nil, invalidFilter("cannot filter on %s", label)
	}
	return nil, invalidFilter("unsupported filter expression")
}

// groupAttr resolves a Group attribute path case-insensitively to its schema-cased name.
func groupAttr(p filter.AttributePath) (name, sub string, err error) {
	if u := p.URI(); u != "" && !strings.EqualFold(u, GroupSchemaURN) {
		return "", "", invalidFilter("unknown SCIM attribute %q", p.String())
	}
	for _, known := range []string{"displayName", "id", "externalId", "members", "meta"} {
		if strings.EqualFold(p.AttributeName, known) {
			name = known
		}
	}
	if name == "" {
		return "", "", invalidFilter("unknown SCIM attribute %q", p.String())
	}
	sub = p.SubAttributeName()
	for _, known := range []string{"value", "display", "type", "$ref", "created", "lastModified"} {
		if strings.EqualFold(sub, known) {
			sub = known
		}
	}
	return name, sub, nil
}

// GroupSortField maps a sortBy path on Groups to a PermissionSet field ("" for "").
func GroupSortField(path string) (string, error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return "", nil
	}
	unsortable := Errorf(KindInvalidValue, "cannot sort by %q", path)
	p, err := filter.ParseAttrPath([]byte(path))
	if err != nil {
		return "", unsortable
	}
	name, sub, err := groupAttr(p)
	if err != nil {
		return "", unsortable
	}
	switch fmt.Sprintf("%s.%s", name, sub) {
	case "displayName.":
		return "Label", nil
	case "id.":
		return "Id", nil
	case "externalId.":
		return "Name", nil
	case "meta.created":
		return "CreatedDate", nil
	case "meta.lastModified":
		return "LastModifiedDate", nil
	}
	return "", unsortable
}
