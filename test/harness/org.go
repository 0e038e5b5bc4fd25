package harness

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// Org reads (and, as an admin would, writes) what Salesforce holds, behind the bridge's back. Ids
// compare in their case-sensitive 15-character form: Salesforce answers either form.
type Org struct {
	*emulator.Emulator
}

// User returns the User row; the test fails when there is none.
func (o Org) User(t testing.TB, id string) map[string]any {
	t.Helper()
	row := o.Get("User", id)
	if row == nil {
		t.Fatalf("Salesforce has no User %s", id)
	}
	return row
}

// UserByUsername returns the id of the User with that Username (case-insensitively).
func (o Org) UserByUsername(t testing.TB, username string) string {
	t.Helper()
	for _, u := range o.List("User") {
		if strings.EqualFold(Str(u["Username"]), username) {
			return Str(u["Id"])
		}
	}
	t.Fatalf("Salesforce has no User %q", username)
	return ""
}

// UsersWith returns the ids of the Users any of whose text fields contains s (case-insensitively).
func (o Org) UsersWith(s string) []string {
	var ids []string
	for _, row := range o.List("User") {
		for _, v := range row {
			if str, ok := v.(string); ok && strings.Contains(strings.ToLower(str), strings.ToLower(s)) {
				ids = append(ids, fmt.Sprint(row["Id"]))
				break
			}
		}
	}
	return ids
}

// Frozen reports UserLogin.IsFrozen of a user; the test fails when the user has no UserLogin row.
func (o Org) Frozen(t testing.TB, userID string) bool {
	t.Helper()
	for _, row := range o.List("UserLogin") {
		if SameID(Str(row["UserId"]), userID) {
			v, _ := row["IsFrozen"].(bool)
			return v
		}
	}
	t.Fatalf("Salesforce has no UserLogin row for User %s", userID)
	return false
}

// Profile returns the id of the profile with that Name.
func (o Org) Profile(t testing.TB, name string) string {
	t.Helper()
	return o.mustID(t, "Profile", "Name", name, "profile")
}

// PermissionSet returns the id of the permission set with that Label.
func (o Org) PermissionSet(t testing.TB, label string) string {
	t.Helper()
	return o.mustID(t, "PermissionSet", "Label", label, "permission set labelled")
}

// mustID returns the Id of the first object row whose field is value; the test fails, saying
// "Salesforce has no <what> <value>", when there is none.
func (o Org) mustID(t testing.TB, object, field, value, what string) string {
	t.Helper()
	for _, row := range o.List(object) {
		if row[field] == value {
			return Str(row["Id"])
		}
	}
	t.Fatalf("Salesforce has no %s %q", what, value)
	return ""
}

// ProfilePermissionSet returns the id of the permission set owned by the named profile.
func (o Org) ProfilePermissionSet(t testing.TB, profileName string) string {
	t.Helper()
	prof := o.Profile(t, profileName)
	for _, ps := range o.List("PermissionSet") {
		if owned, _ := ps["IsOwnedByProfile"].(bool); owned && SameID(Str(ps["ProfileId"]), prof) {
			return Str(ps["Id"])
		}
	}
	t.Fatalf("Salesforce has no permission set owned by profile %q", profileName)
	return ""
}

// ProfileOwned is the set of (15-character) ids of the permission sets owned by profiles.
func (o Org) ProfileOwned() map[string]bool {
	out := map[string]bool{}
	for _, ps := range o.List("PermissionSet") {
		if owned, _ := ps["IsOwnedByProfile"].(bool); owned {
			out[ID15(Str(ps["Id"]))] = true
		}
	}
	return out
}

// AssignedSets returns the ids (as stored, sorted) of the permission sets assigned to a user
// other than those its profile owns.
func (o Org) AssignedSets(userID string) []string {
	owned := o.ProfileOwned()
	out := []string{}
	for _, a := range o.List("PermissionSetAssignment") {
		ps := Str(a["PermissionSetId"])
		if SameID(Str(a["AssigneeId"]), userID) && ps != "" && !owned[ID15(ps)] {
			out = append(out, ps)
		}
	}
	slices.Sort(out)
	return out
}

// Members returns the ids (sorted) of the users assigned a permission set.
func (o Org) Members(psID string) []string {
	return o.assignmentIDs("PermissionSetId", psID, "AssigneeId")
}

// assignmentIDs returns, sorted and never nil, the take field of the PermissionSetAssignment rows
// whose match field names id.
func (o Org) assignmentIDs(match, id, take string) []string {
	out := []string{}
	for _, a := range o.List("PermissionSetAssignment") {
		if SameID(Str(a[match]), id) {
			out = append(out, Str(a[take]))
		}
	}
	slices.Sort(out)
	return out
}

// Assign makes a permission set assignment directly in Salesforce (not through the bridge).
func (o Org) Assign(t testing.TB, userID, psID string) {
	t.Helper()
	if _, err := o.Insert("PermissionSetAssignment", map[string]any{"AssigneeId": userID, "PermissionSetId": psID}); err != nil {
		t.Fatalf("assigning %s to %s in Salesforce: %v", psID, userID, err)
	}
}

// UserState is everything Salesforce holds about one user: the User row, its UserLogin and the
// ids of all its permission-set assignments (profile-owned included), sorted.
func (o Org) UserState(id string) map[string]any {
	state := map[string]any{"User": o.Get("User", id)}
	for _, row := range o.List("UserLogin") {
		if SameID(Str(row["UserId"]), id) {
			state["UserLogin"] = row
		}
	}
	assigned := o.assignmentIDs("AssigneeId", id, "PermissionSetId")
	state["assignments"] = assigned
	return state
}

// GroupState is a permission set's row and the ids of its assignees, sorted.
func (o Org) GroupState(id string) map[string]any {
	state := map[string]any{"PermissionSet": o.Get("PermissionSet", id)}
	assignees := o.assignmentIDs("PermissionSetId", id, "AssigneeId")
	state["assignees"] = assignees
	return state
}

// APICalls is the number of Salesforce API calls so far (token calls are not API calls).
func (o Org) APICalls() int { return o.Stats().APICalls }

// Str is v when it is a string, else "".
func Str(v any) string {
	s, _ := v.(string)
	return s
}

// ID15 is a Salesforce id's case-sensitive 15-character form.
func ID15(id string) string {
	if len(id) == 18 {
		return id[:15]
	}
	return id
}

// SameID reports whether two Salesforce ids name the same record, in whichever form.
func SameID(a, b string) bool { return a != "" && ID15(a) == ID15(b) }
