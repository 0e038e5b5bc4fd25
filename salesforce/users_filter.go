package salesforce

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// The SCIM filter arrives as scimschema's neutral condition tree and is rendered here with the
// client's SOQL builder: values always become escaped literals.

func filterError(format string, args ...any) error {
	return &scimschema.Error{Kind: scimschema.KindInvalidFilter, Detail: fmt.Sprintf(format, args...)}
}

// Salesforce allows a semi-join ("Id IN (SELECT …)") or anti-join only as a top-level AND
// conjunct of a WHERE clause, at most two per clause, never under OR or NOT and never nested
// (SOQL reference, "Semi-Join and Anti-Join Considerations"; MALFORMED_QUERY otherwise). The two
// filter conditions that need one, active (UserLogin.IsFrozen) and groups (PermissionSetAssignment),
// are rendered as semi-joins where that is allowed. Elsewhere their user ids are read first
// (resolveSets, one query each) and inlined as a literal "Id IN ('…', …)" list, which must keep the
// query under Salesforce's URI limit; a filter whose lists do not fit is refused as too broad.
const (
	maxSemiJoins = 2
	// maxURIBytes is Salesforce's limit on a request URI (longer: 414). Composite subrequest urls
	// are held to it too.
	maxURIBytes = 16384
	// inlinedIDBytes is what one inlined 18-character id adds to a query URL: the quotes and
	// ", " URL-encoded (%27…%27%2C+).
	inlinedIDBytes = 18 + 3*3 + 1
	// maxInlineIDs is the most ids that could fit in one query URL; reading stops beyond it.
	maxInlineIDs = maxURIBytes / inlinedIDBytes
)

// frozenLogins is the semi-join "users whose UserLogin is frozen".
func frozenLogins() *rest.Query {
	return rest.Select("UserId").From("UserLogin").Where(rest.Eq("IsFrozen", true))
}

// groupRef names a group's assignments: the assignment field and the group's 18-character id.
type groupRef struct{ field, id string }

// groupOf returns where the assignments of a MemberOf group are found; ok is false for an id that
// names no permission set or permission set group (it matches nothing).
func groupOf(m scimschema.MemberOf) (groupRef, bool) {
	id, ok := rest.CanonicalID(m.GroupID, rest.PrefixPermSet, rest.PrefixPermSetGroup)
	if !ok {
		return groupRef{}, false
	}
	field := "PermissionSetId"
	if strings.HasPrefix(id, rest.PrefixPermSetGroup) {
		field = "PermissionSetGroupId"
	}
	return groupRef{field: field, id: id}, true
}

// resolvedSets are the user id sets read to inline semi-joins that Salesforce would refuse.
type resolvedSets struct {
	hasFrozen bool
	// frozen are the frozen users among those the filter can match (a superset of its result),
	// by 18-character id; logins their UserLogins by 15-character user id.
	frozen  []string
	logins  map[string]loginRow
	members map[groupRef][]string
}

// userRenderer renders a neutral condition on User as SOQL. With sets nil it records the id sets
// the condition needs (needFrozen, needGroups) and renders placeholders.
type userRenderer struct {
	groupSlots int  // top-level group conditions still rendered as semi-joins
	activeSlot bool // a top-level "active eq true" may still be rendered as an anti-join
	sets       *resolvedSets
	needFrozen bool
	needGroups []groupRef
}

// conjuncts flattens the top-level ANDs of c.
func conjuncts(c scimschema.Cond) []scimschema.Cond {
	if a, ok := c.(scimschema.And); ok {
		var out []scimschema.Cond
		for _, x := range a.Conds {
			out = append(out, conjuncts(x)...)
		}
		return out
	}
	return []scimschema.Cond{c}
}

// newUserRenderer hands out the two semi-join slots of c's WHERE clause: to top-level group
// conditions first (a group can have thousands of members, while frozen users are few), then to a
// top-level "active eq true".
func newUserRenderer(c scimschema.Cond, sets *resolvedSets) *userRenderer {
	groups, active := 0, false
	for _, x := range conjuncts(c) {
		switch x := x.(type) {
		case scimschema.MemberOf:
			if _, ok := groupOf(x); ok {
				groups++
			}
		case scimschema.ActiveIs:
			active = active || x.Value
		}
	}
	r := &userRenderer{groupSlots: min(groups, maxSemiJoins), sets: sets}
	r.activeSlot = active && r.groupSlots < maxSemiJoins
	return r
}

func (r *userRenderer) needs() bool { return r.needFrozen || len(r.needGroups) > 0 }

func (r *userRenderer) frozenIDs() []string {
	if r.sets == nil || !r.sets.hasFrozen {
		r.needFrozen = true
		return nil
	}
	return r.sets.frozen
}

func (r *userRenderer) memberIDs(g groupRef) []string {
	if r.sets != nil {
		if ids, ok := r.sets.members[g]; ok {
			return ids
		}
	}
	if !slices.Contains(r.needGroups, g) {
		r.needGroups = append(r.needGroups, g)
	}
	return nil
}

// idIn is "Id IN (ids…)"; no ids match nothing.
func idIn(ids []string) rest.Cond {
	if len(ids) == 0 {
		return rest.Eq("Id", nil)
	}
	return rest.In("Id", ids)
}

// idNotIn is "Id NOT IN (ids…)"; no ids exclude nothing.
func idNotIn(ids []string) rest.Cond {
	if len(ids) == 0 {
		return rest.Ne("Id", nil)
	}
	return rest.NotIn("Id", ids)
}

// render renders c; top says whether c is a top-level AND conjunct of the WHERE clause.
func (r *userRenderer) render(c scimschema.Cond, top bool) (rest.Cond, error) {
	switch c := c.(type) {
	case scimschema.And:
		return r.junction(c.Conds, rest.And, top)
	case scimschema.Or:
		return r.junction(c.Conds, rest.Or, false)
	case scimschema.Not:
		inner, err := r.render(c.Cond, false)
		if err != nil {
			return nil, err
		}
		return rest.Not(inner), nil
	case scimschema.Compare:
		return renderCompare(c)
	case scimschema.Present:
		return rest.Ne(c.Field, nil), nil
	case scimschema.ActiveIs:
		// active = IsActive ∧ ¬UserLogin.IsFrozen
		if c.Value {
			if top && r.activeSlot {
				r.activeSlot = false
				return rest.And(rest.Eq("IsActive", true), rest.NotInQuery("Id", frozenLogins())), nil
			}
			return rest.And(rest.Eq("IsActive", true), idNotIn(r.frozenIDs())), nil
		}
		// ¬active needs OR, where no semi-join may stand: always the resolved list.
		return rest.Or(rest.Eq("IsActive", false), idIn(r.frozenIDs())), nil
	case scimschema.MemberOf:
		g, ok := groupOf(c)
		if !ok {
			return rest.Eq("Id", nil), nil // no such group: matches nothing
		}
		if top && r.groupSlots > 0 {
			r.groupSlots--
			return rest.InQuery("Id", rest.Select("AssigneeId").From("PermissionSetAssignment").Where(rest.Eq(g.field, g.id))), nil
		}
		return idIn(r.memberIDs(g)), nil
	case scimschema.Nothing:
		return rest.Eq("Id", nil), nil // every record has an Id: matches nothing
	case scimschema.HasMember:
		return nil, filterError("members is not an attribute of Users")
	}
	return nil, filterError("the filter cannot be translated to a Salesforce query")
}

func (r *userRenderer) junction(cs []scimschema.Cond, join func(...rest.Cond) rest.Cond, top bool) (rest.Cond, error) {
	out := make([]rest.Cond, 0, len(cs))
	for _, c := range cs {
		x, err := r.render(c, top)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return join(out...), nil
}

// renderUserFilter renders a filter on User as the WHERE clause of a query Salesforce accepts.
// It costs no call when every semi-join may stay one, and one query (plus query-more pages) per
// id set to inline otherwise; sets is nil when nothing was inlined.
func (b *Backend) renderUserFilter(ctx context.Context, c scimschema.Cond) (where rest.Cond, sets *resolvedSets, err error) {
	r := newUserRenderer(c, nil)
	if where, err = r.render(c, true); err != nil || !r.needs() {
		return where, nil, err
	}
	// The ids are read among the users that match the top-level conjuncts needing no join: the
	// filter is their AND, so the result is the same and the lists are as short as they can be.
	var plain []rest.Cond
	for _, x := range conjuncts(c) {
		if !needsJoin(x) {
			p, err := (&userRenderer{}).render(x, false)
			if err != nil {
				return nil, nil, err
			}
			plain = append(plain, p)
		}
	}
	var among rest.Cond
	switch len(plain) {
	case 0:
	case 1:
		among = plain[0]
	default:
		among = rest.And(plain...)
	}
	if sets, err = b.resolveSets(ctx, among, r.needFrozen, r.needGroups); err != nil {
		return nil, nil, err
	}
	where, err = newUserRenderer(c, sets).render(c, true)
	return where, sets, err
}

// renderWithin renders c using only resolved sets and no semi-join (for a condition that sits
// inside a semi-join's subquery); ok is false when it needs a set that was not resolved.
func renderWithin(c scimschema.Cond, sets *resolvedSets) (where rest.Cond, ok bool, err error) {
	r := &userRenderer{sets: sets}
	where, err = r.render(c, false)
	return where, !r.needs(), err
}

// errTooManyIDs stops reading an id set that cannot be inlined anyway.
var errTooManyIDs = errors.New("salesforce: id set too large to inline")

// filterTooBroad is the answer for a filter whose inlined id lists do not fit in a query.
func filterTooBroad() error {
	return filterError("the filter is too broad for Salesforce: an active or groups condition inside 'or' or 'not' " +
		"(or beyond the two Salesforce allows per query) is sent as a list of user ids, and this list is too long " +
		"for a Salesforce query; narrow the filter, for example by joining it with 'and userName eq …' or " +
		"'and externalId eq …', or use active and groups only as top-level 'and' conditions")
}

// needsJoin reports whether c holds an active or groups condition.
func needsJoin(c scimschema.Cond) bool {
	switch c := c.(type) {
	case scimschema.And:
		return slices.ContainsFunc(c.Conds, needsJoin)
	case scimschema.Or:
		return slices.ContainsFunc(c.Conds, needsJoin)
	case scimschema.Not:
		return needsJoin(c.Cond)
	case scimschema.ActiveIs, scimschema.MemberOf:
		return true
	}
	return false
}

// resolveSets reads the ids of the frozen users and of the given groups' members among the users
// of the SCIM user types that match among (nil: all), and fails with filterTooBroad as soon as they
// cannot fit in one query.
func (b *Backend) resolveSets(ctx context.Context, among rest.Cond, frozen bool, groups []groupRef) (*resolvedSets, error) {
	sets := &resolvedSets{members: map[groupRef][]string{}}
	ofTypes := rest.Select("Id").From("User").Where(b.withUserTypes(among))
	total := 0
	read := func(q *rest.Query, field string, each func(id string, rec rest.Record)) error {
		s, err := q.String()
		if err != nil {
			return err
		}
		_, err = b.c.QueryEach(ctx, s, 0, func(rec rest.Record) error {
			id := str(rec[field])
			if len(id) < 15 {
				return nil
			}
			if total++; total > maxInlineIDs {
				return errTooManyIDs
			}
			each(id, rec)
			return nil
		})
		if errors.Is(err, errTooManyIDs) {
			return filterTooBroad()
		}
		return err
	}
	if frozen {
		sets.hasFrozen, sets.logins = true, map[string]loginRow{}
		err := read(b.frozenLoginsOf(among), "UserId", func(id string, rec rest.Record) {
			sets.frozen = append(sets.frozen, id)
			sets.logins[id[:15]] = loginRow{id: str(rec["Id"]), frozen: true}
		})
		if err != nil {
			return nil, err
		}
	}
	for _, g := range groups {
		ids := []string{}
		q := rest.Select("AssigneeId").From("PermissionSetAssignment").Where(rest.And(rest.Eq(g.field, g.id), rest.InQuery("AssigneeId", ofTypes)))
		if err := read(q, "AssigneeId", func(id string, _ rest.Record) { ids = append(ids, id) }); err != nil {
			return nil, err
		}
		sets.members[g] = ids
	}
	return sets, nil
}

// fitsURI reports whether a GET of soql stays within Salesforce's URI limit.
func (b *Backend) fitsURI(soql string) bool {
	return len(b.c.DataPath())+len(rest.QueryPath(soql)) <= maxURIBytes
}

// soqlValue converts a filter value to a type the SOQL builder renders.
func soqlValue(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, time.Time, nil:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case int:
		return x, nil
	case int64:
		return x, nil
	}
	return nil, filterError("a filter value has a type Salesforce cannot compare")
}

func renderCompare(c scimschema.Compare) (rest.Cond, error) {
	v, err := soqlValue(c.Value)
	if err != nil {
		return nil, err
	}
	like := func(pattern func(string) string) (rest.Cond, error) {
		s, ok := v.(string)
		if !ok {
			return nil, filterError("%s: %s needs a string value", c.Field, c.Op)
		}
		return rest.Like(c.Field, pattern(rest.LikeEscape(s))), nil
	}
	switch c.Op {
	case "eq":
		return rest.Eq(c.Field, v), nil
	case "ne":
		return rest.Ne(c.Field, v), nil
	case "gt":
		return rest.Gt(c.Field, v), nil
	case "ge":
		return rest.Ge(c.Field, v), nil
	case "lt":
		return rest.Lt(c.Field, v), nil
	case "le":
		return rest.Le(c.Field, v), nil
	case "co":
		return like(func(s string) string { return "%" + s + "%" })
	case "sw":
		return like(func(s string) string { return s + "%" })
	case "ew":
		return like(func(s string) string { return "%" + s })
	}
	return nil, filterError("unsupported comparison operator %q", c.Op)
}

// exactChecks returns the case-exact comparisons that must hold for every row: those reached from
// the root through AND only. SOQL compares strings case-insensitively, so these rows are
// re-checked in Go. (A case-exact comparison under OR or NOT stays case-insensitive.)
func exactChecks(c scimschema.Cond) []scimschema.Compare {
	switch c := c.(type) {
	case scimschema.And:
		var out []scimschema.Compare
		for _, x := range c.Conds {
			out = append(out, exactChecks(x)...)
		}
		return out
	case scimschema.Compare:
		if c.CaseExact {
			return []scimschema.Compare{c}
		}
	}
	return nil
}

// matchesExact re-checks case-exact comparisons on a row.
func matchesExact(rec map[string]any, checks []scimschema.Compare) bool {
	for _, c := range checks {
		want, ok := c.Value.(string)
		if !ok {
			continue
		}
		got, _ := lookupField(rec, c.Field).(string)
		var m bool
		switch c.Op {
		case "eq":
			m = got == want
		case "ne":
			m = got != want
		case "co":
			m = strings.Contains(got, want)
		case "sw":
			m = strings.HasPrefix(got, want)
		case "ew":
			m = strings.HasSuffix(got, want)
		case "gt":
			m = got > want
		case "ge":
			m = got >= want
		case "lt":
			m = got < want
		case "le":
			m = got <= want
		default:
			m = true
		}
		if !m {
			return false
		}
	}
	return true
}

// lookupField finds a field in a query row by case-insensitive name.
func lookupField(rec map[string]any, field string) any {
	if v, ok := rec[field]; ok {
		return v
	}
	for k, v := range rec {
		if strings.EqualFold(k, field) {
			return v
		}
	}
	return nil
}
