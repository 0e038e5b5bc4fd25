package rest

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The SOQL builder. Values are always rendered as escaped SOQL literals and names are checked
// against the identifier grammar, so no input can change a query's structure. Problems (a bad
// field name, an unsupported value type) surface from Query.String, never as a malformed query.

// Cond is a WHERE condition. Only this package's constructors make one.
type Cond interface{ soql(*strings.Builder) }

// checked is implemented by every Cond of this package: it reports a construction problem.
type checked interface{ check() error }

func condErr(c Cond) error {
	if c == nil {
		return errors.New("soql: nil condition")
	}
	if k, ok := c.(checked); ok {
		return k.check()
	}
	return nil
}

// comparison is "Field op literal".
type comparison struct {
	field, op, literal string
	err                error
}

func (c *comparison) soql(b *strings.Builder) {
	b.WriteString(c.field)
	b.WriteByte(' ')
	b.WriteString(c.op)
	b.WriteByte(' ')
	b.WriteString(c.literal)
}

func (c *comparison) check() error { return c.err }

func compare(field, op string, v any, nullable bool) Cond {
	c := &comparison{field: field, op: op}
	if err := checkName(field); err != nil {
		c.err = err
		return c
	}
	if v == nil && !nullable {
		c.err = fmt.Errorf("soql: %s %s null is not a valid comparison", field, op)
		return c
	}
	c.literal, c.err = literal(v)
	return c
}

// Eq is "field = v"; v may be nil (= null).
func Eq(field string, v any) Cond { return compare(field, "=", v, true) }

// Ne is "field != v"; v may be nil (!= null).
func Ne(field string, v any) Cond { return compare(field, "!=", v, true) }

// Lt is "field < v".
func Lt(field string, v any) Cond { return compare(field, "<", v, false) }

// Le is "field <= v".
func Le(field string, v any) Cond { return compare(field, "<=", v, false) }

// Gt is "field > v".
func Gt(field string, v any) Cond { return compare(field, ">", v, false) }

// Ge is "field >= v".
func Ge(field string, v any) Cond { return compare(field, ">=", v, false) }

// Like is "field LIKE 'pattern'". The caller places the wildcards % and _ and escapes the literal
// parts with LikeEscape: Like("Username", LikeEscape(prefix)+"%").
func Like(field, pattern string) Cond {
	c := &comparison{field: field, op: "LIKE", literal: likeLiteral(pattern)}
	c.err = checkName(field)
	return c
}

// LikeEscape escapes %, _ and \ so that s matches only itself inside a LIKE pattern.
func LikeEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ { // bytewise: invalid UTF-8 passes through unchanged
		if c := s[i]; c == '%' || c == '_' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// membership is "Field [NOT] IN (literals…)" or "Field [NOT] IN (SELECT …)".
type membership struct {
	field, op string
	list      string   // a semi-join's subquery
	lists     []string // literal lists of at most maxInValues values each
	err       error
}

// maxInValues is the most values the bridge puts in one IN list. The SOQL limits page states
// "Maximum number of junction IDs: 500"; a real org may refuse longer lists with MALFORMED_QUERY
// (the strict emulator profile does), so longer lists are split into several joined by OR (IN) or
// AND (NOT IN). Whether a limit also holds per query is unknown (docs/salesforce-behaviour.md).
const maxInValues = 500

func (m *membership) soql(b *strings.Builder) {
	if len(m.lists) > 1 {
		// Several lists of at most maxInValues: "(f IN (…) OR f IN (…))", "(f NOT IN (…) AND …)".
		join := " OR "
		if m.op == "NOT IN" {
			join = " AND "
		}
		b.WriteByte('(')
		for i, l := range m.lists {
			if i > 0 {
				b.WriteString(join)
			}
			b.WriteString(m.field + " " + m.op + " (" + l + ")")
		}
		b.WriteByte(')')
		return
	}
	b.WriteString(m.field)
	b.WriteByte(' ')
	b.WriteString(m.op)
	b.WriteString(" (")
	if len(m.lists) == 1 {
		b.WriteString(m.lists[0])
	} else {
		b.WriteString(m.list)
	}
	b.WriteByte(')')
}

func (m *membership) check() error { return m.err }

// In is "field IN (v1, v2, …)". A slice argument ([]string, []any, …) contributes its elements. An
// empty list is an error: SOQL has no empty IN list, and callers must decide what "none" means.
func In(field string, values ...any) Cond { return member(field, "IN", values) }

// NotIn is "field NOT IN (v1, v2, …)".
func NotIn(field string, values ...any) Cond { return member(field, "NOT IN", values) }

func member(field, op string, values []any) Cond {
	m := &membership{field: field, op: op}
	if m.err = checkName(field); m.err != nil {
		return m
	}
	var flat []any
	for _, v := range values {
		rv := reflect.ValueOf(v)
		if v != nil && rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
			for i := range rv.Len() {
				flat = append(flat, rv.Index(i).Interface())
			}
			continue
		}
		flat = append(flat, v)
	}
	if len(flat) == 0 {
		m.err = fmt.Errorf("soql: %s %s needs at least one value", field, op)
		return m
	}
	lits := make([]string, len(flat))
	for i, v := range flat {
		lit, err := literal(v)
		if err != nil {
			m.err = err
			return m
		}
		lits[i] = lit
	}
	for start := 0; start < len(lits); start += maxInValues {
		m.lists = append(m.lists, strings.Join(lits[start:min(start+maxInValues, len(lits))], ", "))
	}
	return m
}

// InQuery is the semi-join "field IN (SELECT …)".
func InQuery(field string, sub *Query) Cond { return semiJoin(field, "IN", sub) }

// NotInQuery is the anti-join "field NOT IN (SELECT …)".
func NotInQuery(field string, sub *Query) Cond { return semiJoin(field, "NOT IN", sub) }

func semiJoin(field, op string, sub *Query) Cond {
	m := &membership{field: field, op: op}
	if m.err = checkName(field); m.err != nil {
		return m
	}
	if sub == nil {
		m.err = fmt.Errorf("soql: %s %s: nil subquery", field, op)
		return m
	}
	m.list, m.err = sub.String()
	return m
}

// junction is "(a AND b …)" or "(a OR b …)"; always parenthesised so that nesting never depends
// on precedence (SOQL rejects unparenthesised mixes of AND and OR).
type junction struct {
	op    string
	terms []Cond
}

func (j *junction) soql(b *strings.Builder) {
	b.WriteByte('(')
	for i, t := range j.terms {
		if i > 0 {
			b.WriteByte(' ')
			b.WriteString(j.op)
			b.WriteByte(' ')
		}
		t.soql(b)
	}
	b.WriteByte(')')
}

func (j *junction) check() error {
	if len(j.terms) == 0 {
		return fmt.Errorf("soql: %s needs at least one condition", j.op)
	}
	for _, t := range j.terms {
		if err := condErr(t); err != nil {
			return err
		}
	}
	return nil
}

// And is "(c1 AND c2 …)".
func And(c ...Cond) Cond { return &junction{op: "AND", terms: c} }

// Or is "(c1 OR c2 …)".
func Or(c ...Cond) Cond { return &junction{op: "OR", terms: c} }

type negation struct{ term Cond }

func (n *negation) soql(b *strings.Builder) {
	b.WriteString("(NOT ")
	if _, ok := n.term.(*junction); ok {
		n.term.soql(b)
	} else {
		b.WriteByte('(')
		n.term.soql(b)
		b.WriteByte(')')
	}
	b.WriteByte(')')
}

func (n *negation) check() error { return condErr(n.term) }

// Not is "(NOT (c))".
func Not(c Cond) Cond { return &negation{term: c} }

// Query builds one SOQL SELECT statement.
type Query struct {
	fields []string
	subs   []*Query
	object string
	where  Cond
	order  []string
	limit  int // -1 = none
	offset int // -1 = none
	errs   []error
}

// Select starts a query. Fields are API names or relationship paths ("Assignee.Username"), or
// COUNT().
func Select(fields ...string) *Query {
	q := &Query{limit: -1, offset: -1}
	for _, f := range fields {
		if strings.EqualFold(f, "COUNT()") {
			q.fields = append(q.fields, "COUNT()")
			continue
		}
		q.addErr(checkName(f))
		q.fields = append(q.fields, f)
	}
	return q
}

func (q *Query) addErr(err error) {
	if err != nil {
		q.errs = append(q.errs, err)
	}
}

// From sets the sObject (or, inside SubQuery, the child relationship) the query reads.
func (q *Query) From(object string) *Query {
	q.addErr(checkName(object))
	q.object = object
	return q
}

// SubQuery adds a child-relationship subquery "(SELECT … FROM Relationship …)" to the SELECT list.
func (q *Query) SubQuery(sub *Query) *Query {
	if sub == nil {
		q.addErr(errors.New("soql: nil subquery"))
		return q
	}
	q.subs = append(q.subs, sub)
	return q
}

// Where sets the WHERE condition (combine several with And).
func (q *Query) Where(c Cond) *Query {
	q.where = c
	return q
}

// OrderBy appends an ORDER BY term.
func (q *Query) OrderBy(field string, desc bool) *Query {
	q.addErr(checkName(field))
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	q.order = append(q.order, field+dir)
	return q
}

// Limit sets LIMIT n (n ≥ 0).
func (q *Query) Limit(n int) *Query {
	if n < 0 {
		q.addErr(fmt.Errorf("soql: LIMIT %d is negative", n))
	}
	q.limit = n
	return q
}

// Offset sets OFFSET n (n ≥ 0; Salesforce refuses more than 2000 with NUMBER_OUTSIDE_VALID_RANGE).
func (q *Query) Offset(n int) *Query {
	if n < 0 {
		q.addErr(fmt.Errorf("soql: OFFSET %d is negative", n))
	}
	q.offset = n
	return q
}

// String renders the query, or reports every problem found while building it.
func (q *Query) String() (string, error) {
	errs := append([]error(nil), q.errs...)
	if len(q.fields) == 0 && len(q.subs) == 0 {
		errs = append(errs, errors.New("soql: SELECT needs at least one field"))
	}
	if q.object == "" {
		errs = append(errs, errors.New("soql: FROM is missing"))
	}
	if q.where != nil {
		if err := condErr(q.where); err != nil {
			errs = append(errs, err)
		}
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(strings.Join(q.fields, ", "))
	for i, sub := range q.subs {
		s, err := sub.String()
		if err != nil {
			errs = append(errs, err)
		}
		if i > 0 || len(q.fields) > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(s)
		b.WriteByte(')')
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	b.WriteString(" FROM ")
	b.WriteString(q.object)
	if q.where != nil {
		b.WriteString(" WHERE ")
		q.where.soql(&b)
	}
	if len(q.order) > 0 {
		b.WriteString(" ORDER BY ")
		b.WriteString(strings.Join(q.order, ", "))
	}
	if q.limit >= 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(q.limit))
	}
	if q.offset >= 0 {
		b.WriteString(" OFFSET ")
		b.WriteString(strconv.Itoa(q.offset))
	}
	return b.String(), nil
}

// checkName accepts an API name or a dotted relationship path: letters, digits and underscores,
// each segment starting with a letter.
func checkName(name string) error {
	if name == "" {
		return errors.New("soql: empty field or object name")
	}
	for seg := range strings.SplitSeq(name, ".") {
		if seg == "" {
			return fmt.Errorf("soql: %q is not a valid name", name)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			letter := c|0x20 >= 'a' && c|0x20 <= 'z'
			digit := c >= '0' && c <= '9'
			if !(letter || (i > 0 && (digit || c == '_'))) {
				return fmt.Errorf("soql: %q is not a valid name", name)
			}
		}
	}
	return nil
}

// literal renders v as a SOQL literal: a string quoted with \\ \' \" \n \r \t \b \f escaped, a
// bool as true/false, an integer in decimal, a time.Time as 2006-01-02T15:04:05Z in UTC and nil as
// null. Any other type is an error.
func literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case string:
		return quote(x, false), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.FormatInt(int64(x), 10), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05Z"), nil
	}
	return "", fmt.Errorf("soql: cannot use a %T as a SOQL literal", v)
}

func likeLiteral(pattern string) string { return quote(pattern, true) }

// quote writes s as a single-quoted SOQL string. In a LIKE pattern the escapes \% \_ and \\ that
// LikeEscape placed are kept as they are; any other backslash is escaped.
func quote(s string, like bool) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if like && i+1 < len(s) && (s[i+1] == '%' || s[i+1] == '_' || s[i+1] == '\\') {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
