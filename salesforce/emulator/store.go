package emulator

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// table holds the rows of one sObject type. Rows are never modified in place once stored: every
// change stores a fresh map, so rows handed to the SOQL engine or kept by callers stay consistent.
type table struct {
	// order holds ids in creation order. Ids of removed rows stay in it until the store compacts it
	// between top-level requests, so undoing a delete puts the row back where it was in O(1).
	order   []string
	rows    map[string]map[string]any // by 18-character id
	indexes map[string]*index         // by field name
}

// index maps the value of one field to the ids of the rows holding it. Null and empty values are
// not indexed.
type index struct {
	field string // the indexed field
	fold  bool   // values compare case-insensitively (strings.EqualFold)
	ids   map[string]map[string]struct{}
}

// soqlFoldSuffix names the case-insensitive twin of an exact index, which the SOQL engine's
// equality lookups use (SOQL compares strings case-insensitively; the write rules compare
// FederationIdentifier exactly).
const soqlFoldSuffix = "/fold"

// indexedFields are the fields the write rules look rows up by; fold marks the ones Salesforce
// compares case-insensitively.
var indexedFields = map[string][]struct {
	field string
	fold  bool
}{
	"User": {{"Username", true}, {"CommunityNickname", true}, {"FederationIdentifier", false},
		{"FederationIdentifier" + soqlFoldSuffix, true}, {"ProfileId", false}, {"UserRoleId", false}},
	"UserLogin":                  {{"UserId", false}},
	"Profile":                    {{"Name", true}},
	"PermissionSet":              {{"Name", true}, {"ProfileId", false}, {"PermissionSetGroupId", false}},
	"PermissionSetGroup":         {{"DeveloperName", true}},
	"PermissionSetAssignment":    {{"AssigneeId", false}, {"PermissionSetId", false}, {"PermissionSetGroupId", false}},
	"PermissionSetLicenseAssign": {{"AssigneeId", false}, {"PermissionSetLicenseId", false}},
}

// undoEntry restores one row to what it was before a change: prev nil means the row did not exist.
type undoEntry struct {
	object string
	id     string
	prev   map[string]any
}

// store is the in-memory org. It is not safe for concurrent use; the Emulator's mutex guards it.
//
// Everything derived from the rows (indexes, seat counts) is maintained by set, the one place rows
// change, so forward changes and rollbacks keep it consistent alike.
type store struct {
	schema  *schema
	tables  map[string]*table // by canonical object name
	seq     int               // last id number handed out (ids are never reused, even after a rollback)
	last    time.Time         // last audit timestamp handed out
	journal []undoEntry       // changes since the start of the current top-level request
	// seats counts the active users per UserLicense id (through their profile's licence).
	seats map[string]int
	// nicknameNext remembers, per folded nickname base, the suffix the last generated nickname
	// used. It is only a hint where to start looking for a free nickname.
	nicknameNext map[string]int
}

func newStore(s *schema) *store {
	st := &store{schema: s, tables: map[string]*table{}, seats: map[string]int{}, nicknameNext: map[string]int{}}
	for _, o := range s.ordered {
		t := &table{rows: map[string]map[string]any{}, indexes: map[string]*index{}}
		for _, f := range indexedFields[o.Name] {
			field, _, _ := strings.Cut(f.field, soqlFoldSuffix)
			t.indexes[f.field] = &index{field: field, fold: f.fold, ids: map[string]map[string]struct{}{}}
		}
		st.tables[o.Name] = t
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

// rollback undoes the changes made since sp, newest first. Its cost is that of the undone changes,
// not of the store's size.
func (s *store) rollback(sp int) {
	for i := len(s.journal) - 1; i >= sp; i-- {
		u := s.journal[i]
		s.set(u.object, u.id, u.prev)
	}
	clear(s.journal[sp:])
	s.journal = s.journal[:sp]
}

// forget drops the journal; called when a top-level request is complete. With no undo pending,
// it also drops the ids of removed rows from the creation order once they are the majority.
func (s *store) forget() {
	clear(s.journal)
	s.journal = s.journal[:0]
	for _, t := range s.tables {
		if dead := len(t.order) - len(t.rows); dead > 64 && dead > len(t.rows) {
			live := make([]string, 0, len(t.rows))
			for _, id := range t.order {
				if t.rows[id] != nil {
					live = append(live, id)
				}
			}
			t.order = live
		}
	}
}

func (s *store) insert(object, id string, row map[string]any) {
	s.tables[object].order = append(s.tables[object].order, id)
	s.journal = append(s.journal, undoEntry{object: object, id: id})
	s.set(object, id, row)
}

func (s *store) replace(object, id string, row map[string]any) {
	s.journal = append(s.journal, undoEntry{object: object, id: id, prev: s.get(object, id)})
	s.set(object, id, row)
}

func (s *store) remove(object, id string) {
	prev := s.get(object, id)
	if prev == nil {
		return
	}
	s.journal = append(s.journal, undoEntry{object: object, id: id, prev: prev})
	s.set(object, id, nil)
}

// set stores row as the row id of object (nil removes it) and updates what is derived from rows.
// The id must already be in the creation order.
func (s *store) set(object, id string, row map[string]any) {
	t := s.tables[object]
	old := t.rows[id]
	if row == nil {
		delete(t.rows, id)
	} else {
		t.rows[id] = row
	}
	for _, ix := range t.indexes {
		oldKey, newKey := ix.key(old, ix.field), ix.key(row, ix.field)
		if oldKey == newKey && (old == nil) == (row == nil) {
			continue
		}
		if old != nil && oldKey != "" {
			ix.remove(oldKey, id)
		}
		if row != nil && newKey != "" {
			ix.add(newKey, id)
		}
	}
	if object == "User" {
		if lic := s.seatOf(old); lic != "" {
			s.seats[lic]--
		}
		if lic := s.seatOf(row); lic != "" {
			s.seats[lic]++
		}
	}
}

// seatOf returns the UserLicense id an active user occupies a seat of, "" for none. A profile's
// licence cannot change and a profile cannot be deleted while users have it, so the answer for a
// stored user row never changes.
func (s *store) seatOf(user map[string]any) string {
	if user == nil || !boolValue(user, "IsActive") {
		return ""
	}
	return strValue(s.get("Profile", strValue(user, "ProfileId")), "UserLicenseId")
}

// usedSeats is the number of active users whose profile has the licence.
func (s *store) usedSeats(licenseID string) int { return s.seats[licenseID] }

func (ix *index) key(row map[string]any, field string) string { return ix.keyOf(strValue(row, field)) }

func (ix *index) keyOf(value string) string {
	if ix.fold {
		return foldKey(value)
	}
	return value
}

func (ix *index) add(key, id string) {
	ids := ix.ids[key]
	if ids == nil {
		ids = map[string]struct{}{}
		ix.ids[key] = ids
	}
	ids[id] = struct{}{}
}

func (ix *index) remove(key, id string) {
	ids := ix.ids[key]
	delete(ids, id)
	if len(ids) == 0 {
		delete(ix.ids, key)
	}
}

// foldKey maps s to a key that is equal for two strings exactly when strings.EqualFold says they
// are equal: every rune becomes the smallest rune of its simple case-folding orbit.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

func (s *store) indexOf(object, field string) *index {
	ix := s.tables[object].indexes[field]
	if ix == nil {
		panic("emulator: no index on " + object + "." + field)
	}
	return ix
}

// has reports whether some row of object has value in the indexed field.
func (s *store) has(object, field, value string) bool {
	ix := s.indexOf(object, field)
	return len(ix.ids[ix.keyOf(value)]) > 0
}

// findBy returns the earliest-created row of object whose indexed field has value (compared as
// the index compares) and for which match (nil: any) is true. Its cost is the number of rows with
// that value.
func (s *store) findBy(object, field, value string, match func(map[string]any) bool) map[string]any {
	ix := s.indexOf(object, field)
	key := ix.keyOf(value)
	if key == "" {
		return nil
	}
	var first string
	for id := range ix.ids[key] {
		// Ids of one type are fixed-width base62 numbers, so they sort in creation order.
		if (first == "" || id < first) && (match == nil || match(s.get(object, id))) {
			first = id
		}
	}
	if first == "" {
		return nil
	}
	return s.get(object, first)
}

// get returns the stored row (not a copy; callers must not modify it).
func (s *store) get(object, id string) map[string]any { return s.tables[object].rows[id] }

// all returns the stored rows of a type in creation order.
func (s *store) all(object string) []map[string]any {
	t := s.tables[object]
	out := make([]map[string]any, 0, len(t.rows))
	for _, id := range t.order {
		if r := t.rows[id]; r != nil {
			out = append(out, r)
		}
	}
	return out
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
