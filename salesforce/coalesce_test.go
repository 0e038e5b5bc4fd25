package salesforce

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// together runs ops concurrently so that they share batches: an extra operation held in the
// backend keeps the batches open (the window is an hour) until every op is queued; then the
// batches are sent. It returns the Salesforce calls made.
func together(h *harness, ops ...func()) int {
	h.t.Helper()
	c := h.b.batch
	return h.calls(func() {
		leave := c.enter(h.ctx)
		var wg sync.WaitGroup
		for _, op := range ops {
			wg.Add(1)
			go func() { defer wg.Done(); op() }()
		}
		waitQueued(h.t, c, len(ops))
		c.mu.Lock()
		for _, b := range c.open {
			c.send(b)
		}
		c.mu.Unlock()
		leave()
		wg.Wait()
		// The ops just finished would make the next lone request wait for their workers' next
		// requests (up to maxWindows windows, an hour here): these workers have none.
		c.mu.Lock()
		c.returning = 0
		c.mu.Unlock()
	})
}

// waitQueued waits until n requests are queued in c's open batches; the test fails when they are
// not within 10s. Batches held open (an entered coalescer, an hour's window) keep the count there.
func waitQueued(t testing.TB, c *coalescer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		queued := c.queued
		c.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s %d requests are queued in the coalescer; want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func coalescingHarness(t *testing.T) *harness {
	return newHarness(t, withBackend(func(c *BackendConfig) { c.BatchWindow = time.Hour }))
}

func TestCoalescedLookupsAnswerEachRequest(t *testing.T) {
	t.Parallel()
	h := coalescingHarness(t)
	alice := h.insertUser("alice@example.com", "Standard User", map[string]any{"FederationIdentifier": "Ext-1"})
	bob := h.insertUser("bob@example.com", "Standard User", nil)
	if err := h.e.Update("User", bob, map[string]any{"IsActive": false}); err != nil {
		t.Fatal(err)
	}
	type lookup struct{ filter, want string }
	lookups := []lookup{
		{`userName eq "ALICE@example.com"`, alice},
		{`userName eq "bob@example.com"`, bob},
		{`userName eq "nobody@example.com"`, ""},
		{`externalId eq "Ext-1"`, alice},
		{`externalId eq "ext-1"`, ""}, // externalId is caseExact
	}
	got := make([]scimschema.Page, len(lookups))
	errs := make([]error, len(lookups))
	var ops []func()
	for i, l := range lookups {
		ops = append(ops, func() {
			got[i], errs[i] = h.b.ListUsers(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, l.filter), StartIndex: 1, Count: 100})
		})
	}
	// Two fields: two batches, one call each.
	if n := together(h, ops...); n != 2 {
		t.Errorf("%d concurrent lookups on two fields made %d calls; want 2", len(lookups), n)
	}
	for i, l := range lookups {
		if errs[i] != nil {
			t.Errorf("ListUsers(%s): %v", l.filter, errs[i])
			continue
		}
		var ids []string
		for _, r := range got[i].Resources {
			ids = append(ids, r.ID)
		}
		want := []string{}
		if l.want != "" {
			want = []string{l.want}
		}
		if got[i].TotalResults != len(want) || strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Errorf("ListUsers(%s) = %v (total %d); want %v", l.filter, ids, got[i].TotalResults, want)
		}
	}
	// Each answer is the one the request alone gets.
	for i, l := range lookups {
		alone, err := h.b.ListUsers(h.ctx, scimschema.ListQuery{Filter: parseFilter(t, l.filter), StartIndex: 1, Count: 100})
		if err != nil || alone.TotalResults != got[i].TotalResults {
			t.Fatalf("ListUsers(%s) alone = %d, %v; coalesced %d", l.filter, alone.TotalResults, err, got[i].TotalResults)
		}
		for j := range alone.Resources {
			if a, c := alone.Resources[j], got[i].Resources[j]; a.Version != c.Version || fmt.Sprint(a.Attributes) != fmt.Sprint(c.Attributes) {
				t.Errorf("ListUsers(%s) coalesced resource differs from alone:\n%v\n%v", l.filter, c, a)
			}
		}
	}
}

func TestCoalescedCreatesFailAlone(t *testing.T) {
	t.Parallel()
	h := coalescingHarness(t)
	taken := h.insertUser("taken@example.com", "Standard User", nil)
	names := []string{"new1@example.com", "taken@example.com", "new2@example.com", "new3@example.com"}
	res := make([]scimschema.Resource, len(names))
	errs := make([]error, len(names))
	var ops []func()
	for i, n := range names {
		ops = append(ops, func() { res[i], errs[i] = h.b.CreateUser(h.ctx, newUserAttrs(n, "New", "User")) })
	}
	// One composite for the four creates, then the duplicate's own follow-up (taken here or in
	// another org?), as alone.
	if n := together(h, ops...); n != 2 {
		t.Errorf("4 concurrent creates with one duplicate made %d calls; want 2", n)
	}
	for i, n := range names {
		if n == "taken@example.com" {
			se := wantKind(t, errs[i], scimschema.KindUniqueness)
			if !strings.Contains(se.Detail, "this Salesforce org") {
				t.Errorf("duplicate: %q; want taken in this org", se.Detail)
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("CreateUser(%s): %v", n, errs[i])
			continue
		}
		row := h.find("User", "Username", n)
		if row == nil || !rest.SameID(row["Id"].(string), res[i].ID) || res[i].Attributes["userName"] != n || res[i].Version == "" {
			t.Errorf("CreateUser(%s) = %s %v; want the created user", n, res[i].ID, res[i].Attributes)
		}
		got, err := h.b.GetUser(h.ctx, res[i].ID, scimschema.ReadOptions{})
		if err != nil || got.Version != res[i].Version {
			t.Errorf("GetUser(%s) = %v, %v; want version %s as created", n, got.Version, err, res[i].Version)
		}
	}
	if h.find("User", "Username", "taken@example.com")["Id"] != taken {
		t.Error("the existing user changed")
	}
}

func TestCoalescedReadsByID(t *testing.T) {
	t.Parallel()
	h := coalescingHarness(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, h.insertUser(fmt.Sprintf("r%d@example.com", i), "Standard User", nil))
	}
	ids = append(ids, "005000000000000AAA") // well-formed, unknown
	got := make([]scimschema.Resource, len(ids))
	errs := make([]error, len(ids))
	var ops []func()
	for i, id := range ids {
		ops = append(ops, func() { got[i], errs[i] = h.b.GetUser(h.ctx, id, scimschema.ReadOptions{}) })
	}
	if n := together(h, ops...); n != 1 {
		t.Errorf("%d concurrent reads made %d calls; want 1", len(ids), n)
	}
	for i, id := range ids[:5] {
		alone, err := h.b.GetUser(h.ctx, id, scimschema.ReadOptions{})
		if errs[i] != nil || err != nil || got[i].Version != alone.Version || fmt.Sprint(got[i].Attributes) != fmt.Sprint(alone.Attributes) {
			t.Errorf("GetUser(%s) coalesced = %v, %v; alone %v, %v", id, got[i].Attributes, errs[i], alone.Attributes, err)
		}
	}
	wantKind(t, errs[5], scimschema.KindNotFound)
}

func TestCoalescedMemberAdditionsAcrossGroups(t *testing.T) {
	t.Parallel()
	h := coalescingHarness(t)
	groups := []string{h.permSetID("Sales_Ops"), h.permSetID("Analytics_Viewer")}
	u1 := h.insertUser("m1@example.com", "Standard User", nil)
	u2 := h.insertUser("m2@example.com", "Standard User", nil)
	h.assign(u2, groups[0]) // already a member: a no-op
	type add struct {
		group, user string
		want        scimschema.Kind // 0: success
	}
	adds := []add{
		{groups[0], u1, 0},
		{groups[0], u2, 0},
		{groups[1], u1, 0},
		{groups[1], "005000000000000AAA", scimschema.KindInvalidValue}, // unknown user
	}
	errs := make([]error, len(adds))
	var ops []func()
	for i, a := range adds {
		ops = append(ops, func() {
			_, errs[i] = h.b.PatchGroup(h.ctx, a.group, []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"),
				Value: []any{map[string]any{"value": a.user}}}}, "")
		})
	}
	// One composite for the four; then, as alone, the PATCH whose every member failed as unknown
	// checks whether its group still exists.
	if n := together(h, ops...); n != 2 {
		t.Errorf("%d concurrent member additions made %d calls; want 2", len(adds), n)
	}
	for i, a := range adds {
		if a.want == 0 {
			if errs[i] != nil {
				t.Errorf("add %s to %s: %v", a.user, a.group, errs[i])
			}
			continue
		}
		if se := wantKind(t, errs[i], a.want); !strings.Contains(se.Detail, a.user) {
			t.Errorf("add %s: %q does not name the member", a.user, se.Detail)
		}
	}
	if !h.assignees(groups[0])[u1] || !h.assignees(groups[0])[u2] || !h.assignees(groups[1])[u1] {
		t.Errorf("assignments after coalesced additions: %v, %v", h.assignees(groups[0]), h.assignees(groups[1]))
	}
}

func TestCoalescedMemberRemovalsAcrossGroups(t *testing.T) {
	t.Parallel()
	h := coalescingHarness(t)
	groups := []string{h.permSetID("Sales_Ops"), h.permSetID("Analytics_Viewer"), h.permSetID("Support_Agent")}
	var users []string
	for i := range 4 {
		users = append(users, h.insertUser(fmt.Sprintf("r%d@example.com", i), "Standard User", nil))
	}
	for _, u := range users[:3] {
		h.assign(u, groups[0])
	}
	h.assign(users[0], groups[1])
	h.assign(users[3], groups[1])
	if _, err := h.b.GetGroup(h.ctx, groups[2], scimschema.ReadOptions{}); err != nil {
		t.Fatalf("GetGroup: %v", err) // the group is known to the bridge …
	}
	if err := h.e.Delete("PermissionSet", groups[2]); err != nil {
		t.Fatalf("deleting a permission set in the emulator: %v", err) // … and then deleted in Salesforce
	}
	type remove struct {
		group string
		users []string
		want  scimschema.Kind // 0: success
	}
	removes := []remove{
		{groups[0], []string{users[0], users[1]}, 0},
		{groups[0], []string{users[1]}, 0},           // the same member as its neighbour
		{groups[1], []string{users[0], users[2]}, 0}, // users[2] is not a member: a no-op
		{groups[1], []string{users[2]}, 0},           // only non-members: a no-op
		{groups[2], []string{users[0]}, scimschema.KindNotFound},
	}
	errs := make([]error, len(removes))
	var ops []func()
	for i, r := range removes {
		var values []any
		for _, u := range r.users {
			values = append(values, map[string]any{"value": u})
		}
		ops = append(ops, func() {
			_, errs[i] = h.b.PatchGroup(h.ctx, r.group, []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, "members"),
				Value: values}}, "")
		})
	}
	if n := together(h, ops...); n != 1 {
		t.Errorf("%d concurrent member removals from 3 groups made %d calls; want 1", len(removes), n)
	}
	for i, r := range removes {
		if r.want == 0 {
			if errs[i] != nil {
				t.Errorf("remove %v from %s: %v", r.users, r.group, errs[i])
			}
			continue
		}
		wantKind(t, errs[i], r.want)
	}
	if got := h.assignees(groups[0]); len(got) != 1 || !got[users[2]] {
		t.Errorf("members of %s after the removals: %v; want only %s", groups[0], got, users[2])
	}
	if got := h.assignees(groups[1]); len(got) != 1 || !got[users[3]] {
		t.Errorf("members of %s after the removals: %v; want only %s", groups[1], got, users[3])
	}

	// More than one composite holds (25 subrequests): 2 removals of 12 members each, from 2 groups,
	// need 3 queries and 24 DELETEs: 2 calls, each PATCH answered as alone.
	more := append([]string{}, users...)
	for i := range 8 {
		more = append(more, h.insertUser(fmt.Sprintf("more%d@example.com", i), "Standard User", nil))
	}
	var values []any
	for _, u := range more {
		if u != users[2] { // still a member
			h.assign(u, groups[0])
		}
		values = append(values, map[string]any{"value": u})
	}
	h.assign(more[5], groups[1])
	twoErrs := make([]error, 2)
	var two []func()
	for i, g := range groups[:2] {
		two = append(two, func() {
			_, twoErrs[i] = h.b.PatchGroup(h.ctx, g, []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, "members"), Value: values}}, "")
		})
	}
	if n := together(h, two...); n != 2 {
		t.Errorf("2 concurrent removals of 12 members made %d calls; want 2 (27 subrequests)", n)
	}
	for i, err := range twoErrs {
		if err != nil {
			t.Errorf("removal from %s: %v", groups[i], err)
		}
	}
	if a, b := h.assignees(groups[0]), h.assignees(groups[1]); len(a) != 0 || len(b) != 0 {
		t.Errorf("members after removing all 12 from 2 groups: %v, %v; want none", a, b)
	}
}

// A request that is alone is sent at once, with the code and the calls of a backend without
// coalescing.
func TestCoalescingAloneIsImmediate(t *testing.T) {
	t.Parallel()
	// An hour's window: a lone request that waited for it would fail on the test's context.
	h := newHarness(t, withBackend(func(c *BackendConfig) { c.BatchWindow = time.Hour }))
	for i := range 3 {
		if n := h.calls(func() {
			if _, err := h.b.CreateUser(h.ctx, newUserAttrs(fmt.Sprintf("solo%d@example.com", i), "Solo", "User")); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
		}); n != 1 {
			t.Errorf("CreateUser alone made %d calls; want 1", n)
		}
	}
	off := newHarness(t, withBackend(func(c *BackendConfig) { c.BatchWindow = 0 }))
	if off.b.batch != nil {
		t.Error("batch_window 0 still coalesces")
	}
}

// A request cancelled while it waits in a batch leaves it with a SCIM error; the others in the
// batch are answered.
func TestCoalescedRequestCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	h := coalescingHarness(t)
	id := h.insertUser("wait@example.com", "Standard User", nil)
	c := h.b.batch
	leave := c.enter(h.ctx) // keeps the batch open: the window is an hour
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := h.b.GetUser(ctx, id, scimschema.ReadOptions{})
		done <- err
	}()
	waitQueued(t, c, 1)
	cancel()
	wantKind(t, <-done, scimschema.KindUnavailable)
	c.mu.Lock()
	open, queued := len(c.open), c.queued
	c.mu.Unlock()
	if open != 0 || queued != 0 {
		t.Errorf("after the cancelled request left: %d open batches, %d queued; want none", open, queued)
	}
	leave()
}

// A batch that panics answers each of its requests with an internal error; the process lives on.
func TestCoalescedPanicIsEachRequestsInternalError(t *testing.T) {
	t.Parallel()
	c, err := newCoalescer(time.Hour, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	leave := c.enter(ctx)
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			defer c.enter(ctx)()
			_, err := c.do(ctx, "test", "", 10, i, func() (any, error) { return nil, nil },
				func(context.Context, []*batchItem) int { panic("boom") })
			errs <- err
		}()
	}
	waitQueued(t, c, 2)
	c.mu.Lock()
	for _, b := range c.open {
		c.send(b)
	}
	c.mu.Unlock()
	leave()
	for range 2 {
		wantKind(t, <-errs, scimschema.KindInternal)
	}
}

// A removal batch whose composite fails answers each PATCH with the failure and audits each as
// failed; nothing is removed.
func TestCoalescedMemberRemovalsFailTogetherAudited(t *testing.T) {
	t.Parallel()
	h := coalescingHarness(t)
	groups := []string{h.permSetID("Sales_Ops"), h.permSetID("Analytics_Viewer")}
	u := h.insertUser("fail@example.com", "Standard User", nil)
	for _, g := range groups {
		h.assign(u, g)
	}
	if _, err := h.b.GetGroup(h.ctx, groups[0], scimschema.ReadOptions{}); err != nil {
		t.Fatalf("GetGroup: %v", err) // the catalog is loaded before the fault
	}
	h.e.InjectFault(emulator.Fault{Method: "POST", PathPattern: "/services/data/*", Status: 503, ErrorCode: "SERVER_UNAVAILABLE", Times: -1})
	errs := make([]error, len(groups))
	var ops []func()
	for i, g := range groups {
		ops = append(ops, func() {
			_, errs[i] = h.b.PatchGroup(h.ctx, g, []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, "members"),
				Value: []any{map[string]any{"value": u}}}}, "")
		})
	}
	together(h, ops...) // the emulator does not count the refused composite
	for i, err := range errs {
		wantKind(t, err, scimschema.KindUnavailable)
		if !h.assignees(groups[i])[u] {
			t.Errorf("%s lost its member after a failed removal", groups[i])
		}
	}
	failed := map[string]bool{}
	for _, c := range auditLines(t, h.log.String()) {
		if c.Operation == OpRemoveMembers && len(c.Failed) == 1 && rest.SameID(c.Failed[0], u) && len(c.Removed) == 0 {
			failed[c.Target] = true
		}
	}
	for _, g := range groups {
		if !failed[g] {
			t.Errorf("no remove_members audit line naming %s as failed for %s:\n%s", u, g, h.log.String())
		}
	}
}
