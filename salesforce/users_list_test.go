package salesforce

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

func userNames(p scimschema.Page) []string {
	var out []string
	for _, r := range p.Resources {
		out = append(out, fmt.Sprint(r.Attributes["userName"]))
	}
	slices.Sort(out)
	return out
}

func TestListUsersFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice := h.insertUser("alice@example.com", "Standard User", map[string]any{"FederationIdentifier": "AbC-1", "Title": "Engineer"})
	h.insertUser("bob@example.com", "Standard User", map[string]any{"FederationIdentifier": "abc-1"})
	carol := h.insertUser("carol@example.com", "Standard User", map[string]any{"IsActive": false})
	dave := h.insertUser("dave@example.com", "Standard User", nil)
	if err := h.e.Update("UserLogin", h.login(dave)["Id"].(string), map[string]any{"IsFrozen": true}); err != nil {
		t.Fatal(err)
	}
	h.assign(alice, h.permSetID("Sales_Ops"))
	_ = carol

	for _, tc := range []struct {
		filter string
		want   []string
		calls  int
	}{
		{`userName eq "ALICE@example.com"`, []string{"alice@example.com"}, 1},
		{`externalId eq "AbC-1"`, []string{"alice@example.com"}, 1},
		{`externalId eq "abc-1"`, []string{"bob@example.com"}, 1},
		{`externalId eq "ABC-1"`, nil, 1},
		{`userName sw "a" and title co "gine"`, []string{"alice@example.com"}, 1},
		{`userName eq "nobody@example.com"`, nil, 1},
		{`userName eq "x' OR Id != null"`, nil, 1},
		// Semi-joins (active eq true, groups) as top-level AND conjuncts: still one call. active eq
		// false needs OR, where Salesforce allows no semi-join: the frozen ids are read first.
		{`active eq false`, []string{"carol@example.com", "dave@example.com"}, 2}, // the frozen ids, then the page
		{`active eq true`, []string{"admin@emulator.example.com", "alice@example.com", "bob@example.com"}, 1},
		{`active eq true and userName ew "@example.com"`, []string{"alice@example.com", "bob@example.com"}, 1},
		{`active eq true and emails.value eq "alice@example.com"`, []string{"alice@example.com"}, 1},
		{`userName sw "d" and active eq false`, []string{"dave@example.com"}, 2},
		{fmt.Sprintf(`groups.value eq "%s"`, h.permSetID("Sales_Ops")), []string{"alice@example.com"}, 1},
		{fmt.Sprintf(`groups.value eq "%s" and active eq false`, h.permSetID("Sales_Ops")), nil, 2},
		// Active under OR or NOT: the frozen ids are read first and give the freeze state too.
		{`active eq false or userName eq "alice@example.com"`, []string{"alice@example.com", "carol@example.com", "dave@example.com"}, 2},
		{`not (active eq true) and userName sw "d"`, []string{"dave@example.com"}, 2},
		{`id eq "not-an-id"`, nil, 0},
	} {
		var page scimschema.Page
		n := h.calls(func() {
			var err error
			page, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, tc.filter), StartIndex: 1, Count: 100})
			if err != nil {
				t.Fatalf("ListUsers(%s): %v", tc.filter, err)
			}
		})
		if got := userNames(page); !slices.Equal(got, tc.want) || page.TotalResults != len(tc.want) {
			t.Errorf("ListUsers(%s) = %v (total %d); want %v", tc.filter, got, page.TotalResults, tc.want)
		}
		if n != tc.calls {
			t.Errorf("ListUsers(%s) made %d calls; want %d", tc.filter, n, tc.calls)
		}
		for _, r := range page.Resources {
			name := r.Attributes["userName"]
			if want := name != "carol@example.com" && name != "dave@example.com"; r.Attributes["active"] != want {
				t.Errorf("ListUsers(%s): %v active = %v; want %v", tc.filter, name, r.Attributes["active"], want)
			}
		}
	}
	// The frozen user reads as inactive.
	page, err := h.b.ListUsers(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, `userName eq "dave@example.com"`), StartIndex: 1, Count: 10})
	if err != nil || len(page.Resources) != 1 || page.Resources[0].Attributes["active"] != false {
		t.Errorf("frozen dave: %v %v", page.Resources, err)
	}
}

// Salesforce refuses semi-joins under OR or NOT and more than two per WHERE clause (the emulator
// does too); such filters read the ids first and inline them, and must still answer correctly.
func TestListUsersSemiJoinsSalesforceRefuses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	so, sa, mu := h.permSetID("Sales_Ops"), h.permSetID("Support_Agent"), h.permSetID("Marketing_User")
	users := map[string]string{}
	for _, u := range []struct {
		name   string
		extra  map[string]any
		groups []string
	}{
		{"alice", nil, []string{so, sa, mu}},
		{"bob", nil, []string{so, sa}},
		{"carol", map[string]any{"IsActive": false}, []string{so}},
		{"dave", nil, []string{so, sa, mu}}, // frozen below
		{"erin", nil, nil},
	} {
		users[u.name] = h.insertUser(u.name+"@example.com", "Standard User", u.extra)
		for _, g := range u.groups {
			h.assign(users[u.name], g)
		}
	}
	if err := h.e.Update("UserLogin", h.login(users["dave"])["Id"].(string), map[string]any{"IsFrozen": true}); err != nil {
		t.Fatal(err)
	}
	names := func(s ...string) []string {
		out := make([]string, len(s))
		for i, n := range s {
			out[i] = n + "@example.com"
		}
		return out
	}
	const admin = "admin@emulator.example.com"
	for _, tc := range []struct {
		filter string
		want   []string
		calls  int
	}{
		{`active eq false`, names("carol", "dave"), 2},
		{`active eq false or userName eq "alice@example.com"`, names("alice", "carol", "dave"), 2},
		{`not (active eq true)`, names("carol", "dave"), 2},
		{`active eq true or userName eq "carol@example.com"`, append([]string{admin}, names("alice", "bob", "carol", "erin")...), 2},
		{fmt.Sprintf(`groups[value eq "%s"] or userName eq "erin@example.com"`, so), names("alice", "bob", "carol", "dave", "erin"), 2},
		{fmt.Sprintf(`not (groups[value eq "%s"]) and userName ew "@example.com"`, so), names("erin"), 2},
		// Three semi-joins: the groups keep the two slots, active's frozen ids are inlined.
		{fmt.Sprintf(`groups[value eq "%s"] and groups[value eq "%s"] and active eq true`, so, sa), names("alice", "bob"), 2},
		{fmt.Sprintf(`groups[value eq "%s"] and groups[value eq "%s"] and groups[value eq "%s"]`, so, sa, mu), names("alice", "dave"), 2},
		{fmt.Sprintf(`userName ew "@example.com" and (active eq false or groups[value eq "%s"])`, mu), names("alice", "carol", "dave"), 3},
		// Legal semi-joins keep the IdP budget of one call.
		{fmt.Sprintf(`active eq true and groups[value eq "%s"]`, sa), names("alice", "bob"), 1},
		{fmt.Sprintf(`groups[value eq "%s"] and groups[value eq "%s"]`, so, mu), names("alice", "dave"), 1},
	} {
		var page scimschema.Page
		n := h.calls(func() {
			var err error
			page, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, tc.filter), StartIndex: 1, Count: 100})
			if err != nil {
				t.Fatalf("ListUsers(%s): %v", tc.filter, err)
			}
		})
		if got := userNames(page); !slices.Equal(got, tc.want) || page.TotalResults != len(tc.want) {
			t.Errorf("ListUsers(%s) = %v (total %d); want %v", tc.filter, got, page.TotalResults, tc.want)
		}
		if n != tc.calls {
			t.Errorf("ListUsers(%s) made %d calls; want %d", tc.filter, n, tc.calls)
		}
		for _, r := range page.Resources {
			name := r.Attributes["userName"]
			if want := name != "carol@example.com" && name != "dave@example.com"; r.Attributes["active"] != want {
				t.Errorf("ListUsers(%s): %v active = %v; want %v", tc.filter, name, r.Attributes["active"], want)
			}
		}
	}
}

// Inlined ids must keep the query within Salesforce's 16,384-byte URI limit; a filter whose ids do
// not fit is refused as too broad (400 invalidFilter), never answered wrongly or with a 5xx.
func TestListUsersInlinedIDsTooMany(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withEmulator(func(c *emulator.Config) { c.Seed = bigSeed() }))
	freeze := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			id := h.insertUser(fmt.Sprintf("frozen%04d@example.com", i), "Standard User", nil)
			if err := h.e.Update("UserLogin", h.login(id)["Id"].(string), map[string]any{"IsFrozen": true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	list := func(filter string, count int) (scimschema.Page, int, error) {
		var page scimschema.Page
		var err error
		n := h.calls(func() {
			page, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, filter), StartIndex: 1, Count: count})
		})
		return page, n, err
	}
	tooBroad := func(filter string, count, wantCalls int) {
		t.Helper()
		_, n, err := list(filter, count)
		var se *scimschema.Error
		if !errors.As(err, &se) || se.Kind != scimschema.KindInvalidFilter || !strings.Contains(se.Detail, "too broad for Salesforce") ||
			!strings.Contains(se.Detail, "userName") {
			t.Errorf("ListUsers(%s, count %d) error = %v; want invalidFilter saying too broad and how to narrow", filter, count, err)
		}
		if n != wantCalls {
			t.Errorf("ListUsers(%s, count %d) made %d calls; want %d", filter, count, n, wantCalls)
		}
	}

	// 570 ids are read, but do not fit beside the page query's field list.
	freeze(0, 570)
	tooBroad(`active eq false`, 100, 1)
	tooBroad(`not (active eq true) or userName eq "x@example.com"`, 100, 1)
	// They fit in the shorter COUNT() query, which a direct GET sends (the emulator answers 414 past the limit).
	page, n, err := list(`active eq false`, 0)
	if err != nil || page.TotalResults != 570 || n != 2 {
		t.Errorf("count of active eq false = %d, %v in %d calls; want 570 in 2", page.TotalResults, err, n)
	}

	// More than fit in any query: reading stops after the first page of ids.
	freeze(570, 600)
	tooBroad(`active eq false`, 0, 1)
	// Narrowing with a top-level condition reads only the matching frozen ids.
	page, n, err = list(`active eq false and userName sw "frozen001"`, 100)
	if err != nil || page.TotalResults != 10 || len(page.Resources) != 10 || n != 2 {
		t.Errorf("narrowed active eq false = %d (%d resources), %v in %d calls; want 10 in 2", page.TotalResults, len(page.Resources), err, n)
	}
	for _, r := range page.Resources {
		if r.Attributes["active"] != false {
			t.Errorf("%v active = %v; want false", r.Attributes["userName"], r.Attributes["active"])
		}
	}
	// The legal anti-join is unaffected.
	if page, n, err = list(`active eq true`, 100); err != nil || page.TotalResults != 1 || n != 1 {
		t.Errorf("active eq true = %d, %v in %d calls; want the admin in 1", page.TotalResults, err, n)
	}
}

// A filter too long for any Salesforce query is refused before a call (never a 414 from Salesforce).
func TestListUsersFilterTooLong(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	terms := make([]string, 600)
	for i := range terms {
		terms[i] = fmt.Sprintf(`userName eq "someone-%03d@example.com"`, i)
	}
	filter := strings.Join(terms, " or ")
	var err error
	n := h.calls(func() {
		_, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, filter), StartIndex: 1, Count: 10})
	})
	var se *scimschema.Error
	if !errors.As(err, &se) || se.Kind != scimschema.KindInvalidFilter || !strings.Contains(se.Detail, "too long") {
		t.Errorf("ListUsers(600 userNames) error = %v; want invalidFilter saying too long", err)
	}
	if n != 0 {
		t.Errorf("ListUsers(600 userNames) made %d calls; want 0", n)
	}
}

func TestFreezePlanOf(t *testing.T) {
	t.Parallel()
	email := scimschema.Compare{Field: "Email", Op: "eq", Value: "x@example.com"}
	name := scimschema.Compare{Field: "Username", Op: "sw", Value: "x"}
	member := scimschema.MemberOf{GroupID: "0PS000000000001AAA"}
	for _, tc := range []struct {
		name string
		cond scimschema.Cond
		plan freezePlan
		kept scimschema.Cond
	}{
		{"no semi-join", email, freezeInPage, email},
		{"active true alone", scimschema.ActiveIs{Value: true}, freezeNone, nil},
		{"active true and email", scimschema.And{Conds: []scimschema.Cond{scimschema.ActiveIs{Value: true}, email}}, freezeNone, nil},
		{"active true beside a semi-join under OR", scimschema.And{Conds: []scimschema.Cond{
			scimschema.Or{Conds: []scimschema.Cond{member, email}}, scimschema.ActiveIs{Value: true}}}, freezeNone, nil},
		{"active false alone", scimschema.ActiveIs{Value: false}, freezeInPage, nil},
		{"nested AND drops the semi-joins", scimschema.And{Conds: []scimschema.Cond{
			scimschema.And{Conds: []scimschema.Cond{member, email}}, scimschema.ActiveIs{Value: false}, name}},
			freezeInPage, scimschema.And{Conds: []scimschema.Cond{email, name}}},
		// Semi-joins under OR or NOT stay in kept: renderUserFilter inlined their ids.
		{"semi-join under OR", scimschema.Or{Conds: []scimschema.Cond{member, email}}, freezeInPage, scimschema.Or{Conds: []scimschema.Cond{member, email}}},
		{"semi-join under NOT", scimschema.And{Conds: []scimschema.Cond{email, scimschema.Not{Cond: scimschema.ActiveIs{Value: true}}}},
			freezeInPage, scimschema.And{Conds: []scimschema.Cond{email, scimschema.Not{Cond: scimschema.ActiveIs{Value: true}}}}},
	} {
		plan, kept := freezePlanOf(tc.cond)
		if plan != tc.plan || !reflect.DeepEqual(kept, tc.kept) {
			t.Errorf("%s: freezePlanOf = %d, %#v; want %d, %#v", tc.name, plan, kept, tc.plan, tc.kept)
		}
	}
}

func TestListUsersCountOnlyAndSort(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, n := range []string{"zed", "amy", "kim"} {
		h.insertUser(n+"@example.com", "Standard User", nil)
	}
	n := h.calls(func() {
		page, err := h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 0})
		if err != nil || page.TotalResults != 4 || len(page.Resources) != 0 {
			t.Errorf("count=0: total %d, %d resources, %v; want 4, 0", page.TotalResults, len(page.Resources), err)
		}
	})
	if n != 1 {
		t.Errorf("count=0 made %d calls; want 1", n)
	}
	page, err := h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: 2, Count: 2, SortBy: "userName", Descending: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range page.Resources {
		got = append(got, r.Attributes["userName"].(string))
	}
	if want := []string{"kim@example.com", "amy@example.com"}; !slices.Equal(got, want) || page.TotalResults != 4 {
		t.Errorf("sorted page = %v (total %d); want %v of 4", got, page.TotalResults, want)
	}
	// excludedAttributes=groups reads no assignments: the resources carry no groups.
	page, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: 1, Count: 10, ExcludedAttributes: []string{"groups"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Resources {
		if _, ok := r.Attributes["groups"]; ok {
			t.Errorf("groups present although excluded: %v", r.Attributes["groups"])
		}
	}
}

// bigSeed is the default org with licences for thousands of users.
func bigSeed() *emulator.Seed {
	s := emulator.DefaultSeed()
	for i := range s.Licenses {
		s.Licenses[i].TotalLicenses = 10000
	}
	return s
}

func TestLargeOrgPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withEmulator(func(c *emulator.Config) { c.Seed = bigSeed() }))
	// 2050 users: enough to page past OFFSET 2000 and to read a group in two query pages.
	const users = 2050
	start := time.Now()
	ps := h.permSetID("Analytics_Viewer")
	for i := range users {
		id := h.insertUser(fmt.Sprintf("bulk%05d@example.com", i), "Standard User", nil)
		h.assign(id, ps)
	}
	t.Logf("seeded %d users in %v", users, time.Since(start))
	var ids []string
	for _, u := range h.e.List("User") {
		if u["UserType"] == "Standard" {
			ids = append(ids, u["Id"].(string))
		}
	}
	slices.Sort(ids)

	// A page past OFFSET 2000 walks nextRecordsUrl: 3 query pages, then the page's UserLogins.
	var page scimschema.Page
	n := h.calls(func() {
		var err error
		page, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: 2021, Count: 20, ExcludedAttributes: []string{"groups"}})
		if err != nil {
			t.Fatalf("ListUsers past 2000: %v", err)
		}
	})
	if page.TotalResults != len(ids) || len(page.Resources) != 20 {
		t.Fatalf("page past 2000: total %d, %d resources; want %d, 20", page.TotalResults, len(page.Resources), len(ids))
	}
	for i, r := range page.Resources {
		if r.ID != ids[2020+i] {
			t.Fatalf("resource %d = %s; want %s (Id order)", i, r.ID, ids[2020+i])
		}
	}
	if n != 3 {
		t.Errorf("page at 2021 made %d calls; want 3 (2 batches + UserLogins)", n)
	}
	// Within OFFSET 2000: one composite.
	n = h.calls(func() {
		var err error
		if page, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: 1990, Count: 20}); err != nil {
			t.Fatalf("ListUsers at 1990: %v", err)
		}
	})
	if n != 1 || len(page.Resources) != 20 || page.Resources[0].ID != ids[1989] {
		t.Errorf("page at 1990: %d calls, %d resources; want 1 call, 20 resources from %s", n, len(page.Resources), ids[1989])
	}

	// Sequential paging (startIndex = previous + count) continues past OFFSET 2000 after the
	// previous page's last Id: one call per page, whatever the depth.
	for _, start := range []int{1981, 2001, 2021, 2041} {
		n = h.calls(func() {
			var err error
			if page, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: start, Count: 20}); err != nil {
				t.Fatalf("ListUsers at %d: %v", start, err)
			}
		})
		want := min(20, len(ids)-(start-1))
		if n != 1 || len(page.Resources) != want || page.TotalResults != len(ids) {
			t.Fatalf("sequential page at %d: %d calls, %d resources, total %d; want 1 call, %d resources, total %d",
				start, n, len(page.Resources), page.TotalResults, want, len(ids))
		}
		for i, r := range page.Resources {
			if r.ID != ids[start-1+i] {
				t.Fatalf("sequential page at %d: resource %d = %s; want %s", start, i, r.ID, ids[start-1+i])
			}
			if _, ok := r.Attributes["groups"]; !ok {
				t.Fatalf("sequential page at %d: resource %d has no groups", start, i)
			}
		}
	}
	// Random access past 2000 (no previous page) still walks.
	n = h.calls(func() {
		if _, err := h.b.ListUsers(h.ctx, scimschema.ListQuery{StartIndex: 2011, Count: 20}); err != nil {
			t.Fatalf("ListUsers at 2011: %v", err)
		}
	})
	if n != 3 {
		t.Errorf("random page at 2011 made %d calls; want 3 (2 batches + UserLogins)", n)
	}

	// A group of 2050 members is read in pages of 2000: the composite, then one more page.
	n = h.calls(func() {
		res, err := h.b.GetGroup(h.ctx, ps, scimschema.ReadOptions{})
		if err != nil {
			t.Fatalf("GetGroup: %v", err)
		}
		members, _ := res.Attributes["members"].([]any)
		if len(members) != users {
			t.Errorf("members = %d; want %d", len(members), users)
		}
	})
	if n != 2 {
		t.Errorf("GetGroup with %d members made %d calls; want 2", users, n)
	}
	// Without members: one call, no assignment read.
	n = h.calls(func() {
		res, err := h.b.GetGroup(h.ctx, ps, scimschema.ReadOptions{ExcludedAttributes: []string{"members"}})
		if err != nil || res.Attributes["members"] != nil {
			t.Errorf("GetGroup excluding members: %v, members %v", err, res.Attributes["members"])
		}
	})
	if n != 1 {
		t.Errorf("GetGroup excluding members made %d calls; want 1", n)
	}

	// More frozen users than one query batch: the frozen subquery of a filter whose semi-join was
	// left out is incomplete, so the page's own UserLogins are read instead (never a wrong state).
	const frozenCount = maxOffset + 20 // the first 2020 bulk users (in Id order); the last 30 not
	bulk := map[string]bool{}
	for _, u := range h.e.List("User") {
		if strings.HasPrefix(str(u["Username"]), "bulk") {
			bulk[u["Id"].(string)] = true
		}
	}
	loginOfUser := map[string]string{}
	for _, l := range h.e.List("UserLogin") {
		loginOfUser[str(l["UserId"])] = l["Id"].(string)
	}
	frozen := map[string]bool{}
	for _, id := range ids {
		if !bulk[id] || len(frozen) == frozenCount {
			continue
		}
		if err := h.e.Update("UserLogin", loginOfUser[id], map[string]any{"IsFrozen": true}); err != nil {
			t.Fatal(err)
		}
		frozen[id] = true
	}
	for _, start := range []int{1, 2001} { // a page of frozen users; a page across the boundary
		n = h.calls(func() {
			var err error
			page, err = h.b.ListUsers(h.ctx, scimschema.ListQuery{
				Filter:     parseFilter(t, fmt.Sprintf(`groups.value eq "%s" and userName sw "bulk"`, ps)),
				StartIndex: start, Count: 10, ExcludedAttributes: []string{"groups"},
			})
			if err != nil {
				t.Fatalf("ListUsers with %d frozen users: %v", len(frozen), err)
			}
		})
		if len(page.Resources) != 10 {
			t.Fatalf("ListUsers at %d with %d frozen users: %d resources; want 10", start, len(frozen), len(page.Resources))
		}
		for _, r := range page.Resources {
			if want := !frozen[r.ID]; r.Attributes["active"] != want {
				t.Errorf("user %s active = %v; want %v", r.ID, r.Attributes["active"], want)
			}
		}
		if n != 2 {
			t.Errorf("ListUsers at %d with more frozen users than one batch made %d calls; want 2 (page, then its UserLogins)", start, n)
		}
	}
}

// A group of 20,000 members (DESIGN: read page by page from Salesforce) costs one composite and one
// query-more call per further 2000 assignments; without members it costs one call.
func TestTwentyThousandMemberGroupIsReadInPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withEmulator(func(c *emulator.Config) {
		s := bigSeed()
		for i := range s.Licenses {
			s.Licenses[i].TotalLicenses = 25000
		}
		c.Seed = s
	}))
	const members = 20000
	ps := h.permSetID("Analytics_Viewer")
	for i := range members {
		h.assign(h.insertUser(fmt.Sprintf("m%05d@example.com", i), "Standard User", nil), ps)
	}
	h.renewContext() // seeding 20,000 users is slow under -race
	n := h.calls(func() {
		res, err := h.b.GetGroup(h.ctx, ps, scimschema.ReadOptions{})
		if err != nil {
			t.Fatalf("GetGroup: %v", err)
		}
		got, _ := res.Attributes["members"].([]any)
		if len(got) != members {
			t.Errorf("members = %d; want %d", len(got), members)
		}
	})
	if want := members / 2000; n != want {
		t.Errorf("GetGroup with %d members made %d calls; want %d (one per 2000 assignments)", members, n, want)
	}
	n = h.calls(func() {
		if _, err := h.b.GetGroup(h.ctx, ps, scimschema.ReadOptions{ExcludedAttributes: []string{"members"}}); err != nil {
			t.Fatalf("GetGroup without members: %v", err)
		}
	})
	if n != 1 {
		t.Errorf("GetGroup excluding members made %d calls; want 1", n)
	}
}
