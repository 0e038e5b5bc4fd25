package salesforce

import (
	"context"
	"fmt"
	"maps"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// userChange is what one SCIM update sends to Salesforce for a user.
type userChange struct {
	id       string
	fields   map[string]any // User fields, incl. ProfileId and IsActive
	profile  profile        // the profile set, when ProfileId is in fields
	freeze   *bool          // true freeze, false unfreeze, nil leave
	add      []group        // assignments to create
	del      []assignment   // assignments to delete
	attrs    []string       // SCIM attributes written, for the audit line
	readBack bool           // read the user back in the same composite
}

func (ch *userChange) empty() bool {
	return len(ch.fields) == 0 && ch.freeze == nil && len(ch.add) == 0 && len(ch.del) == 0
}

// ReplaceUser applies a PUT: one call (a composite of the update, the freeze or unfreeze and the
// read-back); two when permissionSets are given (the current assignments are read first) or when
// If-Match is given.
func (b *Backend) ReplaceUser(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	return b.updateUser(ctx, id, ifMatch, "update_user", func(pl scimschema.Picklists) (scimschema.UserWrite, error) {
		return b.mapper.ForReplace(attrs, pl)
	})
}

// PatchUser applies a PATCH like ReplaceUser, sending only the touched fields.
func (b *Backend) PatchUser(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error) {
	return b.updateUser(ctx, id, ifMatch, "update_user", func(pl scimschema.Picklists) (scimschema.UserWrite, error) {
		return b.mapper.ForPatch(ops, pl)
	})
}

// updateUser is PUT and PATCH. With update_users off the attribute changes are skipped, but an
// active change still follows disable_users (Entra deprovisions with PATCH active=false).
func (b *Backend) updateUser(ctx context.Context, id, ifMatch, operation string, mapWrite func(scimschema.Picklists) (scimschema.UserWrite, error)) (scimschema.Resource, error) {
	uid, ok := canonicalID(id, prefixUser)
	if !ok {
		return scimschema.Resource{}, notFound("user")
	}
	o := b.op(ctx)
	cat, err := o.catalog()
	if err != nil {
		return scimschema.Resource{}, err
	}
	w, err := mapWrite(cat.picklists)
	if err != nil {
		return scimschema.Resource{}, b.fail(ctx, err)
	}
	if len(w.Skipped) > 0 {
		b.logger(ctx).Debug().Strs("attributes", w.Skipped).Str("target", uid).Msg("attributes with on_update false left unchanged")
	}
	if !b.cfg.Provisioning.UpdateUsers && (len(w.Fields) > 0 || w.Profile != "" || w.PermissionSets != nil) {
		b.skip(ctx, "update_users", operation, uid)
		w.Fields, w.Profile, w.PermissionSets, w.Attributes = nil, "", nil, nil
	}

	var cur *userState
	if ifMatch != "" || w.PermissionSets != nil {
		if cur, err = o.readUser(uid, w.PermissionSets != nil); err != nil {
			return scimschema.Resource{}, err
		}
		if ifMatch != "" && b.mapper.ToResource(cur.rec).Version != ifMatch {
			return scimschema.Resource{}, &scimschema.Error{Kind: scimschema.KindPrecondition, Detail: "the user was modified since the version in If-Match"}
		}
	}

	ch := &userChange{id: uid, fields: maps.Clone(w.Fields), attrs: w.Attributes, readBack: true}
	if ch.fields == nil {
		ch.fields = map[string]any{}
	}
	if w.Profile != "" {
		if ch.profile, err = o.resolveProfile(w.Profile, false); err != nil {
			return scimschema.Resource{}, err
		}
		ch.fields["ProfileId"] = ch.profile.ID
	}
	if w.Active != nil {
		b.planActive(ctx, ch, *w.Active, cur)
	}
	if w.PermissionSets != nil {
		if ch.add, ch.del, err = o.planPermissionSets(w.PermissionSets, cur.assigned, uid); err != nil {
			return scimschema.Resource{}, err
		}
	}
	if cur != nil && ch.freeze != nil && cur.loginID == "" {
		if *ch.freeze {
			return scimschema.Resource{}, noLoginError(nil)
		}
		ch.freeze = nil // no UserLogin row: nothing is frozen
	}

	if ch.empty() || b.dryRun(ctx, operation, uid) {
		if cur != nil && cur.rec.GroupsRead {
			return b.mapper.ToResource(cur.rec), nil
		}
		u, err := o.readUser(uid, true)
		if err != nil {
			return scimschema.Resource{}, err
		}
		return b.mapper.ToResource(u.rec), nil
	}
	u, err := o.applyUserChange(ch, cur)
	if err != nil {
		return scimschema.Resource{}, err
	}
	return b.mapper.ToResource(u.rec), nil
}

// planActive applies provisioning.disable_users and disable_action to a requested active state.
// Reactivation sets IsActive and unfreezes, whichever applies. With the current state known,
// writes that change nothing are left out.
func (b *Backend) planActive(ctx context.Context, ch *userChange, active bool, cur *userState) {
	p := b.cfg.Provisioning
	isActive := func() bool { v, _ := cur.rec.Fields["IsActive"].(bool); return v }
	if !active {
		switch {
		case !p.DisableUsers:
			b.skip(ctx, "disable_users", "disable_user", ch.id)
		case p.DisableAction == "freeze":
			if cur == nil || !cur.frozen {
				ch.freeze = ptr(true)
			}
		default:
			if cur == nil || isActive() {
				ch.fields["IsActive"] = false
			}
		}
		return
	}
	if cur == nil || !isActive() {
		ch.fields["IsActive"] = true
	}
	if cur == nil || cur.frozen {
		ch.freeze = ptr(false)
	}
}

func ptr[T any](v T) *T { return &v }

func noLoginError(cause error) error {
	return invalid("active: the user cannot be frozen: Salesforce has no UserLogin row for it (some orgs create it at the first login); use provisioning.disable_action: disable", cause)
}

// DeleteUser deprovisions: Salesforce cannot delete users, so with deprovision_users on DELETE
// performs disable_action (the user stays readable with active false); with it off nothing
// changes. Either way the answer is 204, and an unknown id is 404.
func (b *Backend) DeleteUser(ctx context.Context, id string, ifMatch string) error {
	uid, ok := canonicalID(id, prefixUser)
	if !ok {
		return notFound("user")
	}
	o := b.op(ctx)
	var cur *userState
	if ifMatch != "" || !b.cfg.Provisioning.DeprovisionUsers || b.cfg.Provisioning.DryRun {
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
	if b.dryRun(ctx, "delete_user", uid) {
		return nil
	}
	ch := &userChange{id: uid, fields: map[string]any{}}
	if b.cfg.Provisioning.DisableAction == "freeze" {
		if cur != nil && cur.loginID == "" {
			return noLoginError(nil)
		}
		ch.freeze = ptr(true)
	} else {
		ch.fields["IsActive"] = false
	}
	_, err := o.applyUserChange(ch, cur)
	return err
}

// applyUserChange sends ch in one composite (allOrNone). Without cur (nothing read first) the
// composite starts with a check query restricted to users.user_types, and the update addresses
// the user through it, so a user SCIM cannot see is never written; the UserLogin query doubles as
// the freeze target and as the previous state for the audit line.
func (o *op) applyUserChange(ch *userChange, cur *userState) (*userState, error) {
	b := o.b
	target := ch.id
	var subs []Subrequest
	if cur == nil {
		q, err := Select("Id", "IsActive").From("User").Where(b.withUserTypes(Eq("Id", ch.id))).String()
		if err != nil {
			return nil, b.fail(o.ctx, err)
		}
		subs = append(subs, Subrequest{Method: "GET", Path: QueryPath(q), ReferenceID: "chk"})
		target = "@{chk.records[0].Id}"
		if ch.freeze != nil {
			q, err := Select("Id", "IsFrozen").From("UserLogin").Where(Eq("UserId", ch.id)).String()
			if err != nil {
				return nil, b.fail(o.ctx, err)
			}
			subs = append(subs, Subrequest{Method: "GET", Path: QueryPath(q), ReferenceID: "ul"})
		}
	}
	if len(ch.fields) > 0 {
		subs = append(subs, Subrequest{Method: "PATCH", Path: "sobjects/User/" + target, ReferenceID: "upd", Body: ch.fields})
	}
	if ch.freeze != nil {
		login := "@{ul.records[0].Id}"
		if cur != nil {
			login = cur.loginID
		}
		subs = append(subs, Subrequest{Method: "PATCH", Path: "sobjects/UserLogin/" + login, ReferenceID: "frz", Body: map[string]any{"IsFrozen": *ch.freeze}})
	}
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
	if len(ch.add) > collectionMax || len(ch.del) > collectionMax {
		return nil, invalid(fmt.Sprintf("permissionSets: at most %d permission sets change per request", collectionMax), nil)
	}
	if ch.readBack {
		read, err := o.readBack(ch.id)
		if err != nil {
			return nil, err
		}
		subs = append(subs, read...)
	}

	res, err := b.c.Composite(o.ctx, true, subs)
	if err != nil {
		err = b.fail(o.ctx, err)
		b.auditChange(o.ctx, ch, cur, err)
		return nil, err
	}
	by := byRef(res)
	prev := cur
	if cur == nil {
		prev = previousState(by)
		if prev == nil {
			return nil, notFound("user")
		}
	}
	if err := o.changeFailure(ch, by, res); err != nil {
		if ch.freeze != nil && !*ch.freeze && err == errNoLogin {
			// Reactivation of a user without a UserLogin row: nothing to unfreeze.
			ch.freeze = nil
			if ch.empty() {
				if !ch.readBack {
					return prev, nil
				}
				return o.readUser(ch.id, true)
			}
			return o.applyUserChange(ch, cur)
		}
		if err == errNoLogin {
			err = noLoginError(nil)
		}
		b.auditChange(o.ctx, ch, prev, err)
		return nil, err
	}
	b.auditChange(o.ctx, ch, prev, nil)
	if !ch.readBack {
		return prev, nil
	}
	return o.userFromResponses(by, "get", "getl", true)
}

var errNoLogin = &scimschema.Error{Kind: scimschema.KindInvalidValue, Detail: "no UserLogin row"}

// previousState reads the check and UserLogin queries of an applyUserChange composite: the user's
// state before the change, or nil when the user is not one SCIM sees.
func previousState(by map[string]SubResponse) *userState {
	chk, ok := by["chk"]
	if !ok || chk.Status >= 400 {
		// A rolled-back composite may not show the check's own result; the caller then relies on
		// the root error.
		return &userState{rec: scimschema.UserRecord{Fields: map[string]any{}}}
	}
	q, err := decodeQuery(chk)
	if err != nil || len(q.Records) == 0 {
		return nil
	}
	u := &userState{rec: scimschema.UserRecord{Fields: q.Records[0]}}
	if ul, ok := by["ul"]; ok && ul.Status < 400 {
		if lq, err := decodeQuery(ul); err == nil && len(lq.Records) > 0 {
			u.loginID = str(lq.Records[0]["Id"])
			u.frozen, _ = lq.Records[0]["IsFrozen"].(bool)
		}
	}
	return u
}

// changeFailure explains a failed applyUserChange composite; nil when it succeeded.
func (o *op) changeFailure(ch *userChange, by map[string]SubResponse, res []SubResponse) error {
	b := o.b
	if sr, ok := by["psa_add"]; ok {
		if failures, err := collectionFailures(sr); err == nil && len(failures) > 0 {
			return assignmentError("assigning permissionSets", failures, func(i int) string {
				if i < len(ch.add) {
					return "permission set " + ch.add[i].Name
				}
				return fmt.Sprintf("record %d", i)
			})
		}
	}
	if sr, ok := by["psa_del"]; ok {
		if failures, err := collectionFailures(sr, "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"); err == nil && len(failures) > 0 {
			return assignmentError("removing permissionSets", failures, func(i int) string {
				if i < len(ch.del) {
					return "permission set " + ch.del[i].group.Name
				}
				return fmt.Sprintf("record %d", i)
			})
		}
	}
	i, e := subErr(res)
	if e == nil {
		return nil
	}
	ref := res[i].ReferenceID
	if brokenReference(e, "chk") {
		return notFound("user")
	}
	if brokenReference(e, "ul") {
		return errNoLogin
	}
	if ul, ok := by["ul"]; ok && ul.Status < 400 {
		if q, err := decodeQuery(ul); err == nil && q.TotalSize == 0 && ref == "frz" {
			return errNoLogin
		}
	}
	deactivating := ch.fields["IsActive"] == false
	switch {
	case e.Kind == KindNotFound && (ref == "upd" || ref == "chk"):
		return notFound("user")
	case ref == "upd" && deactivating && (e.Code == "FIELD_INTEGRITY_EXCEPTION" || e.Code == "CANNOT_DISABLE_LAST_ADMIN"):
		return invalid("active: Salesforce refuses to deactivate this user (for example the last administrator, or a user named in workflow or setup); resolve it in Salesforce or use provisioning.disable_action: freeze", e)
	case e.Code == "LICENSE_LIMIT_EXCEEDED":
		name := ch.profile.Name
		if name == "" {
			return invalid("no free Salesforce licence for the user's profile", e)
		}
		return invalid(fmt.Sprintf("no free Salesforce licence for profile %q", name), e)
	case e.Code == "DUPLICATE_USERNAME":
		username, _ := ch.fields["Username"].(string)
		return o.duplicateUsername(username, e)
	case ref == "upd":
		return b.dmlError(o.ctx, e)
	}
	return b.fail(o.ctx, e)
}

// auditChange writes one audit line per kind of change made by applyUserChange.
func (b *Backend) auditChange(ctx context.Context, ch *userChange, prev *userState, err error) {
	fields := maps.Clone(ch.fields)
	active, hasActive := fields["IsActive"].(bool)
	delete(fields, "IsActive")
	if len(fields) > 0 {
		b.audit(ctx, "update_user", ch.id, ch.attrs, err)
	}
	wasActive := true
	wasFrozen := false
	if prev != nil {
		if v, ok := prev.rec.Fields["IsActive"].(bool); ok {
			wasActive = v
		}
		wasFrozen = prev.frozen
	}
	if hasActive && active != wasActive || hasActive && prev == nil {
		op := "disable_user"
		if active {
			op = "enable_user"
		}
		b.audit(ctx, op, ch.id, []string{"active"}, err)
	}
	if ch.freeze != nil && (*ch.freeze != wasFrozen || prev == nil) {
		op := "freeze_user"
		if !*ch.freeze {
			op = "unfreeze_user"
		}
		b.audit(ctx, op, ch.id, []string{"active"}, err)
	}
	if len(ch.add) > 0 {
		b.audit(ctx, "assign_permission_sets", ch.id, []string{"permissionSets"}, err)
	}
	if len(ch.del) > 0 {
		b.audit(ctx, "unassign_permission_sets", ch.id, []string{"permissionSets"}, err)
	}
}
