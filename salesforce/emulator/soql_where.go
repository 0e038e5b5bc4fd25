package emulator

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// compileCond turns a WHERE tree into a predicate on obj's rows.
func (e *soqlEngine) compileCond(obj *objectMeta, node soqlCondNode) (func(soqlRow) bool, error) {
	switch n := node.(type) {
	case *soqlNotNode:
		inner, err := e.compileCond(obj, n.term)
		if err != nil {
			return nil, err
		}
		return func(r soqlRow) bool { return !inner(r) }, nil
	case *soqlBoolNode:
		terms := make([]func(soqlRow) bool, len(n.terms))
		for i, t := range n.terms {
			pred, err := e.compileCond(obj, t)
			if err != nil {
				return nil, err
			}
			terms[i] = pred
		}
		if n.or {
			return func(r soqlRow) bool {
				for _, t := range terms {
					if t(r) {
						return true
					}
				}
				return false
			}, nil
		}
		return func(r soqlRow) bool {
			for _, t := range terms {
				if !t(r) {
					return false
				}
			}
			return true
		}, nil
	case *soqlCmpNode:
		return e.compileComparison(obj, n)
	}
	panic("soql: unknown condition node")
}

// compileComparison compiles one comparison. SOQL semantics: "= null" / "!= null" test emptiness,
// "!=" and NOT IN are true for empty values, ordering operators and LIKE are false for them, and
// string comparison ignores case.
func (e *soqlEngine) compileComparison(obj *objectMeta, n *soqlCmpNode) (func(soqlRow) bool, error) {
	ref, err := e.resolve(obj, n.path, n.pos)
	if err != nil {
		return nil, err
	}
	if !ref.field.Filterable {
		return nil, e.errAt("INVALID_FIELD", n.pos, "field '%s' can not be filtered in query call", ref.field.Name)
	}
	kind := ref.kind
	get := func(r soqlRow) any { return e.comparable(ref, r) }

	if n.sub != nil {
		set, err := e.semiJoinSet(n, ref)
		if err != nil {
			return nil, err
		}
		in := func(r soqlRow) bool {
			v := get(r)
			return v != nil && set[v.(string)]
		}
		if n.op == "NOT IN" {
			return func(r soqlRow) bool { return !in(r) }, nil
		}
		return in, nil
	}

	if n.op == "LIKE" {
		if kind != kindString {
			return nil, e.errAt("INVALID_FIELD", n.values[0].pos,
				"invalid operator on %s field: LIKE is only supported on string fields", ref.field.Type)
		}
		pattern := soqlCompileLike(n.values[0].text)
		return func(r soqlRow) bool {
			v, ok := get(r).(string)
			return ok && pattern.match(v)
		}, nil
	}

	values := make([]any, len(n.values))
	for i, t := range n.values {
		v, err := e.literal(ref, t)
		if err != nil {
			return nil, err
		}
		values[i] = v
	}

	switch n.op {
	case "IN", "NOT IN":
		set := make(map[any]bool, len(values))
		hasNull := false
		for _, v := range values {
			if v == nil {
				hasNull = true
			} else {
				set[soqlSetKey(kind, v)] = true
			}
		}
		in := func(r soqlRow) bool {
			v := get(r)
			if v == nil {
				return hasNull
			}
			return set[soqlSetKey(kind, v)]
		}
		if n.op == "NOT IN" {
			return func(r soqlRow) bool { return !in(r) }, nil
		}
		return in, nil
	case "=", "!=":
		lit := values[0]
		eq := func(r soqlRow) bool {
			v := get(r)
			if v == nil || lit == nil {
				return v == nil && lit == nil
			}
			return soqlEqualValues(kind, v, lit)
		}
		if n.op == "!=" {
			return func(r soqlRow) bool { return !eq(r) }, nil
		}
		return eq, nil
	}

	lit := values[0]
	var accept func(int) bool
	switch n.op {
	case "<":
		accept = func(c int) bool { return c < 0 }
	case "<=":
		accept = func(c int) bool { return c <= 0 }
	case ">":
		accept = func(c int) bool { return c > 0 }
	default: // ">="
		accept = func(c int) bool { return c >= 0 }
	}
	return func(r soqlRow) bool {
		v := get(r)
		return v != nil && lit != nil && accept(soqlCompareValues(kind, v, lit))
	}, nil
}

// semiJoinSet runs the inner query of "field [NOT] IN (SELECT idField FROM …)" once and returns
// the id keys it yields.
func (e *soqlEngine) semiJoinSet(n *soqlCmpNode, outer *soqlFieldRef) (map[string]bool, error) {
	sub := n.sub
	if outer.kind != kindID {
		return nil, e.errAt("MALFORMED_QUERY", n.pos,
			"semi join sub-selects are only supported on id or reference fields, not '%s'", outer.field.Name)
	}
	if sub.count || len(sub.items) != 1 || sub.items[0].sub != nil {
		return nil, e.errAt("MALFORMED_QUERY", sub.objectPos, "semi join sub-selects must select exactly one id field")
	}
	p, err := e.compile(sub, nil)
	if err != nil {
		return nil, err
	}
	inner, err := e.resolve(p.obj, sub.items[0].path, sub.items[0].pos)
	if err != nil {
		return nil, err
	}
	if inner.kind != kindID || len(inner.hops) > 0 {
		return nil, e.errAt("MALFORMED_QUERY", sub.items[0].pos,
			"semi join sub-selects must select exactly one id field, not '%s'", sub.items[0].path)
	}
	set := map[string]bool{}
	for _, r := range soqlWindow(e.selectRows(p, e.candidates(p)), p.offset, p.limit) {
		if v, ok := e.comparable(inner, r).(string); ok {
			set[v] = true
		}
	}
	return set, nil
}

// literal converts a literal token to the normalized value of ref's kind, rejecting mismatches
// with Salesforce's wording.
func (e *soqlEngine) literal(ref *soqlFieldRef, t soqlToken) (any, error) {
	if soqlIsKeyword(t, "null") {
		return nil, nil
	}
	typeName := ref.field.Type
	switch ref.kind {
	case kindString:
		if t.kind == tkString {
			return t.str, nil
		}
		return nil, e.errAt("INVALID_FIELD", t.pos,
			"value of filter criterion for field '%s' must be of type string and should be enclosed in quotes", ref.field.Name)
	case kindID:
		if t.kind == tkString {
			if key, ok := soqlIdKey(t.str); ok {
				return key, nil
			}
			return nil, e.errAt("MALFORMED_QUERY", t.pos, "invalid ID field: %s", t.str)
		}
		typeName = "id"
	case kindBool:
		if soqlIsKeyword(t, "true") || soqlIsKeyword(t, "false") {
			return strings.EqualFold(t.text, "true"), nil
		}
	case kindNumber:
		if t.kind == tkNumber {
			f, err := strconv.ParseFloat(t.text, 64)
			if err == nil {
				return f, nil
			}
		}
	case kindDate:
		if t.kind == tkDate {
			d, err := time.Parse(time.DateOnly, t.text)
			if err != nil {
				return nil, e.errAt("MALFORMED_QUERY", t.pos, "invalid date: %s", t.text)
			}
			return d, nil
		}
	case kindDateTime:
		typeName = "dateTime"
		if t.kind == tkDateTime {
			d, err := time.Parse(time.RFC3339Nano, t.text)
			if err != nil {
				return nil, e.errAt("MALFORMED_QUERY", t.pos, "invalid dateTime: %s", t.text)
			}
			return d.UTC(), nil
		}
	}
	return nil, e.errAt("INVALID_FIELD", t.pos,
		"value of filter criterion for field '%s' must be of type %s and should not be enclosed in quotes", ref.field.Name, typeName)
}

// likeElem is one pattern element: a literal rune, '_' (one rune) or '%' (any run).
type soqlLikeElem struct {
	r        rune
	one, any bool
}

type soqlLikePattern []soqlLikeElem

// compileLike builds a lower-cased pattern from the raw quoted literal so that \% and \_ stay
// literal while % and _ are wildcards. The lexer has already validated the escapes.
func soqlCompileLike(raw string) soqlLikePattern {
	var p soqlLikePattern
	body := []rune(raw[1 : len(raw)-1])
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case '%':
			p = append(p, soqlLikeElem{any: true})
			continue
		case '_':
			p = append(p, soqlLikeElem{one: true})
			continue
		case '\\':
			i++
			switch c = body[i]; c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'u':
				v, _ := strconv.ParseUint(string(body[i+1:i+5]), 16, 32)
				c = rune(v)
				i += 4
			}
		}
		p = append(p, soqlLikeElem{r: unicode.ToLower(c)})
	}
	return p
}

// match reports whether s matches the pattern, ignoring case (greedy with backtracking to the last
// '%', linear in practice). It reads s in place: a LIKE scan over a large org allocates nothing
// per row.
func (p soqlLikePattern) match(s string) bool {
	ti, pi := 0, 0
	star, starText := -1, 0
	for ti < len(s) {
		r, n := utf8.DecodeRuneInString(s[ti:])
		r = unicode.ToLower(r)
		switch {
		case pi < len(p) && !p[pi].any && (p[pi].one || p[pi].r == r):
			ti += n
			pi++
		case pi < len(p) && p[pi].any:
			star, starText = pi, ti
			pi++
		case star >= 0:
			_, skip := utf8.DecodeRuneInString(s[starText:])
			starText += skip
			ti, pi = starText, star+1
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].any {
		pi++
	}
	return pi == len(p)
}
