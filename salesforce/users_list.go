package salesforce

import (
	"context"
	"errors"
	"strconv"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// maxOffset is Salesforce's largest SOQL OFFSET.
const maxOffset = 2000

// ListUsers answers GET /Users.
//
// Calls: count=0 → one COUNT() query. A page starting within Salesforce's 2000-row OFFSET → one
// composite: the page query (with the assignments as a child subquery), SELECT COUNT() for the
// exact totalResults, and the frozen UserLogins among the matching users (UserLogin is no child
// relationship of User, so it cannot ride in the page query). Real Salesforce forbids a semi-join
// inside a semi-join, so when the filter itself has one (active, groups) the frozen state is read
// afterwards for the page's ids: two calls. Filters with case-exact comparisons (externalId; SOQL
// compares case-insensitively) read every case-insensitive match in the same composite, re-check
// them in Go and count after the check. Pages past OFFSET 2000 walk the ordered result with
// nextRecordsUrl, one call per 2000 rows, holding one batch at a time.
func (b *Backend) ListUsers(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	empty := scimschema.Page{Resources: []scimschema.Resource{}}
	o := b.op(ctx)
	if _, err := o.catalog(); err != nil {
		return empty, err
	}
	var (
		where    Cond
		checks   []scimschema.Compare
		semiJoin bool
	)
	if q.Filter != nil {
		nc, err := b.mapper.Filter(q.Filter)
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		if _, ok := nc.(scimschema.Nothing); ok {
			return empty, nil
		}
		if where, err = renderUserCond(nc); err != nil {
			return empty, err
		}
		checks = exactChecks(nc)
		semiJoin = hasSemiJoin(nc)
	}
	sortField := "Id"
	if q.SortBy != "" {
		f, err := b.mapper.SortField(q.SortBy)
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		sortField = f
	}
	withGroups := scimschema.Requested("groups", q.Attributes, q.ExcludedAttributes)
	start, count := max(q.StartIndex, 1), max(q.Count, 0)
	ordered := func() *Query {
		uq := b.userQuery(where, withGroups).OrderBy(sortField, q.Descending)
		if sortField != "Id" {
			uq = uq.OrderBy("Id", q.Descending)
		}
		return uq
	}
	countQuery := func() (string, error) {
		return Select("COUNT()").From("User").Where(b.withUserTypes(where)).String()
	}

	var (
		rows   []map[string]any
		total  int
		frozen map[string]loginRow
	)
	switch {
	case len(checks) == 0 && count == 0:
		cq, err := countQuery()
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		res, err := b.c.Query(ctx, cq, 0)
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		return scimschema.Page{TotalResults: res.TotalSize, Resources: []scimschema.Resource{}}, nil

	case len(checks) > 0 || start-1 <= maxOffset:
		// Case-exact filters read every case-insensitive match (few: they are equality filters on
		// identifiers) and count after the re-check.
		exact := len(checks) > 0
		pq := ordered()
		if !exact {
			pq = pq.Limit(count)
			if start > 1 {
				pq = pq.Offset(start - 1)
			}
		}
		ps, err := pq.String()
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		subs := []Subrequest{{Method: "GET", Path: QueryPath(ps), ReferenceID: "page"}}
		if !exact {
			cq, err := countQuery()
			if err != nil {
				return empty, b.fail(ctx, err)
			}
			subs = append(subs, Subrequest{Method: "GET", Path: QueryPath(cq), ReferenceID: "count"})
		}
		if !semiJoin {
			fq, err := loginQuery(And(Eq("IsFrozen", true),
				InQuery("UserId", Select("Id").From("User").Where(b.withUserTypes(where))))).String()
			if err != nil {
				return empty, b.fail(ctx, err)
			}
			subs = append(subs, Subrequest{Method: "GET", Path: QueryPath(fq), ReferenceID: "frozen"})
		}
		res, err := b.c.Composite(ctx, false, subs)
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		by := byRef(res)
		for _, s := range res {
			if s.Status >= 400 {
				return empty, b.queryFailure(ctx, s)
			}
		}
		page, err := decodeQuery(by["page"])
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		seen := 0
		err = b.walk(ctx, page, func(r map[string]any) bool {
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
			return empty, b.fail(ctx, err)
		}
		total = seen
		if !exact {
			cnt, err := decodeQuery(by["count"])
			if err != nil {
				return empty, b.fail(ctx, err)
			}
			total = cnt.TotalSize
		}
		if fr, ok := by["frozen"]; ok {
			if fq, err := decodeQuery(fr); err == nil && fq.Done {
				frozen = logins(fq)
			}
		}

	default:
		oq, err := ordered().String()
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		res, err := b.c.Query(ctx, oq, maxOffset)
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		// Past OFFSET 2000: walk the ordered result, one call per 2000 rows, up to the page.
		seen := 0
		err = b.walk(ctx, fromResult(res), func(r map[string]any) bool {
			if seen++; seen >= start {
				rows = append(rows, r)
			}
			return len(rows) < count
		})
		if err != nil {
			return empty, b.fail(ctx, err)
		}
		total = res.TotalSize
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
		u, err := b.parseUser(o, r, login, has, withGroups)
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
	var subs []Subrequest
	flush := func() error {
		if len(subs) == 0 {
			return nil
		}
		res, err := b.c.Composite(ctx, false, subs)
		subs = nil
		if err != nil {
			return b.fail(ctx, err)
		}
		for _, s := range res {
			if s.Status >= 400 {
				return b.queryFailure(ctx, s)
			}
			q, err := decodeQuery(s)
			if err != nil {
				return b.fail(ctx, err)
			}
			err = b.walk(ctx, q, func(r map[string]any) bool {
				if id := str(r["UserId"]); len(id) >= 15 {
					frozen, _ := r["IsFrozen"].(bool)
					out[id[:15]] = loginRow{id: str(r["Id"]), frozen: frozen}
				}
				return true
			})
			if err != nil {
				return b.fail(ctx, err)
			}
		}
		return nil
	}
	for i := 0; i < len(rows); i += idsPerQuery {
		var ids []any
		for _, r := range rows[i:min(i+idsPerQuery, len(rows))] {
			ids = append(ids, str(r["Id"]))
		}
		lq, err := loginQuery(In("UserId", ids...)).String()
		if err != nil {
			return nil, b.fail(ctx, err)
		}
		subs = append(subs, Subrequest{Method: "GET", Path: QueryPath(lq), ReferenceID: "l" + strconv.Itoa(len(subs))})
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
func (b *Backend) queryFailure(ctx context.Context, s SubResponse) error {
	if s.Err == nil {
		return b.fail(ctx, errors.New("query subrequest failed"))
	}
	switch s.Err.Code {
	case "INVALID_FIELD", "MALFORMED_QUERY", "INVALID_QUERY_FILTER_OPERATOR":
		return &scimschema.Error{Kind: scimschema.KindInvalidFilter, Detail: "the filter cannot be run on this Salesforce org (a mapped field is missing or not filterable)", Err: s.Err}
	}
	return b.fail(ctx, s.Err)
}

// hasSemiJoin reports whether a condition renders to a SOQL semi-join.
func hasSemiJoin(c scimschema.Cond) bool {
	switch c := c.(type) {
	case scimschema.And:
		for _, x := range c.Conds {
			if hasSemiJoin(x) {
				return true
			}
		}
	case scimschema.Or:
		for _, x := range c.Conds {
			if hasSemiJoin(x) {
				return true
			}
		}
	case scimschema.Not:
		return hasSemiJoin(c.Cond)
	case scimschema.ActiveIs, scimschema.MemberOf:
		return true
	}
	return false
}
