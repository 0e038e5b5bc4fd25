package salesforce

import (
	"context"
	"errors"
	"strconv"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// maxOffset is Salesforce's largest SOQL OFFSET.
const maxOffset = 2000

// listUsers answers GET /Users: a single equality is coalesced with other lookups
// (users_coalesce.go); any other request is planned (pagingOf) and read by one strategy.
//
// Calls: count=0 → one COUNT() query (countUsers). A page starting within Salesforce's 2000-row
// OFFSET → one composite (pageByOffset): the page query (with the assignments as a child
// subquery), SELECT COUNT() for the exact totalResults, and the frozen UserLogins among the
// matching users (UserLogin is no child relationship of User, so it cannot ride in the page
// query; see freezePlanOf for filters with semi-joins). Filters with case-exact comparisons
// (externalId; SOQL compares case-insensitively) read every case-insensitive match in the same
// composite, re-check them in Go and count after the check (pageByExactCheck). A page past OFFSET
// 2000 that follows the previous page of the same listing in Id order (sequential paging) is one
// composite too, keyed on the previous page's last Id (pageAfterCursor, users_cursor.go). Other
// pages past OFFSET 2000 walk the ordered result with nextRecordsUrl, one call per 2000 rows,
// holding one batch at a time, and read the page's freeze state afterwards (pageByWalking).
//
// Before all that, an active or groups condition that Salesforce cannot take as a semi-join
// (under OR or NOT, "active eq false", or a third one) costs one query per id set it needs
// (renderUserFilter); the frozen set then also gives the page's freeze state.
func (b *Backend) listUsers(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	defer b.batch.enter(ctx)()
	o := b.operation(ctx)
	if _, err := o.catalog(); err != nil {
		return emptyPage(), err
	}
	withGroups := scimschema.Requested("groups", q.Attributes, q.ExcludedAttributes)
	var nc scimschema.Cond
	if q.Filter != nil {
		var err error
		if nc, err = b.mapper.Filter(q.Filter); err != nil {
			return emptyPage(), err
		}
		if _, ok := nc.(scimschema.Nothing); ok {
			return emptyPage(), nil
		}
		if l, ok := b.lookupOf(nc, q); ok && b.batch != nil {
			return b.listByLookup(o, l, q, withGroups)
		}
	}
	l, err := b.newUserListing(ctx, nc, q, withGroups)
	if err != nil {
		return emptyPage(), err
	}
	if l.cursorable() && l.start-1 > maxOffset {
		l.after, _ = b.cursors.lookup(l.key, l.start)
	}
	var rows []map[string]any
	var total int
	switch pagingOf(len(l.checks) > 0, l.start, l.count, l.after != "") {
	case countOnly:
		return b.countUsers(ctx, l)
	case byOffset:
		rows, total, err = b.pageByOffset(ctx, l)
	case byExactCheck:
		rows, total, err = b.pageByExactCheck(ctx, l)
	case afterCursor:
		rows, total, err = b.pageAfterCursor(ctx, l)
	case byWalking:
		rows, total, err = b.pageByWalking(ctx, l)
	}
	if err != nil {
		return emptyPage(), err
	}
	if l.cursorable() && len(rows) == l.count {
		b.cursors.remember(l.key, l.start+l.count, str(rows[len(rows)-1]["Id"]))
	}
	return b.pageOf(o, l, rows, total)
}

func emptyPage() scimschema.Page { return scimschema.Page{Resources: []scimschema.Resource{}} }

// paging is how ListUsers reads a page of users.
type paging int

const (
	// countOnly: count=0 asks only for totalResults, one SELECT COUNT().
	countOnly paging = iota
	// byOffset: a page starting within OFFSET 2000, read with OFFSET and LIMIT in one composite
	// beside its COUNT() and its frozen UserLogins.
	byOffset
	// byExactCheck: a case-exact filter reads every case-insensitive match in one composite,
	// re-checks it in Go and pages and counts after the check.
	byExactCheck
	// afterCursor: a sequential page past OFFSET 2000 starts after the previous page's last Id
	// (keyset paging, users_cursor.go), in one composite like byOffset.
	afterCursor
	// byWalking: random access past OFFSET 2000 walks the ordered result with nextRecordsUrl.
	byWalking
)

// pagingOf plans a page: exact says the filter has case-exact comparisons, start and count are
// the request's (start ≥ 1, count ≥ 0), cursor says the Id before start is remembered.
func pagingOf(exact bool, start, count int, cursor bool) paging {
	switch {
	case exact:
		return byExactCheck
	case count == 0:
		return countOnly
	case start-1 <= maxOffset:
		return byOffset
	case cursor:
		return afterCursor
	}
	return byWalking
}

// userListing is a list request as the paging strategies read it: the rendered filter, its
// case-exact re-checks, the order and the plan for the page's freeze state.
type userListing struct {
	b          *Backend
	where      rest.Cond
	checks     []scimschema.Compare
	inlined    bool // the filter carries resolved id lists
	sortField  string
	descending bool
	withGroups bool
	start      int // 1-based
	count      int

	freeze freezePlan
	fwhere rest.Cond           // the frozen subquery's user filter (freezeInPage)
	frozen map[string]loginRow // the freeze state when it is known before the page is read

	key   string // the listing in Id order, for the cursor cache ("" = not cursorable)
	after string // the Id the page starts after (afterCursor)
}

// newUserListing renders the filter nc (nil: every user) and plans the freeze state.
func (b *Backend) newUserListing(ctx context.Context, nc scimschema.Cond, q scimschema.ListQuery, withGroups bool) (*userListing, error) {
	l := &userListing{b: b, freeze: freezeInPage, sortField: "Id", descending: q.Descending, withGroups: withGroups,
		start: max(q.StartIndex, 1), count: max(q.Count, 0)}
	if nc != nil {
		if err := l.renderFilter(ctx, nc); err != nil {
			return nil, err
		}
	}
	if q.SortBy != "" {
		f, err := b.mapper.SortField(q.SortBy)
		if err != nil {
			return nil, err
		}
		l.sortField = f
	}
	if len(l.checks) == 0 && l.count > 0 && l.sortField == "Id" {
		l.key, _ = l.ordered().String()
	}
	return l, nil
}

// renderFilter renders nc into where (reading the id sets Salesforce cannot join) and decides how
// the page's freeze state is learnt.
func (l *userListing) renderFilter(ctx context.Context, nc scimschema.Cond) error {
	where, sets, err := l.b.renderUserFilter(ctx, nc)
	if err != nil {
		return err
	}
	l.where, l.inlined, l.checks = where, sets != nil, exactChecks(nc)
	var kept scimschema.Cond
	switch l.freeze, kept = freezePlanOf(nc); {
	case l.freeze == freezeNone:
	case sets != nil && sets.hasFrozen:
		// Rendering the filter read every frozen user it can match.
		l.freeze, l.frozen = freezeKnown, sets.logins
	case kept != nil:
		fwhere, ok, err := renderWithin(kept, sets)
		if err != nil {
			return err
		}
		if l.fwhere = fwhere; !ok {
			l.freeze = freezeAfter
		}
	}
	return nil
}

// cursorable says the listing is in Id order and remembers where its pages end.
func (l *userListing) cursorable() bool { return l.key != "" }

// ordered is the query of the listing's users in its order, with extra conditions ANDed.
func (l *userListing) ordered(extra ...rest.Cond) *rest.Query {
	w := l.where
	for _, c := range extra {
		if w == nil {
			w = c
		} else {
			w = rest.And(w, c)
		}
	}
	uq := l.b.userQuery(w, l.withGroups).OrderBy(l.sortField, l.descending)
	if l.sortField != "Id" {
		uq = uq.OrderBy("Id", l.descending)
	}
	return uq
}

// soql renders a query of the listing's users, refusing one Salesforce would not take.
func (l *userListing) soql(q *rest.Query) (string, error) {
	s, err := q.String()
	if err != nil || l.b.fitsURI(s) {
		return s, err
	}
	if l.inlined {
		return "", filterTooBroad()
	}
	return "", filterError("the filter is too long for a Salesforce query (a request URI holds at most 16,384 bytes); split it into several requests")
}

func (l *userListing) countSOQL() (string, error) {
	return l.soql(rest.Select("COUNT()").From("User").Where(l.b.withUserTypes(l.where)))
}

// countUsers answers count=0: one COUNT() query.
func (b *Backend) countUsers(ctx context.Context, l *userListing) (scimschema.Page, error) {
	cq, err := l.countSOQL()
	if err != nil {
		return emptyPage(), err
	}
	res, err := b.c.Query(ctx, cq, 0)
	if err != nil {
		return emptyPage(), err
	}
	return scimschema.Page{TotalResults: res.TotalSize, Resources: []scimschema.Resource{}}, nil
}

// pageByOffset reads a page within OFFSET 2000 in one composite.
func (b *Backend) pageByOffset(ctx context.Context, l *userListing) ([]map[string]any, int, error) {
	pq := l.ordered().Limit(l.count)
	if l.start > 1 {
		pq = pq.Offset(l.start - 1)
	}
	return b.pageCounted(ctx, l, pq)
}

// pageAfterCursor reads a sequential page past OFFSET 2000 in one composite: the rows after the
// previous page's last Id.
func (b *Backend) pageAfterCursor(ctx context.Context, l *userListing) ([]map[string]any, int, error) {
	keyset := rest.Gt("Id", l.after)
	if l.descending {
		keyset = rest.Lt("Id", l.after)
	}
	return b.pageCounted(ctx, l, l.ordered(keyset).Limit(l.count))
}

// pageCounted reads the page pq selects, totalResults from COUNT() beside it.
func (b *Backend) pageCounted(ctx context.Context, l *userListing, pq *rest.Query) ([]map[string]any, int, error) {
	cq, err := l.countSOQL()
	if err != nil {
		return nil, 0, err
	}
	rc, err := b.readPage(ctx, l, pq, &rest.Subrequest{Method: "GET", Path: rest.QueryPath(cq), ReferenceID: "count"})
	if err != nil {
		return nil, 0, err
	}
	var rows []map[string]any
	err = b.walkRerun(ctx, rc.page, rc.soql, func(r map[string]any) bool {
		rows = append(rows, r)
		return len(rows) < l.count
	})
	if err != nil {
		return nil, 0, err
	}
	cnt, err := decodeQuery(rc.by["count"])
	if err != nil {
		return nil, 0, err
	}
	return rows, cnt.TotalSize, nil
}

// pageByExactCheck reads every case-insensitive match of a case-exact filter (few: they are
// equality filters on identifiers), re-checks each in Go and pages and counts after the check.
func (b *Backend) pageByExactCheck(ctx context.Context, l *userListing) ([]map[string]any, int, error) {
	rc, err := b.readPage(ctx, l, l.ordered(), nil)
	if err != nil {
		return nil, 0, err
	}
	var rows []map[string]any
	seen := 0
	err = b.walkRerun(ctx, rc.page, rc.soql, func(r map[string]any) bool {
		if matchesExact(r, l.checks) {
			if seen++; seen >= l.start && len(rows) < l.count {
				rows = append(rows, r)
			}
		}
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	return rows, seen, nil
}

// pageRead is the answer of readPage's composite.
type pageRead struct {
	by   map[string]rest.SubResponse
	page *queryBody
	soql string // the page query, for re-running it (walkRerun)
}

// readPage runs pq in one composite with extra (when not nil) and, under freezeInPage, the
// frozen UserLogins among the filter's users, which set l.frozen when they fit in one batch.
func (b *Backend) readPage(ctx context.Context, l *userListing, pq *rest.Query, extra *rest.Subrequest) (pageRead, error) {
	ps, err := l.soql(pq)
	if err != nil {
		return pageRead{}, err
	}
	subs := []rest.Subrequest{{Method: "GET", Path: rest.QueryPath(ps), ReferenceID: "page"}}
	if extra != nil {
		subs = append(subs, *extra)
	}
	if l.freeze == freezeInPage {
		fq, err := b.frozenLoginsOf(l.fwhere).String()
		switch {
		case err != nil:
			return pageRead{}, err
		case b.fitsURI(fq):
			subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(fq), ReferenceID: "frozen"})
		default:
			l.freeze = freezeAfter // the page's own UserLogins are read afterwards
		}
	}
	res, err := b.c.Composite(ctx, false, subs)
	if err != nil {
		return pageRead{}, err
	}
	by := byRef(res)
	for _, s := range res {
		if s.Status >= 400 {
			return pageRead{}, queryFailure(s)
		}
	}
	page, err := decodeQuery(by["page"])
	if err != nil {
		return pageRead{}, err
	}
	if fr, ok := by["frozen"]; ok {
		// The frozen subquery may read a superset of the matching users (freezePlanOf). More
		// than one batch of frozen users is not walked: the page's own ids are read instead.
		if fq, err := decodeQuery(fr); err == nil && fq.Done {
			l.frozen = logins(fq)
		}
	}
	return pageRead{by: by, page: page, soql: soqlOf(pathsByRef(subs)["page"])}, nil
}

// pageByWalking reads a page past OFFSET 2000 without a cursor: it walks the ordered result, one
// call per 2000 rows, up to the page.
func (b *Backend) pageByWalking(ctx context.Context, l *userListing) ([]map[string]any, int, error) {
	oq, err := l.soql(l.ordered())
	if err != nil {
		return nil, 0, err
	}
	res, err := b.c.Query(ctx, oq, maxOffset)
	if err != nil {
		return nil, 0, err
	}
	var rows []map[string]any
	seen := 0
	err = b.walkRerun(ctx, fromResult(res), oq, func(r map[string]any) bool {
		if seen++; seen >= l.start {
			rows = append(rows, r)
		}
		return len(rows) < l.count
	})
	if err != nil {
		return nil, 0, err
	}
	return rows, res.TotalSize, nil
}

// pageOf turns the page's rows into resources, reading their freeze state when the strategy has
// not learnt it.
func (b *Backend) pageOf(o *operation, l *userListing, rows []map[string]any, total int) (scimschema.Page, error) {
	frozen := l.frozen
	if l.freeze == freezeNone {
		frozen = map[string]loginRow{} // the filter requires active: no matching user is frozen
	}
	if frozen == nil && len(rows) > 0 {
		var err error
		if frozen, err = b.loginsOf(o.ctx, rows); err != nil {
			return emptyPage(), err
		}
	}
	page := scimschema.Page{TotalResults: total, Resources: make([]scimschema.Resource, 0, len(rows))}
	for _, r := range rows {
		login, has := loginOf(frozen, str(r["Id"]))
		u, err := b.parseUser(o, rowOf(r), login, has, l.withGroups)
		if err != nil {
			return emptyPage(), err
		}
		page.Resources = append(page.Resources, b.mapper.ToResource(u.rec))
	}
	return page, nil
}

// loginsOf reads the UserLogin rows of the given users: one call for up to 5×300 users.
func (b *Backend) loginsOf(ctx context.Context, rows []map[string]any) (map[string]loginRow, error) {
	const idsPerQuery, queriesPerCall = 300, 5
	out := map[string]loginRow{}
	for len(rows) > 0 {
		n := min(len(rows), idsPerQuery*queriesPerCall)
		if err := b.readLogins(ctx, rows[:n], idsPerQuery, out); err != nil {
			return nil, err
		}
		rows = rows[n:]
	}
	return out, nil
}

// readLogins reads the UserLogin rows of the given users into out, in one composite of queries
// of idsPerQuery users each.
func (b *Backend) readLogins(ctx context.Context, rows []map[string]any, idsPerQuery int, out map[string]loginRow) error {
	var subs []rest.Subrequest
	for i := 0; i < len(rows); i += idsPerQuery {
		var ids []any
		for _, r := range rows[i:min(i+idsPerQuery, len(rows))] {
			ids = append(ids, str(r["Id"]))
		}
		lq, err := loginQuery(rest.In("UserId", ids...)).String()
		if err != nil {
			return err
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(lq), ReferenceID: "l" + strconv.Itoa(len(subs))})
	}
	res, err := b.c.Composite(ctx, false, subs)
	if err != nil {
		return err
	}
	paths := pathsByRef(subs)
	for _, s := range res {
		if s.Status >= 400 {
			return queryFailure(s)
		}
		q, err := decodeQuery(s)
		if err != nil {
			return err
		}
		err = b.walkRerun(ctx, q, soqlOf(paths[s.ReferenceID]), func(r map[string]any) bool {
			if id := str(r["UserId"]); len(id) >= 15 {
				frozen, _ := r["IsFrozen"].(bool)
				out[id[:15]] = loginRow{id: str(r["Id"]), frozen: frozen}
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// queryFailure explains a failed query subrequest. A query the bridge built that Salesforce
// refuses (for example a filter on a field the org lacks) is the filter's problem.
func queryFailure(s rest.SubResponse) error {
	if s.Err == nil {
		return errors.New("query subrequest failed")
	}
	switch s.Err.Code {
	case "INVALID_FIELD", "MALFORMED_QUERY", "INVALID_QUERY_FILTER_OPERATOR":
		return &scimschema.Error{Kind: scimschema.KindInvalidFilter, Detail: "the filter cannot be run on this Salesforce org (a mapped field is missing or not filterable)", Err: s.Err}
	}
	return s.Err
}

// freezePlan says how ListUsers learns the freeze state of a page's users.
type freezePlan int

const (
	// freezeInPage: a query of the frozen UserLogins among the filter's users rides in the page's
	// composite (one call).
	freezeInPage freezePlan = iota
	// freezeNone: the filter requires active (ActiveIs true is a top-level conjunct), so no user
	// of the page is frozen and nothing is read.
	freezeNone
	// freezeAfter: the page's UserLogins are read for its ids in a second call.
	freezeAfter
	// freezeKnown: rendering the filter read every frozen user (renderUserFilter).
	freezeKnown
)

// freezePlanOf decides whether the freeze state of the users matching c must be read, and returns
// the condition the frozen subquery selects users with when it rides in the page's composite.
//
// The frozen subquery is UserLogin WHERE IsFrozen = true AND UserId IN (SELECT Id FROM User WHERE
// …), and Salesforce forbids a semi-join inside a semi-join. Top-level active and groups conjuncts
// are left out of it: that selects a superset of the page's users, which is fine, as the result
// only feeds the freeze state of the users on the page (ListUsers falls back to reading the page's
// ids when the superset has more than one batch). The semi-joins left in kept sit under OR or NOT,
// so renderUserFilter has read their ids and renderWithin inlines them. kept is nil when no
// conjunct remains.
func freezePlanOf(c scimschema.Cond) (plan freezePlan, kept scimschema.Cond) {
	all := conjuncts(c)
	for _, x := range all {
		if a, ok := x.(scimschema.ActiveIs); ok && a.Value {
			return freezeNone, nil
		}
	}
	var rest []scimschema.Cond
	for _, x := range all {
		switch x.(type) {
		case scimschema.ActiveIs, scimschema.MemberOf:
			continue
		}
		rest = append(rest, x)
	}
	switch len(rest) {
	case 0:
		return freezeInPage, nil
	case 1:
		return freezeInPage, rest[0]
	}
	return freezeInPage, scimschema.And{Conds: rest}
}
