package emulator

// Salesforce's restrictions on semi-joins and anti-joins ("field [NOT] IN (SELECT …)"), from the
// SOQL reference's "Semi-Join and Anti-Join Considerations": no OR, no NOT, no nesting, none in a
// child subquery's WHERE, at most two per WHERE clause. Real orgs refuse such queries with 400
// MALFORMED_QUERY, echoing the query around the offending semi-join like any other query error.
//
// The texts are the ones orgs return, as quoted in public bug reports: the OR text for a semi-join
// under an OR at the top of the WHERE clause, the "top level" text for one under a parenthesised
// OR or in a child subquery, the nesting and maximum texts. No text for NOT is on record; it is
// worded like the OR one.
const (
	soqlMaxSemiJoins      = 2
	msgSemiJoinWithOr     = "Semi join sub-selects are not allowed with the 'OR' operator"
	msgSemiJoinWithNot    = "Semi join sub-selects are not allowed with the 'NOT' operator"
	msgSemiJoinNotTop     = "Semi join sub-selects are only allowed at the top level WHERE expressions and not in nested WHERE expressions"
	msgSemiJoinNested     = "Nesting of semi join sub-selects is not supported"
	msgSemiJoinTooMany    = "Maximum 2 semi join sub-selects are allowed"
	soqlSemiJoinErrorCode = "MALFORMED_QUERY"
)

// checkSemiJoins enforces the restrictions on a parsed top-level query. AND never restricts: a
// semi-join inside parenthesised ANDs of the top-level WHERE is a top-level conjunct.
func (e *soqlEngine) checkSemiJoins(q *soqlQuery) error {
	for _, item := range q.items {
		if item.sub == nil {
			continue
		}
		if n := soqlFirstSemiJoin(item.sub.where); n != nil {
			return e.errAt(soqlSemiJoinErrorCode, n.pos, msgSemiJoinNotTop)
		}
	}
	var joins []*soqlCmpNode
	// root: node is the whole WHERE clause. orDepth: 0 no OR above, 1 the OR is the WHERE clause
	// itself, 2 a parenthesised OR inside it.
	var walk func(node soqlCondNode, root bool, orDepth int, negated bool) error
	walk = func(node soqlCondNode, root bool, orDepth int, negated bool) error {
		switch n := node.(type) {
		case *soqlNotNode:
			return walk(n.term, false, orDepth, true)
		case *soqlBoolNode:
			if n.or && orDepth == 0 {
				orDepth = 2
				if root {
					orDepth = 1
				}
			}
			for _, t := range n.terms {
				if err := walk(t, false, orDepth, negated); err != nil {
					return err
				}
			}
		case *soqlCmpNode:
			if n.sub == nil {
				return nil
			}
			if inner := soqlFirstSemiJoin(n.sub.where); inner != nil {
				return e.errAt(soqlSemiJoinErrorCode, inner.pos, msgSemiJoinNested)
			}
			switch {
			case negated:
				return e.errAt(soqlSemiJoinErrorCode, n.pos, msgSemiJoinWithNot)
			case orDepth == 1:
				return e.errAt(soqlSemiJoinErrorCode, n.pos, msgSemiJoinWithOr)
			case orDepth == 2:
				return e.errAt(soqlSemiJoinErrorCode, n.pos, msgSemiJoinNotTop)
			}
			joins = append(joins, n)
		}
		return nil
	}
	if err := walk(q.where, true, 0, false); err != nil {
		return err
	}
	if len(joins) > soqlMaxSemiJoins {
		return e.errAt(soqlSemiJoinErrorCode, joins[soqlMaxSemiJoins].pos, msgSemiJoinTooMany)
	}
	return nil
}

// firstSemiJoin returns the first semi- or anti-join of a WHERE tree, or nil.
func soqlFirstSemiJoin(node soqlCondNode) *soqlCmpNode {
	switch n := node.(type) {
	case *soqlNotNode:
		return soqlFirstSemiJoin(n.term)
	case *soqlBoolNode:
		for _, t := range n.terms {
			if found := soqlFirstSemiJoin(t); found != nil {
				return found
			}
		}
	case *soqlCmpNode:
		if n.sub != nil {
			return n
		}
	}
	return nil
}
