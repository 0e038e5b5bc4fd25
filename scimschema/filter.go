package scimschema

import (
	"strings"
	"time"

	"github.com/scim2/filter-parser/v2"
)

// This file translates SCIM filters on Users into the neutral query of query.go (Filter) and maps
// their sortBy (SortField). The comparison builders below serve groupfilter.go too.

// foldFilter translates the and, or and not of a filter and leaves the rest (comparisons, value
// paths) to leaf, the translation of one resource type.
func foldFilter(expr filter.Expression, leaf func(filter.Expression) (Cond, error)) (Cond, error) {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		l, err := foldFilter(e.Left, leaf)
		if err != nil {
			return nil, err
		}
		r, err := foldFilter(e.Right, leaf)
		if err != nil {
			return nil, err
		}
		if e.Operator == filter.OR {
			return or(l, r), nil
		}
		return and(l, r), nil
	case *filter.NotExpression:
		c, err := foldFilter(e.Expression, leaf)
		if err != nil {
			return nil, err
		}
		return not(c), nil
	}
	return leaf(expr)
}

// invalidFilter is the KindInvalidFilter *Error of a filter that cannot be translated.
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

// translate translates a filter on Users; translateLeaf does its comparisons and value paths.
func (m *UserMapper) translate(expr filter.Expression) (Cond, error) {
	return foldFilter(expr, m.translateLeaf)
}

func (m *UserMapper) translateLeaf(expr filter.Expression) (Cond, error) {
	switch e := expr.(type) {
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
	return foldFilter(expr, func(leaf filter.Expression) (Cond, error) { return m.elementLeaf(ref, typ, leaf) })
}

func (m *UserMapper) elementLeaf(ref attrRef, typ string, expr filter.Expression) (Cond, error) {
	switch e := expr.(type) {
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
