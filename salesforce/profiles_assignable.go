package salesforce

import (
	"strings"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// users.assignable_profiles: without it any IdP token could make anyone a System Administrator.

// assignable reports whether users.assignable_profiles lets a request name profile p. An entry is
// a profile id (15 or 18 characters) or a name, compared as Salesforce compares names.
func (b *Backend) assignable(p profile) bool {
	if len(b.cfg.AssignableProfiles) == 0 {
		return true
	}
	// users.defaults.profile is the operator's own choice: always assignable.
	for _, entry := range append([]string{b.cfg.Users.Defaults["profile"]}, b.cfg.AssignableProfiles...) {
		if id, ok := rest.CanonicalID(strings.TrimSpace(entry), rest.PrefixProfile); ok && rest.SameID(id, p.ID) {
			return true
		}
		if strings.EqualFold(strings.TrimSpace(entry), p.Name) {
			return true
		}
	}
	return false
}

// notAssignable is the refusal of a profile outside users.assignable_profiles.
func notAssignable() error {
	return &scimschema.Error{Kind: scimschema.KindForbidden,
		Detail: "profile: users.assignable_profiles does not include this profile, so the bridge may not assign it; ask the operator to add it or choose an allowed profile"}
}

// missingAssignable lists the users.assignable_profiles entries that name no profile in cat.
func (b *Backend) missingAssignable(cat *catalog) []string {
	var missing []string
	for _, entry := range b.cfg.AssignableProfiles {
		if _, ok := cat.profile(strings.TrimSpace(entry)); !ok {
			missing = append(missing, entry)
		}
	}
	return missing
}
