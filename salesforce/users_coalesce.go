package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Coalesced user operations (see coalesce.go): userName/externalId lookups, reads by id and
// plain creates. Each batch is one composite call; each operation's answer is cut out of it.

// maxBatch is the most operations one coalesced call serves. It keeps IN lists well inside
// Salesforce's 16,384-byte request URI (a batch that still does not fit is split) and creates
// within one sObject Collections request (200 records).
const maxBatch = 100

// userLookup is a list request that is a single equality on a User field the bridge reads
// (userName eq, externalId eq): lookups of one field are answered together by one IN query.
type userLookup struct {
	field string
	value string
	exact bool // externalId is caseExact: SOQL matches case-insensitively, the bridge re-checks
}

// lookupOf reports whether a list request can be coalesced, and as what.
func (b *Backend) lookupOf(nc scimschema.Cond, q scimschema.ListQuery) (userLookup, bool) {
	c, ok := nc.(scimschema.Compare)
	if !ok || c.Op != "eq" || q.SortBy != "" || q.Count <= 0 || c.Field == "Id" {
		return userLookup{}, false
	}
	v, ok := c.Value.(string)
	if !ok || v == "" || !slices.Contains(b.mapper.ReadFields(), c.Field) {
		return userLookup{}, false
	}
	return userLookup{field: c.Field, value: v, exact: c.CaseExact}, true
}

// matches reports whether a row answers the lookup, as SOQL equality (then the exact re-check)
// decides it.
func (l userLookup) matches(row map[string]any) bool {
	got, _ := row[l.field].(string)
	if l.exact {
		return got == l.value
	}
	return strings.EqualFold(got, l.value)
}

// usersFound is the answer of a coalesced lookup or read: the matching User rows in Id order and
// the UserLogins known for them.
type usersFound struct {
	rows   []userRow // read-only: shared by the requests of a batch
	logins map[string]loginRow
}

// listByLookup answers a list request that is a single equality, through the lookup batch.
func (b *Backend) listByLookup(o *operation, l userLookup, q scimschema.ListQuery, withGroups bool) (scimschema.Page, error) {
	empty := scimschema.Page{Resources: []scimschema.Resource{}}
	solo := func() (any, error) {
		found, err := b.lookupUsers(o.ctx, []userLookup{l}, withGroups)
		return found, err
	}
	res, err := b.batch.do(o.ctx, "lookup", l.field+"/"+strconv.FormatBool(withGroups), maxBatch, l, solo,
		func(ctx context.Context, items []*batchItem) int {
			ls := make([]userLookup, len(items))
			for i, it := range items {
				ls[i] = it.req.(userLookup)
			}
			found, err := b.lookupUsers(ctx, ls, withGroups)
			for _, it := range items {
				it.res, it.err = found, err
			}
			return found.calls
		})
	if err != nil {
		return empty, err
	}
	found := res.(lookupResult)
	var rows []userRow
	for _, r := range found.rows {
		if l.matches(r.fields) {
			rows = append(rows, r)
		}
	}
	start := max(q.StartIndex, 1)
	page := scimschema.Page{TotalResults: len(rows), Resources: []scimschema.Resource{}}
	for i := start - 1; i < len(rows) && len(page.Resources) < q.Count; i++ {
		login, has := loginOf(found.logins, str(rows[i].fields["Id"]))
		u, err := b.parseUser(o, rows[i], login, has, withGroups)
		if err != nil {
			return empty, err
		}
		page.Resources = append(page.Resources, b.mapper.ToResource(u.rec))
	}
	return page, nil
}

// lookupResult is usersFound with the calls it took.
type lookupResult struct {
	usersFound
	calls int
}

// lookupUsers reads the users matching any of the lookups (all on one field) and the frozen
// UserLogins among them: one composite, split in halves while a query exceeds the request URI.
func (b *Backend) lookupUsers(ctx context.Context, ls []userLookup, withGroups bool) (lookupResult, error) {
	values := make([]any, 0, len(ls))
	seen := map[string]bool{}
	for _, l := range ls {
		if k := strings.ToLower(l.value); !seen[k] {
			seen[k] = true
			values = append(values, l.value)
		}
	}
	where := rest.In(ls[0].field, values...)
	uq, err := b.userQuery(where, withGroups).OrderBy("Id", false).String()
	if err != nil {
		return lookupResult{}, err
	}
	lq, err := b.frozenLoginsOf(where).String()
	if err != nil {
		return lookupResult{}, err
	}
	if (!b.fitsURI(uq) || !b.fitsURI(lq)) && len(ls) > 1 {
		half := len(ls) / 2
		a, err := b.lookupUsers(ctx, ls[:half], withGroups)
		if err != nil {
			return lookupResult{}, err
		}
		z, err := b.lookupUsers(ctx, ls[half:], withGroups)
		if err != nil {
			return lookupResult{}, err
		}
		maps.Copy(a.logins, z.logins)
		a.rows = append(a.rows, z.rows...)
		slices.SortStableFunc(a.rows, func(x, y userRow) int { return strings.Compare(str(x.fields["Id"]), str(y.fields["Id"])) })
		a.calls += z.calls
		return a, nil
	}
	found, err := b.readUsersWith(ctx, uq, lq)
	return lookupResult{usersFound: found, calls: 1}, err
}

// readUsersWith runs a user query and a UserLogin query in one composite and walks the users.
func (b *Backend) readUsersWith(ctx context.Context, uq, lq string) (usersFound, error) {
	found, res, err := b.readUsersTyped(ctx, []rest.Subrequest{
		{Method: "GET", Path: rest.QueryPath(uq), ReferenceID: "users"},
		{Method: "GET", Path: rest.QueryPath(lq), ReferenceID: "logins"},
	})
	if err != nil {
		return usersFound{}, err
	}
	if res == nil {
		return found, nil // the usual answer, decoded into types
	}
	for _, s := range res {
		if s.Status >= 400 {
			return usersFound{}, queryFailure(s)
		}
	}
	by := byRef(res)
	users, err := decodeQuery(by["users"])
	if err != nil {
		return usersFound{}, err
	}
	lg, err := decodeQuery(by["logins"])
	if err != nil {
		return usersFound{}, err
	}
	found = usersFound{logins: logins(lg)}
	if err := b.walk(ctx, users, func(r map[string]any) bool { found.rows = append(found.rows, rowOf(r)); return true }); err != nil {
		return usersFound{}, err
	}
	return found, nil
}

// readUserCoalesced reads one user by id through the read batch: reads by id that arrive
// together are one query with Id IN.
func (o *operation) readUserCoalesced(id string, withGroups bool) (*userState, error) {
	b := o.b
	if _, err := o.catalog(); err != nil {
		return nil, err
	}
	solo := func() (any, error) { return o.readUser(id, withGroups) }
	res, err := b.batch.do(o.ctx, "read", strconv.FormatBool(withGroups), maxBatch, id, solo,
		func(ctx context.Context, items []*batchItem) int {
			ids := make([]any, len(items))
			for i, it := range items {
				ids[i] = it.req.(string)
			}
			uq, err := b.userQuery(rest.In("Id", ids...), withGroups).String()
			var lq string
			if err == nil {
				lq, err = loginQuery(rest.In("UserId", ids...)).String()
			}
			var found usersFound
			if err == nil {
				found, err = b.readUsersWith(ctx, uq, lq)
			}
			for _, it := range items {
				it.res, it.err = found, err
			}
			return 1
		})
	if err != nil {
		return nil, err
	}
	if u, ok := res.(*userState); ok {
		return u, nil // read alone
	}
	found := res.(usersFound)
	for _, r := range found.rows {
		if rest.SameID(str(r.fields["Id"]), id) {
			login, has := loginOf(found.logins, id)
			return b.parseUser(o, r, login, has, withGroups)
		}
	}
	return nil, notFound("user")
}

// createCoalesced creates a user through the create batch when the create is a plain insert (no
// permission sets, not frozen): creates that arrive together are one sObject Collections insert
// (allOrNone false: one refused record never fails the others) and the read-back of the created
// users, in one composite. A refused record's error is the one a create alone would have had.
func (o *operation) createCoalesced(fields map[string]any, psAdd []group, freeze bool) (*userState, error) {
	b := o.b
	if len(psAdd) > 0 || freeze {
		return o.createOnce(fields, psAdd, freeze)
	}
	solo := func() (any, error) { return o.createOnce(fields, nil, false) }
	res, err := b.batch.do(o.ctx, "create", "", maxBatch, fields, solo, func(ctx context.Context, items []*batchItem) int {
		b.createUsers(ctx, items)
		return 1
	})
	if err != nil {
		return nil, err
	}
	if u, ok := res.(*userState); ok {
		return u, nil // created alone
	}
	c := res.(createdRow)
	if c.row.fields == nil {
		// Created, but the read-back in the batch failed: read it alone.
		return o.readUserBy(rest.Eq("Id", c.id), rest.Eq("UserId", c.id), true)
	}
	login, has := loginOf(c.logins, str(c.row.fields["Id"]))
	u, err := b.parseUser(o, c.row, login, has, true)
	if err != nil {
		return nil, err
	}
	b.warnIfInvisible(o.ctx, u)
	return u, nil
}

// createdRow is one created user as read back by a coalesced create; row is nil when the
// read-back failed.
type createdRow struct {
	id     string
	row    userRow
	logins map[string]loginRow
}

// createUsers runs a batch of plain creates: one composite of the Collections insert and the
// read-back (by Username, matched to the created ids) with the UserLogins. A batch whose
// read-back queries do not fit in a request URI is run as two halves.
func (b *Backend) createUsers(ctx context.Context, items []*batchItem) {
	fail := func(err error) {
		for _, it := range items {
			it.err = err
		}
	}
	records, uq, lq, err := b.createBatch(items)
	if err != nil {
		fail(err)
		return
	}
	if !b.fitsURI(uq) || !b.fitsURI(lq) {
		half := len(items) / 2
		b.createUsers(ctx, items[:half])
		b.createUsers(ctx, items[half:])
		return
	}
	res, err := b.c.Composite(ctx, false, []rest.Subrequest{
		collectionCreate("ins", false, records),
		{Method: "GET", Path: rest.QueryPath(uq), ReferenceID: "get"},
		{Method: "GET", Path: rest.QueryPath(lq), ReferenceID: "getl"},
	})
	if err != nil {
		if rest.KindOf(err) == rest.KindUnavailable {
			fail(&createError{lost: err}) // each request reconciles its own user by Username
			return
		}
		fail(err)
		return
	}
	by := byRef(res)
	saved, err := insertedUsers(by["ins"], len(items))
	if err != nil {
		fail(err)
		return
	}
	found, readErr := b.createdUsers(ctx, by)
	for i, it := range items {
		it.res, it.err = createdOf(saved[i].Result(), found, readErr)
	}
}

// createBatch is a create batch's insert records and its read-back queries of the users and of
// their UserLogins, by Username.
func (b *Backend) createBatch(items []*batchItem) (records []map[string]any, uq, lq string, err error) {
	records = make([]map[string]any, len(items))
	usernames := make([]any, len(items))
	for i, it := range items {
		rec := maps.Clone(it.req.(map[string]any))
		rec["attributes"] = map[string]any{"type": "User"}
		records[i] = rec
		usernames[i] = rec["Username"]
	}
	byName := rest.In("Username", usernames...)
	if uq, err = b.userQueryAnyType(byName, true).String(); err != nil {
		return nil, "", "", err
	}
	if lq, err = loginQuery(rest.InQuery("UserId", rest.Select("Id").From("User").Where(byName))).String(); err != nil {
		return nil, "", "", err
	}
	return records, uq, lq, nil
}

// insertedUsers decodes the per-record results of a create batch's Collections insert (n
// records); the insert failing as a whole is a *createError for every create of the batch.
func insertedUsers(ins rest.SubResponse, n int) ([]rest.SaveResponse, error) {
	if ins.Status >= 400 || ins.Status == 0 {
		e := ins.Err
		if e == nil {
			e = &rest.Error{Status: ins.Status, Code: "UNKNOWN", Kind: rest.KindOther}
		}
		return nil, &createError{ref: "u", e: e}
	}
	var saved []rest.SaveResponse
	if err := json.Unmarshal(ins.Body, &saved); err != nil || len(saved) != n {
		return nil, fmt.Errorf("decoding the collection insert of %d users: %v", n, err)
	}
	return saved, nil
}

// createdOf is one create's answer in a batch: its refusal, or the created user's row found in
// the read-back (createdRow.row is empty when the read-back failed or missed it).
func createdOf(r rest.SaveResult, found usersFound, readErr error) (any, error) {
	switch {
	case !r.Success && len(r.Errors) > 0:
		e := r.Errors[0]
		return nil, &createError{ref: "u", e: &e}
	case !r.Success:
		return nil, &createError{ref: "u", e: &rest.Error{Code: "UNKNOWN", Kind: rest.KindOther}}
	}
	c := createdRow{id: r.ID}
	if readErr == nil {
		for _, row := range found.rows {
			if rest.SameID(str(row.fields["Id"]), r.ID) {
				c.row, c.logins = row, found.logins
			}
		}
	}
	return c, nil
}

// createdUsers reads the read-back subresponses of a coalesced create.
func (b *Backend) createdUsers(ctx context.Context, by map[string]rest.SubResponse) (usersFound, error) {
	for _, ref := range []string{"get", "getl"} {
		if s := by[ref]; s.Status >= 400 || s.Status == 0 {
			return usersFound{}, queryFailure(s)
		}
	}
	users, err := decodeQuery(by["get"])
	if err != nil {
		return usersFound{}, err
	}
	lg, err := decodeQuery(by["getl"])
	if err != nil {
		return usersFound{}, err
	}
	found := usersFound{logins: logins(lg)}
	err = b.walk(ctx, users, func(r map[string]any) bool { found.rows = append(found.rows, rowOf(r)); return true })
	if err != nil {
		return usersFound{}, err
	}
	return found, nil
}
