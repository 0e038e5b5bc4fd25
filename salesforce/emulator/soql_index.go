package emulator

import (
	"slices"
	"strings"
)

// Index use by the SOQL engine. Salesforce answers selective queries (equality on Id, on
// external ids and on indexed lookups) from indexes; the emulator does the same so that load tests
// against an org of tens of thousands of users measure the bridge, not a linear scan. Indexes only
// choose the candidate rows: the full WHERE is still applied to each, so results are exactly
// those of a scan.

// soqlIndexedSource is a soqlSource that can find rows by the values of an indexed field.
type soqlIndexedSource interface {
	// lookup returns the rows of object (canonical name) whose field equals one of values, in
	// creation order; ok is false when the field has no index of the needed kind. String values
	// compare case-insensitively (fold true), ids by their 18-character form.
	lookup(object, field string, fold bool, values []string) (rows []map[string]any, ok bool)
}

// soqlSeek is a plan's index access: the field and the literal values one conjunct of the WHERE
// requires the field to equal.
type soqlSeek struct {
	field  string
	fold   bool
	values []string
}

// planSeek finds, in a WHERE tree, a conjunct "field = literal" or "field IN (literals)" on a
// direct Id, reference or string field. Id is preferred. nil: no such conjunct.
func (e *soqlEngine) planSeek(obj *objectMeta, node soqlCondNode) *soqlSeek {
	var best *soqlSeek
	var visit func(n soqlCondNode)
	visit = func(n soqlCondNode) {
		switch n := n.(type) {
		case *soqlBoolNode:
			if n.or {
				return
			}
			for _, t := range n.terms {
				visit(t)
			}
		case *soqlCmpNode:
			s := e.seekOf(obj, n)
			if s != nil && (best == nil || s.field == "Id" && best.field != "Id") {
				best = s
			}
		}
	}
	visit(node)
	return best
}

func (e *soqlEngine) seekOf(obj *objectMeta, n *soqlCmpNode) *soqlSeek {
	if n.sub != nil || n.op != "=" && n.op != "IN" || strings.Contains(n.path, ".") {
		return nil
	}
	ref, err := e.resolve(obj, n.path, n.pos)
	if err != nil || len(ref.hops) > 0 || ref.kind != kindID && ref.kind != kindString {
		return nil
	}
	s := &soqlSeek{field: ref.field.Name, fold: ref.kind == kindString}
	for _, t := range n.values {
		if t.kind != tkString || t.str == "" {
			return nil // null or empty (never indexed), or a literal the comparison itself rejects
		}
		v := t.str
		if ref.kind == kindID {
			key, ok := soqlIdKey(v)
			if !ok {
				return nil
			}
			v = soqlId18(key)
		}
		s.values = append(s.values, v)
	}
	return s
}

// candidates returns the rows a plan must test: those its seek finds through an index, else
// every row of its object.
func (e *soqlEngine) candidates(p *soqlPlan) []soqlRow {
	if p.seek != nil {
		if src, ok := e.src.(soqlIndexedSource); ok {
			if rows, ok := src.lookup(p.obj.Name, p.seek.field, p.seek.fold, p.seek.values); ok {
				return rows
			}
		}
	}
	return e.src.rows(p.obj.Name)
}

// childCandidates returns the rows a child subquery must test for the given parents: those whose
// relationship field points at one of them, through an index when there is one.
func (e *soqlEngine) childCandidates(c *soqlChildPlan, parents []soqlRow) []soqlRow {
	if src, ok := e.src.(soqlIndexedSource); ok && len(parents) <= soqlMaxIndexedParents {
		ids := make([]string, 0, len(parents))
		for _, r := range parents {
			if id, _ := r["Id"].(string); id != "" {
				ids = append(ids, soqlId18(id))
			}
		}
		if rows, ok := src.lookup(c.plan.obj.Name, c.rel.Field, false, ids); ok {
			return rows
		}
	}
	return e.candidates(c.plan)
}

// soqlMaxIndexedParents is the most parent rows whose children are found through an index; past
// it one scan of the child object is cheaper.
const soqlMaxIndexedParents = 2000

// lookup implements soqlIndexedSource.
func (s *store) lookup(object, field string, fold bool, values []string) ([]map[string]any, bool) {
	t := s.tables[object]
	if t == nil {
		return nil, false
	}
	var ids []string
	if field == "Id" {
		for _, v := range values {
			if id, ok := normalizeID(v); ok && t.rows[id] != nil {
				ids = append(ids, id)
			}
		}
	} else {
		ix := t.indexes[field]
		if ix != nil && ix.fold != fold {
			ix = t.indexes[field+soqlFoldSuffix]
		}
		if ix == nil || ix.fold != fold {
			return nil, false
		}
		for _, v := range values {
			if !fold {
				if id, ok := normalizeID(v); ok {
					v = id
				}
			}
			for id := range ix.ids[ix.keyOf(v)] {
				ids = append(ids, id)
			}
		}
	}
	// Ids of one type are fixed-width base62 numbers: sorted, they are in creation order.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		if r := t.rows[id]; r != nil {
			rows = append(rows, r)
		}
	}
	return rows, true
}
