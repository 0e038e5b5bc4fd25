package salesforce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// createUser creates a Salesforce User in one call: a composite (allOrNone) of the User create,
// its permission-set assignments, the freeze when created inactive under disable_action freeze,
// and the read-back, so the answer needs no further call.
func (b *Backend) createUser(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	if !b.cfg.Provisioning.CreateUsers {
		b.skip(ctx, "create_users", "create_user", "")
		return scimschema.Resource{}, forbidden("user creation is disabled (provisioning.create_users)")
	}
	defer b.batch.enter(ctx)()
	o := b.operation(ctx)
	nu, err := b.planCreate(o, attrs)
	if err != nil {
		return scimschema.Resource{}, err
	}
	if b.dryRun(ctx, "create_user", "") {
		b.auditCreate(ctx, "", attrs, nu.w, nil, nu.psAdd, nu.freeze, nil)
		return b.dryRunUser(nu.fields, nu.prof, nu.psAdd, nu.freeze), nil
	}
	started := b.now()
	fx := newSoftFixes(nu.w)
	if err := o.prepareManager(nu.fields, fx); err != nil {
		return scimschema.Resource{}, err
	}
	u, err := o.createWithSoftRetries(nu, fx, started)
	if err != nil {
		b.auditCreate(ctx, "", attrs, nu.w, fx, nil, false, err)
		return scimschema.Resource{}, err
	}
	b.auditCreate(ctx, str(u.rec.Fields["Id"]), attrs, nu.w, fx, nu.psAdd, nu.freeze, nil)
	b.countDefaulted(nu.w)
	return b.mapper.ToResource(u.rec), nil
}

// newUser is a create as CreateUser sends it.
type newUser struct {
	w      scimschema.UserWrite
	prof   profile
	psAdd  []group        // permission sets assigned in the create's composite
	fields map[string]any // the User record: the mapped fields, ProfileId, IsActive false under disable_action disable
	freeze bool           // created inactive under disable_action freeze
}

// planCreate maps the SCIM attributes to the User to create: its fields, its profile (which must
// be assignable), its permission sets and, for a user created inactive, disable_users and
// disable_action.
func (b *Backend) planCreate(o *operation, attrs map[string]any) (*newUser, error) {
	cat, err := o.catalog()
	if err != nil {
		return nil, err
	}
	nu := &newUser{}
	if nu.w, err = b.mapper.ForCreate(attrs, cat.user); err != nil {
		return nil, err
	}
	if nu.prof, err = o.resolveProfile(nu.w.Profile, extensionValue(attrs, "profile") == nil); err != nil {
		return nil, err
	}
	if !b.assignable(nu.prof) {
		return nil, notAssignable()
	}
	if nu.w.PermissionSets != nil {
		if nu.psAdd, err = o.resolveGroups(scimschema.SalesforceUserURN+":permissionSets", nu.w.PermissionSets.Add); err != nil {
			return nil, err
		}
		if len(nu.psAdd) > collectionMax {
			return nil, invalid(fmt.Sprintf("permissionSets: at most %d permission sets per request", collectionMax), nil)
		}
	}
	nu.fields = maps.Clone(nu.w.Fields)
	if nu.fields == nil {
		nu.fields = map[string]any{}
	}
	nu.fields["ProfileId"] = nu.prof.ID
	if nu.w.Active != nil && !*nu.w.Active {
		switch {
		case !b.cfg.Provisioning.DisableUsers:
			b.skip(o.ctx, "disable_users", "disable_user", "")
		case b.cfg.Provisioning.DisableAction == Freeze:
			nu.freeze = true
		default:
			nu.fields["IsActive"] = false
		}
	}
	return nu, nil
}

// createWithSoftRetries creates nu. A nickname someone holds or a manager Salesforce does not
// know is fixed and the create sent again, up to softRetries times; any other failure is
// explained, or reconciled when its answer was lost (createFailure).
func (o *operation) createWithSoftRetries(nu *newUser, fx *softFixes, started time.Time) (*userState, error) {
	for attempt := 0; ; attempt++ {
		u, err := o.createCoalesced(nu.fields, nu.psAdd, nu.freeze)
		var ce *createError
		if err == nil || !errors.As(err, &ce) {
			return u, err
		}
		if ce.e != nil && attempt < softRetries {
			retry, err := o.fixRefusal(ce.e, nu.fields, fx)
			if err != nil {
				return nil, err
			}
			if retry {
				continue
			}
		}
		return o.createFailure(ce, nu.fields, nu.prof, nu.psAdd, started)
	}
}

// softRetries bounds the writes repeated after refusals of soft data (nicknames taken by
// concurrent creates of the same local part, a manager Salesforce does not know).
const softRetries = 5

// auditCreate writes the lines of a create: the user (with what fx settled of its soft data), its
// permission sets, its freeze. id is "" when nothing was created (a failure, or dry_run).
func (b *Backend) auditCreate(ctx context.Context, id string, attrs map[string]any, w scimschema.UserWrite, fx *softFixes, psAdd []group, freeze bool, err error) {
	userName, _ := attrs["userName"].(string)
	b.audit(ctx, Change{Operation: OpCreateUser, Target: id, UserName: userName, Changed: w.Attributes, Soft: fx.fixes()}, err)
	b.auditMembership(ctx, id, userName, psAdd, nil, err)
	if freeze {
		b.audit(ctx, Change{Operation: OpFreezeUser, Target: id, UserName: userName, Changed: []string{"active"}}, err)
	}
}

// createError carries the root Salesforce error of a failed create composite.
type createError struct {
	ref      string
	e        *rest.Error
	failures []recordFailure // failed assignments
	noLogin  bool            // the freeze found no UserLogin row
	lost     error           // the answer was lost (KindUnavailable)
}

func (e *createError) Error() string {
	if e.lost != nil {
		return e.lost.Error()
	}
	return fmt.Sprintf("create failed at %s: %v", e.ref, e.e)
}

// createOnce creates one user in one allOrNone composite: the User, the licences and permission
// sets it is given (as many as fit; the rest follow with assignLater), its freeze when created
// inactive under disable_action freeze, and the read-back. A refusal is a *createError; a lost
// answer too (createError.lost), for the caller to reconcile.
func (o *operation) createOnce(fields map[string]any, psAdd []group, freeze bool) (*userState, error) {
	const uid = "@{u.id}"
	subs, inline, later, err := o.createSubrequests(uid, fields, psAdd, freeze)
	if err != nil {
		return nil, err
	}
	res, err := o.b.c.Composite(o.ctx, true, subs)
	if err != nil {
		if rest.KindOf(err) == rest.KindUnavailable {
			return nil, &createError{lost: err}
		}
		return nil, err
	}
	subsBy := byRef(res)
	if ce := createRefusal(res, subsBy, len(inline), freeze); ce != nil {
		return nil, ce
	}
	u, err := o.userFromResponses(subsBy, "get", "getl", true)
	if err != nil {
		return nil, err
	}
	if len(later) > 0 {
		if err := o.assignLater(u, later); err != nil {
			return nil, err
		}
	}
	o.b.warnIfInvisible(o.ctx, u)
	return u, nil
}

// createSubrequests is createOnce's composite for the user uid references. Assignments ride in the
// create as single-record POSTs (a reference inside sObject Collections records is undocumented):
// inline are as many as the 25 subrequests leave room for; later follow in one sObject
// Collections call with the new user's id. With groups.assign_permission_set_licenses the
// licences the permission sets need come first.
func (o *operation) createSubrequests(uid string, fields map[string]any, psAdd []group, freeze bool) (subs []rest.Subrequest, inline, later []group, err error) {
	subs = []rest.Subrequest{{Method: "POST", Path: "sobjects/User", ReferenceID: "u", Body: fields}}
	room := rest.MaxSubrequests - 1 - 2 // the user, the read-back pair
	if freeze {
		room -= 2
	}
	for i, p := range o.b.licencesFor([]string{uid}, psAdd) {
		subs = append(subs, rest.Subrequest{Method: "POST", Path: "sobjects/PermissionSetLicenseAssign", ReferenceID: "pla" + strconv.Itoa(i),
			Body: map[string]any{"AssigneeId": uid, "PermissionSetLicenseId": p.licence}})
		room--
	}
	inline, later = psAdd[:min(len(psAdd), room)], psAdd[min(len(psAdd), room):]
	if len(inline) > 0 {
		recs := make([]map[string]any, len(inline))
		for i, g := range inline {
			recs[i] = psaRecord(uid, g)
		}
		subs = append(subs, psaCreates("psa", recs)...)
	}
	if freeze {
		lq, err := rest.Select("Id").From("UserLogin").Where(rest.Eq("UserId", uid)).String()
		if err != nil {
			return nil, nil, nil, err
		}
		subs = append(subs,
			rest.Subrequest{Method: "GET", Path: refQueryPath(lq, uid), ReferenceID: "ul"},
			rest.Subrequest{Method: "PATCH", Path: "sobjects/UserLogin/@{ul.records[0].Id}", ReferenceID: "frz", Body: map[string]any{"IsFrozen": true}})
	}
	read, err := o.readBack(uid, true)
	if err != nil {
		return nil, nil, nil, err
	}
	return append(subs, read...), inline, later, nil
}

// createRefusal is the refusal in createOnce's answer, nil when the create succeeded: the failed
// inline assignments first, then the first failed subrequest, noting when the user has no
// UserLogin row to freeze.
func createRefusal(res []rest.SubResponse, subsBy map[string]rest.SubResponse, inline int, freeze bool) *createError {
	if failures := createFailures(subsBy, "psa", inline); len(failures) > 0 {
		return &createError{ref: "psa", failures: failures, e: &rest.Error{Code: failures[0].code}}
	}
	i, e := subErr(res)
	if e == nil {
		return nil
	}
	ce := &createError{ref: res[i].ReferenceID, e: e}
	if sr, ok := subsBy["ul"]; ok && sr.Status < 400 {
		if q, err := decodeQuery(sr); err == nil && q.TotalSize == 0 {
			ce.noLogin = true
		}
	}
	if freeze && allHalted(res) {
		// Only @{ul.records[0].Id} can be missing without an error of its own: the user has
		// no UserLogin row.
		ce.noLogin = true
	}
	return ce
}

// warnIfInvisible tells the operator about a user created with a UserType outside
// users.user_types (its profile's licence gives it one SCIM does not see): later reads will not
// find it.
func (b *Backend) warnIfInvisible(ctx context.Context, u *userState) {
	if !slices.Contains(b.cfg.UserTypes, str(u.rec.Fields["UserType"])) {
		b.logger(ctx).Warn().Str("target", str(u.rec.Fields["Id"])).Str("userType", str(u.rec.Fields["UserType"])).
			Msg("created user has a UserType outside users.user_types; it will not be visible to SCIM")
	}
}

// assignLater assigns the permission sets that did not fit in the create composite, in one
// sObject Collections call per 200 (allOrNone), and adds them to u. The user exists whatever
// happens: a failure is a 400 naming the permission sets not assigned.
func (o *operation) assignLater(u *userState, later []group) error {
	id := str(u.rec.Fields["Id"])
	recs := make([]rest.Record, len(later))
	for i, g := range later {
		recs[i] = rest.Record(psaRecord(id, g))
	}
	res, err := o.b.c.CreateRecords(o.ctx, true, recs)
	if err != nil {
		return err
	}
	var failures []recordFailure
	for i, r := range res {
		if !r.Success && len(r.Errors) > 0 && r.Errors[0].Code != "ALL_OR_NONE_OPERATION_ROLLED_BACK" && r.Errors[0].Code != "PROCESSING_HALTED" {
			failures = append(failures, recordFailure{index: i, code: r.Errors[0].Code, message: r.Errors[0].Message})
		}
	}
	if len(failures) > 0 {
		if err := o.failedGroupsError("the user was created, but assigning permissionSets", failures, func(i int) group { return later[i] },
			func(int) string { return "the user" }); err != nil {
			return err
		}
		return assignmentError("the user was created, but assigning permissionSets", failures, func(i int) string {
			return "permission set " + later[i].ID
		})
	}
	for i, g := range later {
		u.assigned = append(u.assigned, assignment{id: res[i].ID, group: g})
		u.rec.Groups = append(u.rec.Groups, scimschema.Ref{ID: g.ID, Display: g.Label})
	}
	return nil
}

// readBack is the pair of queries that read a user back at the end of a composite. A user just
// created is read whatever its UserType (its profile decides the type; see CreateUser).
func (o *operation) readBack(id string, anyType bool) ([]rest.Subrequest, error) {
	q := o.b.userQuery(rest.Eq("Id", id), true)
	if anyType {
		q = o.b.userQueryAnyType(rest.Eq("Id", id), true)
	}
	uq, err := q.String()
	if err != nil {
		return nil, err
	}
	lq, err := loginQuery(rest.Eq("UserId", id)).String()
	if err != nil {
		return nil, err
	}
	return []rest.Subrequest{
		{Method: "GET", Path: refQueryPath(uq, id), ReferenceID: "get"},
		{Method: "GET", Path: refQueryPath(lq, id), ReferenceID: "getl"},
	}, nil
}

// reconcileSkew is how far Salesforce's clock may be behind the bridge's when a lost create is
// reconciled: a user created earlier than that before the request existed already.
const reconcileSkew = 5 * time.Minute

// createFailure explains a failed create. Only a lost answer whose user turns out to exist
// yields the user instead, unless that user existed before the create started (then the
// create failed as a duplicate and Salesforce's answer, DUPLICATE_USERNAME, was what got lost).
func (o *operation) createFailure(ce *createError, fields map[string]any, prof profile, psAdd []group, started time.Time) (*userState, error) {
	b := o.b
	username, _ := fields["Username"].(string)
	if ce.lost != nil {
		// The answer was lost: the user may or may not exist. Reconcile once by Username rather
		// than retrying blindly (a retry could create nothing new, or fail as a duplicate).
		u, err := o.readUserBy(rest.Eq("Username", username), rest.InQuery("UserId", rest.Select("Id").From("User").Where(rest.Eq("Username", username))), true)
		if err == nil {
			if created, ok := sfTime(str(u.rec.Fields["CreatedDate"])); ok && created.Before(started.Add(-reconcileSkew)) {
				return nil, &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "userName is already taken in this Salesforce org", Err: ce.lost}
			}
			b.logger(o.ctx).Warn().Msg("create answer lost; the user exists, answering as created")
			return u, nil
		}
		return nil, ce.lost
	}
	return nil, o.createError(ce, username, prof, psAdd)
}

func (o *operation) createError(ce *createError, username string, prof profile, psAdd []group) error {
	b := o.b
	switch {
	case strings.HasPrefix(ce.ref, "pla") && ce.e != nil:
		detail := "permissionSets: assigning the permission set licence they need failed"
		if ce.e.Code == "LICENSE_LIMIT_EXCEEDED" {
			detail += ": no free seat"
		}
		return invalid(detail, ce.e)
	case len(ce.failures) > 0:
		if err := o.failedGroupsError("assigning permissionSets", ce.failures, func(i int) group { return psAdd[min(i, len(psAdd)-1)] },
			func(int) string { return "the user" }); err != nil {
			return err
		}
		return assignmentError("assigning permissionSets", ce.failures, func(i int) string {
			if i < len(psAdd) {
				return "permission set " + psAdd[i].ID
			}
			return fmt.Sprintf("record %d", i)
		})
	case ce.noLogin || ce.ref == "frz":
		return invalid("active: the user cannot be created frozen: Salesforce has no UserLogin row for it (some orgs create it at the first login); create it active or use provisioning.disable_action: disable", ce.e)
	case ce.e.Code == "LICENSE_LIMIT_EXCEEDED":
		return invalid(fmt.Sprintf("profile: no free Salesforce licence for profile %s", prof.ID), ce.e)
	case ce.e.Code == "DUPLICATE_USERNAME":
		return o.duplicateUsername(username, ce.e)
	}
	return b.dmlError(ce.e)
}

// duplicateUsername says whether a taken Username is taken in this org or in another one.
// Salesforce usernames are unique across all orgs; one follow-up query tells the two apart.
func (o *operation) duplicateUsername(username string, cause error) error {
	q, err := rest.Select("Id").From("User").Where(rest.Eq("Username", username)).Limit(1).String()
	if err == nil {
		var res *rest.QueryResult
		if res, err = o.b.c.Query(o.ctx, q, 0); err == nil && len(res.Records) > 0 {
			return &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "userName is already taken in this Salesforce org", Err: cause}
		}
	}
	if err != nil {
		o.b.logger(o.ctx).Warn().Err(err).Msg("looking up a duplicate username failed")
	}
	return &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "userName is already taken in another Salesforce org (Salesforce usernames are unique across all orgs)", Err: cause}
}

// dmlError explains a Salesforce DML error on a User, naming the SCIM attributes mapped from
// Salesforce's "fields" and never echoing Salesforce's message (it contains values).
func (b *Backend) dmlError(e *rest.Error) error {
	names := strings.Join(b.scimNames(e.Fields), ", ")
	if names == "" {
		names = "a mapped attribute"
	}
	if uniqueField(e) {
		return &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: names + ": already used by another Salesforce user", Err: e}
	}
	switch e.Code {
	case "STRING_TOO_LONG":
		return invalid(names+": longer than Salesforce allows", e)
	case "INVALID_EMAIL_ADDRESS":
		return invalid(names+": not an email address Salesforce accepts", e)
	case "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "INVALID_OR_NULL_FOR_PICKLIST", "BAD_VALUE_FOR_RESTRICTED_PICKLIST":
		return invalid(names+": not a value of the Salesforce picklist", e)
	case "REQUIRED_FIELD_MISSING":
		return invalid(names+": required by Salesforce", e)
	case "INVALID_CROSS_REFERENCE_KEY":
		return invalid(names+": refers to a Salesforce record that does not exist", e)
	case "DUPLICATE_VALUE", "DUPLICATE_EXTERNAL_ID":
		return &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: names + ": already used by another Salesforce user", Err: e}
	case "DUPLICATE_COMM_NICKNAME":
		return &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "communityNickname: this nickname is already taken in the Salesforce org", Err: e}
	case "LICENSE_LIMIT_EXCEEDED":
		return invalid("no free Salesforce licence for the user's profile", e)
	}
	switch rest.KindOf(e) {
	case rest.KindInvalid, rest.KindConflict:
		return invalid(fmt.Sprintf("%s: rejected by Salesforce (%s)", names, e.Code), e)
	}
	return e
}

// uniqueField reports whether e refuses a value of FederationIdentifier that another user has.
// Decided by the field, not by the code: real orgs answer a duplicate FederationIdentifier with
// "This Federation ID is already in use…" and a code no public source confirms (DUPLICATE_VALUE
// or FIELD_INTEGRITY_EXCEPTION; docs/salesforce-behaviour.md), and uniqueness is the only
// integrity rule Salesforce keeps on that field.
func uniqueField(e *rest.Error) bool {
	switch e.Code {
	case "DUPLICATE_VALUE", "DUPLICATE_EXTERNAL_ID", "FIELD_INTEGRITY_EXCEPTION":
	default:
		return false
	}
	for _, f := range e.Fields {
		if strings.EqualFold(f, "FederationIdentifier") {
			return true
		}
	}
	return false
}

// resolveProfile finds the profile to set. fromDefault says it came from users.defaults.profile.
func (o *operation) resolveProfile(nameOrID string, fromDefault bool) (profile, error) {
	where := ""
	if fromDefault {
		where = " (set by users.defaults.profile)"
	}
	if nameOrID == "" {
		return profile{}, invalid("profile: required by Salesforce; set it in the request or in users.defaults.profile", nil)
	}
	cat, ok, err := o.find(func(c *catalog) bool { _, ok := c.profile(nameOrID); return ok })
	if err != nil {
		return profile{}, err
	}
	if !ok {
		return profile{}, invalid("profile: no Salesforce profile has this name or id"+where, nil)
	}
	p, _ := cat.profile(nameOrID)
	// A user takes its UserType from its profile's licence. One outside users.user_types would be
	// created (or changed) and then be invisible to SCIM: the IdP would read 404 and retry into 409.
	if p.UserType != "" && !slices.Contains(o.b.cfg.UserTypes, p.UserType) {
		return profile{}, invalid(fmt.Sprintf("profile: its users get the Salesforce user type %s, which users.user_types does not include, so SCIM could not see the user%s; choose another profile or add %s to users.user_types", p.UserType, where, p.UserType), nil)
	}
	return p, nil
}

// dryRunUser is the answer to a create under dry_run: the mapped user, never sent. Its id is
// clearly synthetic ("005DRYRUN" and a hash of the username): reading it back gives 404, which is
// honest — nothing was created.
func (b *Backend) dryRunUser(fields map[string]any, prof profile, psAdd []group, frozen bool) scimschema.Resource {
	f := maps.Clone(fields)
	sum := sha256.Sum256([]byte(fmt.Sprint(f["Username"])))
	f["Id"] = "005DRYRUN" + strings.ToUpper(hex.EncodeToString(sum[:]))[:9]
	if _, ok := f["IsActive"]; !ok {
		f["IsActive"] = true
	}
	delete(f, "ProfileId")
	f["Name"] = strings.TrimSpace(str(f["FirstName"]) + " " + str(f["LastName"]))
	rec := scimschema.UserRecord{Fields: f, Frozen: frozen, ProfileName: prof.Name, GroupsRead: true, Groups: []scimschema.Ref{}}
	for _, g := range psAdd {
		rec.Groups = append(rec.Groups, scimschema.Ref{ID: g.ID, Display: g.Label})
	}
	return b.mapper.ToResource(rec)
}

// extensionValue returns attrs' Salesforce extension attribute name, or nil.
func extensionValue(attrs map[string]any, name string) any {
	ext, _ := attrs[scimschema.SalesforceUserURN].(map[string]any)
	for k, v := range ext {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}
