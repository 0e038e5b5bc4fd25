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

// listUsers answers GET /Users.
//
// Calls: count=0 → one COUNT() query. A page starting within Salesforce's 2000-row OFFSET → one
// composite: the page query (with the assignments as a child subquery), SELECT COUNT() for the
// exact totalResults, and the frozen UserLogins among the matching users (UserLogin is no child
// relationship of User, so it cannot ride in the page query; see freezePlanOf for filters with
// semi-joins). Filters with case-exact comparisons (externalId; SOQL compares case-insensitively)
// read every case-insensitive match in the same composite, re-check them in Go and count after
// the check. A page past OFFSET 2000 that follows the previous page of the same listing in Id
// order (sequential paging) is one composite too, keyed on the previous page's last Id
// (users_cursor.go). Other pages past OFFSET 2000 walk the ordered result with nextRecordsUrl, one
// call per 2000 rows, holding one batch at a time, and read the page's freeze state afterwards.
//
// Before all that, an active or groups condition that Salesforce cannot take as a semi-join
// (under OR or NOT, "active eq false", or a third one) costs one query per id set it needs
// (renderUserFilter); the frozen set then also gives the page's freeze state.
func (b *Backend) listUsers(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	defer b.batch.enter(ctx)()
	empty := scimschema.Page{Resources: []scimschema.Resource{}}
	o := b.operation(ctx)
	if _, err := o.catalog(); err != nil {
		return empty, err
	}
	var (
		where   rest.Cond
		checks  []scimschema.Compare
		freeze  = freezeInPage
		fwhere  rest.Cond           // the frozen subquery's user filter (freezeInPage)
		frozen  map[string]loginRow // the freeze state when it is known before the page is read
		inlined bool                // the filter carries resolved id lists
	)
	if q.Filter != nil {
		nc, err := b.mapper.Filter(q.Filter)
		if err != nil {
			return empty, err
		}
		if _, ok := nc.(scimschema.Nothing); ok {
			return empty, nil
		}
		if l, ok := b.lookupOf(nc, q); ok && b.batch != nil {
			return b.listByLookup(o, l, q, scimschema.Requested("groups", q.Attributes, q.ExcludedAttributes))
		}
		var sets *resolvedSets
		if where, sets, err = b.renderUserFilter(ctx, nc); err != nil {
			return empty, err
		}
		inlined = sets != nil
		checks = exactChecks(nc)
		var kept scimschema.Cond
		switch freeze, kept = freezePlanOf(nc); {
		case freeze == freezeNone:
		case sets != nil && sets.hasFrozen:
			// Rendering the filter read every frozen user it can match.
			freeze, frozen = freezeKnown, sets.logins
		case kept != nil:
			var ok bool
			if fwhere, ok, err = renderWithin(kept, sets); err != nil {
				return empty, err
			} else if !ok {
				freeze = freezeAfter
			}
		}
	}
	// queryString renders a query of the filter's users, refusing one Salesforce would not take.
	queryString := func(q *rest.Query) (string, error) {
		s, err := q.String()
		if err != nil || b.fitsURI(s) {
			return s, err
		}
		if inlined {
			return "", filterTooBroad()
		}
		return "", filterError("the filter is too long for a Salesforce query (a request URI holds at most 16,384 bytes); split it into several requests")
	}
	sortField := "Id"
	if q.SortBy != "" {
		f, err := b.mapper.SortField(q.SortBy)
		if err != nil {
			return empty, err
		}
		sortField = f
	}
	withGroups := scimschema.Requested("groups", q.Attributes, q.ExcludedAttributes)
	start, count := max(q.StartIndex, 1), max(q.Count, 0)
	ordered := func(extra ...rest.Cond) *rest.Query {
		w := where
		for _, c := range extra {
			if w == nil {
				w = c
			} else {
				w = rest.And(w, c)
			}
		}
		uq := b.userQuery(w, withGroups).OrderBy(sortField, q.Descending)
		if sortField != "Id" {
			uq = uq.OrderBy("Id", q.Descending)
		}
		return uq
	}
	countQuery := func() (string, error) {
		return queryString(rest.Select("COUNT()").From("User").Where(b.withUserTypes(where)))
	}

	// listing identifies a listing in Id order for the cursor cache (users_cursor.go); after is
	// the Id the page starts after, when a sequential page past OFFSET 2000 finds one.
	var listing, after string
	if len(checks) == 0 && count > 0 && sortField == "Id" {
		listing, _ = ordered().String()
		if start-1 > maxOffset {
			after, _ = b.cursors.lookup(listing, start)
		}
	}
	var (
		rows  []map[string]any
		total int
	)
	switch {
	case len(checks) == 0 && count == 0:
		cq, err := countQuery()
		if err != nil {
			return empty, err
		}
		res, err := b.c.Query(ctx, cq, 0)
		if err != nil {
			return empty, err
		}
		return scimschema.Page{TotalResults: res.TotalSize, Resources: []scimschema.Resource{}}, nil

	case len(checks) > 0 || start-1 <= maxOffset || after != "":
		// Case-exact filters read every case-insensitive match (few: they are equality filters on
		// identifiers) and count after the re-check. A sequential page past OFFSET 2000 starts
		// after the previous page's last Id.
		exact := len(checks) > 0
		pq := ordered()
		switch {
		case exact:
		case after != "":
			keyset := rest.Gt("Id", after)
			if q.Descending {
				keyset = rest.Lt("Id", after)
			}
			pq = ordered(keyset).Limit(count)
		default:
			pq = pq.Limit(count)
			if start > 1 {
				pq = pq.Offset(start - 1)
			}
		}
		ps, err := queryString(pq)
		if err != nil {
			return empty, err
		}
		subs := []rest.Subrequest{{Method: "GET", Path: rest.QueryPath(ps), ReferenceID: "page"}}
		if !exact {
			cq, err := countQuery()
			if err != nil {
				return empty, err
			}
			subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(cq), ReferenceID: "count"})
		}
		if freeze == freezeInPage {
			fq, err := loginQuery(rest.And(rest.Eq("IsFrozen", true),
				rest.InQuery("UserId", rest.Select("Id").From("User").Where(b.withUserTypes(fwhere))))).String()
			switch {
			case err != nil:
				return empty, err
			case b.fitsURI(fq):
				subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(fq), ReferenceID: "frozen"})
			default:
				freeze = freezeAfter // the page's own UserLogins are read afterwards
			}
		}
		res, err := b.c.Composite(ctx, false, subs)
		if err != nil {
			return empty, err
		}
		by := byRef(res)
		for _, s := range res {
			if s.Status >= 400 {
				return empty, queryFailure(s)
			}
		}
		page, err := decodeQuery(by["page"])
		if err != nil {
			return empty, err
		}
		seen := 0
		err = b.walkRerun(ctx, page, soqlOf(pathsByRef(subs)["page"]), func(r map[string]any) bool {
			if !exact {
				rows = append(rows, r)
				return len(rows) < count
			}
			if matchesExact(r, checks) {
				if seen++; seen >= start && len(rows) < count {
					rows = append(rows, r)
				}
			}
			return true
		})
		if err != nil {
			return empty, err
		}
		total = seen
		if !exact {
			cnt, err := decodeQuery(by["count"])
			if err != nil {
				return empty, err
			}
			total = cnt.TotalSize
		}
		if fr, ok := by["frozen"]; ok {
			// The frozen subquery may read a superset of the matching users (freezePlanOf). More
			// than one batch of frozen users is not walked: the page's own ids are read instead.
			if fq, err := decodeQuery(fr); err == nil && fq.Done {
				frozen = logins(fq)
			}
		}

	default:
		// Random access past OFFSET 2000 (no cursor): walk the ordered result.
		oq, err := queryString(ordered())
		if err != nil {
			return empty, err
		}
		res, err := b.c.Query(ctx, oq, maxOffset)
		if err != nil {
			return empty, err
		}
		// Past OFFSET 2000: walk the ordered result, one call per 2000 rows, up to the page.
		seen := 0
		err = b.walkRerun(ctx, fromResult(res), oq, func(r map[string]any) bool {
			if seen++; seen >= start {
				rows = append(rows, r)
			}
			return len(rows) < count
		})
		if err != nil {
			return empty, err
		}
		total = res.TotalSize
	}

	if listing != "" && len(rows) == count {
		b.cursors.remember(listing, start+count, str(rows[len(rows)-1]["Id"]))
	}
	if freeze == freezeNone {
		frozen = map[string]loginRow{} // the filter requires active: no matching user is frozen
	}
	if frozen == nil && len(rows) > 0 {
		var err error
		if frozen, err = b.loginsOf(ctx, rows); err != nil {
			return empty, err
		}
	}
	page := scimschema.Page{TotalResults: total, Resources: make([]scimschema.Resource, 0, len(rows))}
	for _, r := range rows {
		login, has := loginOf(frozen, str(r["Id"]))
		u, err := b.parseUser(o, rowOf(r), login, has, withGroups)
		if err != nil {
			return empty, err
		}
		page.Resources = append(page.Resources, b.mapper.ToResource(u.rec))
	}
	return page, nil
}

// loginsOf reads the UserLogin rows of the given users: one call for up to 5×300 users.
func (b *Backend) loginsOf(ctx context.Context, rows []map[string]any) (map[string]loginRow, error) {
	const idsPerQuery, queriesPerCall = 300, 5
	out := map[string]loginRow{}
	var subs []rest.Subrequest
	flush := func() error {
		if len(subs) == 0 {
			return nil
		}
		res, err := b.c.Composite(ctx, false, subs)
		paths := pathsByRef(subs)
		subs = nil
		if err != nil {
			return err
		}
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
	for i := 0; i < len(rows); i += idsPerQuery {
		var ids []any
		for _, r := range rows[i:min(i+idsPerQuery, len(rows))] {
			ids = append(ids, str(r["Id"]))
		}
		lq, err := loginQuery(rest.In("UserId", ids...)).String()
		if err != nil {
			return nil, err
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(lq), ReferenceID: "l" + strconv.Itoa(len(subs))})
		if len(subs) == queriesPerCall {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
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
