package emulator

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Salesforce's texts for unknown names; the query echo and caret are prepended by queryError.
const (
	msgNoSuchColumn = "No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to " +
		"append the '__c' after the custom field name. Please reference your WSDL or the describe call for the " +
		"appropriate names."
	msgNoSuchType = "sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to " +
		"append the '__c' after the entity name. Please reference your WSDL or the describe call for the " +
		"appropriate names."
	msgNoSuchRelationship = "Didn't understand relationship '%s' in field path. If you are attempting to use a " +
		"custom relationship, be sure to append the '__r' after the custom relationship name. Please reference " +
		"your WSDL or the describe call for the appropriate names."
	msgNoSuchChildRelationship = "Didn't understand relationship '%s' in FROM part of query call. If you are " +
		"attempting to use a custom relationship, be sure to append the '__r' after the custom relationship " +
		"name. Please reference your WSDL or the describe call for the appropriate names."
	soqlMaxOffset = 2000
)

// engine runs one query; it lives for a single runQuery call.
type soqlEngine struct {
	src       soqlSource
	q         string
	toks      []soqlToken
	urlPrefix string // "/services/data/v66.0/sobjects/"

	childBatch  int                                            // soqlOptions.ChildBatch
	childCursor func(parentRow int, recs []*soqlRecord) string // soqlOptions.ChildCursor
	row         int                                            // index of the top-level row being encoded
}

type soqlRow = map[string]any

// valueKind is how a field's values compare.
type soqlValueKind int

const (
	kindString   soqlValueKind = iota // case-insensitive
	kindID                            // 15/18-character ids, compared by idKey
	kindBool                          //
	kindNumber                        // float64
	kindDate                          // time.Time at midnight UTC
	kindDateTime                      // time.Time
)

func soqlKindOf(fieldType string) soqlValueKind {
	switch fieldType {
	case "id", "reference":
		return kindID
	case "boolean":
		return kindBool
	case "int", "double", "currency", "percent":
		return kindNumber
	case "date":
		return kindDate
	case "datetime":
		return kindDateTime
	}
	return kindString
}

// fieldRef is a resolved field path: the reference fields walked through, then the field read.
type soqlFieldRef struct {
	hops  []*fieldMeta
	field *fieldMeta
	kind  soqlValueKind
}

// plan is a compiled SELECT.
type soqlPlan struct {
	obj           *objectMeta
	out           []*soqlOutNode
	where         func(soqlRow) bool // nil: every row
	seek          *soqlSeek          // nil: scan every row (soql_index.go)
	order         []soqlOrderKey
	limit, offset int // limit -1: none
	count         bool
	children      []*soqlChildPlan
}

type soqlOrderKey struct {
	ref             *soqlFieldRef
	desc, nullsLast bool
}

// outNode is one key of an output record: a field, a parent relationship with its own selected
// fields, or a child subquery.
type soqlOutNode struct {
	key       string
	field     *fieldMeta
	rel       *fieldMeta // the reference field opening the parent relationship
	relObject string     // canonical parent sObject name
	nested    []*soqlOutNode
	child     *soqlChildPlan
}

type soqlChildPlan struct {
	rel  *childRelationship
	plan *soqlPlan
}

func (e *soqlEngine) errAt(code string, pos int, format string, args ...any) error {
	return soqlQueryError(e.q, e.toks, code, pos, fmt.Sprintf(format, args...))
}

// compile checks a parsed query against the metadata. parent is nil for a top-level query or a
// semi-join and the parent's object for a child subquery.
func (e *soqlEngine) compile(q *soqlQuery, parent *objectMeta) (*soqlPlan, error) {
	var obj *objectMeta
	if parent == nil {
		o, ok := e.src.object(q.object)
		if !ok {
			return nil, e.errAt("INVALID_TYPE", q.objectPos, msgNoSuchType, q.object)
		}
		obj = o
	} else {
		rel, ok := parent.Children[strings.ToLower(q.object)]
		if !ok {
			return nil, e.errAt("INVALID_TYPE", q.objectPos, msgNoSuchChildRelationship, q.object)
		}
		o, ok := e.src.object(rel.Object)
		if !ok {
			return nil, e.errAt("INVALID_TYPE", q.objectPos, msgNoSuchChildRelationship, q.object)
		}
		obj = o
	}
	if q.offset > soqlMaxOffset {
		return nil, &soqlError{Code: "NUMBER_OUTSIDE_VALID_RANGE", Message: "Maximum SOQL offset allowed is 2000"}
	}
	p := &soqlPlan{obj: obj, limit: q.limit, offset: q.offset, count: q.count}
	seen := map[string]bool{}
	for _, item := range q.items {
		if item.sub != nil {
			rel := obj.Children[strings.ToLower(item.sub.object)]
			if rel == nil {
				return nil, e.errAt("INVALID_TYPE", item.sub.objectPos, msgNoSuchChildRelationship, item.sub.object)
			}
			if item.sub.count {
				return nil, e.errAt("MALFORMED_QUERY", item.sub.countPos, "unexpected token: 'COUNT'")
			}
			if seen[strings.ToLower(rel.Name)] {
				return nil, e.errAt("MALFORMED_QUERY", item.pos, "duplicate field selected: %s", rel.Name)
			}
			seen[strings.ToLower(rel.Name)] = true
			sub, err := e.compile(item.sub, obj)
			if err != nil {
				return nil, err
			}
			c := &soqlChildPlan{rel: rel, plan: sub}
			p.children = append(p.children, c)
			p.out = append(p.out, &soqlOutNode{key: rel.Name, child: c})
			continue
		}
		if err := e.addOutput(p, item); err != nil {
			return nil, err
		}
	}
	if q.where != nil {
		pred, err := e.compileCond(obj, q.where)
		if err != nil {
			return nil, err
		}
		p.where = pred
		p.seek = e.planSeek(obj, q.where)
	}
	for _, o := range q.order {
		ref, err := e.resolve(obj, o.path, o.pos)
		if err != nil {
			return nil, err
		}
		if !ref.field.Sortable {
			return nil, e.errAt("INVALID_FIELD", o.pos, "field '%s' can not be sorted in a query call", ref.field.Name)
		}
		p.order = append(p.order, soqlOrderKey{ref: ref, desc: o.desc, nullsLast: o.nullsLast})
	}
	return p, nil
}

// addOutput merges a selected path into the output tree so that "Assignee.Username, Assignee.Email"
// share one nested Assignee object, placed where the relationship first appears.
func (e *soqlEngine) addOutput(p *soqlPlan, item soqlSelectItem) error {
	ref, err := e.resolve(p.obj, item.path, item.pos)
	if err != nil {
		return err
	}
	level := &p.out
	for _, hop := range ref.hops {
		var node *soqlOutNode
		for _, n := range *level {
			if n.rel == hop {
				node = n
				break
			}
		}
		if node == nil {
			target, _ := e.src.object(hop.ReferenceTo)
			node = &soqlOutNode{key: hop.RelationshipName, rel: hop, relObject: target.Name}
			*level = append(*level, node)
		}
		level = &node.nested
	}
	for _, n := range *level {
		if n.field == ref.field {
			return e.errAt("MALFORMED_QUERY", item.pos, "duplicate field selected: %s", item.path)
		}
	}
	*level = append(*level, &soqlOutNode{key: ref.field.Name, field: ref.field})
	return nil
}

// parentRelationship finds the reference field whose relationship name is name.
func soqlParentRelationship(obj *objectMeta, name string) *fieldMeta {
	for _, f := range obj.Fields {
		if f.RelationshipName != "" && strings.EqualFold(f.RelationshipName, name) {
			return f
		}
	}
	return nil
}

// resolve maps a (dotted) field path on obj to its fields. A leading segment naming obj itself
// ("User.Username" in FROM User) is allowed, as in Salesforce.
func (e *soqlEngine) resolve(obj *objectMeta, path string, pos int) (*soqlFieldRef, error) {
	segs := strings.Split(path, ".")
	if len(segs) > 1 && strings.EqualFold(segs[0], obj.Name) && soqlParentRelationship(obj, segs[0]) == nil {
		segs = segs[1:]
	}
	ref := &soqlFieldRef{}
	cur := obj
	for _, seg := range segs[:len(segs)-1] {
		hop := soqlParentRelationship(cur, seg)
		if hop == nil {
			return nil, e.errAt("INVALID_FIELD", pos, msgNoSuchRelationship, seg)
		}
		next, ok := e.src.object(hop.ReferenceTo)
		if !ok {
			return nil, e.errAt("INVALID_FIELD", pos, msgNoSuchRelationship, seg)
		}
		ref.hops = append(ref.hops, hop)
		cur = next
	}
	last := segs[len(segs)-1]
	f := cur.Fields[strings.ToLower(last)]
	if f == nil {
		return nil, e.errAt("INVALID_FIELD", pos, msgNoSuchColumn, last, cur.Name)
	}
	ref.field, ref.kind = f, soqlKindOf(f.Type)
	return ref, nil
}

// value reads ref from r, following parent references; nil when any link is empty.
func (e *soqlEngine) value(ref *soqlFieldRef, r soqlRow) any {
	for _, hop := range ref.hops {
		id, _ := r[hop.Name].(string)
		if id == "" {
			return nil
		}
		if r = e.src.row(hop.ReferenceTo, soqlId18(id)); r == nil {
			return nil
		}
	}
	return r[ref.field.Name]
}

// comparable reads ref from r as the Go type its kind compares with (string, bool, float64,
// time.Time), or nil.
func (e *soqlEngine) comparable(ref *soqlFieldRef, r soqlRow) any {
	return soqlNormalize(ref.kind, e.value(ref, r))
}

func soqlNormalize(kind soqlValueKind, v any) any {
	if v == nil {
		return nil
	}
	switch kind {
	case kindID:
		s, _ := v.(string)
		if key, ok := soqlIdKey(s); ok {
			return key
		}
		if s == "" {
			return nil
		}
		return s
	case kindString:
		if _, ok := v.(string); ok {
			return v // unchanged interface value: no allocation per row
		}
		return fmt.Sprint(v)
	case kindBool:
		if _, ok := v.(bool); ok {
			return v
		}
	case kindNumber:
		switch n := v.(type) {
		case float64:
			return v
		case int:
			return float64(n)
		case int64:
			return float64(n)
		}
	case kindDate, kindDateTime:
		if t, ok := v.(time.Time); ok {
			return t.UTC()
		}
	}
	return nil
}

// compareValues orders two non-nil normalized values of one kind; strings case-insensitively.
func soqlCompareValues(kind soqlValueKind, a, b any) int {
	switch kind {
	case kindString:
		return soqlCompareFold(a.(string), b.(string))
	case kindID:
		return strings.Compare(a.(string), b.(string))
	case kindBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case kindNumber:
		return cmp.Compare(a.(float64), b.(float64))
	default:
		return a.(time.Time).Compare(b.(time.Time))
	}
}

func soqlEqualValues(kind soqlValueKind, a, b any) bool {
	if kind == kindString {
		return strings.EqualFold(a.(string), b.(string))
	}
	return soqlCompareValues(kind, a, b) == 0
}

// compareFold compares strings by their lower-case runes without allocating.
func soqlCompareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(unicode.ToLower(ra), unicode.ToLower(rb)); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// setKey is a map key for IN lists and semi-joins: strings fold case, times use their instant.
func soqlSetKey(kind soqlValueKind, v any) any {
	switch kind {
	case kindString:
		return strings.ToLower(v.(string))
	case kindDate, kindDateTime:
		return v.(time.Time).UnixNano()
	}
	return v
}

// run evaluates a compiled top-level query.
func (e *soqlEngine) run(p *soqlPlan) *soqlResult {
	rows := e.selectRows(p, e.candidates(p))
	if p.count {
		n := len(soqlWindow(rows, p.offset, p.limit))
		return &soqlResult{TotalSize: n, IsCount: true, Records: []*soqlRecord{}}
	}
	rows = soqlWindow(rows, p.offset, p.limit)
	groups := e.childGroups(p, rows)
	records := make([]*soqlRecord, 0, len(rows))
	for i, r := range rows {
		e.row = i
		id, _ := r["Id"].(string)
		records = append(records, &soqlRecord{
			Object: p.obj.Name,
			ID:     soqlId18(id),
			JSON:   e.appendRecord(nil, p.obj.Name, r, p.out, groups),
		})
	}
	return &soqlResult{TotalSize: len(records), Records: records}
}

// selectRows filters and sorts rows; the caller applies OFFSET and LIMIT.
func (e *soqlEngine) selectRows(p *soqlPlan, all []soqlRow) []soqlRow {
	rows := make([]soqlRow, 0, len(all))
	for _, r := range all {
		if p.where == nil || p.where(r) {
			rows = append(rows, r)
		}
	}
	e.sortRows(rows, p.order)
	return rows
}

func soqlWindow(rows []soqlRow, offset, limit int) []soqlRow {
	if offset >= len(rows) {
		return nil
	}
	rows = rows[offset:]
	if limit >= 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	return rows
}

// sortRows orders rows stably by keys; keys are read once per row since they may walk parents.
func (e *soqlEngine) sortRows(rows []soqlRow, keys []soqlOrderKey) {
	if len(keys) == 0 || len(rows) < 2 {
		return
	}
	type keyed struct {
		r    soqlRow
		vals []any
	}
	items := make([]keyed, len(rows))
	for i, r := range rows {
		vals := make([]any, len(keys))
		for k, key := range keys {
			vals[k] = e.comparable(key.ref, r)
		}
		items[i] = keyed{r, vals}
	}
	slices.SortStableFunc(items, func(a, b keyed) int {
		for k, key := range keys {
			x, y := a.vals[k], b.vals[k]
			switch {
			case x == nil && y == nil:
				continue
			case x == nil:
				return soqlNullOrder(key.nullsLast)
			case y == nil:
				return -soqlNullOrder(key.nullsLast)
			}
			c := soqlCompareValues(key.ref.kind, x, y)
			if key.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	for i := range items {
		rows[i] = items[i].r
	}
}

func soqlNullOrder(nullsLast bool) int {
	if nullsLast {
		return 1
	}
	return -1
}

// childGroups evaluates each child subquery once: its matching rows, sorted, grouped by the id of
// the parent they point at, restricted to the parents in the result.
func (e *soqlEngine) childGroups(p *soqlPlan, parents []soqlRow) map[*soqlChildPlan]map[string][]soqlRow {
	if len(p.children) == 0 || len(parents) == 0 {
		return nil
	}
	wanted := make(map[string]bool, len(parents))
	for _, r := range parents {
		id, _ := r["Id"].(string)
		if key, ok := soqlIdKey(id); ok {
			wanted[key] = true
		}
	}
	groups := make(map[*soqlChildPlan]map[string][]soqlRow, len(p.children))
	for _, c := range p.children {
		byParent := map[string][]soqlRow{}
		for _, r := range e.selectRows(c.plan, e.childCandidates(c, parents)) {
			ref, _ := r[c.rel.Field].(string)
			if key, ok := soqlIdKey(ref); ok && wanted[key] {
				byParent[key] = append(byParent[key], r)
			}
		}
		groups[c] = byParent
	}
	return groups
}

// appendRecord encodes r as Salesforce does: attributes first, then the selected keys in order.
func (e *soqlEngine) appendRecord(b []byte, objName string, r soqlRow, nodes []*soqlOutNode, groups map[*soqlChildPlan]map[string][]soqlRow) []byte {
	id, _ := r["Id"].(string)
	id = soqlId18(id)
	b = append(b, `{"attributes":{"type":`...)
	b = soqlAppendJSONString(b, objName)
	b = append(b, `,"url":`...)
	b = soqlAppendJSONString(b, e.urlPrefix+objName+"/"+id)
	b = append(b, '}')
	for _, n := range nodes {
		b = append(b, ',')
		b = soqlAppendJSONString(b, n.key)
		b = append(b, ':')
		switch {
		case n.field != nil:
			b = soqlAppendValue(b, n.field, r[n.field.Name])
		case n.rel != nil:
			var parent soqlRow
			if pid, _ := r[n.rel.Name].(string); pid != "" {
				parent = e.src.row(n.rel.ReferenceTo, soqlId18(pid))
			}
			if parent == nil {
				b = append(b, "null"...)
			} else {
				b = e.appendRecord(b, n.relObject, parent, n.nested, nil)
			}
		case n.child != nil:
			key, _ := soqlIdKey(id)
			kids := soqlWindow(groups[n.child][key], n.child.plan.offset, n.child.plan.limit)
			if len(kids) == 0 {
				b = append(b, "null"...)
				continue
			}
			b = append(b, `{"totalSize":`...)
			b = strconv.AppendInt(b, int64(len(kids)), 10)
			if e.childBatch > 0 && len(kids) > e.childBatch && e.childCursor != nil {
				all := make([]*soqlRecord, len(kids))
				for i, k := range kids {
					kid, _ := k["Id"].(string)
					all[i] = &soqlRecord{Object: n.child.plan.obj.Name, ID: soqlId18(kid),
						JSON: e.appendRecord(nil, n.child.plan.obj.Name, k, n.child.plan.out, nil)}
				}
				b = append(b, `,"done":false,"nextRecordsUrl":`...)
				b = soqlAppendJSONString(b, e.childCursor(e.row, all))
				b = append(b, `,"records":[`...)
				for i, rec := range all[:e.childBatch] {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, rec.JSON...)
				}
				b = append(b, "]}"...)
				continue
			}
			b = append(b, `,"done":true,"records":[`...)
			for i, k := range kids {
				if i > 0 {
					b = append(b, ',')
				}
				b = e.appendRecord(b, n.child.plan.obj.Name, k, n.child.plan.out, nil)
			}
			b = append(b, "]}"...)
		}
	}
	return append(b, '}')
}

// appendValue writes a field value in Salesforce's JSON form: ids with 18 characters, datetimes as
// "2006-01-02T15:04:05.000+0000", dates as "2006-01-02", doubles with a fractional part.
func soqlAppendValue(b []byte, f *fieldMeta, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		if f.Type == "id" || f.Type == "reference" {
			v = soqlId18(v)
		}
		return soqlAppendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return soqlAppendNumber(b, f, float64(v))
	case int64:
		return soqlAppendNumber(b, f, float64(v))
	case float64:
		return soqlAppendNumber(b, f, v)
	case time.Time:
		if f.Type == "date" {
			return soqlAppendJSONString(b, v.UTC().Format(time.DateOnly))
		}
		return soqlAppendJSONString(b, v.UTC().Format("2006-01-02T15:04:05.000+0000"))
	}
	return soqlAppendJSONString(b, fmt.Sprint(v))
}

func soqlAppendNumber(b []byte, f *fieldMeta, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	if f.Type == "int" && v == math.Trunc(v) {
		return strconv.AppendFloat(b, v, 'f', 0, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return append(b, s...)
}

// appendJSONString quotes s without Go's HTML escaping, which Salesforce does not do.
func soqlAppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, `\n`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\t':
				b = append(b, `\t`...)
			case c < 0x20:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, "89"[r-'\u2028'])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
