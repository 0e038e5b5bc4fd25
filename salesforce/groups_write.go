package salesforce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

const maxLabel = 80 // PermissionSet.Label and Name

// apiName derives a PermissionSet API name from a label: ASCII letters, digits and single
// underscores, starting with a letter, no trailing underscore, at most 80 characters, made
// unique with _2, _3, … against taken.
func apiName(label string, taken func(string) bool) string {
	var sb strings.Builder
	under := true // suppress leading and double underscores
	for _, r := range label {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			sb.WriteRune(r)
			under = false
		} else if !under {
			sb.WriteByte('_')
			under = true
		}
	}
	name := strings.TrimRight(sb.String(), "_")
	switch {
	case name == "":
		name = "Group"
	case name[0] >= '0' && name[0] <= '9':
		name = "G_" + name
	}
	fit := func(base, suffix string) string {
		if len(base)+len(suffix) > maxLabel {
			base = strings.TrimRight(base[:maxLabel-len(suffix)], "_")
		}
		return base + suffix
	}
	base := fit(name, "")
	out := base
	for i := 2; taken(out); i++ {
		out = fit(base, "_"+strconv.Itoa(i))
	}
	return out
}

// memberIDs validates member values as user ids. Malformed ids are an error for additions and
// ignored for removals (they cannot be members).
func memberIDs(values []string, strict bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for i, v := range values {
		id, ok := rest.CanonicalID(v, rest.PrefixUser)
		if !ok {
			if strict {
				return nil, invalid(fmt.Sprintf("members[%d].value: not a Salesforce User id", i), nil)
			}
			continue
		}
		if !seen[id[:15]] {
			seen[id[:15]] = true
			out = append(out, id)
		}
	}
	return out, nil
}

func validLabel(label string) error {
	if strings.TrimSpace(label) == "" {
		return invalid("displayName: required", nil)
	}
	if utf8.RuneCountInString(label) > maxLabel {
		return invalid(fmt.Sprintf("displayName: at most %d characters (Salesforce permission set label)", maxLabel), nil)
	}
	// A group name is matched by the IdP (Entra: displayName eq): a control or invisible
	// character is a broken export, refused like in a user's displayName.
	return scimschema.CheckText("displayName", label)
}

// labelTaken reports whether another exposed group has this displayName (Entra requires unique
// displayNames; Salesforce does not enforce unique labels).
func labelTaken(cat *catalog, label, except string) bool {
	for _, g := range cat.exposed {
		if strings.EqualFold(g.Label, label) && !rest.SameID(g.ID, except) {
			return true
		}
	}
	return false
}

// labelFree checks that no other exposed group has this displayName (Entra requires unique
// displayNames; Salesforce does not enforce unique labels). It uses the cached catalog: a group
// created through another replica and missing from it is caught by Salesforce's own duplicate API
// name error on create (the API name derives from the label); a cached group that has this label
// is re-checked on a reloaded catalog, as it may have been renamed or deleted meanwhile.
func (o *operation) labelFree(label, except string) (*catalog, error) {
	cat, free, err := o.find(func(c *catalog) bool { return !labelTaken(c, label, except) })
	if err != nil {
		return nil, err
	}
	if !free {
		return nil, &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "displayName: another group already has this name"}
	}
	return cat, nil
}

// CreateGroup creates an empty permission set (and assigns the given members) in one composite:
// the PermissionSet create, the assignment collections referencing it, and the read-back.
func (b *Backend) CreateGroup(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	if !b.cfg.Groups.AllowCreate {
		return scimschema.Resource{}, forbidden("group creation is disabled (groups.allow_create)")
	}
	if b.cfg.Groups.Source == PermissionSetGroups {
		return scimschema.Resource{}, forbidden("groups.source is permission_set_groups: the bridge creates permission sets, which that setting does not expose")
	}
	w, err := scimschema.GroupForCreate(attrs)
	if err != nil {
		return scimschema.Resource{}, b.fail(ctx, err)
	}
	if w.DisplayName == nil {
		return scimschema.Resource{}, invalid("displayName: required", nil)
	}
	label := *w.DisplayName
	if err := validLabel(label); err != nil {
		return scimschema.Resource{}, err
	}
	var members []string
	if w.Members != nil {
		if members, err = memberIDs(w.Members.Add, true); err != nil {
			return scimschema.Resource{}, err
		}
	}
	o := b.operation(ctx)
	cat, err := o.labelFree(label, "")
	if err != nil {
		return scimschema.Resource{}, err
	}
	name := apiName(label, func(n string) bool {
		for _, g := range cat.groups {
			if strings.EqualFold(g.Name, n) {
				return true
			}
		}
		return false
	})
	if !b.included(name, label) {
		return scimschema.Resource{}, invalid("displayName: the new group would match no groups.include pattern and would not be visible", nil)
	}
	refs := make([]scimschema.Ref, len(members))
	for i, m := range members {
		refs[i] = scimschema.Ref{ID: m}
	}
	if b.dryRun(ctx, "create_group", "") {
		b.audit(ctx, Change{Operation: OpCreateGroup, Changed: []string{"displayName"}}, nil)
		if len(members) > 0 {
			b.audit(ctx, Change{Operation: OpAddMembers, Changed: []string{"members"}, Added: members}, nil)
		}
		g := group{ID: "0PSDRYRUN" + strings.Repeat("0", 9), Name: name, Label: label}
		return scimschema.GroupToResource(g.record(refs, true)), nil
	}

	// The first composite holds the create, the first members as single-record POSTs (a
	// reference inside sObject Collections records is undocumented; see psaCreates) and the
	// read-back; further members follow in collection calls with the new id.
	const inline = rest.MaxSubrequests - 2
	first := members[:min(len(members), inline)]
	subs := []rest.Subrequest{{Method: "POST", Path: "sobjects/PermissionSet", ReferenceID: "ps", Body: map[string]any{"Name": name, "Label": label}}}
	recs := make([]map[string]any, len(first))
	for i, m := range first {
		recs[i] = map[string]any{"AssigneeId": m, "PermissionSetId": "@{ps.id}"}
	}
	subs = append(subs, psaCreates("psa", recs)...)
	rq, err := groupRecordQuery("@{ps.id}", false).String()
	if err != nil {
		return scimschema.Resource{}, b.fail(ctx, err)
	}
	subs = append(subs, rest.Subrequest{Method: "GET", Path: refQueryPath(rq, "@{ps.id}"), ReferenceID: "rec"})
	res, err := b.c.Composite(ctx, true, subs)
	if err != nil {
		err = b.fail(ctx, err)
		b.audit(ctx, Change{Operation: OpCreateGroup, Changed: []string{"displayName"}}, err)
		return scimschema.Resource{}, err
	}
	by := byRef(res)
	if failures := createFailures(by, "psa", len(first), "DUPLICATE_VALUE"); len(failures) > 0 {
		err := assignmentError("assigning members", failures, func(j int) string { return "member " + first[j] })
		b.audit(ctx, Change{Operation: OpCreateGroup, Changed: []string{"displayName"}}, err)
		return scimschema.Resource{}, err
	}
	if _, e := subErr(res); e != nil {
		var err error
		switch e.Code {
		case "DUPLICATE_DEVELOPER_NAME", "DUPLICATE_VALUE", "DUPLICATE_NAME":
			b.invalidate() // a permission set the catalog did not know has this API name
			err = &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "a Salesforce permission set already has the API name derived from displayName; retry", Err: e}
		case "STRING_TOO_LONG", "FIELD_INTEGRITY_EXCEPTION", "INVALID_FIELD", "REQUIRED_FIELD_MISSING":
			err = invalid("displayName: Salesforce refused the permission set (check the name against Salesforce's rules for permission set labels)", e)
		default:
			err = b.fail(ctx, e)
		}
		b.audit(ctx, Change{Operation: OpCreateGroup, Changed: []string{"displayName"}}, err)
		return scimschema.Resource{}, err
	}
	rec, err := decodeQuery(by["rec"])
	if err != nil || len(rec.Records) == 0 {
		return scimschema.Resource{}, b.fail(ctx, fmt.Errorf("reading the created permission set back: %v", err))
	}
	g := groupFromRecord(rec.Records[0], false)
	b.addGroup(g)
	b.audit(ctx, Change{Operation: OpCreateGroup, Target: g.ID, Changed: []string{"displayName"}}, nil)
	if len(first) > 0 {
		b.audit(ctx, Change{Operation: OpAddMembers, Target: g.ID, Changed: []string{"members"}, Added: first}, nil)
	}
	if rest := members[len(first):]; len(rest) > 0 {
		if err := o.writeGroup(&g, nil, rest, nil, nil); err != nil {
			return scimschema.Resource{}, err
		}
	}
	return scimschema.GroupToResource(g.record(refs, true)), nil
}

// ReplaceGroup applies a PUT: displayName and the complete member set (overwrite: exactly that
// set; merge: only additions). Two calls: the group with its current members, then one composite
// with the label change, the assignment writes and the read-back. The answer carries the
// resulting members without reading them again.
func (b *Backend) ReplaceGroup(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	w, err := scimschema.GroupForReplace(attrs)
	if err != nil {
		return scimschema.Resource{}, b.fail(ctx, err)
	}
	return b.updateGroup(ctx, id, w, ifMatch, true)
}

// PatchGroup applies a PATCH. Adding members is one call (an existing member is a no-op);
// removing up to removeInOneCall members and nothing else is one call (groups_remove.go), other
// removals two (the group with those members' assignments, then their deletion; a non-member
// is a no-op); replacing is two; a displayName change rides in the last composite. The answer
// is empty (204) unless displayName changed; then it is the group without members (reading a
// large group back would cost calls nobody asked for).
func (b *Backend) PatchGroup(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error) {
	defer b.batch.enter(ctx)()
	w, err := scimschema.GroupForPatch(ops)
	if err != nil {
		return scimschema.Resource{}, b.fail(ctx, err)
	}
	return b.updateGroup(ctx, id, w, ifMatch, false)
}

func (b *Backend) updateGroup(ctx context.Context, id string, w scimschema.GroupWrite, ifMatch string, put bool) (scimschema.Resource, error) {
	o := b.operation(ctx)
	g, err := o.exposedGroup(id)
	if err != nil {
		return scimschema.Resource{}, err
	}
	if ifMatch != "" {
		fresh, _, err := o.readGroup(g, false)
		if err != nil {
			return scimschema.Resource{}, err
		}
		if scimschema.GroupToResource(fresh.record(nil, false)).Version != ifMatch {
			return scimschema.Resource{}, &scimschema.Error{Kind: scimschema.KindPrecondition, Detail: "the group was modified since the version in If-Match"}
		}
		g = fresh
	}
	var newLabel *string
	if w.DisplayName != nil && *w.DisplayName != g.Label {
		if err := validLabel(*w.DisplayName); err != nil {
			return scimschema.Resource{}, err
		}
		if _, err := o.labelFree(*w.DisplayName, g.ID); err != nil {
			return scimschema.Resource{}, err
		}
		newLabel = w.DisplayName
	}

	var (
		add     []string
		delPSA  []string
		delUser []string
		final   []scimschema.Ref // the resulting members, when known
	)
	if m := w.Members; m != nil {
		adds, err := memberIDs(m.Add, true)
		if err != nil {
			return scimschema.Resource{}, err
		}
		removes, _ := memberIDs(m.Remove, false)
		if m.Replace && b.cfg.Provisioning.PermissionSets == Overwrite && !b.cfg.Provisioning.DryRun {
			return b.overwriteMembers(o, g, adds, newLabel, put)
		}
		if m.Replace {
			var cur []groupMember
			if g, cur, err = o.currentMembers(g, nil); err != nil {
				return scimschema.Resource{}, err
			}
			plan := planMembership(b.cfg.Provisioning.PermissionSets, cur, membershipChange[string]{replace: true, add: adds}, groupMember.member, userID)
			if len(plan.kept) > 0 {
				b.skip(ctx, "permission_sets_merge", "remove_members", g.ID)
			}
			add = plan.assign
			delPSA, delUser = unassignments(plan.unassign)
			final = memberRefs(plan.stay, plan.assign)
		} else {
			add = adds
			if len(removes) > 0 && len(adds) == 0 && newLabel == nil && len(removes) <= removeInOneCall && !b.cfg.Provisioning.DryRun {
				return b.groupAnswer(g, nil, put, false), o.removeMembersCoalesced(g, removes)
			}
			if len(adds) > 0 && len(removes) == 0 && newLabel == nil && len(adds) <= collectionMax && !b.cfg.Provisioning.DryRun && b.batch != nil {
				return b.groupAnswer(g, nil, put, false), o.addMembersCoalesced(g, adds)
			}
			if len(adds) > 0 && b.cfg.Provisioning.DryRun {
				// The preview names only the members a write would add: an existing member is a
				// no-op (a write learns that from DUPLICATE_VALUE).
				_, cur, err := o.currentMembers(g, adds)
				if err != nil {
					return scimschema.Resource{}, err
				}
				add = planMembership(b.cfg.Provisioning.PermissionSets, cur, membershipChange[string]{add: adds}, groupMember.member, userID).assign
			}
			if len(removes) > 0 {
				var cur []groupMember
				if g, cur, err = o.currentMembers(g, removes); err != nil {
					return scimschema.Resource{}, err
				}
				delPSA, delUser = unassignments(planMembership(b.cfg.Provisioning.PermissionSets, cur, membershipChange[string]{remove: removes}, groupMember.member, userID).unassign)
			}
		}
	}
	if newLabel == nil && len(add) == 0 && len(delPSA) == 0 {
		return b.groupAnswer(g, final, put, newLabel != nil), nil
	}
	if b.dryRun(ctx, "update_group", g.ID) {
		if newLabel != nil {
			b.audit(ctx, Change{Operation: OpUpdateGroup, Target: g.ID, Changed: []string{"displayName"}}, nil)
		}
		b.auditMembers(ctx, g, add, delUser, nil, nil, nil)
		return b.groupAnswer(g, final, put, newLabel != nil), nil
	}
	if err := o.writeGroup(&g, newLabel, add, delPSA, delUser); err != nil {
		return scimschema.Resource{}, err
	}
	return b.groupAnswer(g, final, put, newLabel != nil), nil
}

func (b *Backend) groupAnswer(g group, final []scimschema.Ref, put, relabelled bool) scimschema.Resource {
	switch {
	case put:
		return scimschema.GroupToResource(g.record(final, final != nil))
	case relabelled:
		return scimschema.GroupToResource(g.record(nil, false))
	}
	return scimschema.Resource{}
}

// groupMember is one assignment of a group.
type groupMember struct{ psa, user, display string }

// currentMembers reads a group's record and its assignments, all of them or those of the given
// users: one call (the record rides along, so a group deleted meanwhile is KindNotFound), plus one
// per further 2000 assignments or 300 users.
func (o *operation) currentMembers(g group, users []string) (group, []groupMember, error) {
	if users == nil {
		return o.readGroupMembers(g, true)
	}
	b := o.b
	const perQuery = 300
	var fresh group
	var out []groupMember
	for i := 0; i < len(users); i += perQuery {
		ids := make([]any, 0, perQuery)
		for _, u := range users[i:min(i+perQuery, len(users))] {
			ids = append(ids, u)
		}
		if i == 0 {
			var err error
			if fresh, out, err = o.readGroupMembers(g, true, rest.In("AssigneeId", ids...)); err != nil {
				return group{}, nil, err
			}
			continue
		}
		q, err := b.memberQuery(g, rest.In("AssigneeId", ids...)).String()
		if err != nil {
			return group{}, nil, b.fail(o.ctx, err)
		}
		_, err = b.c.QueryEach(o.ctx, q, 0, func(r rest.Record) error {
			ref := b.memberRef(r)
			out = append(out, groupMember{psa: str(r["Id"]), user: ref.ID, display: ref.Display})
			return nil
		})
		if err != nil {
			return group{}, nil, b.fail(o.ctx, err)
		}
	}
	return fresh, out, nil
}

// writeGroup changes a group: its label (when label is not nil) and its assignments, created and
// deleted with sObject Collections (allOrNone false: what succeeds stays), up to 5 query or
// collection subrequests per composite call. The label PATCH and, after the first assignment
// writes, the group's read-back ride in the first composite, so a PUT that renames and changes up
// to 800 assignments is one call after its read. A duplicate assignment is an existing member
// (success); an assignment already gone is a removed member (success). Failures are reported
// together, naming the members. On success *g holds the group as read back.
func (o *operation) writeGroup(g *group, label *string, add []string, delPSA, delUser []string) error {
	_, err := o.writeGroupThenRead(g, label, add, delPSA, delUser, nil)
	return err
}

// writeGroupThenRead is writeGroup followed by the query readBack (when not nil), which rides in
// the last composite when it has room and is sent alone otherwise; its subresponse is returned.
func (o *operation) writeGroupThenRead(g *group, label *string, add []string, delPSA, delUser []string, readBack *rest.Subrequest) (rest.SubResponse, error) {
	b := o.b
	var readBackRes *rest.SubResponse
	type part struct {
		sub   rest.Subrequest
		users []string
		del   bool
	}
	var parts []part
	for i := 0; i < len(add); i += collectionMax {
		chunk := add[i:min(i+collectionMax, len(add))]
		recs := make([]map[string]any, len(chunk))
		for j, u := range chunk {
			recs[j] = psaRecord(u, *g)
		}
		parts = append(parts, part{sub: collectionCreate("add"+strconv.Itoa(i/collectionMax), false, recs), users: chunk})
	}
	for i := 0; i < len(delPSA); i += collectionMax {
		end := min(i+collectionMax, len(delPSA))
		parts = append(parts, part{sub: collectionDelete("del"+strconv.Itoa(i/collectionMax), false, delPSA[i:end]), users: delUser[i:end], del: true})
	}
	var lead, tail []rest.Subrequest
	if label != nil {
		field := "Label"
		if g.IsPSG {
			field = "MasterLabel"
		}
		rq, err := groupRecordQuery(g.ID, g.IsPSG).String()
		if err != nil {
			return rest.SubResponse{}, b.fail(o.ctx, err)
		}
		lead = []rest.Subrequest{{Method: "PATCH", Path: "sobjects/" + g.object() + "/" + g.ID, ReferenceID: "lbl", Body: map[string]any{field: *label}}}
		tail = []rest.Subrequest{{Method: "GET", Path: rest.QueryPath(rq), ReferenceID: "rec"}}
	}
	const perCall = 5            // query and collection subrequests per composite
	labelPending := label != nil // its audit line is not written yet
	var failedAdd, failedDel []recordFailure
	var failedNames []string
	var existing []string // users already members (DUPLICATE_VALUE): no change, not audited as added
	// unsent holds the members of the parts not yet answered: a failed call leaves them unapplied.
	var unsent []string
	for _, p := range parts {
		unsent = append(unsent, p.users...)
	}
	audit := func(err error) {
		if labelPending {
			b.audit(o.ctx, Change{Operation: OpUpdateGroup, Target: g.ID, Changed: []string{"displayName"}}, err)
		}
		failed := slices.Clone(unsent)
		for _, f := range append(slices.Clone(failedAdd), failedDel...) {
			failed = append(failed, failedNames[f.index])
		}
		b.auditMembers(o.ctx, *g, without(add, existing), delUser, failed, failed, err)
	}
	if err := o.assignLicences(b.licencesFor(add, []group{*g})); err != nil {
		audit(err)
		return rest.SubResponse{}, err
	}
	for first := true; first || len(parts) > 0; first = false {
		limit := perCall
		if first {
			limit -= len(tail)
		}
		n := min(len(parts), limit)
		chunk := parts[:n]
		parts = parts[n:]
		var subs []rest.Subrequest
		if first {
			subs = append(subs, lead...)
		}
		for _, p := range chunk {
			subs = append(subs, p.sub)
		}
		if first {
			subs = append(subs, tail...)
		}
		if readBack != nil && len(parts) == 0 && len(subs)-len(lead) < perCall {
			subs = append(subs, *readBack)
		}
		if len(subs) == 0 {
			break
		}
		res, err := b.c.Composite(o.ctx, false, subs)
		if err != nil {
			err = b.fail(o.ctx, err)
			audit(err)
			return rest.SubResponse{}, err
		}
		by := byRef(res)
		if readBack != nil {
			if sr, ok := by[readBack.ReferenceID]; ok {
				readBackRes = &sr
			}
		}
		if first && label != nil {
			if err := o.labelResult(g, by["lbl"], by["rec"]); err != nil {
				audit(err)
				return rest.SubResponse{}, err
			}
			b.audit(o.ctx, Change{Operation: OpUpdateGroup, Target: g.ID, Changed: []string{"displayName"}}, nil)
			labelPending = false
		}
		for j, p := range chunk {
			sr := by[p.sub.ReferenceID]
			var ignore []string
			if p.del {
				ignore = []string{"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"}
			}
			failures, err := collectionFailures(sr, ignore...)
			if err != nil {
				err = b.fail(o.ctx, err)
				audit(err)
				return rest.SubResponse{}, err
			}
			if !p.del {
				var dup []string
				failures, dup = splitDuplicates(failures, p.users)
				existing = append(existing, dup...)
			}
			unsent = unsent[len(p.users):]
			for _, f := range failures {
				failedNames = append(failedNames, chunk[j].users[f.index])
				f.index = len(failedNames) - 1
				if p.del {
					failedDel = append(failedDel, f)
				} else {
					failedAdd = append(failedAdd, f)
				}
			}
		}
	}
	failures := append(failedAdd, failedDel...)
	if len(failures) == 0 {
		audit(nil)
		if readBack == nil {
			return rest.SubResponse{}, nil
		}
		if readBackRes == nil {
			res, err := b.c.Composite(o.ctx, false, []rest.Subrequest{*readBack})
			if err != nil {
				return rest.SubResponse{}, b.fail(o.ctx, err)
			}
			readBackRes = &res[0]
		}
		return *readBackRes, nil
	}
	var err error
	if len(failedAdd) == len(add) && len(failedDel) == 0 && label == nil && o.groupGone(*g, failedAdd) {
		err = notFound("group")
	} else if err = o.failedGroupsError("updating members of group "+g.ID, failedAdd, func(int) group { return *g },
		func(i int) string { return "member " + failedNames[i] }); err == nil || len(failedDel) > 0 {
		err = assignmentError("updating members of group "+g.ID, failures, func(i int) string { return "member " + failedNames[i] })
	}
	audit(err)
	return rest.SubResponse{}, err
}

// labelResult reads the outcome of a label PATCH and the read-back after it into *g.
func (o *operation) labelResult(g *group, lbl, rec rest.SubResponse) error {
	b := o.b
	if lbl.Status >= 400 {
		e := lbl.Err
		if e == nil {
			e = &rest.Error{Status: lbl.Status, Code: "UNKNOWN", Kind: rest.KindOther}
		}
		switch rest.KindOf(e) {
		case rest.KindNotFound:
			b.removeGroup(g.ID)
			return notFound("group")
		case rest.KindInvalid:
			return invalid("displayName: Salesforce refused the permission set (check the name against Salesforce's rules for permission set labels)", e)
		}
		return b.fail(o.ctx, e)
	}
	if q, err := decodeQuery(rec); err == nil && len(q.Records) > 0 {
		*g = groupFromRecord(q.Records[0], g.IsPSG)
	}
	b.removeGroup(g.ID)
	b.addGroup(*g)
	return nil
}

// groupGone reports, after every assignment of a group failed as if it named a missing record,
// whether the group itself is missing (deleted through another replica, say). One query, on this
// error path only.
func (o *operation) groupGone(g group, failures []recordFailure) bool {
	for _, f := range failures {
		if f.code != "INVALID_CROSS_REFERENCE_KEY" && f.code != "ENTITY_IS_DELETED" {
			return false
		}
	}
	q, err := groupRecordQuery(g.ID, g.IsPSG).String()
	if err != nil {
		return false
	}
	res, err := o.b.c.Query(o.ctx, q, 0)
	if err != nil || res.TotalSize > 0 {
		return false
	}
	o.b.removeGroup(g.ID)
	return true
}

// auditMembers writes the add_members and remove_members lines of a group write. failedAdd and
// failedDel name the members whose change did not happen; when some others did, the result is
// partial and the line names what was applied.
func (b *Backend) auditMembers(ctx context.Context, g group, add, del, failedAdd, failedDel []string, err error) {
	line := func(op Operation, asked, failed []string) {
		if len(asked) == 0 {
			return
		}
		c := Change{Operation: op, Target: g.ID, Changed: []string{"members"}}
		ids, lineErr := asked, err
		if err != nil {
			if applied := memberOutcome(asked, failed); len(applied) > 0 {
				ids, c.Result = applied, ResultPartial
				c.Failed = memberOutcome(asked, applied)
			} else {
				ids, c.Failed = nil, asked // nothing was applied: the line names no member as added or removed
			}
		}
		if op == OpAddMembers {
			c.Added = ids
		} else {
			c.Removed = ids
		}
		b.audit(ctx, c, lineErr)
	}
	line(OpAddMembers, add, failedAdd)
	line(OpRemoveMembers, del, failedDel)
}

// DeleteGroup deletes a permission set (groups.allow_delete). The DELETE goes first: an
// unassigned set goes in one call. Salesforce refuses to delete a set that is still assigned (the
// error code is not documented); on a refusal the bridge reads the assignments and, when there are
// any, deletes them and retries the DELETE in the same composite: three calls (more past 800
// assignments: one composite per 4×200).
func (b *Backend) DeleteGroup(ctx context.Context, id string, ifMatch string) error {
	if !b.cfg.Groups.AllowDelete {
		return forbidden("group deletion is disabled (groups.allow_delete)")
	}
	o := b.operation(ctx)
	g, err := o.exposedGroup(id)
	if err != nil {
		return err
	}
	if ifMatch != "" {
		fresh, _, err := o.readGroup(g, false)
		if err != nil {
			return err
		}
		if scimschema.GroupToResource(fresh.record(nil, false)).Version != ifMatch {
			return &scimschema.Error{Kind: scimschema.KindPrecondition, Detail: "the group was modified since the version in If-Match"}
		}
	}
	if b.dryRun(ctx, "delete_group", g.ID) {
		b.audit(ctx, Change{Operation: OpDeleteGroup, Target: g.ID}, nil)
		return nil
	}
	done := func(err error) error {
		if err == nil || rest.KindOf(err) == rest.KindNotFound {
			b.removeGroup(g.ID)
		}
		if err != nil {
			if rest.KindOf(err) == rest.KindNotFound {
				err = notFound("group") // deleted meanwhile, perhaps through another replica
			} else {
				err = b.fail(ctx, err)
			}
		}
		b.audit(ctx, Change{Operation: OpDeleteGroup, Target: g.ID}, err)
		return err
	}
	refusal := b.c.Delete(ctx, g.object(), g.ID)
	if refusal == nil || !refusedDelete(refusal) {
		return done(refusal)
	}
	// Every assignment, of any user type: the permission set cannot go while one remains.
	q, err := rest.Select("Id").From("PermissionSetAssignment").Where(rest.Eq(g.assignmentField(), g.ID)).String()
	if err != nil {
		return done(err)
	}
	var psa []string
	if _, err := b.c.QueryEach(ctx, q, 0, func(r rest.Record) error { psa = append(psa, str(r["Id"])); return nil }); err != nil {
		return done(err)
	}
	if len(psa) == 0 {
		// Refused for another reason (the set is in use elsewhere in Salesforce, say).
		b.audit(ctx, Change{Operation: OpDeleteGroup, Target: g.ID}, refusal)
		return &scimschema.Error{Kind: scimschema.KindInvalidValue, Detail: "Salesforce refused to delete the permission set (" + rest.CodeOf(refusal) + ")", Err: refusal}
	}
	const perCall = 4 * collectionMax
	for len(psa) > 0 {
		chunk := psa[:min(len(psa), perCall)]
		psa = psa[len(chunk):]
		var subs []rest.Subrequest
		for i := 0; i < len(chunk); i += collectionMax {
			subs = append(subs, collectionDelete("del"+strconv.Itoa(i/collectionMax), true, chunk[i:min(i+collectionMax, len(chunk))]))
		}
		if len(psa) == 0 {
			subs = append(subs, rest.Subrequest{Method: "DELETE", Path: "sobjects/" + g.object() + "/" + g.ID, ReferenceID: "group"})
		}
		res, err := b.c.Composite(ctx, true, subs)
		if err == nil {
			err = deleteFailure(res)
		}
		if err != nil {
			return done(err)
		}
	}
	return done(nil)
}

// refusedDelete reports whether a DELETE failed because Salesforce refused it (rather than not
// finding the record, or not being reachable).
func refusedDelete(err error) bool {
	switch rest.KindOf(err) {
	case rest.KindInvalid, rest.KindConflict, rest.KindOther:
		var e *rest.Error
		return errors.As(err, &e) && e.Status >= 400 && e.Status < 500
	}
	return false
}

// deleteFailure is the root failure of an assignment-deletion composite, nil when it succeeded
// (an assignment already gone counts as deleted).
func deleteFailure(res []rest.SubResponse) error {
	for _, sr := range res {
		if sr.ReferenceID == "group" {
			continue
		}
		failures, err := collectionFailures(sr, "ENTITY_IS_DELETED")
		if err != nil {
			return err
		}
		if len(failures) > 0 {
			return &rest.Error{Code: failures[0].code, Message: failures[0].message, Kind: rest.KindOther}
		}
	}
	if _, e := subErr(res); e != nil {
		return e
	}
	return nil
}
