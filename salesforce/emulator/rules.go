package emulator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)
	// developerName: letters, digits and underscores, starting with a letter, no double or trailing underscore.
	developerNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$`)
)

const msgDeveloperName = "The API Name can only contain underscores and alphanumeric characters. It must be unique, " +
	"begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores."

// readFields turns a request body's fields into typed values of o's fields, rejecting unknown,
// read-only and mistyped fields the way Salesforce does.
func (e *Emulator) readFields(o *objectDef, raw map[string]any, creating bool) (map[string]any, *Error) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values := map[string]any{}
	var readOnly []string
	for _, k := range keys {
		if strings.EqualFold(k, "attributes") {
			continue
		}
		f := o.field(k)
		if f == nil {
			return nil, newError(http.StatusBadRequest, "INVALID_FIELD",
				fmt.Sprintf("No such column '%s' on sobject of type %s", k, o.Name))
		}
		if f.Name == "Id" {
			return nil, newError(http.StatusBadRequest, "INVALID_FIELD", msgIDInBody)
		}
		if creating && !f.Createable || !creating && !f.Updateable {
			readOnly = append(readOnly, f.Name)
			continue
		}
		v, err := coerce(f, raw[k])
		if err != nil {
			return nil, err
		}
		values[f.Name] = v
	}
	if readOnly != nil {
		return nil, fieldError("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "+
			strings.Join(readOnly, ", ")+". Please check the security settings of this field and verify that it is "+
			"read/write for your profile or permission set.", readOnly...)
	}
	return values, nil
}

var datetimeLayouts = []string{
	"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano, "2006-01-02T15:04:05.000Z",
	"2006-01-02T15:04:05Z", "2006-01-02",
}

// coerce converts one JSON (or Go) value to the store's representation of field f.
func coerce(f *fieldDef, v any) (any, *Error) {
	parseErr := func() *Error {
		return newError(http.StatusBadRequest, "JSON_PARSER_ERROR", fmt.Sprintf(
			"Cannot deserialize instance of %s from %v value or request may be missing a required field", f.Type, describeJSON(v)))
	}
	if v == nil {
		if f.Type == "boolean" {
			return false, nil
		}
		return nil, nil
	}
	switch f.Type {
	case "boolean":
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if strings.EqualFold(b, "true") {
				return true, nil
			}
			if strings.EqualFold(b, "false") {
				return false, nil
			}
		}
		return nil, parseErr()
	case "int", "double":
		var x float64
		switch n := v.(type) {
		case json.Number:
			f, err := n.Float64()
			if err != nil {
				return nil, parseErr()
			}
			x = f
		case float64:
			x = n
		case int:
			x = float64(n)
		case string:
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return nil, parseErr()
			}
			x = f
		default:
			return nil, parseErr()
		}
		if f.Type == "int" {
			if x != math.Trunc(x) {
				return nil, parseErr()
			}
			return int(x), nil
		}
		return x, nil
	case "datetime", "date":
		switch t := v.(type) {
		case time.Time:
			return t.UTC().Truncate(time.Millisecond), nil
		case string:
			if t == "" {
				return nil, nil
			}
			for _, layout := range datetimeLayouts {
				if p, err := time.Parse(layout, t); err == nil {
					return p.UTC().Truncate(time.Millisecond), nil
				}
			}
		}
		return nil, parseErr()
	case "reference", "id":
		s, ok := v.(string)
		if !ok {
			return nil, parseErr()
		}
		if s == "" {
			return nil, nil
		}
		id, ok := normalizeID(s)
		if !ok {
			return nil, fieldError("MALFORMED_ID", fmt.Sprintf("%s: id value of incorrect type: %s", f.Label, s), f.Name)
		}
		return id, nil
	default: // string-like
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		case int:
			s = strconv.Itoa(x)
		case bool:
			s = strconv.FormatBool(x)
		default:
			return nil, parseErr()
		}
		if s == "" {
			return nil, nil // Salesforce stores empty strings as null
		}
		return s, nil
	}
}

func describeJSON(v any) string {
	switch v.(type) {
	case string:
		return "VALUE_STRING"
	case bool:
		return "VALUE_BOOLEAN"
	case json.Number, float64, int:
		return "VALUE_NUMBER"
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	}
	return "VALUE"
}

// checkValues applies the generic field rules (required, length, restricted picklist) to the
// fields named in changed, or to every field when creating.
func checkValues(o *objectDef, row map[string]any, changed map[string]any, creating bool) *Error {
	var missing []string
	for _, f := range o.Fields {
		_, isChanged := changed[f.Name]
		if creating && f.Required && row[f.Name] == nil ||
			!creating && isChanged && !f.Nillable && f.Type != "boolean" && row[f.Name] == nil {
			missing = append(missing, f.Name)
		}
	}
	if missing != nil {
		return errRequiredMissing(missing)
	}
	for _, f := range o.Fields {
		if _, isChanged := changed[f.Name]; !isChanged {
			continue
		}
		s, ok := row[f.Name].(string)
		if !ok {
			continue
		}
		if f.Length > 0 && f.Type != "reference" && utf8.RuneCountInString(s) > f.Length {
			return fieldError("STRING_TOO_LONG", fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, s, f.Length), f.Name)
		}
		if f.Restricted && !slices.Contains(f.Picklist, s) {
			return fieldError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, s), f.Name)
		}
	}
	return nil
}

// emptyRow returns a row with every field of o present: defaults where o has them, nil otherwise.
func emptyRow(o *objectDef) map[string]any {
	row := make(map[string]any, len(o.Fields))
	for _, f := range o.Fields {
		switch {
		case f.Type == "boolean":
			row[f.Name] = false
		case f.DefaultValue != "":
			row[f.Name] = f.DefaultValue
		default:
			row[f.Name] = nil
		}
	}
	return row
}

// auditStamp is the time a change is recorded with: milliseconds and strictly increasing by
// default, whole seconds with Quirks.SecondResolutionTimestamps.
func (e *Emulator) auditStamp() time.Time {
	if e.cfg.Quirks.SecondResolutionTimestamps {
		return e.now().UTC().Truncate(time.Second)
	}
	return e.st.stamp(e.now())
}

// stampCreate and stampUpdate maintain the audit fields a type has.
func (e *Emulator) stampCreate(o *objectDef, row map[string]any, id, actor string) {
	now := e.auditStamp()
	if actor == "" {
		actor = id // the first seeded user creates itself
	}
	for _, name := range []string{"CreatedDate", "LastModifiedDate", "SystemModstamp"} {
		if o.field(name) != nil {
			row[name] = now
		}
	}
	for _, name := range []string{"CreatedById", "LastModifiedById"} {
		if o.field(name) != nil {
			row[name] = actor
		}
	}
}

func (e *Emulator) stampUpdate(o *objectDef, row map[string]any, actor string) {
	now := e.auditStamp()
	for _, name := range []string{"LastModifiedDate", "SystemModstamp"} {
		if o.field(name) != nil {
			row[name] = now
		}
	}
	if o.field("LastModifiedById") != nil && actor != "" {
		row["LastModifiedById"] = actor
	}
}

// lookupID resolves a caller-supplied record id of type o.
func (e *Emulator) lookupID(o *objectDef, id string) (string, map[string]any, *Error) {
	n, ok := normalizeID(id)
	if !ok {
		return "", nil, errMalformedID(o, id)
	}
	row := e.st.get(o.Name, n)
	if row == nil {
		return n, nil, errNotFound()
	}
	return n, row, nil
}

// exists reports whether a reference value points at a row of the given type.
func (e *Emulator) exists(object string, id any) bool {
	s, ok := id.(string)
	return ok && e.st.get(object, s) != nil
}

// create validates and stores a new row of type o, with every side effect Salesforce has.
func (e *Emulator) create(o *objectDef, raw map[string]any, actor string) (string, *Error) {
	if !o.Createable {
		return "", errMethodNotAllowed(http.MethodPost, o.allowedMethods())
	}
	values, err := e.readFields(o, raw, true)
	if err != nil {
		return "", err
	}
	row := emptyRow(o)
	for k, v := range values {
		row[k] = v
	}
	if _, given := values["IsActive"]; o.Name == "User" && !given {
		row["IsActive"] = true // defaulted on create; true in every org observed
	}
	if err := checkValues(o, row, row, true); err != nil {
		return "", err
	}
	id := e.st.newID(o)
	row["Id"] = id
	switch o.Name {
	case "User":
		err = e.checkUser(row, nil)
	case "Profile":
		err = e.checkProfile(row, nil)
	case "PermissionSet":
		err = e.checkPermissionSet(row, nil)
	case "PermissionSetGroup":
		err = e.checkPermissionSetGroup(row, nil)
	case "PermissionSetAssignment":
		err = e.checkAssignment(row)
	case "PermissionSetLicenseAssign":
		err = e.checkLicenseAssignment(row)
	case "UserRole":
		err = e.checkRole(row)
	}
	if err != nil {
		return "", err
	}
	e.stampCreate(o, row, id, actor)
	e.st.insert(o.Name, id, row)
	switch o.Name {
	case "PermissionSetLicenseAssign":
		e.recountPermissionSetLicense(strValue(row, "PermissionSetLicenseId"))
	case "User":
		e.afterUserCreate(row, actor)
	case "Profile":
		e.createProfilePermissionSet(row, actor)
	case "PermissionSetGroup":
		e.createGroupPermissionSet(row, actor)
	}
	return id, nil
}

// update validates and applies a partial change to the row id of type o.
func (e *Emulator) update(o *objectDef, id string, raw map[string]any, actor string) *Error {
	if !o.Updateable {
		return errMethodNotAllowed(http.MethodPatch, o.allowedMethods())
	}
	id, prev, err := e.lookupID(o, id)
	if err != nil {
		return err
	}
	values, err := e.readFields(o, raw, false)
	if err != nil {
		return err
	}
	row := copyRow(prev)
	for k, v := range values {
		row[k] = v
	}
	if err := checkValues(o, row, values, false); err != nil {
		return err
	}
	if e.strict() {
		if err := e.strictStateRules(o, row, prev, actor); err != nil {
			return err
		}
	}
	switch o.Name {
	case "User":
		err = e.checkUser(row, prev)
	case "Profile":
		err = e.checkProfile(row, prev)
	case "PermissionSet":
		err = e.checkPermissionSet(row, prev)
	case "PermissionSetGroup":
		err = e.checkPermissionSetGroup(row, prev)
	case "UserRole":
		err = e.checkRole(row)
	case "UserLogin":
		if values["IsPasswordLocked"] == true && prev["IsPasswordLocked"] != true {
			err = fieldError("FIELD_INTEGRITY_EXCEPTION", "Is Password Locked: the API can only unlock a user's password", "IsPasswordLocked")
		}
	}
	if err != nil {
		return err
	}
	e.stampUpdate(o, row, actor)
	e.st.replace(o.Name, id, row)
	switch o.Name {
	case "User":
		e.afterUserUpdate(row, prev, actor)
	case "Profile":
		e.syncOwnedPermissionSet("ProfileId", row, "Name", actor)
	case "PermissionSetGroup":
		e.syncOwnedPermissionSet("PermissionSetGroupId", row, "MasterLabel", actor)
	}
	return nil
}

// delete removes the row id of type o.
func (e *Emulator) delete(o *objectDef, id string) *Error {
	if !o.Deletable {
		return errMethodNotAllowed(http.MethodDelete, o.allowedMethods())
	}
	id, row, err := e.lookupID(o, id)
	if err != nil {
		return err
	}
	switch o.Name {
	case "PermissionSetAssignment":
		if ps := e.st.get("PermissionSet", strValue(row, "PermissionSetId")); ps != nil && boolValue(ps, "IsOwnedByProfile") {
			return e.profilePermissionSetError()
		}
	case "PermissionSet":
		if boolValue(row, "IsOwnedByProfile") || row["PermissionSetGroupId"] != nil {
			return errReadOnlyPermissionSet()
		}
		if e.assigned("PermissionSetId", id) {
			return e.deleteAssignedError("permission set")
		}
	case "PermissionSetGroup":
		if e.assigned("PermissionSetGroupId", id) {
			return e.deleteAssignedError("permission set group")
		}
		if ps := e.st.findBy("PermissionSet", "PermissionSetGroupId", id, nil); ps != nil {
			e.st.remove("PermissionSet", ps["Id"].(string))
		}
	case "Profile":
		if e.st.has("User", "ProfileId", id) {
			return fieldError("DELETE_FAILED", "Your attempt to delete "+strValue(row, "Name")+" could not be completed because it is associated with users.")
		}
		if ps := e.st.findBy("PermissionSet", "ProfileId", id, nil); ps != nil {
			e.st.remove("PermissionSet", ps["Id"].(string))
		}
	case "UserRole":
		if e.st.has("User", "UserRoleId", id) {
			return fieldError("DELETE_FAILED", "Your attempt to delete "+strValue(row, "Name")+" could not be completed because it is associated with users.")
		}
	case "PermissionSetLicenseAssign":
		if ps := e.licensedAssignment(strValue(row, "AssigneeId"), strValue(row, "PermissionSetLicenseId")); ps != "" {
			return fieldError("DELETE_FAILED", "The user is assigned the permission set "+ps+", which needs this permission set license.")
		}
		defer e.recountPermissionSetLicense(strValue(row, "PermissionSetLicenseId"))
	}
	e.st.remove(o.Name, id)
	return nil
}

func (e *Emulator) assigned(field, id string) bool {
	return e.st.has("PermissionSetAssignment", field, id)
}

func (e *Emulator) deleteAssignedError(what string) *Error {
	code := e.cfg.Quirks.DeleteAssignedPermissionSetCode
	if code == "" {
		code = "DELETE_FAILED"
	}
	return fieldError(code, "Your attempt to delete this "+what+" could not be completed because it is assigned to one or more users.")
}

func (e *Emulator) profilePermissionSetError() *Error {
	code := e.cfg.Quirks.ProfilePermissionSetErrorCode
	if code == "" {
		code = "INVALID_CROSS_REFERENCE_KEY"
	}
	return fieldError(code, "You can't assign or unassign a permission set that is owned by a profile.", "PermissionSetId")
}

func errReadOnlyPermissionSet() *Error {
	return fieldError("INSUFFICIENT_ACCESS_OR_READONLY",
		"insufficient access rights on object id: permission sets owned by a profile or a permission set group cannot be modified")
}

// User rules.

// checkUser validates a new (prev nil) or changed User row and fills its derived fields.
func (e *Emulator) checkUser(row, prev map[string]any) *Error {
	changed := func(f string) bool { return prev == nil || row[f] != prev[f] }
	id := row["Id"].(string)
	if changed("Username") {
		username := strValue(row, "Username")
		if e.cfg.Quirks.RejectMixedCaseUsername && !e.seeding && username != strings.ToLower(username) {
			return fieldError("INVALID_EMAIL_ADDRESS", "Username: invalid email address: "+username, "Username")
		}
		username = strings.ToLower(username)
		row["Username"] = username
		if !emailPattern.MatchString(username) {
			return fieldError("INVALID_EMAIL_ADDRESS", "Username: invalid email address: "+username, "Username")
		}
	}
	if changed("Email") && !emailPattern.MatchString(strValue(row, "Email")) {
		return fieldError("INVALID_EMAIL_ADDRESS", "Email: invalid email address: "+strValue(row, "Email"), "Email")
	}
	for _, ref := range []struct{ field, object string }{{"ProfileId", "Profile"}, {"ManagerId", "User"}, {"UserRoleId", "UserRole"}} {
		if row[ref.field] != nil && changed(ref.field) && !e.exists(ref.object, row[ref.field]) {
			return errCrossReference(ref.field)
		}
	}
	if changed("Username") {
		username := strValue(row, "Username")
		taken := e.otherOrgs[username] || e.st.findBy("User", "Username", username, func(r map[string]any) bool {
			return r["Id"] != id
		}) != nil
		if taken {
			return fieldError("DUPLICATE_USERNAME", msgDuplicateUser, "Username")
		}
	}
	if row["CommunityNickname"] == nil && prev == nil {
		if e.cfg.Quirks.RequireCommunityNickname && !e.seeding {
			return errRequiredMissing([]string{"CommunityNickname"})
		}
		row["CommunityNickname"] = e.generateNickname(row)
	} else if changed("CommunityNickname") {
		nick := strValue(row, "CommunityNickname")
		if e.st.findBy("User", "CommunityNickname", nick, func(r map[string]any) bool { return r["Id"] != id }) != nil {
			return fieldError("DUPLICATE_COMM_NICKNAME", msgDuplicateNickname, "CommunityNickname")
		}
	}
	if fed := strValue(row, "FederationIdentifier"); fed != "" && changed("FederationIdentifier") && !e.cfg.Quirks.AllowDuplicateFederationID {
		if other := e.st.findBy("User", "FederationIdentifier", fed, func(r map[string]any) bool { return r["Id"] != id }); other != nil {
			return e.duplicateFederationID(other)
		}
	}
	profile := e.st.get("Profile", strValue(row, "ProfileId"))
	row["UserType"] = strValue(profile, "UserType")
	row["Name"] = strings.TrimSpace(strValue(row, "FirstName") + " " + strValue(row, "LastName"))

	active := boolValue(row, "IsActive")
	wasActive := prev != nil && boolValue(prev, "IsActive")
	if prev != nil && wasActive && !active {
		if msg, blocked := e.blockers[id]; blocked {
			return fieldError(cmp.Or(e.cfg.Quirks.DeactivationBlockerCode, "FIELD_INTEGRITY_EXCEPTION"), msg)
		}
	}
	license := strValue(profile, "UserLicenseId")
	consumesNewSeat := active && (!wasActive || changed("ProfileId") && e.licenseOf(prev) != license)
	if consumesNewSeat {
		lic := e.st.get("UserLicense", license)
		if lic != nil && e.st.usedSeats(license) >= intValue(lic, "TotalLicenses") {
			msg := e.cfg.Quirks.LicenseLimitMessage
			if msg == "" {
				msg = "License Limit Exceeded"
			}
			return fieldError("LICENSE_LIMIT_EXCEEDED", msg)
		}
	}
	return nil
}

func intValue(r map[string]any, field string) int {
	n, _ := r[field].(int)
	return n
}

// licenseOf returns the UserLicense id a user consumes through the profile.
func (e *Emulator) licenseOf(user map[string]any) string {
	return strValue(e.st.get("Profile", strValue(user, "ProfileId")), "UserLicenseId")
}

// recountLicenses refreshes UserLicense.UsedLicenses after user changes from the store's seat
// counts; it costs one step per licence, not per user.
func (e *Emulator) recountLicenses() {
	for _, lic := range e.st.all("UserLicense") {
		id := lic["Id"].(string)
		if used := e.st.usedSeats(id); used != intValue(lic, "UsedLicenses") {
			next := copyRow(lic)
			next["UsedLicenses"] = used
			e.st.replace("UserLicense", id, next)
		}
	}
}

// generateNickname derives a unique CommunityNickname from the e-mail local part, as Salesforce
// does when none is given (the exact scheme is unconfirmed; uniqueness is what matters).
func (e *Emulator) generateNickname(row map[string]any) string {
	base := strValue(row, "Email")
	if i := strings.IndexByte(base, '@'); i > 0 {
		base = base[:i]
	}
	if base == "" {
		base = "user"
	}
	if len(base) > 32 {
		base = base[:32]
	}
	nick := base
	if !e.st.has("User", "CommunityNickname", nick) {
		return nick
	}
	// Start after the suffix last handed out for this base, so that many users with the same
	// e-mail local part do not each walk every taken suffix.
	hint := foldKey(base)
	n := e.st.nicknameNext[hint]
	for {
		n++
		nick = base + strconv.Itoa(n)
		if !e.st.has("User", "CommunityNickname", nick) {
			e.st.nicknameNext[hint] = n
			return nick
		}
	}
}

func (e *Emulator) afterUserCreate(user map[string]any, actor string) {
	id := user["Id"].(string)
	if !e.cfg.Quirks.OmitUserLoginRows {
		login := emptyRow(e.schema.object("UserLogin"))
		loginID := e.st.newID(e.schema.object("UserLogin"))
		login["Id"], login["UserId"] = loginID, id
		e.stampCreate(e.schema.object("UserLogin"), login, loginID, firstNonEmpty(actor, id))
		e.st.insert("UserLogin", loginID, login)
	}
	e.assignProfilePermissionSet(id, strValue(user, "ProfileId"), actor)
	e.recountLicenses()
}

func (e *Emulator) afterUserUpdate(user, prev map[string]any, actor string) {
	id := user["Id"].(string)
	if user["ProfileId"] != prev["ProfileId"] {
		if old := e.ownedPermissionSet("ProfileId", strValue(prev, "ProfileId")); old != "" {
			if psa := e.st.findBy("PermissionSetAssignment", "AssigneeId", id, func(r map[string]any) bool {
				return r["PermissionSetId"] == old
			}); psa != nil {
				e.st.remove("PermissionSetAssignment", psa["Id"].(string))
			}
		}
		e.assignProfilePermissionSet(id, strValue(user, "ProfileId"), actor)
	}
	e.recountLicenses()
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ownedPermissionSet returns the id of the permission set owned by a profile or a PSG.
func (e *Emulator) ownedPermissionSet(ownerField, ownerID string) string {
	return strValue(e.st.findBy("PermissionSet", ownerField, ownerID, nil), "Id")
}

// assignProfilePermissionSet creates the hidden assignment every user has to the profile's
// permission set (Salesforce keeps it in step with User.ProfileId).
func (e *Emulator) assignProfilePermissionSet(userID, profileID, actor string) {
	ps := e.ownedPermissionSet("ProfileId", profileID)
	if ps == "" {
		return
	}
	o := e.schema.object("PermissionSetAssignment")
	row := emptyRow(o)
	id := e.st.newID(o)
	row["Id"], row["AssigneeId"], row["PermissionSetId"], row["IsActive"] = id, userID, ps, true
	e.stampCreate(o, row, id, firstNonEmpty(actor, userID))
	e.st.insert(o.Name, id, row)
}

// Profile rules.

func (e *Emulator) checkProfile(row, prev map[string]any) *Error {
	id := row["Id"].(string)
	if prev == nil || row["Name"] != prev["Name"] {
		name := strValue(row, "Name")
		if other := e.st.findBy("Profile", "Name", name, func(r map[string]any) bool { return r["Id"] != id }); other != nil {
			return fieldError("DUPLICATE_VALUE", "duplicate value found: Name duplicates value on record with id: "+other["Id"].(string), "Name")
		}
	}
	if prev == nil {
		lic := e.st.get("UserLicense", strValue(row, "UserLicenseId"))
		if lic == nil {
			return errCrossReference("UserLicenseId")
		}
		if row["UserType"] == nil || row["UserType"] == "Standard" {
			row["UserType"] = userTypeForLicense(strValue(lic, "Name"))
		}
	}
	return nil
}

// userTypeForLicense is the UserType of users holding a licence: Chatter Free and Chatter External
// users are "CsnOnly", everyone else "Standard".
func userTypeForLicense(name string) string {
	if strings.HasPrefix(strings.ToLower(name), "chatter") {
		return "CsnOnly"
	}
	return "Standard"
}

// createProfilePermissionSet creates the permission set every profile owns (API v25+).
func (e *Emulator) createProfilePermissionSet(profile map[string]any, actor string) {
	o := e.schema.object("PermissionSet")
	row := emptyRow(o)
	id := e.st.newID(o)
	profileID := profile["Id"].(string)
	row["Id"], row["Name"], row["Label"] = id, "X"+profileID[:15], profile["Name"]
	row["IsOwnedByProfile"], row["ProfileId"], row["Type"] = true, profileID, "Profile"
	row["LicenseId"] = profile["UserLicenseId"]
	e.stampCreate(o, row, id, actor)
	e.st.insert(o.Name, id, row)
}

// createGroupPermissionSet creates the aggregate permission set a permission set group owns.
func (e *Emulator) createGroupPermissionSet(group map[string]any, actor string) {
	o := e.schema.object("PermissionSet")
	row := emptyRow(o)
	id := e.st.newID(o)
	groupID := group["Id"].(string)
	row["Id"], row["Name"], row["Label"] = id, "X"+groupID[:15], group["MasterLabel"]
	row["PermissionSetGroupId"], row["Type"], row["IsCustom"] = groupID, "Group", true
	e.stampCreate(o, row, id, actor)
	e.st.insert(o.Name, id, row)
}

// syncOwnedPermissionSet keeps an owned permission set's Label equal to its owner's name.
func (e *Emulator) syncOwnedPermissionSet(ownerField string, owner map[string]any, labelField, actor string) {
	ps := e.st.findBy("PermissionSet", ownerField, strValue(owner, "Id"), nil)
	if ps == nil || ps["Label"] == owner[labelField] {
		return
	}
	next := copyRow(ps)
	next["Label"] = owner[labelField]
	e.stampUpdate(e.schema.object("PermissionSet"), next, actor)
	e.st.replace("PermissionSet", next["Id"].(string), next)
}

// Permission set and group rules.

func (e *Emulator) checkDeveloperName(object, field string, row, prev map[string]any) *Error {
	if prev != nil && row[field] == prev[field] {
		return nil
	}
	name := strValue(row, field)
	if !developerNamePattern.MatchString(name) {
		return fieldError("FIELD_INTEGRITY_EXCEPTION", msgDeveloperName, field)
	}
	id := row["Id"]
	if other := e.st.findBy(object, field, name, func(r map[string]any) bool { return r["Id"] != id }); other != nil {
		return fieldError("DUPLICATE_VALUE", fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s", field, other["Id"]), field)
	}
	return nil
}

func (e *Emulator) checkPermissionSet(row, prev map[string]any) *Error {
	if prev != nil && (boolValue(prev, "IsOwnedByProfile") || prev["PermissionSetGroupId"] != nil) {
		return errReadOnlyPermissionSet()
	}
	if err := e.checkDeveloperName("PermissionSet", "Name", row, prev); err != nil {
		return err
	}
	if prev == nil {
		if row["LicenseId"] != nil && !e.exists("UserLicense", row["LicenseId"]) && !e.exists("PermissionSetLicense", row["LicenseId"]) {
			return errCrossReference("LicenseId")
		}
		row["IsCustom"], row["Type"] = true, "Regular"
	}
	return nil
}

func (e *Emulator) checkPermissionSetGroup(row, prev map[string]any) *Error {
	if prev == nil {
		row["Status"] = "Updated"
	}
	return e.checkDeveloperName("PermissionSetGroup", "DeveloperName", row, prev)
}

func (e *Emulator) checkRole(row map[string]any) *Error {
	if row["ParentRoleId"] != nil && !e.exists("UserRole", row["ParentRoleId"]) {
		return errCrossReference("ParentRoleId")
	}
	return nil
}

// checkAssignment validates a new PermissionSetAssignment and fills PermissionSetId for a group
// assignment (Salesforce points it at the group's aggregate permission set).
func (e *Emulator) checkAssignment(row map[string]any) *Error {
	userID := strValue(row, "AssigneeId")
	user := e.st.get("User", userID)
	if user == nil {
		return errCrossReference("AssigneeId")
	}
	psID, groupID := strValue(row, "PermissionSetId"), strValue(row, "PermissionSetGroupId")
	if (psID == "") == (groupID == "") {
		return fieldError("FIELD_INTEGRITY_EXCEPTION",
			"Specify exactly one of PermissionSetId and PermissionSetGroupId.", "PermissionSetId", "PermissionSetGroupId")
	}
	if groupID != "" {
		psg := e.st.get("PermissionSetGroup", groupID)
		if psg == nil {
			return errCrossReference("PermissionSetGroupId")
		}
		if status := strValue(psg, "Status"); status != "" && status != "Updated" {
			// Help "Permission Set Group Considerations": a group being recalculated cannot be
			// assigned; the errorCode is not documented.
			return fieldError(cmp.Or(e.cfg.Quirks.PermissionSetGroupStatusCode, "FIELD_INTEGRITY_EXCEPTION"),
				"The permission set group "+strValue(psg, "MasterLabel")+" can't be assigned while its status is "+status+".", "PermissionSetGroupId")
		}
		if dup := e.st.findBy("PermissionSetAssignment", "AssigneeId", userID, func(r map[string]any) bool {
			return r["PermissionSetGroupId"] == groupID
		}); dup != nil {
			return fieldError("DUPLICATE_VALUE", fmt.Sprintf("Duplicate PermissionSetAssignment. Assignee: %s; Permission Set Group: %s", userID, groupID))
		}
		row["PermissionSetId"] = e.ownedPermissionSet("PermissionSetGroupId", groupID)
		row["IsActive"] = true
		return nil
	}
	ps := e.st.get("PermissionSet", psID)
	if ps == nil || ps["PermissionSetGroupId"] != nil {
		return errCrossReference("PermissionSetId")
	}
	if boolValue(ps, "IsOwnedByProfile") {
		return e.profilePermissionSetError()
	}
	if dup := e.st.findBy("PermissionSetAssignment", "AssigneeId", userID, func(r map[string]any) bool {
		return r["PermissionSetId"] == psID && r["PermissionSetGroupId"] == nil
	}); dup != nil {
		return fieldError("DUPLICATE_VALUE", fmt.Sprintf("Duplicate PermissionSetAssignment. Assignee: %s; Permission Set: %s", userID, psID))
	}
	if lic := strValue(ps, "LicenseId"); lic != "" && e.st.get("PermissionSetLicense", lic) != nil {
		if !e.holdsLicense(userID, lic) {
			return e.missingLicenseError(ps, lic)
		}
	} else if lic != "" && lic != e.licenseOf(user) {
		return fieldError("FIELD_INTEGRITY_EXCEPTION", "The user license doesn't allow the permission: "+strValue(ps, "Label"))
	}
	row["IsActive"] = true
	return nil
}

// duplicateFederationID is the refusal of a FederationIdentifier another user has. Real orgs are
// observed to answer "This Federation ID is already in use. Use a different Federation ID." with
// an errorCode no public source shows (reference §9 known unknowns); the strict profile answers
// that text with Quirks.DuplicateFederationIDCode (default FIELD_INTEGRITY_EXCEPTION), the default
// profile the generic duplicate-value error.
func (e *Emulator) duplicateFederationID(other map[string]any) *Error {
	if e.strict() {
		return fieldError(cmp.Or(e.cfg.Quirks.DuplicateFederationIDCode, "FIELD_INTEGRITY_EXCEPTION"),
			"This Federation ID is already in use. Use a different Federation ID.", "FederationIdentifier")
	}
	return fieldError(cmp.Or(e.cfg.Quirks.DuplicateFederationIDCode, "DUPLICATE_VALUE"),
		"duplicate value found: FederationIdentifier duplicates value on record with id: "+other["Id"].(string), "FederationIdentifier")
}

// strictStateRules are refusals real orgs make that no public source words (reference §9 known
// unknowns), so only the strict profile makes them: the running user (the token's) cannot be
// deactivated or frozen, and an inactive user cannot be frozen.
func (e *Emulator) strictStateRules(o *objectDef, row, prev map[string]any, actor string) *Error {
	switch o.Name {
	case "User":
		if boolValue(prev, "IsActive") && !boolValue(row, "IsActive") && sameRecord(strValue(row, "Id"), actor) {
			return fieldError("FIELD_INTEGRITY_EXCEPTION", "You can't deactivate your own user.", "IsActive")
		}
	case "UserLogin":
		if boolValue(row, "IsFrozen") && !boolValue(prev, "IsFrozen") {
			user := e.st.get("User", strValue(row, "UserId"))
			switch {
			case sameRecord(strValue(row, "UserId"), actor):
				return fieldError("FIELD_INTEGRITY_EXCEPTION", "You can't freeze your own user.", "IsFrozen")
			case user != nil && !boolValue(user, "IsActive"):
				return fieldError("FIELD_INTEGRITY_EXCEPTION", "You can't freeze an inactive user.", "IsFrozen")
			}
		}
	}
	return nil
}

// sameRecord compares two ids by their 15-character form.
func sameRecord(a, b string) bool {
	return len(a) >= 15 && len(b) >= 15 && a[:15] == b[:15]
}

// Permission set licences.

// checkLicenseAssignment validates a new PermissionSetLicenseAssign: a user and an active
// licence, not held yet, with a free seat.
func (e *Emulator) checkLicenseAssignment(row map[string]any) *Error {
	userID, licID := strValue(row, "AssigneeId"), strValue(row, "PermissionSetLicenseId")
	if e.st.get("User", userID) == nil {
		return errCrossReference("AssigneeId")
	}
	lic := e.st.get("PermissionSetLicense", licID)
	if lic == nil {
		return errCrossReference("PermissionSetLicenseId")
	}
	if e.holdsLicense(userID, licID) {
		return fieldError("DUPLICATE_VALUE", "duplicate value found: the user already has the permission set license "+strValue(lic, "MasterLabel"))
	}
	if e.pslSeatsUsed(licID) >= intValue(lic, "TotalLicenses") {
		return fieldError("LICENSE_LIMIT_EXCEEDED", cmp.Or(e.cfg.Quirks.LicenseLimitMessage, "License Limit Exceeded"))
	}
	return nil
}

func (e *Emulator) holdsLicense(userID, licID string) bool {
	return e.st.findBy("PermissionSetLicenseAssign", "AssigneeId", userID, func(r map[string]any) bool {
		return sameRecord(strValue(r, "PermissionSetLicenseId"), licID)
	}) != nil
}

func (e *Emulator) pslSeatsUsed(licID string) int {
	n := 0
	for _, r := range e.st.all("PermissionSetLicenseAssign") {
		if sameRecord(strValue(r, "PermissionSetLicenseId"), licID) {
			n++
		}
	}
	return n
}

func (e *Emulator) recountPermissionSetLicense(licID string) {
	if lic := e.st.get("PermissionSetLicense", licID); lic != nil {
		lic["UsedLicenses"] = e.pslSeatsUsed(licID)
	}
}

// licensedAssignment names a permission set the user is assigned that needs the licence, "" when
// there is none.
func (e *Emulator) licensedAssignment(userID, licID string) string {
	for _, a := range e.st.all("PermissionSetAssignment") {
		if !sameRecord(strValue(a, "AssigneeId"), userID) {
			continue
		}
		if ps := e.st.get("PermissionSet", strValue(a, "PermissionSetId")); ps != nil && sameRecord(strValue(ps, "LicenseId"), licID) {
			return strValue(ps, "Label")
		}
	}
	return ""
}

// missingLicenseError refuses assigning a permission set whose permission set licence the user
// lacks. That Salesforce refuses is documented (help: "Assign Permission Set Licenses to
// Users": assign the licence before the permission sets that need it); the errorCode and text
// are not, so the code is Quirks.MissingPermissionSetLicenseCode (default
// FIELD_INTEGRITY_EXCEPTION).
func (e *Emulator) missingLicenseError(ps map[string]any, licID string) *Error {
	lic := e.st.get("PermissionSetLicense", licID)
	return fieldError(cmp.Or(e.cfg.Quirks.MissingPermissionSetLicenseCode, "FIELD_INTEGRITY_EXCEPTION"),
		"The user doesn't have the permission set license "+strValue(lic, "MasterLabel")+" required by the permission set "+strValue(ps, "Label")+".", "PermissionSetId")
}
