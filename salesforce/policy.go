package salesforce

import (
	"fmt"

	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

// The provisioning policies an operator chooses in the configuration, as types: a comparison with
// a misspelt policy does not compile. Each zero value is the setting's default. ParseX is the one
// place a configuration word becomes a policy; String gives the word back.

// MembershipMode is provisioning.permission_sets: what a write that states a whole membership (a
// group's members, a user's permissionSets) does to assignments it does not name.
type MembershipMode int

const (
	// Merge keeps assignments the request does not name: the IdP adds and removes only what it
	// manages (the default).
	Merge MembershipMode = iota
	// Overwrite removes assignments the request does not name.
	Overwrite
)

// DisableAction is provisioning.disable_action: what active=false does to a Salesforce user.
type DisableAction int

const (
	// Deactivate sets IsActive false (the default; it frees the licence).
	Deactivate DisableAction = iota
	// Freeze sets UserLogin.IsFrozen true: the user cannot log in but stays active and keeps the
	// licence.
	Freeze
)

// GroupSource is groups.source: which Salesforce objects are SCIM Groups.
type GroupSource int

const (
	// PermissionSets exposes permission sets that no profile owns (the default).
	PermissionSets GroupSource = iota
	// PermissionSetGroups exposes permission set groups.
	PermissionSetGroups
	// PermissionSetsAndGroups exposes both.
	PermissionSetsAndGroups
)

var (
	membershipModeWords = []string{Merge: "merge", Overwrite: "overwrite"}
	disableActionWords  = []string{Deactivate: "disable", Freeze: "freeze"}
	groupSourceWords    = []string{PermissionSets: "permission_sets", PermissionSetGroups: "permission_set_groups", PermissionSetsAndGroups: "both"}
)

// ParseMembershipMode reads provisioning.permission_sets; "" is the default.
func ParseMembershipMode(s string) (MembershipMode, error) {
	i, err := parseWord(s, membershipModeWords)
	return MembershipMode(i), err
}

// ParseDisableAction reads provisioning.disable_action; "" is the default.
func ParseDisableAction(s string) (DisableAction, error) {
	i, err := parseWord(s, disableActionWords)
	return DisableAction(i), err
}

// ParseGroupSource reads groups.source; "" is the default.
func ParseGroupSource(s string) (GroupSource, error) {
	i, err := parseWord(s, groupSourceWords)
	return GroupSource(i), err
}

// policyProblems names the policies in p and g that hold no value ParseX returns (a conversion from
// an int that is not one of the constants).
func policyProblems(p ProvisioningConfig, g GroupsConfig) setting.FieldErrors {
	var problems setting.FieldErrors
	if !known(int(p.DisableAction), disableActionWords) {
		problems.Add("provisioning.disable_action", "%s is not a disable action", p.DisableAction)
	}
	if !known(int(p.PermissionSets), membershipModeWords) {
		problems.Add("provisioning.permission_sets", "%s is not a membership mode", p.PermissionSets)
	}
	if !known(int(g.Source), groupSourceWords) {
		problems.Add("groups.source", "%s is not a group source", g.Source)
	}
	return problems
}

func known(i int, words []string) bool { return i >= 0 && i < len(words) }

func (m MembershipMode) String() string { return word(int(m), membershipModeWords) }
func (a DisableAction) String() string  { return word(int(a), disableActionWords) }
func (s GroupSource) String() string    { return word(int(s), groupSourceWords) }

// parseWord returns the index of s in words, 0 for "". The error lists the words in operator
// language ("must be merge or overwrite, not \"replace\"").
func parseWord(s string, words []string) (int, error) {
	if s == "" {
		return 0, nil
	}
	for i, w := range words {
		if s == w {
			return i, nil
		}
	}
	list := words[0]
	for i, w := range words[1:] {
		if i == len(words)-2 {
			list += " or " + w
		} else {
			list += ", " + w
		}
	}
	return 0, fmt.Errorf("must be %s, not %q", list, s)
}

func word(i int, words []string) string {
	if !known(i, words) {
		return fmt.Sprintf("unknown(%d)", i)
	}
	return words[i]
}
