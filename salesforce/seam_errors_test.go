package salesforce

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Errors are translated once, where the backend meets the seam (STYLE.md principle 5): whichever
// Salesforce call of an exported Backend method fails, and however it fails, the method answers
// with a *scimschema.Error whose Kind is the SCIM status the server sends, whose RetryAfter is set
// for a limit or an outage, and whose Detail never carries Salesforce's message (it can echo
// submitted values).
//
// Each method is first called on a healthy org to count its Salesforce API calls. Then a fresh org
// fails one of those calls and every later one (an outage or a limit does not heal within one SCIM
// request): every way Salesforce or the network fails, at the first call of each method; the
// limits and an outage (everyCall) at every call of every variant, so that the paths past the
// first call (read-backs, assignments, freezes, lookups, coalesced batches) are covered too.

// leak is the message every injected Salesforce error carries; no Detail may show it.
const leak = "sf-message-leak jdoe@leak.example"

// noAnswerDeadline bounds a call Salesforce does not answer. The emulator's handler keeps waiting
// out its latency after the client gave up (it does not see the closed connection), and the test
// server's Close waits for it: keep both short.
// A deadline that ends before an earlier call is answered (a loaded machine) gives the same error.
const noAnswerDeadline = 100 * time.Millisecond

// sfFailure is one way a Salesforce call fails.
type sfFailure struct {
	name string
	// fail makes the org (or the network in front of it) fail the nth versioned-REST call from
	// now on, and every later one.
	fail func(h *harness, nth int)
	// exhaust: the nth call is the first the org refuses because its daily allowance is used up
	// (the harness is built with the APILimit that makes it so; fail is unused).
	exhaust bool
	// deadline: the call runs under noAnswerDeadline, which the fault's latency outlasts (the delay
	// starts when the request arrives, after the deadline was set; then the org answers 504).
	deadline bool
	want     scimschema.Kind
	// retryAfter is the exact RetryAfter wanted; 0 wants none.
	retryAfter time.Duration
	// everyCall: checked at every call of every scenario, not only at the first call of the
	// method's main scenario.
	everyCall bool
	// exact: the Kind is exactly want. Otherwise (Salesforce refusing a value or naming no record)
	// the method may explain the refusal more precisely; then the kind must be a client error, not
	// a limit, an outage or a 500.
	exact bool
}

// failFrom injects f for the nth versioned-REST call and every later one. The first nth-1 calls
// meet a fault that only delays them by a microsecond, which lets them through unchanged
// (emulator.Fault: "or before running the request normally when nothing else is set"); faults
// apply in the order injected.
func failFrom(h *harness, nth int, f emulator.Fault) {
	h.t.Helper()
	const rest = "/services/data/*"
	if nth > 1 {
		h.e.InjectFault(emulator.Fault{PathPattern: rest, Latency: time.Microsecond, Times: nth - 1})
	}
	f.PathPattern, f.Times = rest, -1
	h.e.InjectFault(f)
}

// sfFailures is every Salesforce failure kind (salesforce.Kind) the client classifies, produced the
// way Salesforce or the network produces it (reference salesforce-api.md §2).
var sfFailures = []sfFailure{
	{name: "request limit (concurrent requests)", everyCall: true, want: scimschema.KindLimited, retryAfter: retryAfterLimited, exact: true,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: leak})
		}},
	{name: "daily allowance used up", everyCall: true, exhaust: true, want: scimschema.KindLimited, retryAfter: retryAfterExhausted, exact: true},
	{name: "row locked", want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW", Message: leak})
		}},
	{name: "server unavailable 503", everyCall: true, want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 503, ErrorCode: "SERVER_UNAVAILABLE", Message: leak})
		}},
	{name: "unknown exception 500", want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 500, ErrorCode: "UNKNOWN_EXCEPTION", Message: leak})
		}},
	{name: "gateway HTML page 502", want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) { failFrom(h, n, emulator.Fault{Status: 502, HTML: true}) }},
	{name: "gateway timeout HTML page 504", want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) { failFrom(h, n, emulator.Fault{Status: 504, HTML: true}) }},
	{name: "connection reset before the answer", want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) { failFrom(h, n, emulator.Fault{DropConnection: true}) }},
	{name: "answer lost after the call was applied", want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) { failFrom(h, n, emulator.Fault{DropConnection: true, AfterApply: true}) }},
	{name: "no answer in time", deadline: true, want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Latency: noAnswerDeadline, Status: 504, HTML: true})
		}},
	{name: "session refused after a refresh", want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 401, ErrorCode: "INVALID_SESSION_ID", Message: leak})
		}},
	{name: "session expired and the refresh refused", want: scimschema.KindUnavailable, retryAfter: retryAfterUnavailable, exact: true,
		fail: func(h *harness, n int) {
			h.e.InjectFault(emulator.Fault{PathPattern: "/services/oauth2/token", ForceInvalidGrant: true, Times: -1})
			failFrom(h, n, emulator.Fault{Status: 401, ErrorCode: "INVALID_SESSION_ID", Message: leak})
		}},
	{name: "insufficient access", want: scimschema.KindInternal, exact: true,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 403, ErrorCode: "INSUFFICIENT_ACCESS_OR_READONLY", Message: leak})
		}},
	{name: "not found", want: scimschema.KindNotFound,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 404, ErrorCode: "NOT_FOUND", Message: leak})
		}},
	{name: "validation refused", want: scimschema.KindInvalidValue,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 400, ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: leak})
		}},
	{name: "duplicate value", want: scimschema.KindUniqueness,
		fail: func(h *harness, n int) {
			failFrom(h, n, emulator.Fault{Status: 400, ErrorCode: "DUPLICATE_VALUE", Message: leak})
		}},
}

// seamCall is one exported Backend method called the way the server (or cmd) calls it, on an org
// prepared for it.
type seamCall struct {
	name string
	// variant: a variant of a method that an earlier scenario calls plainly; only the everyCall
	// failures are checked (at every call), which keeps the test fast.
	variant bool
	opts    []harnessOption
	// prepare seeds the org without API calls and returns the call.
	prepare func(t *testing.T, h *harness) func(ctx context.Context) error
}

func withCatalogTTL(d time.Duration) harnessOption {
	return withBackend(func(c *BackendConfig) { c.CatalogTTL = d })
}

func withFreeze() harnessOption {
	return withBackend(func(c *BackendConfig) { c.Provisioning.DisableAction = Freeze })
}

func withOverwrite() harnessOption {
	return withBackend(func(c *BackendConfig) { c.Provisioning.PermissionSets = Overwrite })
}

func withBatchWindow(d time.Duration) harnessOption {
	return withBackend(func(c *BackendConfig) { c.BatchWindow = d })
}

func withGroupSource(src GroupSource) harnessOption {
	return withBackend(func(c *BackendConfig) { c.Groups.Source = src })
}

// withBigOrg seeds licences for thousands of users.
func withBigOrg() harnessOption {
	return withEmulator(func(c *emulator.Config) { c.Seed = bigSeed() })
}

// eachError holds the errors of operations run concurrently; nil entries succeeded.
type eachError []error

func (e eachError) Error() string { return errors.Join(e...).Error() }

// concurrently runs n operations so that they share the backend's batches (together; the harness
// needs a long batch window) and returns their errors, nil when all succeeded.
func concurrently(h *harness, n int, op func(i int) error) error {
	errs := make(eachError, n)
	ops := make([]func(), n)
	for i := range ops {
		ops[i] = func() { errs[i] = op(i) }
	}
	together(h, ops...)
	if errors.Join(errs...) == nil {
		return nil
	}
	return errs
}

func membersOf(ids ...string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

func permissionSets(names ...string) map[string]any {
	return map[string]any{"permissionSets": membersOf(names...)}
}

// seamCalls covers every exported method that reaches Salesforce and returns an error: the seam
// (scimschema.Users and scimschema.Groups) plus Ready and ExplainUser, with the variants that take
// other paths (read first, freeze, soft data, membership modes, licences, the deprovision brake,
// a stale catalog).
var seamCalls = []seamCall{
	{name: "CreateUser", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		attrs := newUserAttrs("new.user@example.com", "New", "User")
		attrs[scimschema.SalesforceUserURN] = permissionSets("Sales_Ops")
		return func(ctx context.Context) error { _, err := h.b.CreateUser(ctx, attrs); return err }
	}},
	{name: "CreateUser inactive under freeze", variant: true, opts: []harnessOption{withFreeze()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		attrs := newUserAttrs("frozen.user@example.com", "Frozen", "User")
		attrs["active"] = false
		return func(ctx context.Context) error { _, err := h.b.CreateUser(ctx, attrs); return err }
	}},
	{name: "CreateUser with a manager by userName", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		h.insertUser("the.manager@example.com", "Standard User", nil)
		attrs := newUserAttrs("managed.user@example.com", "Managed", "User")
		attrs[scimschema.EnterpriseUserURN] = map[string]any{"manager": map[string]any{"value": "the.manager@example.com"}}
		return func(ctx context.Context) error { _, err := h.b.CreateUser(ctx, attrs); return err }
	}},
	{name: "CreateUser with a nickname someone holds", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		h.insertUser("sam@one.example.com", "Standard User", nil) // CommunityNickname "sam"
		attrs := newUserAttrs("sam@two.example.com", "Sam", "Same")
		return func(ctx context.Context) error { _, err := h.b.CreateUser(ctx, attrs); return err }
	}},
	{name: "CreateUser with a licensed permission set", variant: true, opts: []harnessOption{
		withBackend(func(c *BackendConfig) { c.Groups.AssignPermissionSetLicenses = true })},
		prepare: func(t *testing.T, h *harness) func(context.Context) error {
			attrs := newUserAttrs("new.analyst@example.com", "New", "Analyst")
			attrs[scimschema.SalesforceUserURN] = permissionSets("CRM_Analytics_Explorer")
			return func(ctx context.Context) error { _, err := h.b.CreateUser(ctx, attrs); return err }
		}},
	{name: "CreateUser with a stale catalog", variant: true, opts: []harnessOption{withCatalogTTL(time.Nanosecond)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		attrs := newUserAttrs("stale.user@example.com", "Stale", "User")
		return func(ctx context.Context) error { _, err := h.b.CreateUser(ctx, attrs); return err }
	}},
	{name: "GetUser", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("read.user@example.com", "Standard User", nil)
		h.assign(id, h.permSetID("Sales_Ops"))
		return func(ctx context.Context) error { _, err := h.b.GetUser(ctx, id, scimschema.ReadOptions{}); return err }
	}},
	{name: "ListUsers", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		h.insertUser("listed.user@example.com", "Standard User", nil)
		return func(ctx context.Context) error {
			_, err := h.b.ListUsers(ctx, scimschema.ListQuery{StartIndex: 1, Count: 10})
			return err
		}
	}},
	{name: "ListUsers count only", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := h.b.ListUsers(ctx, scimschema.ListQuery{StartIndex: 1, Count: 0})
			return err
		}
	}},
	{name: "ListUsers by userName", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		h.insertUser("looked.up@example.com", "Standard User", nil)
		f := parseFilter(t, `userName eq "looked.up@example.com"`)
		return func(ctx context.Context) error {
			_, err := h.b.ListUsers(ctx, scimschema.ListQuery{Filter: f, StartIndex: 1, Count: 10})
			return err
		}
	}},
	{name: "ListUsers by externalId (case-exact)", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		h.insertUser("exact.user@example.com", "Standard User", map[string]any{"FederationIdentifier": "Ext-1"})
		f := parseFilter(t, `externalId eq "Ext-1"`)
		return func(ctx context.Context) error {
			_, err := h.b.ListUsers(ctx, scimschema.ListQuery{Filter: f, StartIndex: 1, Count: 10})
			return err
		}
	}},
	{name: "ListUsers active or in a group (id sets first)", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("grouped.user@example.com", "Standard User", nil)
		ps := h.permSetID("Sales_Ops")
		h.assign(id, ps)
		f := parseFilter(t, fmt.Sprintf(`active eq false or groups[value eq "%s"]`, ps))
		return func(ctx context.Context) error {
			_, err := h.b.ListUsers(ctx, scimschema.ListQuery{Filter: f, StartIndex: 1, Count: 10})
			return err
		}
	}},
	{name: "ReplaceUser", opts: []harnessOption{withFreeze()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("replaced.user@example.com", "Standard User", nil)
		h.assign(id, h.permSetID("Sales_Ops"))
		attrs := newUserAttrs("replaced.user@example.com", "Replaced", "User")
		attrs["title"], attrs["active"] = "Boss", false
		attrs[scimschema.SalesforceUserURN] = permissionSets("Support_Agent")
		return func(ctx context.Context) error { _, err := h.b.ReplaceUser(ctx, id, attrs, ""); return err }
	}},
	{name: "ReplaceUser under overwrite", variant: true, opts: []harnessOption{withOverwrite()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("overwritten.user@example.com", "Standard User", nil)
		h.assign(id, h.permSetID("Sales_Ops"))
		attrs := newUserAttrs("overwritten.user@example.com", "Overwritten", "User")
		attrs[scimschema.SalesforceUserURN] = permissionSets("Support_Agent")
		return func(ctx context.Context) error { _, err := h.b.ReplaceUser(ctx, id, attrs, ""); return err }
	}},
	{name: "PatchUser", opts: []harnessOption{withFreeze()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("patched.user@example.com", "Standard User", nil)
		ops := []scimschema.PatchOp{
			{Op: "replace", Path: parsePath(t, "title"), Value: "T"},
			{Op: "replace", Path: parsePath(t, "active"), Value: false},
			{Op: "add", Path: parsePath(t, scimschema.SalesforceUserURN+":permissionSets"), Value: membersOf("Sales_Ops")},
		}
		return func(ctx context.Context) error { _, err := h.b.PatchUser(ctx, id, ops, ""); return err }
	}},
	{name: "PatchUser with If-Match", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("matched.user@example.com", "Standard User", nil)
		ops := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "T"}}
		return func(ctx context.Context) error {
			// The version is read with the faults already in place: reading it is part of the call.
			cur, err := h.b.GetUser(ctx, id, scimschema.ReadOptions{})
			if err != nil {
				return err
			}
			_, err = h.b.PatchUser(ctx, id, ops, cur.Version)
			return err
		}
	}},
	{name: "PatchUser with an unknown manager id", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("unmanaged.user@example.com", "Standard User", nil)
		ops := []scimschema.PatchOp{
			{Op: "replace", Path: parsePath(t, "title"), Value: "T"},
			{Op: "add", Path: parsePath(t, scimschema.EnterpriseUserURN+":manager"), Value: map[string]any{"value": "0055g000000009ZAAQ"}},
		}
		return func(ctx context.Context) error { _, err := h.b.PatchUser(ctx, id, ops, ""); return err }
	}},
	{name: "DeleteUser", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("deleted.user@example.com", "Standard User", nil)
		return func(ctx context.Context) error { return h.b.DeleteUser(ctx, id, "") }
	}},
	{name: "DeleteUser under freeze", variant: true, opts: []harnessOption{withFreeze()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("frozen.deleted@example.com", "Standard User", nil)
		return func(ctx context.Context) error { return h.b.DeleteUser(ctx, id, "") }
	}},
	{name: "DeleteUser under a deprovision limit", variant: true, opts: []harnessOption{withBackend(func(c *BackendConfig) {
		c.Provisioning.DeprovisionLimit = DeprovisionLimit{Max: 5, Window: time.Hour}
	})}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		id := h.insertUser("braked.user@example.com", "Standard User", nil)
		return func(ctx context.Context) error { return h.b.DeleteUser(ctx, id, "") }
	}},
	{name: "CreateGroup", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		u := h.insertUser("new.member@example.com", "Standard User", nil)
		attrs := map[string]any{"displayName": "New Group", "members": membersOf(u)}
		return func(ctx context.Context) error { _, err := h.b.CreateGroup(ctx, attrs); return err }
	}},
	{name: "GetGroup", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ps := h.permSetID("Sales_Ops")
		h.assign(h.insertUser("group.member@example.com", "Standard User", nil), ps)
		return func(ctx context.Context) error { _, err := h.b.GetGroup(ctx, ps, scimschema.ReadOptions{}); return err }
	}},
	{name: "ListGroups", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		h.assign(h.insertUser("listed.member@example.com", "Standard User", nil), h.permSetID("Sales_Ops"))
		return func(ctx context.Context) error {
			_, err := h.b.ListGroups(ctx, scimschema.ListQuery{StartIndex: 1, Count: 10})
			return err
		}
	}},
	{name: "ListGroups by member", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		u := h.insertUser("filter.member@example.com", "Standard User", nil)
		h.assign(u, h.permSetID("Sales_Ops"))
		f := parseFilter(t, fmt.Sprintf(`members[value eq "%s"]`, u))
		return func(ctx context.Context) error {
			_, err := h.b.ListGroups(ctx, scimschema.ListQuery{Filter: f, StartIndex: 1, Count: 10})
			return err
		}
	}},
	{name: "ReplaceGroup", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ps := h.permSetID("Support_Agent")
		u := h.insertUser("replace.member@example.com", "Standard User", nil)
		attrs := map[string]any{"displayName": "Support Agent", "members": membersOf(u)}
		return func(ctx context.Context) error { _, err := h.b.ReplaceGroup(ctx, ps, attrs, ""); return err }
	}},
	{name: "ReplaceGroup under overwrite", variant: true, opts: []harnessOption{withOverwrite()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ps := h.permSetID("Support_Agent")
		h.assign(h.insertUser("leaving.member@example.com", "Standard User", nil), ps)
		u := h.insertUser("staying.member@example.com", "Standard User", nil)
		attrs := map[string]any{"displayName": "Support Agent", "members": membersOf(u)}
		return func(ctx context.Context) error { _, err := h.b.ReplaceGroup(ctx, ps, attrs, ""); return err }
	}},
	{name: "PatchGroup adding a member", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ps := h.permSetID("Support_Agent")
		u := h.insertUser("added.member@example.com", "Standard User", nil)
		ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: membersOf(u)}}
		return func(ctx context.Context) error { _, err := h.b.PatchGroup(ctx, ps, ops, ""); return err }
	}},
	{name: "PatchGroup adding a member with a licence", variant: true, opts: []harnessOption{
		withBackend(func(c *BackendConfig) { c.Groups.AssignPermissionSetLicenses = true })},
		prepare: func(t *testing.T, h *harness) func(context.Context) error {
			ps := h.permSetID("CRM_Analytics_Explorer")
			u := h.insertUser("licensed.member@example.com", "Standard User", nil)
			ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: membersOf(u)}}
			return func(ctx context.Context) error { _, err := h.b.PatchGroup(ctx, ps, ops, ""); return err }
		}},
	{name: "PatchGroup removing a member", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ps := h.permSetID("Support_Agent")
		u := h.insertUser("removed.member@example.com", "Standard User", nil)
		h.assign(u, ps)
		ops := []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, fmt.Sprintf(`members[value eq "%s"]`, u))}}
		return func(ctx context.Context) error { _, err := h.b.PatchGroup(ctx, ps, ops, ""); return err }
	}},
	{name: "PatchGroup replacing members", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ps := h.permSetID("Support_Agent")
		h.assign(h.insertUser("old.member@example.com", "Standard User", nil), ps)
		u := h.insertUser("new.member@example.com", "Standard User", nil)
		ops := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "members"), Value: membersOf(u)}}
		return func(ctx context.Context) error { _, err := h.b.PatchGroup(ctx, ps, ops, ""); return err }
	}},
	{name: "PatchGroup renaming", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ps := h.permSetID("Support_Agent")
		ops := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "displayName"), Value: "Support Agents"}}
		return func(ctx context.Context) error { _, err := h.b.PatchGroup(ctx, ps, ops, ""); return err }
	}},
	{name: "DeleteGroup", prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ps := h.permSetID("Support_Agent")
		h.assign(h.insertUser("orphaned.member@example.com", "Standard User", nil), ps)
		return func(ctx context.Context) error { return h.b.DeleteGroup(ctx, ps, "") }
	}},
	{name: "CreateGroup with 30 members", variant: true, opts: []harnessOption{withBigOrg()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		var ids []string
		for i := range 30 {
			ids = append(ids, h.insertUser(fmt.Sprintf("thirty%02d@example.com", i), "Standard User", nil))
		}
		attrs := map[string]any{"displayName": "Thirty", "members": membersOf(ids...)}
		return func(ctx context.Context) error { _, err := h.b.CreateGroup(ctx, attrs); return err }
	}},
	{name: "GetGroup with members past the first batch", variant: true, opts: []harnessOption{withBigOrg()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		crowd := seedCrowd(t, h, 230)
		return func(ctx context.Context) error {
			_, err := h.b.GetGroup(ctx, crowd, scimschema.ReadOptions{})
			return err
		}
	}},
	{name: "GetUser with groups past the first batch", variant: true, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		collector := seedCollector(t, h, 210)
		return func(ctx context.Context) error {
			_, err := h.b.GetUser(ctx, collector, scimschema.ReadOptions{})
			return err
		}
	}},
	{name: "ListGroups with permission set groups", variant: true, opts: []harnessOption{withGroupSource(PermissionSetsAndGroups)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		psg := h.find("PermissionSetGroup", "DeveloperName", "Sales_Team")["Id"].(string)
		if _, err := h.e.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": h.insertUser("team.member@example.com", "Standard User", nil), "PermissionSetGroupId": psg}); err != nil {
			t.Fatal(err)
		}
		return func(ctx context.Context) error {
			_, err := h.b.ListGroups(ctx, scimschema.ListQuery{StartIndex: 1, Count: 10})
			return err
		}
	}},
	{name: "PatchGroup adding a member to a permission set group", variant: true, opts: []harnessOption{withGroupSource(PermissionSetsAndGroups)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		psg := h.find("PermissionSetGroup", "DeveloperName", "Sales_Team")["Id"].(string)
		u := h.insertUser("new.team.member@example.com", "Standard User", nil)
		ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: membersOf(u)}}
		return func(ctx context.Context) error { _, err := h.b.PatchGroup(ctx, psg, ops, ""); return err }
	}},
	{name: "PatchGroup adding 250 members", variant: true, opts: []harnessOption{withBigOrg()}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		var ids []string
		for i := range 250 {
			ids = append(ids, h.insertUser(fmt.Sprintf("many%03d@example.com", i), "Standard User", nil))
		}
		ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: membersOf(ids...)}}
		ps := h.permSetID("Support_Agent")
		return func(ctx context.Context) error { _, err := h.b.PatchGroup(ctx, ps, ops, ""); return err }
	}},
	{name: "CreateUser, three coalesced", variant: true, opts: []harnessOption{withBatchWindow(time.Hour)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		return func(ctx context.Context) error {
			return concurrently(h, 3, func(i int) error {
				_, err := h.b.CreateUser(ctx, newUserAttrs(fmt.Sprintf("coalesced%d@example.com", i), "Coalesced", "User"))
				return err
			})
		}
	}},
	{name: "GetUser, two coalesced", variant: true, opts: []harnessOption{withBatchWindow(time.Hour)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		ids := []string{h.insertUser("read1@example.com", "Standard User", nil), h.insertUser("read2@example.com", "Standard User", nil)}
		return func(ctx context.Context) error {
			return concurrently(h, len(ids), func(i int) error {
				_, err := h.b.GetUser(ctx, ids[i], scimschema.ReadOptions{})
				return err
			})
		}
	}},
	{name: "ListUsers by userName, two coalesced", variant: true, opts: []harnessOption{withBatchWindow(time.Hour)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		names := []string{"look1@example.com", "look2@example.com"}
		for _, n := range names {
			h.insertUser(n, "Standard User", nil)
		}
		return func(ctx context.Context) error {
			return concurrently(h, len(names), func(i int) error {
				f := parseFilter(t, fmt.Sprintf(`userName eq "%s"`, names[i]))
				_, err := h.b.ListUsers(ctx, scimschema.ListQuery{Filter: f, StartIndex: 1, Count: 10})
				return err
			})
		}
	}},
	{name: "PatchGroup adding members to two groups, coalesced", variant: true, opts: []harnessOption{withBatchWindow(time.Hour)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		groups := []string{h.permSetID("Sales_Ops"), h.permSetID("Support_Agent")}
		u := h.insertUser("joiner@example.com", "Standard User", nil)
		ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: membersOf(u)}}
		return func(ctx context.Context) error {
			return concurrently(h, len(groups), func(i int) error { _, err := h.b.PatchGroup(ctx, groups[i], ops, ""); return err })
		}
	}},
	{name: "PatchGroup removing members from two groups, coalesced", variant: true, opts: []harnessOption{withBatchWindow(time.Hour)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		groups := []string{h.permSetID("Sales_Ops"), h.permSetID("Support_Agent")}
		u := h.insertUser("leaver@example.com", "Standard User", nil)
		for _, g := range groups {
			h.assign(u, g)
		}
		ops := []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, fmt.Sprintf(`members[value eq "%s"]`, u))}}
		return func(ctx context.Context) error {
			return concurrently(h, len(groups), func(i int) error { _, err := h.b.PatchGroup(ctx, groups[i], ops, ""); return err })
		}
	}},
	{name: "Ready with a stale catalog", opts: []harnessOption{withCatalogTTL(time.Nanosecond)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		return func(ctx context.Context) error { return h.b.Ready(ctx) }
	}},
	{name: "ExplainUser with a stale catalog", opts: []harnessOption{withCatalogTTL(time.Nanosecond)}, prepare: func(t *testing.T, h *harness) func(context.Context) error {
		attrs := newUserAttrs("explained.user@example.com", "Explained", "User")
		return func(ctx context.Context) error {
			x, err := h.b.ExplainUser(ctx, WriteCreate, attrs, nil)
			if err == nil && x.Refused != "" {
				// Past the catalog, ExplainUser reports a failure as the refusal the IdP would get.
				return explainRefusal(x.Refused)
			}
			return err
		}
	}},
}

func TestEverySeamMethodTranslatesEverySalesforceFailure(t *testing.T) {
	t.Parallel()
	for _, sc := range seamCalls {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			// A healthy org: the call succeeds, and how many API calls it makes (after the
			// harness's own) is what the failures below are spread over.
			h := newHarness(t, sc.opts...)
			call := sc.prepare(t, h)
			base := h.e.Stats().APICalls
			var err error
			calls := h.calls(func() { err = call(h.ctx) })
			if err != nil {
				t.Fatalf("%s on a healthy org: %v", sc.name, err)
			}
			if calls == 0 {
				t.Fatalf("%s made no Salesforce call on a healthy org; the scenario tests nothing", sc.name)
			}
			for _, f := range sfFailures {
				for nth := 1; nth <= calls; nth++ {
					if !f.everyCall && (sc.variant || nth > 1) {
						continue
					}
					t.Run(fmt.Sprintf("%s at call %d of %d", f.name, nth, calls), func(t *testing.T) {
						t.Parallel()
						opts := sc.opts
						if f.exhaust {
							limit := base + nth - 1
							opts = append(opts[:len(opts):len(opts)], withEmulator(func(c *emulator.Config) { c.APILimit = limit }))
						}
						h := newHarness(t, opts...)
						call := sc.prepare(t, h)
						if got := h.e.Stats().APICalls; got != base {
							t.Fatalf("the harness made %d API calls; the healthy run made %d", got, base)
						}
						if !f.exhaust {
							f.fail(h, nth)
						}
						ctx := h.ctx
						if f.deadline {
							var cancel context.CancelFunc
							ctx, cancel = context.WithTimeout(ctx, noAnswerDeadline)
							defer cancel()
						}
						checkSeamError(t, sc.name, f, call(ctx))
					})
				}
			}
		})
	}
}

// checkSeamError checks what the server would make of err. Of operations run concurrently, those
// whose Salesforce calls all came before the failing one may succeed; the others are checked.
func checkSeamError(t *testing.T, method string, f sfFailure, err error) {
	t.Helper()
	if errs, ok := err.(eachError); ok {
		for i, err := range errs {
			if err != nil {
				checkSeamError(t, fmt.Sprintf("%s (operation %d)", method, i+1), f, err)
			}
		}
		return
	}
	if err == nil {
		t.Fatalf("%s = nil error; want %s's kind %d", method, f.name, f.want)
	}
	if r, ok := errors.AsType[explainRefusal](err); ok {
		status, detail, _ := strings.Cut(string(r), ": ")
		if want := refusal(&scimschema.Error{Kind: f.want}); (f.exact || !strings.HasPrefix(status, "4")) && !strings.HasPrefix(want, status+": ") {
			t.Errorf("%s refusal = %q; want status %s", method, r, want)
		}
		if detail == "" || strings.Contains(detail, "leak") {
			t.Errorf("%s refusal = %q; want a detail in the bridge's words, without Salesforce's message", method, r)
		}
		return
	}
	var se *scimschema.Error
	if !errors.As(err, &se) {
		t.Fatalf("%s error = %v (%T); want a *scimschema.Error", method, err, err)
	}
	switch {
	case f.exact && se.Kind != f.want:
		t.Errorf("%s error kind = %d (%q, cause %v); want %d", method, se.Kind, se.Detail, se.Err, f.want)
	case !f.exact && se.Kind != f.want && !clientErrorKind(se.Kind):
		t.Errorf("%s error kind = %d (%q, cause %v); want %d or another client error", method, se.Kind, se.Detail, se.Err, f.want)
	}
	if se.RetryAfter != f.retryAfter {
		t.Errorf("%s RetryAfter = %v; want %v", method, se.RetryAfter, f.retryAfter)
	}
	if se.Detail == "" || strings.Contains(se.Detail, "leak") {
		t.Errorf("%s Detail = %q; want one in the bridge's words, without Salesforce's message", method, se.Detail)
	}
}

// explainRefusal is ExplainUser's UserExplanation.Refused: "503: detail".
type explainRefusal string

func (r explainRefusal) Error() string { return string(r) }

// clientErrorKind reports whether k is a 4xx the SCIM client can act on.
func clientErrorKind(k scimschema.Kind) bool {
	switch k {
	case scimschema.KindInternal, scimschema.KindLimited, scimschema.KindUnavailable, scimschema.KindNotImplemented:
		return false
	}
	return true
}

// Every exported Backend method that returns an error is a wrapper in seam.go that translates
// it on the way out, and nothing else translates: a new exported method elsewhere, a wrapper that
// forgets translate, or an inner call of translate fails here (the fault test above shows what
// the translation gives).
func TestExportedMethodsTranslateOnTheWayOut(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seamMethods := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || !fn.Name.IsExported() || !onBackend(fn) || !returnsError(fn) {
				continue
			}
			if name != "seam.go" {
				t.Errorf("%s: exported method %s returns an error but is not in seam.go, where errors are translated", fset.Position(fn.Pos()), fn.Name.Name)
				continue
			}
			seamMethods++
			if !callsTranslate(fn.Body) {
				t.Errorf("%s: %s does not pass its error through b.translate", fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
		if name == "seam.go" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && isTranslate(call) {
				t.Errorf("%s: translate called outside seam.go; inner code returns errors as they are", fset.Position(call.Pos()))
			}
			return true
		})
	}
	// Users (6) and Groups (6) of the seam, Ready and ExplainUser.
	if seamMethods < 14 {
		t.Errorf("seam.go has %d exported error-returning methods; want at least 14", seamMethods)
	}
}

func onBackend(fn *ast.FuncDecl) bool {
	if fn.Recv == nil || len(fn.Recv.List) != 1 {
		return false
	}
	star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == "Backend"
}

func returnsError(fn *ast.FuncDecl) bool {
	if fn.Type.Results == nil {
		return false
	}
	for _, r := range fn.Type.Results.List {
		if id, ok := r.Type.(*ast.Ident); ok && id.Name == "error" {
			return true
		}
	}
	return false
}

func callsTranslate(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && isTranslate(call) {
			found = true
		}
		return !found
	})
	return found
}

func isTranslate(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "translate"
}
