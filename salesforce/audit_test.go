package salesforce

import (
	"bufio"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// auditLog collects the audit events a backend hands to AuditConfig.OnChange.
type auditLog struct {
	mu      sync.Mutex
	changes []Change
}

func (a *auditLog) add(c Change) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.changes = append(a.changes, c)
}

// since returns the events after the first n.
func (a *auditLog) since(n int) []Change {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Change(nil), a.changes[n:]...)
}

func (a *auditLog) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.changes)
}

func withAudit(log *auditLog, identify, dryRun bool) harnessOption {
	return withBackend(func(c *BackendConfig) {
		c.Audit = AuditConfig{IdentifyUsers: identify, OnChange: log.add}
		c.Provisioning.DryRun = dryRun
		c.Groups.AllowDelete = true
		c.Provisioning.PermissionSets = Overwrite
	})
}

// auditFixture is what every audit case starts from: a user in a permission set, an inactive
// user, a frozen user, and an empty permission set.
type auditFixture struct {
	h                        *harness
	user, inactive, frozen   string
	salesOps, support, empty string
}

func newAuditFixture(t *testing.T, opts ...harnessOption) auditFixture {
	h := newHarness(t, opts...)
	f := auditFixture{h: h, salesOps: h.permSetID("Sales_Ops"), support: h.permSetID("Support_Agent"), empty: h.permSetID("Analytics_Viewer")}
	f.user = h.insertUser("ann.audit@example.com", "Standard User", nil)
	h.assign(f.user, f.salesOps)
	f.inactive = h.insertUser("ina.audit@example.com", "Standard User", map[string]any{"IsActive": false})
	f.frozen = h.insertUser("fro.audit@example.com", "Standard User", nil)
	if err := h.e.Update("UserLogin", str(h.login(f.frozen)["Id"]), map[string]any{"IsFrozen": true}); err != nil {
		t.Fatalf("freezing: %v", err)
	}
	return f
}

// Every Salesforce change is one audit line naming operation, target, changed attributes, member
// ids and result; under dry_run the same lines describe what would have been done, and nothing
// is written. Targets and members are ids; userName appears only with audit.identify_users.
func TestAuditLinesSayWhatHappens(t *testing.T) {
	t.Parallel()
	activeFalse := func(t *testing.T) []scimschema.PatchOp {
		return []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: false}}
	}
	tests := []struct {
		name   string
		freeze bool
		run    func(t *testing.T, f auditFixture) (created string)
		want   func(f auditFixture, created string, dry bool) []Change
	}{{
		name: "create_user with a permission set",
		run: func(t *testing.T, f auditFixture) string {
			attrs := newUserAttrs("new.audit@example.com", "New", "Person")
			attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": []any{map[string]any{"value": "Support_Agent"}}}
			res, err := f.h.b.CreateUser(f.h.ctx, attrs)
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			return res.ID
		},
		want: func(f auditFixture, created string, dry bool) []Change {
			id, members := created, []string{created}
			if dry {
				id, members = "", []string{}
			}
			return []Change{
				{Operation: OpCreateUser, Target: id, UserName: "new.audit@example.com"},
				{Operation: OpAddMembers, Target: f.support, UserName: "new.audit@example.com", Changed: []string{"members"}, Added: members},
			}
		},
	}, {
		name: "update_user",
		run: func(t *testing.T, f auditFixture) string {
			_, err := f.h.b.PatchUser(f.h.ctx, f.user, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "Lead"}}, "")
			if err != nil {
				t.Fatalf("PatchUser: %v", err)
			}
			return ""
		},
		want: func(f auditFixture, _ string, _ bool) []Change {
			return []Change{{Operation: OpUpdateUser, Target: f.user, UserName: "ann.audit@example.com", Changed: []string{"title"}}}
		},
	}, {
		// Soft data settled by a write is named on that write's one line, not on a line of its own.
		name: "create_user with soft data settled",
		run: func(t *testing.T, f auditFixture) string {
			attrs := newUserAttrs("soft.audit@example.com", "Soft", "Person")
			attrs["locale"] = "xx-Nowhere"
			attrs["title"] = strings.Repeat("t", 200)
			attrs[scimschema.EnterpriseUserURN] = map[string]any{"manager": map[string]any{"value": "nobody@example.com"}}
			res, err := f.h.b.CreateUser(f.h.ctx, attrs)
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			return res.ID
		},
		want: func(f auditFixture, created string, dry bool) []Change {
			if dry {
				return []Change{{Operation: OpCreateUser, UserName: "soft.audit@example.com"}}
			}
			return []Change{{Operation: OpCreateUser, Target: created, UserName: "soft.audit@example.com", Soft: SoftFixes{
				Defaulted: []string{"LocaleSidKey"}, Truncated: []string{"Title"}, Unresolved: []string{scimschema.EnterpriseUserURN + ":manager"}}}}
		},
	}, {
		name: "update_user with soft data settled",
		run: func(t *testing.T, f auditFixture) string {
			ops := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: strings.Repeat("t", 200)}}
			if _, err := f.h.b.PatchUser(f.h.ctx, f.user, ops, ""); err != nil {
				t.Fatalf("PatchUser: %v", err)
			}
			return ""
		},
		want: func(f auditFixture, _ string, dry bool) []Change {
			c := Change{Operation: OpUpdateUser, Target: f.user, UserName: "ann.audit@example.com", Changed: []string{"title"}}
			if !dry {
				c.Soft = SoftFixes{Truncated: []string{"Title"}}
			}
			return []Change{c}
		},
	}, {
		// Entra's deprovisioning PATCH often carries attribute changes too: active is named on
		// the disable line only.
		name: "update_user and disable_user in one PATCH",
		run: func(t *testing.T, f auditFixture) string {
			ops := append([]scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "Lead"}}, activeFalse(t)...)
			if _, err := f.h.b.PatchUser(f.h.ctx, f.user, ops, ""); err != nil {
				t.Fatalf("PatchUser: %v", err)
			}
			return ""
		},
		want: func(f auditFixture, _ string, _ bool) []Change {
			return []Change{
				{Operation: OpUpdateUser, Target: f.user, UserName: "ann.audit@example.com", Changed: []string{"title"}},
				{Operation: OpDisableUser, Target: f.user, UserName: "ann.audit@example.com", Changed: []string{"active"}},
			}
		},
	}, {
		name: "disable_user",
		run: func(t *testing.T, f auditFixture) string {
			if _, err := f.h.b.PatchUser(f.h.ctx, f.user, activeFalse(t), ""); err != nil {
				t.Fatalf("PatchUser: %v", err)
			}
			return ""
		},
		want: func(f auditFixture, _ string, _ bool) []Change {
			return []Change{{Operation: OpDisableUser, Target: f.user, UserName: "ann.audit@example.com", Changed: []string{"active"}}}
		},
	}, {
		name:   "freeze_user by DELETE",
		freeze: true,
		run: func(t *testing.T, f auditFixture) string {
			if err := f.h.b.DeleteUser(f.h.ctx, f.user, ""); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			return ""
		},
		want: func(f auditFixture, _ string, _ bool) []Change {
			return []Change{{Operation: OpFreezeUser, Target: f.user, UserName: "ann.audit@example.com", Changed: []string{"active"}}}
		},
	}, {
		name: "reactivate_user: IsActive and unfreeze",
		run: func(t *testing.T, f auditFixture) string {
			for _, id := range []string{f.inactive, f.frozen} {
				op := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "active"), Value: true}}
				if _, err := f.h.b.PatchUser(f.h.ctx, id, op, ""); err != nil {
					t.Fatalf("PatchUser: %v", err)
				}
			}
			return ""
		},
		want: func(f auditFixture, _ string, _ bool) []Change {
			return []Change{
				{Operation: OpReactivateUser, Target: f.inactive, UserName: "ina.audit@example.com", Changed: []string{"active"}},
				{Operation: OpReactivateUser, Target: f.frozen, UserName: "fro.audit@example.com", Changed: []string{"active"}},
			}
		},
	}, {
		name: "add_members and remove_members of a group",
		run: func(t *testing.T, f auditFixture) string {
			ops := []scimschema.PatchOp{
				{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": f.inactive}}},
				{Op: "remove", Path: parsePath(t, `members[value eq "`+f.user+`"]`)},
			}
			if _, err := f.h.b.PatchGroup(f.h.ctx, f.salesOps, ops, ""); err != nil {
				t.Fatalf("PatchGroup: %v", err)
			}
			return ""
		},
		want: func(f auditFixture, _ string, _ bool) []Change {
			return []Change{
				{Operation: OpAddMembers, Target: f.salesOps, Changed: []string{"members"}, Added: []string{f.inactive}},
				{Operation: OpRemoveMembers, Target: f.salesOps, Changed: []string{"members"}, Removed: []string{f.user}},
			}
		},
	}, {
		name: "remove_members alone",
		run: func(t *testing.T, f auditFixture) string {
			ops := []scimschema.PatchOp{{Op: "remove", Path: parsePath(t, `members[value eq "`+f.user+`"]`)}, {Op: "remove", Path: parsePath(t, `members[value eq "`+f.inactive+`"]`)}}
			if _, err := f.h.b.PatchGroup(f.h.ctx, f.salesOps, ops, ""); err != nil {
				t.Fatalf("PatchGroup: %v", err)
			}
			return ""
		},
		want: func(f auditFixture, _ string, _ bool) []Change {
			// f.inactive is no member: removing it changes nothing and is not named.
			return []Change{{Operation: OpRemoveMembers, Target: f.salesOps, Changed: []string{"members"}, Removed: []string{f.user}}}
		},
	}, {
		name: "a user's permissionSets are memberships",
		run: func(t *testing.T, f auditFixture) string {
			attrs := newUserAttrs("ann.audit@example.com", "Ann", "Audit")
			attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": []any{map[string]any{"value": "Support_Agent"}}}
			if _, err := f.h.b.ReplaceUser(f.h.ctx, f.user, attrs, ""); err != nil {
				t.Fatalf("ReplaceUser: %v", err)
			}
			return ""
		},
		want: func(f auditFixture, _ string, _ bool) []Change {
			return []Change{
				{Operation: OpUpdateUser, Target: f.user, UserName: "ann.audit@example.com"},
				{Operation: OpAddMembers, Target: f.support, UserName: "ann.audit@example.com", Changed: []string{"members"}, Added: []string{f.user}},
				{Operation: OpRemoveMembers, Target: f.salesOps, UserName: "ann.audit@example.com", Changed: []string{"members"}, Removed: []string{f.user}},
			}
		},
	}, {
		name: "create_group with members, delete_group",
		run: func(t *testing.T, f auditFixture) string {
			res, err := f.h.b.CreateGroup(f.h.ctx, map[string]any{"displayName": "Audit Team", "members": []any{map[string]any{"value": f.user}}})
			if err != nil {
				t.Fatalf("CreateGroup: %v", err)
			}
			if err := f.h.b.DeleteGroup(f.h.ctx, f.empty, ""); err != nil {
				t.Fatalf("DeleteGroup: %v", err)
			}
			return res.ID
		},
		want: func(f auditFixture, created string, dry bool) []Change {
			id := created
			if dry {
				id = ""
			}
			return []Change{
				{Operation: OpCreateGroup, Target: id, Changed: []string{"displayName"}},
				{Operation: OpAddMembers, Target: id, Changed: []string{"members"}, Added: []string{f.user}},
				{Operation: OpDeleteGroup, Target: f.empty},
			}
		},
	}}
	for _, tt := range tests {
		for _, dry := range []bool{false, true} {
			name := tt.name
			if dry {
				name += "/dry_run"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				log := &auditLog{}
				f := newAuditFixture(t, withAudit(log, true, dry), withBackend(func(c *BackendConfig) {
					if tt.freeze {
						c.Provisioning.DisableAction = Freeze
					}
				}))
				before := f.h.snapshot()
				created := tt.run(t, f)
				want := tt.want(f, created, dry)
				for i := range want {
					want[i].Actor, want[i].DryRun, want[i].Result = "test-idp", dry, ResultOK
				}
				got := log.since(0)
				for i := range want {
					// Which attributes a create or PUT writes is the mapping's business; the line names them
					// (a dry-run PUT only those that change: not the unchanged userName).
					if want[i].Changed == nil && (want[i].Operation == OpCreateUser || want[i].Operation == OpUpdateUser) && i < len(got) {
						if !slices.Contains(got[i].Changed, "userName") && (!dry || want[i].Operation == OpCreateUser) {
							t.Errorf("%s changed = %v; want it to name userName", got[i].Operation, got[i].Changed)
						}
						want[i].Changed = got[i].Changed
					}
				}
				if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Change{}, "Time"), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("audit events (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, auditLines(t, f.h.log.String()), cmpopts.IgnoreFields(Change{}, "Time"), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("audit lines (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, f.h.snapshot()); dry && diff != "" {
					t.Errorf("dry_run changed the org (-before +after):\n%s", diff)
				}
				for _, value := range []string{"Person", "Lead", "Audit Team"} {
					if strings.Contains(f.h.log.String(), value) {
						t.Errorf("a log line contains the attribute value %q", value)
					}
				}
			})
		}
	}
}

// snapshot is every record the bridge writes to.
func (h *harness) snapshot() map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, object := range []string{"User", "UserLogin", "PermissionSet", "PermissionSetAssignment"} {
		out[object] = h.e.List(object)
	}
	return out
}

// auditLines parses the log's audit lines back into Changes.
func auditLines(t *testing.T, log string) []Change {
	t.Helper()
	var out []Change
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var line struct {
			Audit     bool     `json:"audit"`
			DryRun    bool     `json:"dry_run"`
			Actor     string   `json:"actor"`
			Operation string   `json:"operation"`
			Target    string   `json:"target"`
			UserName  string   `json:"userName"`
			Changed   []string `json:"changed"`
			Added     []string `json:"added"`
			Removed   []string `json:"removed"`
			Failed    []string `json:"failed"`
			Result    string   `json:"result"`
			Error     string   `json:"error"`
			SoftFixes
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, sc.Text())
		}
		if !line.Audit {
			continue
		}
		out = append(out, Change{Actor: line.Actor, DryRun: line.DryRun, Operation: Operation(line.Operation), Target: line.Target,
			UserName: line.UserName, Changed: line.Changed, Added: line.Added, Removed: line.Removed, Failed: line.Failed,
			Result: Result(line.Result), Error: line.Error, Soft: line.SoftFixes})
	}
	return out
}

// Without audit.identify_users no line names the user; a member write that half succeeds is one
// partial line naming what was applied and what failed.
func TestAuditPartialMembersAndNoUserName(t *testing.T) {
	t.Parallel()
	log := &auditLog{}
	f := newAuditFixture(t, withAudit(log, false, false))
	licensed := f.h.permSetID("Sales_Cloud_User") // needs the Salesforce licence
	free := f.h.insertUser("free.audit@example.com", "Chatter Free User", nil)
	ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": f.frozen}, map[string]any{"value": free}}}}
	if _, err := f.h.b.PatchGroup(f.h.ctx, licensed, ops, ""); err == nil {
		t.Fatal("PatchGroup with an unlicensed member succeeded")
	}
	if _, err := f.h.b.PatchUser(f.h.ctx, f.user, []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, "title"), Value: "Lead"}}, ""); err != nil {
		t.Fatalf("PatchUser: %v", err)
	}
	got := log.since(0)
	if len(got) != 2 {
		t.Fatalf("audit events = %+v; want 2", got)
	}
	want := Change{Actor: "test-idp", Operation: OpAddMembers, Target: licensed, Changed: []string{"members"},
		Added: []string{f.frozen}, Failed: []string{free}, Result: ResultPartial}
	if diff := cmp.Diff(want, got[0], cmpopts.IgnoreFields(Change{}, "Time", "Error")); diff != "" {
		t.Errorf("partial add (-want +got):\n%s", diff)
	}
	if got[0].Error == "" {
		t.Error("a partial line carries no error detail")
	}
	if got[1].UserName != "" || strings.Contains(f.h.log.String(), "ann.audit") {
		t.Errorf("a userName reached the audit without audit.identify_users: %+v", got[1])
	}
}

// An update_user line names the attributes written to User fields, never active (its own line
// says disable_user) nor permissionSets (add_members, remove_members). Under dry_run the preview
// names only what would change: Okta's PUT repeats every attribute, and a PUT that changes
// nothing is no change at all.
func TestAuditUpdateNamesWhatChanges(t *testing.T) {
	t.Parallel()
	put := func(title string, active bool) map[string]any {
		attrs := map[string]any{
			"userName": "ann.audit@example.com",
			"name":     map[string]any{"familyName": "Test"},
			"emails":   []any{map[string]any{"value": "ann.audit@example.com", "type": "work", "primary": true}},
			"active":   active,
		}
		if title != "" {
			attrs["title"] = title
		}
		return attrs
	}
	for _, dry := range []bool{false, true} {
		log := &auditLog{}
		f := newAuditFixture(t, withAudit(log, false, dry))
		if _, err := f.h.b.ReplaceUser(f.h.ctx, f.user, put("Lead", false), ""); err != nil {
			t.Fatalf("ReplaceUser: %v", err)
		}
		got := log.since(0)
		if len(got) != 2 || got[0].Operation != OpUpdateUser || got[1].Operation != OpDisableUser {
			t.Fatalf("dry_run %v: audit events = %+v; want update_user, disable_user", dry, got)
		}
		if slices.Contains(got[0].Changed, "active") || !slices.Contains(got[0].Changed, "title") {
			t.Errorf("dry_run %v: update_user changed = %v; want title, and active only on the disable_user line", dry, got[0].Changed)
		}
		if dry && !slices.Equal(got[0].Changed, []string{"title"}) {
			t.Errorf("dry_run preview: update_user changed = %v; want exactly [title] (the rest is as the PUT says)", got[0].Changed)
		}
		if !dry {
			continue
		}
		n := log.len()
		if _, err := f.h.b.ReplaceUser(f.h.ctx, f.user, put("", true), ""); err != nil {
			t.Fatalf("ReplaceUser: %v", err)
		}
		if got := log.since(n); len(got) != 0 {
			t.Errorf("dry_run preview of a PUT that changes nothing = %+v; want no line", got)
		}
	}
}

// A dry-run preview of a member add names only the users who are not members yet: adding an
// existing member writes nothing.
func TestAuditDryRunAddNamesOnlyNewMembers(t *testing.T) {
	t.Parallel()
	log := &auditLog{}
	f := newAuditFixture(t, withAudit(log, false, true))
	ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": f.user}, map[string]any{"value": f.inactive}}}}
	if _, err := f.h.b.PatchGroup(f.h.ctx, f.salesOps, ops, ""); err != nil {
		t.Fatalf("PatchGroup: %v", err)
	}
	want := []Change{{Actor: "test-idp", DryRun: true, Operation: OpAddMembers, Target: f.salesOps, Changed: []string{"members"}, Added: []string{f.inactive}, Result: ResultOK}}
	if diff := cmp.Diff(want, log.since(0), cmpopts.IgnoreFields(Change{}, "Time"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}
	n := log.len()
	ops[0].Value = []any{map[string]any{"value": f.user}}
	if _, err := f.h.b.PatchGroup(f.h.ctx, f.salesOps, ops, ""); err != nil {
		t.Fatalf("PatchGroup: %v", err)
	}
	if got := log.since(n); len(got) != 0 {
		t.Errorf("dry_run preview of adding an existing member = %+v; want no line", got)
	}
}

// A write Salesforce refuses for soft data (a nickname someone holds, a manager id it does not
// know) is fixed and written again: the change still gets one line, with result ok, never an
// error line for the refused attempt before it.
func TestAuditOneLineForAnUpdateWrittenAgain(t *testing.T) {
	t.Parallel()
	log := &auditLog{}
	f := newAuditFixture(t, withAudit(log, false, false))
	nick := []scimschema.PatchOp{{Op: "replace", Path: parsePath(t, scimschema.SalesforceUserURN+":communityNickname"), Value: "ina.audit"}}
	if _, err := f.h.b.PatchUser(f.h.ctx, f.user, nick, ""); err != nil {
		t.Fatalf("PatchUser nickname: %v", err)
	}
	want := []Change{{Actor: "test-idp", Operation: OpUpdateUser, Target: f.user, Result: ResultOK,
		Changed: []string{scimschema.SalesforceUserURN + ":communityNickname"}, Soft: SoftFixes{Deduplicated: []string{"CommunityNickname"}}}}
	if diff := cmp.Diff(want, auditLines(t, f.h.log.String()), cmpopts.IgnoreFields(Change{}, "Time"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("audit lines of a nickname written again (-want +got):\n%s", diff)
	}

	n := len(auditLines(t, f.h.log.String()))
	ops := []scimschema.PatchOp{
		{Op: "add", Path: parsePath(t, scimschema.EnterpriseUserURN+":manager"), Value: map[string]any{"value": "0055g000000009ZAAQ"}},
		{Op: "replace", Path: parsePath(t, "title"), Value: "Lead"},
		{Op: "replace", Path: parsePath(t, "active"), Value: false},
	}
	if _, err := f.h.b.PatchUser(f.h.ctx, f.user, ops, ""); err != nil {
		t.Fatalf("PatchUser with an unknown manager id: %v", err)
	}
	// The refused attempt deactivated the user (its subrequests are not all-or-none) before the
	// update was written again without the manager.
	want = []Change{
		{Actor: "test-idp", Operation: OpDisableUser, Target: f.user, Result: ResultOK, Changed: []string{"active"}},
		{Actor: "test-idp", Operation: OpUpdateUser, Target: f.user, Result: ResultOK, Changed: []string{"title", scimschema.EnterpriseUserURN + ":manager.value"},
			Soft: SoftFixes{Unresolved: []string{scimschema.EnterpriseUserURN + ":manager"}}},
	}
	if diff := cmp.Diff(want, auditLines(t, f.h.log.String())[n:], cmpopts.IgnoreFields(Change{}, "Time"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("audit lines of an update whose manager was dropped (-want +got):\n%s", diff)
	}

	// A PATCH naming only a manager nobody matches changes nothing: no audit line, but a warning
	// names the attribute left unresolved (never the value).
	n = len(auditLines(t, f.h.log.String()))
	only := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, scimschema.EnterpriseUserURN+":manager"), Value: map[string]any{"value": "nobody.known@example.com"}}}
	if _, err := f.h.b.PatchUser(f.h.ctx, f.user, only, ""); err != nil {
		t.Fatalf("PatchUser with only an unknown manager: %v", err)
	}
	if got := auditLines(t, f.h.log.String())[n:]; len(got) != 0 {
		t.Errorf("audit lines of a PATCH that changed nothing = %+v; want none", got)
	}
	logs := f.h.log.String()
	if !strings.Contains(logs, `"unresolved":["`+scimschema.EnterpriseUserURN+`:manager"]`) || !strings.Contains(logs, "changed nothing in Salesforce") {
		t.Errorf("no warning names the unresolved manager of a PATCH that changed nothing:\n%s", logs)
	}
	if strings.Contains(logs, "nobody.known") {
		t.Errorf("a log line holds the manager value")
	}
}

// Adding a user who is already a member changes nothing in Salesforce (the insert answers
// DUPLICATE_VALUE, a success): the add_members line names only the users really added, and an
// add of existing members alone writes no line. Alone and coalesced with other PATCHes.
func TestAuditAddNamesOnlyNewMembers(t *testing.T) {
	t.Parallel()
	add := func(t *testing.T, f auditFixture, group string, users ...string) {
		var value []any
		for _, u := range users {
			value = append(value, map[string]any{"value": u})
		}
		ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: value}}
		if _, err := f.h.b.PatchGroup(f.h.ctx, group, ops, ""); err != nil {
			t.Errorf("PatchGroup: %v", err)
		}
	}
	line := func(group string, added ...string) Change {
		return Change{Actor: "test-idp", Operation: OpAddMembers, Target: group, Changed: []string{"members"}, Added: added, Result: ResultOK}
	}
	sortByTarget := cmpopts.SortSlices(func(a, b Change) bool { return a.Target < b.Target })
	t.Run("alone", func(t *testing.T) {
		t.Parallel()
		log := &auditLog{}
		f := newAuditFixture(t, withAudit(log, false, false))
		add(t, f, f.salesOps, f.user, f.inactive)
		add(t, f, f.salesOps, f.user)
		want := []Change{line(f.salesOps, f.inactive)}
		if diff := cmp.Diff(want, log.since(0), cmpopts.IgnoreFields(Change{}, "Time"), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("audit events (-want +got):\n%s", diff)
		}
	})
	t.Run("coalesced", func(t *testing.T) {
		t.Parallel()
		log := &auditLog{}
		f := newAuditFixture(t, withAudit(log, false, false), withBackend(func(c *BackendConfig) { c.BatchWindow = time.Hour }))
		together(f.h,
			func() { add(t, f, f.salesOps, f.user, f.inactive) },
			func() { add(t, f, f.support, f.user) })
		n := log.len()
		together(f.h,
			func() { add(t, f, f.salesOps, f.user) },
			func() { add(t, f, f.support, f.user) })
		want := []Change{line(f.salesOps, f.inactive), line(f.support, f.user)}
		if diff := cmp.Diff(want, log.since(0), cmpopts.IgnoreFields(Change{}, "Time"), cmpopts.EquateEmpty(), sortByTarget); diff != "" {
			t.Errorf("audit events (-want +got):\n%s", diff)
		}
		if n != 2 || log.len() != 2 {
			t.Errorf("audit events after the second, existing-only adds = %d; want still 2", log.len())
		}
	})
}

// A member add that fails for every member is one error line that names them as failed and none
// as added.
func TestAuditFailedAddNamesNoMemberAdded(t *testing.T) {
	t.Parallel()
	log := &auditLog{}
	f := newAuditFixture(t, withAudit(log, false, false))
	licensed := f.h.permSetID("Sales_Cloud_User") // needs the Salesforce licence
	free := f.h.insertUser("free.audit@example.com", "Chatter Free User", nil)
	ops := []scimschema.PatchOp{{Op: "add", Path: parsePath(t, "members"), Value: []any{map[string]any{"value": free}}}}
	if _, err := f.h.b.PatchGroup(f.h.ctx, licensed, ops, ""); err == nil {
		t.Fatal("PatchGroup with an unlicensed member succeeded")
	}
	want := []Change{{Actor: "test-idp", Operation: OpAddMembers, Target: licensed, Changed: []string{"members"}, Failed: []string{free}, Result: ResultError}}
	if diff := cmp.Diff(want, log.since(0), cmpopts.IgnoreFields(Change{}, "Time", "Error"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("failed add (-want +got):\n%s", diff)
	}
}

// A user's permission-set change in a write that Salesforce refuses as a whole (here: the
// userName belongs to another user) names the user as failed, not as added.
func TestAuditFailedPermissionSetOfAUser(t *testing.T) {
	t.Parallel()
	log := &auditLog{}
	f := newAuditFixture(t, withAudit(log, false, false))
	attrs := newUserAttrs("ina.audit@example.com", "Ann", "Audit") // f.inactive's userName
	attrs[scimschema.SalesforceUserURN] = map[string]any{"permissionSets": []any{map[string]any{"value": "Support_Agent"}}}
	if _, err := f.h.b.ReplaceUser(f.h.ctx, f.user, attrs, ""); err == nil {
		t.Fatal("ReplaceUser with another user's userName succeeded")
	}
	var got []Change
	for _, c := range log.since(0) {
		if c.Operation == OpAddMembers {
			got = append(got, c)
		}
	}
	want := []Change{{Actor: "test-idp", Operation: OpAddMembers, Target: f.support, Changed: []string{"members"}, Failed: []string{f.user}, Result: ResultError}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Change{}, "Time", "Error"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("add_members of a refused write (-want +got):\n%s", diff)
	}
}
