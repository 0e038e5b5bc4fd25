package salesforce

import (
	"context"
	"time"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Operation names the kind of Salesforce change an audit line records.
type Operation string

// The audited operations. A user's permission-set assignments are memberships: they are audited
// as add_members / remove_members of the permission set, naming the user as the member.
const (
	OpCreateUser     Operation = "create_user"
	OpUpdateUser     Operation = "update_user"     // attribute fields (never IsActive)
	OpDisableUser    Operation = "disable_user"    // IsActive=false
	OpFreezeUser     Operation = "freeze_user"     // UserLogin.IsFrozen=true
	OpReactivateUser Operation = "reactivate_user" // IsActive=true or IsFrozen=false
	OpAddMembers     Operation = "add_members"
	OpRemoveMembers  Operation = "remove_members"
	OpCreateGroup    Operation = "create_group"
	OpUpdateGroup    Operation = "update_group" // the permission set's label
	OpDeleteGroup    Operation = "delete_group"
	// OpAssignLicence gives a user the permission set licence a permission set needs
	// (groups.assign_permission_set_licenses); the target is the user, Added the licence.
	OpAssignLicence Operation = "assign_permission_set_license"
)

// Result is the outcome of one audited change.
type Result string

const (
	ResultOK      Result = "ok"
	ResultError   Result = "error"
	ResultPartial Result = "partial" // some members changed (Added/Removed), others did not (Failed)
)

// Change is one audit event: a Salesforce change made or, under dry_run, one that would have been
// made. It carries field names and Salesforce ids, never attribute values; UserName only when
// audit.identify_users is on.
type Change struct {
	Time      time.Time
	Actor     string // the name of the bearer token that asked for it
	DryRun    bool
	Operation Operation
	Target    string    // the user or permission set id; "" for a create that did not happen
	UserName  string    // the SCIM userName, with audit.identify_users only
	Changed   []string  // SCIM attribute names written
	Added     []string  // member ids added (user ids for a group, never values)
	Removed   []string  // member ids removed
	Failed    []string  // member ids whose change failed (result partial or error)
	Soft      SoftFixes // soft data the write settled (names only), on a user's create or update
	Result    Result
	Error     string // the client-safe detail of the failure
}

// SoftFixes names what a user write did to soft data so Salesforce would take it: fields whose
// value was defaulted, truncated or de-duplicated, and references left unresolved. Names only,
// never values.
type SoftFixes struct {
	Defaulted    []string
	Truncated    []string
	Deduplicated []string
	Unresolved   []string
}

func (s SoftFixes) empty() bool {
	return len(s.Defaulted)+len(s.Truncated)+len(s.Deduplicated)+len(s.Unresolved) == 0
}

// AuditConfig is the audit section of the configuration.
type AuditConfig struct {
	// IdentifyUsers adds the SCIM userName to audit lines about users, so that a go-live preview
	// can be read without a Salesforce lookup.
	IdentifyUsers bool
	// OnChange, when set, receives every audit event after its line is logged (the status page's
	// recorder). It must not block.
	OnChange func(Change)
}

// audit writes the one audit line of a Salesforce change (or, under dry_run, of a change that
// would have been made) and hands it to AuditConfig.OnChange. err sets the result: nil is ok,
// an error is error, or partial when c already names members that were applied.
func (b *Backend) audit(ctx context.Context, c Change, err error) {
	c.Time = b.now()
	c.Actor = scimschema.Actor(ctx)
	c.DryRun = b.cfg.Provisioning.DryRun
	if !b.cfg.Audit.IdentifyUsers {
		c.UserName = ""
	}
	switch {
	case err == nil:
		c.Result = ResultOK
	case c.Result != ResultPartial:
		c.Result = ResultError
	}
	if err != nil {
		c.Error = b.scimError(err).Detail
	}
	ev := b.logger(ctx).Info()
	if err != nil {
		ev = b.logger(ctx).Warn()
	}
	ev = ev.Bool("audit", true).Bool("dry_run", c.DryRun).Str("actor", c.Actor).
		Str("operation", string(c.Operation)).Str("target", c.Target)
	if c.UserName != "" {
		ev = ev.Str("userName", c.UserName)
	}
	for _, list := range []struct {
		key string
		ids []string
	}{{"changed", c.Changed}, {"added", c.Added}, {"removed", c.Removed}, {"failed", c.Failed},
		{"defaulted", c.Soft.Defaulted}, {"truncated", c.Soft.Truncated}, {"deduplicated", c.Soft.Deduplicated}, {"unresolved", c.Soft.Unresolved}} {
		if len(list.ids) > 0 {
			ev = ev.Strs(list.key, list.ids)
		}
	}
	ev = ev.Str("result", string(c.Result))
	if c.Error != "" {
		ev = ev.Str("error", c.Error)
	}
	ev.Msg("audit")
	if b.cfg.Audit.OnChange != nil {
		b.cfg.Audit.OnChange(c)
	}
}

// auditMembership writes one line per permission set whose assignment of user changes: a user's
// permissionSets are memberships of those groups.
func (b *Backend) auditMembership(ctx context.Context, user, userName string, add []group, del []assignment, err error) {
	member := []string{}
	if user != "" {
		member = []string{user}
	}
	var applied, failed []string = member, nil
	if err != nil {
		applied, failed = nil, member // the user's writes are all or none: nothing was applied
	}
	for _, g := range add {
		b.audit(ctx, Change{Operation: OpAddMembers, Target: g.ID, UserName: userName, Changed: []string{"members"}, Added: applied, Failed: failed}, err)
	}
	for _, a := range del {
		b.audit(ctx, Change{Operation: OpRemoveMembers, Target: a.group.ID, UserName: userName, Changed: []string{"members"}, Removed: applied, Failed: failed}, err)
	}
}
