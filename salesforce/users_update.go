package salesforce

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// userChange is what one SCIM update sends to Salesforce for a user.
type userChange struct {
	id       string
	fields   map[string]any // User fields, incl. ProfileId; never IsActive
	profile  profile        // the profile set, when ProfileId is in fields
	active   *bool          // IsActive to set, nil leave
	freeze   *bool          // true freeze, false unfreeze, nil leave
	add      []group        // assignments to create
	del      []assignment   // assignments to delete
	attrs    []string       // SCIM attributes written, for the audit line
	userName string         // for the audit line, with audit.identify_users
	readBack bool           // read the user back in the same composite
	fx       *softFixes     // what the write settled of soft data, for its audit line; nil none

	// holdFailure keeps a failed attempt's audit lines back while a soft refusal may still be
	// fixed and written again, so that one change gets one line (see auditHeld).
	holdFailure bool
	held        *heldFailure
}

// heldFailure is the outcome of a failed attempt whose audit lines were held back.
type heldFailure struct {
	done map[string]bool
	err  error
}

func (ch *userChange) empty() bool {
	return len(ch.fields) == 0 && ch.active == nil && ch.freeze == nil && len(ch.add) == 0 && len(ch.del) == 0
}

// ReplaceUser applies a PUT: one call (a composite of the update, the freeze or unfreeze and the
// read-back); two when permissionSets are given (the current assignments are read first) or when
// If-Match is given.
func (b *Backend) ReplaceUser(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	return b.updateUser(ctx, id, ifMatch, "update_user", func(org scimschema.UserDescribe) (scimschema.UserWrite, error) {
		return b.mapper.ForReplace(attrs, org)
	})
}

// PatchUser applies a PATCH like ReplaceUser, sending only the touched fields.
func (b *Backend) PatchUser(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error) {
	return b.updateUser(ctx, id, ifMatch, "update_user", func(org scimschema.UserDescribe) (scimschema.UserWrite, error) {
		return b.mapper.ForPatch(ops, org)
	})
}

// updateUser is PUT and PATCH. With update_users off the attribute changes are skipped, but an
// active change still follows disable_users (Entra deprovisions with PATCH active=false).
func (b *Backend) updateUser(ctx context.Context, id, ifMatch, operation string, mapWrite func(scimschema.UserDescribe) (scimschema.UserWrite, error)) (scimschema.Resource, error) {
	uid, ok := rest.CanonicalID(id, rest.PrefixUser)
	if !ok {
		return scimschema.Resource{}, notFound("user")
	}
	o := b.operation(ctx)
	w, err := b.mapUpdate(o, uid, operation, mapWrite)
	if err != nil {
		return scimschema.Resource{}, err
	}
	cur, err := b.readBeforeUpdate(o, uid, ifMatch, &w)
	if err != nil {
		return scimschema.Resource{}, err
	}
	ch, cur, err := b.planUserChange(o, uid, operation, w, cur)
	if err != nil {
		return scimschema.Resource{}, err
	}
	if ch.empty() || b.dryRun(ctx, operation, uid) {
		return b.unchangedUser(o, ch, cur)
	}
	if err := o.assignLicences(b.licencesFor([]string{uid}, ch.add)); err != nil {
		return scimschema.Resource{}, err
	}
	ch.fx = newSoftFixes(w)
	if err := o.prepareManager(ch.fields, ch.fx); err != nil {
		return scimschema.Resource{}, err
	}
	sent, err := b.reserveIfDeprovisioning(ctx, ch, operation)
	if err != nil {
		return scimschema.Resource{}, err
	}
	defer sent()
	u, err := o.writeUserChange(ch, cur)
	if err != nil {
		return scimschema.Resource{}, err
	}
	b.countDefaulted(w)
	b.noteUnaudited(ctx, uid, ch.fx)
	return b.mapper.ToResource(u.rec), nil
}

// mapUpdate maps the request onto the org's User fields; with update_users off only the active
// change is kept.
func (b *Backend) mapUpdate(o *operation, uid, operation string, mapWrite func(scimschema.UserDescribe) (scimschema.UserWrite, error)) (scimschema.UserWrite, error) {
	cat, err := o.catalog()
	if err != nil {
		return scimschema.UserWrite{}, err
	}
	w, err := mapWrite(cat.user)
	if err != nil {
		return scimschema.UserWrite{}, b.fail(o.ctx, err)
	}
	if len(w.Skipped) > 0 {
		b.logger(o.ctx).Debug().Strs("attributes", w.Skipped).Str("target", uid).Msg("attributes with on_update false left unchanged")
	}
	if !b.cfg.Provisioning.UpdateUsers && (len(w.Fields) > 0 || w.Profile != "" || w.PermissionSets != nil) {
		b.skip(o.ctx, "update_users", operation, uid)
		w.Fields, w.Profile, w.PermissionSets, w.Attributes = nil, "", nil, nil
		w.Conflicts, w.Rederive, w.Defaulted, w.Truncated = nil, nil, nil, nil
	}
	return w, nil
}

// readBeforeUpdate reads the current record (nil: not read) only when the write depends on it:
// If-Match, a merge of permission sets, two attributes of one field that disagree, a derived
// attribute removed; and under dry_run, so that its preview lists exactly the changes a write
// would make. It settles w's conflicts and derived attributes against it.
func (b *Backend) readBeforeUpdate(o *operation, uid, ifMatch string, w *scimschema.UserWrite) (*userState, error) {
	dry := b.cfg.Provisioning.DryRun
	if ifMatch == "" && w.PermissionSets == nil && len(w.Conflicts) == 0 && len(w.Rederive) == 0 && !dry {
		return nil, nil
	}
	cur, err := o.readUser(uid, w.PermissionSets != nil || dry)
	if err != nil {
		return nil, err
	}
	if ifMatch != "" && b.mapper.ToResource(cur.rec).Version != ifMatch {
		return nil, &scimschema.Error{Kind: scimschema.KindPrecondition, Detail: "the user was modified since the version in If-Match"}
	}
	if err := b.mapper.SettleConflicts(w, cur.rec.Fields); err != nil {
		return nil, b.fail(o.ctx, err)
	}
	b.mapper.Rederive(w, cur.rec.Fields)
	return cur, nil
}

// planUserChange turns the mapped write into the change to send: the profile, the active state
// under disable_users and disable_action, the permission sets to add and remove. It returns the
// current record too, which checking an unassignable profile may have read.
func (b *Backend) planUserChange(o *operation, uid, operation string, w scimschema.UserWrite, cur *userState) (*userChange, *userState, error) {
	ch := &userChange{id: uid, fields: maps.Clone(w.Fields), attrs: w.Attributes, readBack: true, userName: b.userName(cur)}
	if ch.fields == nil {
		ch.fields = map[string]any{}
	}
	var err error
	if w.Profile != "" {
		if cur, err = b.planProfile(o, ch, w.Profile, cur); err != nil {
			return nil, nil, err
		}
	}
	if w.Active != nil {
		if !*w.Active && b.cfg.Provisioning.DisableUsers {
			if err := b.guardIntegrationUser(o.ctx, uid, operation); err != nil {
				return nil, nil, err
			}
		}
		b.planActive(o.ctx, ch, *w.Active, cur)
	}
	if w.PermissionSets != nil {
		if ch.add, ch.del, err = o.planPermissionSets(w.PermissionSets, cur.assigned, uid); err != nil {
			return nil, nil, err
		}
	}
	if cur != nil && ch.freeze != nil && cur.loginID == "" {
		if *ch.freeze {
			return nil, nil, noLoginError(nil)
		}
		ch.freeze = nil // no UserLogin row: nothing is frozen
	}
	if b.cfg.Provisioning.DryRun && cur != nil {
		b.dropUnchanged(ch, cur.rec.Fields)
	}
	return ch, cur, nil
}

// planProfile sets the profile named in the write. Naming the profile the user already has
// changes nothing (Okta's PUT repeats every attribute): only a change to an unassignable profile
// is refused, for which the current record is read when it was not.
func (b *Backend) planProfile(o *operation, ch *userChange, nameOrID string, cur *userState) (*userState, error) {
	var err error
	if ch.profile, err = o.resolveProfile(nameOrID, false); err != nil {
		return nil, err
	}
	if !b.assignable(ch.profile) {
		if cur == nil {
			if cur, err = o.readUser(ch.id, false); err != nil {
				return nil, err
			}
		}
		if !rest.SameID(str(cur.rec.Fields["ProfileId"]), ch.profile.ID) {
			return nil, notAssignable()
		}
	}
	ch.fields["ProfileId"] = ch.profile.ID
	return cur, nil
}

// unchangedUser answers an update that writes nothing (nothing changes, or dry_run): the audit
// line previews what dry_run left out, and the user is answered as it is.
func (b *Backend) unchangedUser(o *operation, ch *userChange, cur *userState) (scimschema.Resource, error) {
	if !ch.empty() {
		o.auditChange(ch, nil, nil)
	}
	if cur != nil && cur.rec.GroupsRead {
		return b.mapper.ToResource(cur.rec), nil
	}
	u, err := o.readUser(ch.id, true)
	if err != nil {
		return scimschema.Resource{}, err
	}
	return b.mapper.ToResource(u.rec), nil
}

// writeUserChange writes ch. A nickname someone holds or a manager Salesforce does not know is
// fixed and written again, up to softRetries times (every part of the change is idempotent);
// the audit lines of a refusal fixed that way are held back, so one change gets one line.
func (o *operation) writeUserChange(ch *userChange, cur *userState) (*userState, error) {
	for attempt := 0; ; attempt++ {
		ch.holdFailure = attempt < softRetries
		u, err := o.applyUserChange(ch, cur)
		ch.holdFailure = false
		if err != nil && attempt < softRetries {
			retry, ferr := o.fixRefusal(err, ch.fields, ch.fx)
			if ferr != nil {
				o.auditHeld(ch, false)
				return nil, ferr
			}
			if retry {
				o.auditHeld(ch, true)
				continue
			}
		}
		o.auditHeld(ch, false)
		return u, err
	}
}

// planActive applies provisioning.disable_users and disable_action to a requested active state.
// Reactivation sets IsActive and unfreezes, whichever applies. With the current state known,
// writes that change nothing are left out; without it, applyUserChange makes them conditional.
func (b *Backend) planActive(ctx context.Context, ch *userChange, active bool, cur *userState) {
	p := b.cfg.Provisioning
	isActive := func() bool { v, _ := cur.rec.Fields["IsActive"].(bool); return v }
	if !active {
		switch {
		case !p.DisableUsers:
			b.skip(ctx, "disable_users", "disable_user", ch.id)
		case p.DisableAction == Freeze:
			// An inactive user is already deprovisioned; freezing one is refused by real orgs
			// (docs/salesforce-behaviour.md), so it is left as it is.
			if cur == nil || !cur.frozen && isActive() {
				ch.freeze = ptr(true)
			}
		default:
			if cur == nil || isActive() {
				ch.active = ptr(false)
			}
		}
		return
	}
	if cur == nil || !isActive() {
		ch.active = ptr(true)
	}
	if cur == nil || cur.frozen {
		ch.freeze = ptr(false)
	}
}

func ptr[T any](v T) *T { return &v }

// DeleteUser deprovisions: Salesforce cannot delete users, so with deprovision_users on DELETE
// performs disable_action (the user stays readable with active false); with it off nothing
// changes. Either way the answer is 204, and an unknown id is 404.
func (b *Backend) DeleteUser(ctx context.Context, id string, ifMatch string) error {
	uid, ok := rest.CanonicalID(id, rest.PrefixUser)
	if !ok {
		return notFound("user")
	}
	if b.cfg.Provisioning.DeprovisionUsers {
		if err := b.guardIntegrationUser(ctx, uid, "delete_user"); err != nil {
			return err
		}
	}
	o := b.operation(ctx)
	var cur *userState
	if ifMatch != "" || !b.cfg.Provisioning.DeprovisionUsers || b.cfg.Provisioning.DryRun || b.cfg.Audit.IdentifyUsers {
		var err error
		if cur, err = o.readUser(uid, false); err != nil {
			return err
		}
		if ifMatch != "" && b.mapper.ToResource(cur.rec).Version != ifMatch {
			return &scimschema.Error{Kind: scimschema.KindPrecondition, Detail: "the user was modified since the version in If-Match"}
		}
	}
	if !b.cfg.Provisioning.DeprovisionUsers {
		b.skip(ctx, "deprovision_users", "delete_user", uid)
		return nil
	}
	// DELETE follows deprovision_users alone (not disable_users).
	ch := &userChange{id: uid, fields: map[string]any{}, userName: b.userName(cur)}
	if b.cfg.Provisioning.DisableAction == Freeze {
		if cur != nil && cur.loginID == "" {
			return noLoginError(nil)
		}
		if cur == nil || !cur.frozen && cur.rec.Fields["IsActive"] == true {
			ch.freeze = ptr(true) // an inactive user is already deprovisioned (see planActive)
		}
	} else if cur == nil || cur.rec.Fields["IsActive"] == true {
		ch.active = ptr(false)
	}
	if ch.empty() {
		return nil // already deprovisioned
	}
	if b.dryRun(ctx, "delete_user", uid) {
		o.auditChange(ch, nil, nil)
		return nil
	}
	sent, err := b.reserveIfDeprovisioning(ctx, ch, "delete_user")
	if err != nil {
		return err
	}
	defer sent()
	_, err = o.applyUserChange(ch, cur)
	return err
}

// applyUserChange sends ch in one composite call.
//
// With cur (the user was read first) the writes are exactly what changes, in one allOrNone
// composite. Without it (the common PUT/PATCH/DELETE: one call, nothing read first) the composite
// starts with a check query restricted to users.user_types and every write addresses the user
// through a query reference, so a user SCIM cannot see is never written. The active-state writes
// are then conditional: IsActive is written through a query that finds the user in the other
// state, IsFrozen through one that finds the UserLogin in the other state (a repeated
// deactivation changes nothing and is not audited). A reference to an empty query
// fails only its own subrequest, which here means "nothing to do"; that needs allOrNone false, so
// a failed attribute update does not undo a (re)activation that succeeded beside it. Every part is
// idempotent and the IdP retries a failed operation as a whole.
func (o *operation) applyUserChange(ch *userChange, cur *userState) (*userState, error) {
	if cur != nil {
		return o.writeDiff(ch, cur)
	}
	return o.writeGuarded(ch)
}

func (o *operation) psaSubrequests(ch *userChange) ([]rest.Subrequest, error) {
	if len(ch.add) > collectionMax || len(ch.del) > collectionMax {
		return nil, invalid(fmt.Sprintf("permissionSets: at most %d permission sets change per request", collectionMax), nil)
	}
	var subs []rest.Subrequest
	if len(ch.add) > 0 {
		recs := make([]map[string]any, len(ch.add))
		for i, g := range ch.add {
			recs[i] = psaRecord(ch.id, g)
		}
		subs = append(subs, collectionCreate("psa_add", true, recs))
	}
	if len(ch.del) > 0 {
		ids := make([]string, len(ch.del))
		for i, a := range ch.del {
			ids[i] = a.id
		}
		subs = append(subs, collectionDelete("psa_del", true, ids))
	}
	return subs, nil
}

// writeDiff writes exactly what ch changes on cur, a user read first, in one allOrNone composite.
func (o *operation) writeDiff(ch *userChange, cur *userState) (*userState, error) {
	b := o.b
	var subs []rest.Subrequest
	fields := maps.Clone(ch.fields)
	if ch.active != nil {
		fields["IsActive"] = *ch.active
	}
	if len(fields) > 0 {
		subs = append(subs, rest.Subrequest{Method: "PATCH", Path: "sobjects/User/" + ch.id, ReferenceID: "upd", Body: fields})
	}
	if ch.freeze != nil {
		subs = append(subs, rest.Subrequest{Method: "PATCH", Path: "sobjects/UserLogin/" + cur.loginID, ReferenceID: "frz", Body: map[string]any{"IsFrozen": *ch.freeze}})
	}
	psa, err := o.psaSubrequests(ch)
	if err != nil {
		return nil, err
	}
	subs = append(subs, psa...)
	if ch.readBack {
		read, err := o.readBack(ch.id, false)
		if err != nil {
			return nil, err
		}
		subs = append(subs, read...)
	}
	res, err := b.c.Composite(o.ctx, true, subs)
	if err == nil {
		err = o.writeDiffFailure(ch, byRef(res), res)
	} else {
		err = b.fail(o.ctx, err)
	}
	o.auditChange(ch, nil, err)
	if err != nil {
		return nil, err
	}
	if !ch.readBack {
		return cur, nil
	}
	return o.userFromResponses(byRef(res), "get", "getl", true)
}

// writeDiffFailure explains a failed writeDiff composite; nil when it succeeded.
func (o *operation) writeDiffFailure(ch *userChange, by map[string]rest.SubResponse, res []rest.SubResponse) error {
	if sr, ok := by["psa_add"]; ok {
		if failures, err := collectionFailures(sr); err == nil && len(failures) > 0 {
			if err := o.failedGroupsError("assigning permissionSets", failures, func(i int) group { return ch.add[min(i, len(ch.add)-1)] },
				func(int) string { return "the user" }); err != nil {
				return err
			}
			return assignmentError("assigning permissionSets", failures, func(i int) string {
				if i < len(ch.add) {
					return "permission set " + ch.add[i].ID
				}
				return fmt.Sprintf("record %d", i)
			})
		}
	}
	if sr, ok := by["psa_del"]; ok {
		if failures, err := collectionFailures(sr, "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"); err == nil && len(failures) > 0 {
			return assignmentError("removing permissionSets", failures, func(i int) string {
				if i < len(ch.del) {
					return "permission set " + ch.del[i].group.ID
				}
				return fmt.Sprintf("record %d", i)
			})
		}
	}
	i, e := subErr(res)
	if e == nil {
		return nil
	}
	if res[i].ReferenceID == "upd" {
		return o.updateError(ch, e, ch.active != nil)
	}
	return o.b.fail(o.ctx, e)
}

// guardedUser addresses the user of a writeGuarded composite: the Id its check query found.
const guardedUser = "@{chk.records[0].Id}"

// writeGuarded writes ch without reading the user first: every write goes through a check query
// restricted to users.user_types (see applyUserChange).
func (o *operation) writeGuarded(ch *userChange) (*userState, error) {
	b := o.b
	subs, err := o.guardedSubrequests(ch)
	if err != nil {
		return nil, err
	}
	res, err := b.c.Composite(o.ctx, false, subs)
	if err != nil {
		err = b.fail(o.ctx, err)
		o.auditChange(ch, nil, err)
		return nil, err
	}
	by := byRef(res)
	if c := by["chk"]; c.Status >= 400 {
		return nil, b.queryFailure(o.ctx, c)
	}
	if q, err := decodeQuery(by["chk"]); err != nil || len(q.Records) == 0 {
		return nil, notFound("user")
	}
	done, failure := o.guardedOutcome(ch, by)
	var u *userState
	if ch.readBack {
		u, err = o.userFromResponses(by, "get", "getl", true)
		if ch.userName == "" {
			ch.userName = b.userName(u)
		}
	}
	o.auditChange(ch, done, failure)
	if failure != nil {
		return nil, failure
	}
	return u, err
}

// guardedSubrequests is writeGuarded's composite: the check query, the field update, the
// conditional active and freeze writes, and the read-back.
func (o *operation) guardedSubrequests(ch *userChange) ([]rest.Subrequest, error) {
	b := o.b
	chk, err := rest.Select("Id").From("User").Where(b.withUserTypes(rest.Eq("Id", ch.id))).String()
	if err != nil {
		return nil, b.fail(o.ctx, err)
	}
	subs := []rest.Subrequest{{Method: "GET", Path: rest.QueryPath(chk), ReferenceID: "chk"}}
	if len(ch.fields) > 0 {
		subs = append(subs, rest.Subrequest{Method: "PATCH", Path: "sobjects/User/" + guardedUser, ReferenceID: "upd", Body: ch.fields})
	}
	if ch.active != nil {
		q, err := rest.Select("Id").From("User").Where(b.withUserTypes(rest.And(rest.Eq("Id", ch.id), rest.Eq("IsActive", !*ch.active)))).String()
		if err != nil {
			return nil, b.fail(o.ctx, err)
		}
		subs = append(subs,
			rest.Subrequest{Method: "GET", Path: rest.QueryPath(q), ReferenceID: "actq"},
			rest.Subrequest{Method: "PATCH", Path: "sobjects/User/@{actq.records[0].Id}", ReferenceID: "act", Body: map[string]any{"IsActive": *ch.active}})
	}
	if ch.freeze != nil {
		frz, err := guardedFreeze(*ch.freeze)
		if err != nil {
			return nil, b.fail(o.ctx, err)
		}
		subs = append(subs, frz...)
	}
	if ch.readBack {
		read, err := o.readBack(ch.id, false)
		if err != nil {
			return nil, err
		}
		subs = append(subs, read...)
	}
	return subs, nil
}

// guardedFreeze is the conditional freeze (or unfreeze) of a writeGuarded composite: the write
// goes through a query that finds the UserLogin in the other state. A freeze also asks whether
// the row exists at all: without one the user cannot be frozen.
func guardedFreeze(freeze bool) ([]rest.Subrequest, error) {
	var subs []rest.Subrequest
	if freeze {
		q, err := rest.Select("Id").From("UserLogin").Where(rest.Eq("UserId", guardedUser)).String()
		if err != nil {
			return nil, err
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: refQueryPath(q, guardedUser), ReferenceID: "login"})
	}
	// A freeze finds only the login of an active user: an inactive one is already
	// deprovisioned, and real orgs refuse to freeze it.
	owner := rest.Eq("UserId", guardedUser)
	if freeze {
		owner = rest.InQuery("UserId", rest.Select("Id").From("User").Where(rest.And(rest.Eq("Id", guardedUser), rest.Eq("IsActive", true))))
	}
	q, err := rest.Select("Id").From("UserLogin").Where(rest.And(owner, rest.Eq("IsFrozen", !freeze))).String()
	if err != nil {
		return nil, err
	}
	return append(subs,
		rest.Subrequest{Method: "GET", Path: refQueryPath(q, guardedUser), ReferenceID: "ul"},
		rest.Subrequest{Method: "PATCH", Path: "sobjects/UserLogin/@{ul.records[0].Id}", ReferenceID: "frz", Body: map[string]any{"IsFrozen": freeze}}), nil
}

// guardedOutcome reads which of writeGuarded's writes were made (done, by reference) and the
// first failure. A conditional write whose query found nothing was not needed: the user is
// already in the requested state.
func (o *operation) guardedOutcome(ch *userChange, by map[string]rest.SubResponse) (done map[string]bool, failure error) {
	done = map[string]bool{}
	for _, ref := range []string{"upd", "act", "frz"} {
		sr, ok := by[ref]
		if !ok {
			continue
		}
		switch {
		case sr.Status < 400:
			done[ref] = true
		case ref == "act" && emptyReference(by, sr, "actq"):
			// already in the requested state
		case ref == "frz" && emptyReference(by, sr, "ul"):
			if l, ok := by["login"]; ok && failure == nil {
				if q, err := decodeQuery(l); err == nil && q.TotalSize == 0 {
					failure = noLoginError(sr.Err)
				}
			}
		case failure == nil:
			if sr.Err == nil {
				failure = o.b.fail(o.ctx, fmt.Errorf("subrequest %s: HTTP %d", ref, sr.Status))
			} else if ref == "frz" {
				failure = o.b.fail(o.ctx, sr.Err)
			} else {
				failure = o.updateError(ch, sr.Err, ref == "act")
			}
		}
	}
	return done, failure
}

func noLoginError(cause error) error {
	return invalid("active: the user cannot be frozen: Salesforce has no UserLogin row for it (some orgs create it at the first login); use provisioning.disable_action: disable", cause)
}

// updateError explains a failed User update. activating says the update set IsActive.
func (o *operation) updateError(ch *userChange, e *rest.Error, activating bool) error {
	deactivating := activating && ch.active != nil && !*ch.active
	switch {
	case e.Kind == rest.KindNotFound:
		return notFound("user")
	case deactivating && (e.Code == "FIELD_INTEGRITY_EXCEPTION" || e.Code == "CANNOT_DISABLE_LAST_ADMIN"):
		return invalid("active: Salesforce refuses to deactivate this user (for example the last administrator, or a user named in workflow or setup); resolve it in Salesforce or use provisioning.disable_action: freeze", e)
	case e.Code == "LICENSE_LIMIT_EXCEEDED":
		if ch.profile.Name != "" {
			return invalid(fmt.Sprintf("profile: no free Salesforce licence for profile %s", ch.profile.ID), e)
		}
		return invalid("no free Salesforce licence for the user's profile", e)
	case e.Code == "DUPLICATE_USERNAME":
		username, _ := ch.fields["Username"].(string)
		return o.duplicateUsername(username, e)
	}
	return o.b.dmlError(o.ctx, e)
}

// auditChange writes one audit line per kind of change. done, when not nil, says which
// subrequests ran (a conditional write that found nothing to do is no change); nil means all.
func (o *operation) auditChange(ch *userChange, done map[string]bool, err error) {
	if err != nil && ch.holdFailure {
		ch.held = &heldFailure{done: done, err: err}
		return
	}
	b := o.b
	happened := func(ref string) bool { return done == nil || done[ref] }
	result := func(ref string) error {
		if done != nil && done[ref] {
			return nil
		}
		return err
	}
	soft := ch.fx.fixes() // on the first line written: the field update, as a rule
	line := func(op Operation, changed []string, ref string) {
		b.audit(o.ctx, Change{Operation: op, Target: ch.id, UserName: ch.userName, Changed: changed, Soft: soft}, result(ref))
		if !soft.empty() {
			ch.fx.audited = true
		}
		soft = SoftFixes{}
	}
	if len(ch.fields) > 0 && (happened("upd") || err != nil) {
		line(OpUpdateUser, fieldAttributes(ch.attrs), "upd")
	}
	if ch.active != nil && (happened("act") || err != nil && done == nil) {
		op := OpDisableUser
		if *ch.active {
			op = OpReactivateUser
		}
		line(op, []string{"active"}, "act")
	}
	if ch.freeze != nil && (happened("frz") || err != nil && done == nil) {
		op := OpFreezeUser
		if !*ch.freeze {
			op = OpReactivateUser
		}
		line(op, []string{"active"}, "frz")
	}
	b.auditMembership(o.ctx, ch.id, ch.userName, ch.add, ch.del, err)
}

// auditHeld writes the lines a failed attempt held back. retried says the change is written again:
// then only the parts the failed attempt did apply (a freeze beside a refused field update) get
// their line now, as the retry finds them done and writes none; otherwise the failure's lines.
func (o *operation) auditHeld(ch *userChange, retried bool) {
	h := ch.held
	ch.held = nil
	switch {
	case h == nil:
	case !retried:
		o.auditChange(ch, h.done, h.err)
	case h.done != nil:
		applied := *ch
		applied.add, applied.del, applied.fx = nil, nil, nil
		o.auditChange(&applied, h.done, nil)
	}
}

// userName is the SCIM userName of a user read from Salesforce, for audit lines with
// audit.identify_users; "" when the user was not read or the setting is off.
func (b *Backend) userName(u *userState) string {
	if u == nil || !b.cfg.Audit.IdentifyUsers {
		return ""
	}
	name, _ := b.mapper.ToResource(u.rec).Attributes["userName"].(string)
	return name
}

// fieldAttributes are the attributes an update_user line names: active and permissionSets have
// lines of their own (disable_user, freeze_user, reactivate_user; add_members, remove_members).
func fieldAttributes(attrs []string) []string {
	return slices.DeleteFunc(slices.Clone(attrs), func(a string) bool {
		return a == "active" || a == scimschema.SalesforceUserURN+":permissionSets"
	})
}

// dropUnchanged leaves out of ch the fields whose value the current record already has, and the
// attributes that fed only those, so that a dry_run preview names exactly what a write would
// change (Okta's PUT repeats every attribute).
func (b *Backend) dropUnchanged(ch *userChange, current map[string]any) {
	dropped, kept := map[string]bool{}, map[string]bool{}
	for field, v := range ch.fields {
		attrs := b.mapper.FieldAttributes(field)
		if !unchangedField(field, v, current[field]) {
			for _, a := range attrs {
				kept[a] = true
			}
			continue
		}
		delete(ch.fields, field)
		for _, a := range attrs {
			dropped[a] = true
		}
	}
	ch.attrs = slices.DeleteFunc(slices.Clone(ch.attrs), func(a string) bool { return dropped[a] && !kept[a] })
}

// unchangedField reports whether a field value to write equals the current one: nil and "" are both
// empty, and ids compare by their 15-character form.
func unchangedField(field string, want, have any) bool {
	text := func(v any) string {
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	w, h := text(want), text(have)
	if field == "ProfileId" || field == "ManagerId" {
		return rest.SameID(w, h)
	}
	return w == h
}
