package salesforce

import (
	"context"
	"fmt"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// WriteKind is the SCIM user write an explanation is for.
type WriteKind string

const (
	WriteCreate  WriteKind = "create"  // POST /Users
	WriteReplace WriteKind = "replace" // PUT /Users/{id}
	WritePatch   WriteKind = "patch"   // PATCH /Users/{id}
)

// UserExplanation is what a SCIM user write would send to Salesforce, field by field with the
// rule behind each value, and what would be refused or skipped and why. Building it reads the
// org's catalog (profiles, permission sets, User picklists) and writes nothing.
type UserExplanation struct {
	Kind   WriteKind
	Fields []scimschema.FieldSource
	// Profile is the profile the user would get ("" when unchanged), with the rule behind it.
	Profile, ProfileRule string
	// Active describes the active-state change under the policy ("" when not asked for).
	Active string
	// PermissionSets are the permission sets the write names, resolved ("Sales_Ops (0PS…)").
	PermissionSets []string
	// Ignored are SCIM attributes the write leaves alone (on_update false).
	Ignored []string
	// Refused is the SCIM error the IdP would get instead (400 with its detail, 403 naming the
	// setting); "" when the write would go through.
	Refused string
	// Skipped names settings that would keep the write from Salesforce (update_users off, dry_run).
	Skipped []string
}

// explainUser explains a user write without making it: attrs is the full representation of a
// create or PUT, ops the operations of a PATCH. Errors are only those of reading the catalog.
func (b *Backend) explainUser(ctx context.Context, kind WriteKind, attrs map[string]any, ops []scimschema.PatchOp) (UserExplanation, error) {
	x := UserExplanation{Kind: kind}
	p := b.cfg.Provisioning
	if kind == WriteCreate && !p.CreateUsers {
		x.Refused = "403: user creation is disabled (provisioning.create_users)"
		return x, nil
	}
	o := b.operation(ctx)
	cat, err := o.catalog()
	if err != nil {
		return x, err
	}
	var w scimschema.UserWrite
	switch kind {
	case WriteCreate:
		w, err = b.mapper.ForCreate(attrs, cat.user)
	case WriteReplace:
		w, err = b.mapper.ForReplace(attrs, cat.user)
	default:
		w, err = b.mapper.ForPatch(ops, cat.user)
		attrs = nil
	}
	if err != nil {
		x.Refused = b.refused(ctx, err)
		return x, nil
	}
	x.Fields = b.mapper.ExplainFields(attrs, w)
	x.Ignored = w.Skipped
	if kind != WriteCreate && !p.UpdateUsers && (len(w.Fields) > 0 || w.Profile != "" || w.PermissionSets != nil) {
		x.Skipped = append(x.Skipped, "provisioning.update_users is off: the attribute changes are skipped")
	}
	if w.Profile != "" {
		if x.Profile, x.ProfileRule, x.Refused = o.explainProfile(kind, attrs, w.Profile); x.Refused != "" {
			return x, nil
		}
	}
	if w.PermissionSets != nil {
		if x.PermissionSets, x.Refused = o.explainPermissionSets(kind, w.PermissionSets.Add, w.PermissionSets.Remove); x.Refused != "" {
			return x, nil
		}
	}
	if w.Active != nil {
		x.Active = b.explainActive(kind, *w.Active)
	}
	if p.DryRun {
		x.Skipped = append(x.Skipped, "provisioning.dry_run is on: nothing would be written, the audit line would say what")
	}
	return x, nil
}

// explainProfile resolves the profile a write names (or, for a create without one, the default)
// and says which rule chose it; refused is the SCIM error when it cannot be resolved.
func (o *operation) explainProfile(kind WriteKind, attrs map[string]any, nameOrID string) (profile, rule, refused string) {
	fromDefault := kind == WriteCreate && extensionValue(attrs, "profile") == nil
	prof, err := o.resolveProfile(nameOrID, fromDefault)
	if err != nil {
		return "", "", o.b.refused(o.ctx, err)
	}
	rule = "mapping " + scimschema.SalesforceUserURN + ":profile"
	if fromDefault {
		rule = "default users.defaults.profile"
	}
	return fmt.Sprintf("%s (%s)", prof.Name, prof.ID), rule, ""
}

// explainPermissionSets resolves the permission sets a write adds and removes, noting the
// permission set licence an added one needs; refused is the SCIM error of the first that cannot
// be resolved or assigned, with the entries resolved before it.
func (o *operation) explainPermissionSets(kind WriteKind, add, remove []string) (entries []string, refused string) {
	attr := scimschema.SalesforceUserURN + ":permissionSets"
	for i, names := range [][]string{add, remove} {
		gs, err := o.resolveGroups(attr, names)
		if err != nil {
			return entries, o.b.refused(o.ctx, err)
		}
		for _, g := range gs {
			entry := fmt.Sprintf("%s (%s)", g.Name, g.ID)
			if lic := g.permissionSetLicence(); lic != "" && i == 0 {
				note, refused := o.explainLicence(kind, g, lic)
				if refused != "" {
					return entries, refused
				}
				entry += " " + note
			}
			entries = append(entries, entry)
		}
	}
	return entries, ""
}

// explainLicence says what assigning g, which needs the permission set licence lic, takes: with
// groups.assign_permission_set_licenses the bridge assigns the licence first; without it a new
// user cannot have the licence, so a create is refused as Salesforce would refuse it, and an
// update needs a user who already holds it.
func (o *operation) explainLicence(kind WriteKind, g group, lic string) (note, refused string) {
	label := o.licenceLabel(lic)
	switch {
	case o.b.cfg.Groups.AssignPermissionSetLicenses:
		return "— needs the permission set licence " + label + ", which the bridge assigns first (groups.assign_permission_set_licenses)", ""
	case kind == WriteCreate:
		return "", fmt.Sprintf("400: permission set %s (%s) needs the permission set licence %s, which a new user does not have; "+
			"assign the licence in Salesforce, or set groups.assign_permission_set_licenses: true to let the bridge assign it", g.Label, g.ID, label)
	}
	return "— needs the permission set licence " + label + ": refused unless the user already holds it (groups.assign_permission_set_licenses is off)", ""
}

// explainActive says what an active value does under the policy. A create makes a new user,
// so it reactivates nothing: it creates the user active, inactive or frozen (CreateUser).
func (b *Backend) explainActive(kind WriteKind, active bool) string {
	p := b.cfg.Provisioning
	if kind == WriteCreate {
		switch {
		case active:
			return "active true: the user is created active (IsActive=true)"
		case !p.DisableUsers:
			return "active false: skipped, provisioning.disable_users is off: the user is created active"
		case p.DisableAction == Freeze:
			return "active false: the user is created, then UserLogin.IsFrozen=true (provisioning.disable_action freeze; freeze_user)"
		}
		return "active false: the user is created with IsActive=false (provisioning.disable_action disable)"
	}
	switch {
	case active:
		return "active true: IsActive=true and UserLogin.IsFrozen=false where they differ (reactivate_user)"
	case !p.DisableUsers:
		return "active false: skipped, provisioning.disable_users is off"
	case p.DisableAction == Freeze:
		return "active false: UserLogin.IsFrozen=true (provisioning.disable_action freeze; freeze_user)"
	}
	return "active false: IsActive=false (provisioning.disable_action disable; disable_user)"
}

// refusal renders the SCIM error an IdP would get: status and client-safe detail.
func refusal(err error) string {
	se := scimschema.AsError(err)
	status := map[scimschema.Kind]string{scimschema.KindForbidden: "403", scimschema.KindUniqueness: "409",
		scimschema.KindNotFound: "404", scimschema.KindLimited: "429", scimschema.KindUnavailable: "503", scimschema.KindInternal: "500"}[se.Kind]
	if status == "" {
		status = "400"
	}
	return status + ": " + se.Detail
}
