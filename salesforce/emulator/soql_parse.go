package emulator

import (
	"strconv"
	"strings"
)

// soqlQuery is a parsed SELECT, before its names are checked against the store's metadata.
type soqlQuery struct {
	items     []soqlSelectItem
	count     bool // SELECT COUNT()
	countPos  int
	object    string
	objectPos int
	where     soqlCondNode // nil when absent
	order     []soqlOrderItem
	limit     int // -1 when absent
	offset    int // 0 when absent
	offsetPos int
}

// selectItem is a field path or, when sub is set, a child-relationship subquery.
type soqlSelectItem struct {
	path string
	pos  int
	sub  *soqlQuery
}

type soqlOrderItem struct {
	path      string
	pos       int
	desc      bool
	nullsLast bool
}

// condNode is one of *boolNode, *notNode, *cmpNode.
type soqlCondNode any

// boolNode joins terms with AND or OR; SOQL forbids mixing both at one level without parentheses.
type soqlBoolNode struct {
	or    bool
	terms []soqlCondNode
}

type soqlNotNode struct{ term soqlCondNode }

// cmpNode is "path op value", "path [NOT] IN (values)", "path [NOT] IN (SELECT …)" or "path LIKE 'p'".
type soqlCmpNode struct {
	path   string
	pos    int
	op     string // "=", "!=", "<", ">", "<=", ">=", "IN", "NOT IN", "LIKE"
	values []soqlToken
	sub    *soqlQuery
}

// isReserved reports whether word cannot name a field; meeting one where a field is expected is
// "unexpected token".
func soqlIsReserved(word string) bool {
	switch strings.ToLower(word) {
	case "select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "limit", "offset",
		"null", "true", "false", "group", "having", "with", "using", "asc", "desc", "nulls", "includes",
		"excludes":
		return true
	}
	return false
}

type soqlParser struct {
	q    string
	toks []soqlToken
	i    int
}

// parseSOQL parses a complete query.
func parseSOQL(q string, toks []soqlToken) (*soqlQuery, error) {
	p := &soqlParser{q: q, toks: toks}
	query, err := p.parseSelect(false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, p.unexpected(t)
	}
	return query, nil
}

func (p *soqlParser) peek() soqlToken { return p.toks[p.i] }

func (p *soqlParser) next() soqlToken {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

func soqlIsKeyword(t soqlToken, kw string) bool {
	return t.kind == tkIdent && strings.EqualFold(t.text, kw)
}

func (p *soqlParser) acceptKeyword(kw string) bool {
	if soqlIsKeyword(p.peek(), kw) {
		p.i++
		return true
	}
	return false
}

func (p *soqlParser) unexpected(t soqlToken) error {
	return soqlQueryError(p.q, p.toks, "MALFORMED_QUERY", t.pos, "unexpected token: '"+t.text+"'")
}

func (p *soqlParser) expectKeyword(kw string) error {
	if t := p.next(); !soqlIsKeyword(t, kw) {
		return p.unexpected(t)
	}
	return nil
}

func (p *soqlParser) expect(kind soqlTokKind) (soqlToken, error) {
	t := p.next()
	if t.kind != kind {
		return t, p.unexpected(t)
	}
	return t, nil
}

// expectName reads a field path or object name that is not a reserved word.
func (p *soqlParser) expectName() (soqlToken, error) {
	t := p.next()
	if t.kind != tkIdent || soqlIsReserved(t.text) {
		return t, p.unexpected(t)
	}
	return t, nil
}

// parseSelect parses SELECT … up to, not including, EOF or the closing parenthesis of a subquery.
func (p *soqlParser) parseSelect(nested bool) (*soqlQuery, error) {
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	query := &soqlQuery{limit: -1}
	for {
		t := p.peek()
		switch {
		case t.kind == tkLParen && !nested:
			p.next()
			sub, err := p.parseSelect(true)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tkRParen); err != nil {
				return nil, err
			}
			query.items = append(query.items, soqlSelectItem{pos: t.pos, sub: sub})
		case soqlIsKeyword(t, "COUNT") && p.toks[p.i+1].kind == tkLParen:
			p.i += 2
			if _, err := p.expect(tkRParen); err != nil {
				return nil, err
			}
			if query.count || len(query.items) > 0 {
				return nil, p.unexpected(t)
			}
			query.count, query.countPos = true, t.pos
		default:
			name, err := p.expectName()
			if err != nil {
				return nil, err
			}
			if query.count {
				return nil, p.unexpected(name)
			}
			query.items = append(query.items, soqlSelectItem{path: name.text, pos: name.pos})
		}
		if p.peek().kind != tkComma {
			break
		}
		p.next()
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	from, err := p.expectName()
	if err != nil {
		return nil, err
	}
	query.object, query.objectPos = from.text, from.pos
	if p.acceptKeyword("WHERE") {
		if query.where, err = p.parseCond(); err != nil {
			return nil, err
		}
	}
	if p.acceptKeyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		if query.order, err = p.parseOrder(); err != nil {
			return nil, err
		}
	}
	if p.acceptKeyword("LIMIT") {
		if query.limit, _, err = p.parseCount(); err != nil {
			return nil, err
		}
	}
	if p.acceptKeyword("OFFSET") {
		if query.offset, query.offsetPos, err = p.parseCount(); err != nil {
			return nil, err
		}
	}
	return query, nil
}

// parseCount reads the non-negative integer after LIMIT or OFFSET.
func (p *soqlParser) parseCount() (int, int, error) {
	t := p.next()
	if t.kind != tkNumber {
		return 0, 0, p.unexpected(t)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 0 {
		return 0, 0, p.unexpected(t)
	}
	return n, t.pos, nil
}

func (p *soqlParser) parseOrder() ([]soqlOrderItem, error) {
	var items []soqlOrderItem
	for {
		name, err := p.expectName()
		if err != nil {
			return nil, err
		}
		item := soqlOrderItem{path: name.text, pos: name.pos}
		if p.acceptKeyword("DESC") {
			item.desc = true
		} else {
			p.acceptKeyword("ASC")
		}
		// Salesforce's default is NULLS FIRST ascending; descending order reverses it.
		item.nullsLast = item.desc
		if p.acceptKeyword("NULLS") {
			switch t := p.next(); {
			case soqlIsKeyword(t, "FIRST"):
				item.nullsLast = false
			case soqlIsKeyword(t, "LAST"):
				item.nullsLast = true
			default:
				return nil, p.unexpected(t)
			}
		}
		items = append(items, item)
		if p.peek().kind != tkComma {
			return items, nil
		}
		p.next()
	}
}

// parseCond parses terms joined by AND or by OR. Like Salesforce it rejects "a AND b OR c": the
// second connective is an unexpected token.
func (p *soqlParser) parseCond() (soqlCondNode, error) {
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	node := &soqlBoolNode{terms: []soqlCondNode{first}}
	joiner := ""
	for {
		t := p.peek()
		var kw string
		switch {
		case soqlIsKeyword(t, "AND"):
			kw = "AND"
		case soqlIsKeyword(t, "OR"):
			kw = "OR"
		default:
			if len(node.terms) == 1 {
				return first, nil
			}
			return node, nil
		}
		if joiner != "" && joiner != kw {
			return nil, p.unexpected(t)
		}
		joiner = kw
		node.or = kw == "OR"
		p.next()
		term, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		node.terms = append(node.terms, term)
	}
}

func (p *soqlParser) parseUnary() (soqlCondNode, error) {
	t := p.peek()
	switch {
	case soqlIsKeyword(t, "NOT"):
		p.next()
		term, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &soqlNotNode{term: term}, nil
	case t.kind == tkLParen:
		p.next()
		c, err := p.parseCond()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tkRParen); err != nil {
			return nil, err
		}
		return c, nil
	}
	return p.parseComparison()
}

func (p *soqlParser) parseComparison() (soqlCondNode, error) {
	name, err := p.expectName()
	if err != nil {
		return nil, err
	}
	node := &soqlCmpNode{path: name.text, pos: name.pos}
	t := p.next()
	switch {
	case t.kind == tkOp:
		node.op = t.text
		if node.op == "<>" {
			node.op = "!="
		}
		v, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		node.values = []soqlToken{v}
	case soqlIsKeyword(t, "LIKE"):
		node.op = "LIKE"
		v, err := p.expect(tkString)
		if err != nil {
			return nil, err
		}
		node.values = []soqlToken{v}
	case soqlIsKeyword(t, "IN"):
		node.op = "IN"
		err = p.parseInList(node)
	case soqlIsKeyword(t, "NOT"):
		if err := p.expectKeyword("IN"); err != nil {
			return nil, err
		}
		node.op = "NOT IN"
		err = p.parseInList(node)
	default:
		return nil, p.unexpected(t)
	}
	if err != nil {
		return nil, err
	}
	return node, nil
}

// parseInList reads "(v, …)" or "(SELECT …)" after IN / NOT IN.
func (p *soqlParser) parseInList(node *soqlCmpNode) error {
	if _, err := p.expect(tkLParen); err != nil {
		return err
	}
	if soqlIsKeyword(p.peek(), "SELECT") {
		sub, err := p.parseSelect(true)
		if err != nil {
			return err
		}
		node.sub = sub
	} else {
		for {
			v, err := p.parseLiteral()
			if err != nil {
				return err
			}
			node.values = append(node.values, v)
			if p.peek().kind != tkComma {
				break
			}
			p.next()
		}
	}
	_, err := p.expect(tkRParen)
	return err
}

func (p *soqlParser) parseLiteral() (soqlToken, error) {
	t := p.next()
	switch {
	case t.kind == tkString, t.kind == tkNumber, t.kind == tkDate, t.kind == tkDateTime:
		return t, nil
	case soqlIsKeyword(t, "true"), soqlIsKeyword(t, "false"), soqlIsKeyword(t, "null"):
		return t, nil
	}
	return t, p.unexpected(t)
}
