package emulator

import (
	"strings"
	"time"
)

// table holds the rows of one sObject type. Rows are never modified in place once stored: every
// change stores a fresh map, so rows handed to the SOQL engine or kept by callers stay consistent.
type table struct {
	order []string                  // ids in creation order
	rows  map[string]map[string]any // by 18-character id
}

// undoEntry restores one row to what it was before a change: prev nil means the row did not
// exist; index is its position in the creation order when it was deleted.
type undoEntry struct {
	object string
	id     string
	prev   map[string]any
	index  int
}

// store is the in-memory org. It is not safe for concurrent use; the Emulator's mutex guards it.
type store struct {
	schema  *schema
	tables  map[string]*table // by canonical object name
	seq     int               // last id number handed out (ids are never reused, even after a rollback)
	last    time.Time         // last audit timestamp handed out
	journal []undoEntry       // changes since the start of the current top-level request
}

func newStore(s *schema) *store {
	st := &store{schema: s, tables: map[string]*table{}}
	for _, o := range s.ordered {
		st.tables[o.Name] = &table{rows: map[string]map[string]any{}}
	}
	return st
}

func (s *store) newID(o *objectDef) string {
	s.seq++
	return makeID(o.Prefix, s.seq)
}

// stamp returns the next audit timestamp: now at millisecond resolution, but always after the
// previous one so that SystemModstamp strictly increases even for changes within one millisecond.
func (s *store) stamp(now time.Time) time.Time {
	t := now.UTC().Truncate(time.Millisecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Millisecond)
	}
	s.last = t
	return t
}

// savepoint marks the journal so that rollback can undo every change made after it.
func (s *store) savepoint() int { return len(s.journal) }

func (s *store) rollback(sp int) {
	for i := len(s.journal) - 1; i >= sp; i-- {
		u := s.journal[i]
		t := s.tables[u.object]
		_, exists := t.rows[u.id]
		switch {
		case u.prev == nil: // undo an insert
			delete(t.rows, u.id)
			t.removeFromOrder(u.id)
		case !exists: // undo a delete
			t.rows[u.id] = u.prev
			t.order = append(t.order, "")
			copy(t.order[u.index+1:], t.order[u.index:])
			t.order[u.index] = u.id
		default: // undo an update
			t.rows[u.id] = u.prev
		}
	}
	s.journal = s.journal[:sp]
}

// forget drops the journal; called when a top-level request is complete.
func (s *store) forget() { s.journal = s.journal[:0] }

func (t *table) removeFromOrder(id string) int {
	for i, v := range t.order {
		if v == id {
			t.order = append(t.order[:i], t.order[i+1:]...)
			return i
		}
	}
	return -1
}

func (s *store) insert(object, id string, row map[string]any) {
	t := s.tables[object]
	t.rows[id] = row
	t.order = append(t.order, id)
	s.journal = append(s.journal, undoEntry{object: object, id: id})
}

func (s *store) replace(object, id string, row map[string]any) {
	t := s.tables[object]
	s.journal = append(s.journal, undoEntry{object: object, id: id, prev: t.rows[id]})
	t.rows[id] = row
}

func (s *store) remove(object, id string) {
	t := s.tables[object]
	prev := t.rows[id]
	if prev == nil {
		return
	}
	delete(t.rows, id)
	index := t.removeFromOrder(id)
	s.journal = append(s.journal, undoEntry{object: object, id: id, prev: prev, index: index})
}

// get returns the stored row (not a copy; callers must not modify it).
func (s *store) get(object, id string) map[string]any { return s.tables[object].rows[id] }

// all returns the stored rows of a type in creation order.
func (s *store) all(object string) []map[string]any {
	t := s.tables[object]
	out := make([]map[string]any, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, t.rows[id])
	}
	return out
}

// find returns the first row of a type for which match is true.
func (s *store) find(object string, match func(map[string]any) bool) map[string]any {
	t := s.tables[object]
	for _, id := range t.order {
		if r := t.rows[id]; match(r) {
			return r
		}
	}
	return nil
}

// The store is the SOQL engine's soqlSource.

func (s *store) object(name string) (*objectMeta, bool) {
	o := s.schema.object(name)
	if o == nil {
		return nil, false
	}
	return o.meta, true
}

func (s *store) rows(object string) []map[string]any {
	if o := s.schema.object(object); o != nil {
		return s.all(o.Name)
	}
	return nil
}

func (s *store) row(object, id string) map[string]any {
	o := s.schema.object(object)
	if o == nil {
		return nil
	}
	if n, ok := normalizeID(id); ok {
		return s.get(o.Name, n)
	}
	return nil
}

func copyRow(r map[string]any) map[string]any {
	if r == nil {
		return nil
	}
	c := make(map[string]any, len(r))
	for k, v := range r {
		c[k] = v
	}
	return c
}

// strValue returns a string field's value, "" when null.
func strValue(r map[string]any, field string) string {
	s, _ := r[field].(string)
	return s
}

func boolValue(r map[string]any, field string) bool {
	b, _ := r[field].(bool)
	return b
}

func equalFoldValue(r map[string]any, field, want string) bool {
	return strings.EqualFold(strValue(r, field), want)
}
