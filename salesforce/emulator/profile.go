package emulator

import (
	"fmt"
	"strings"
)

// Profile chooses how much the emulator claims about Salesforce.
//
// ProfileDefault is the best-supported guess for every behaviour, with conveniences the
// reference could not confirm (child relationships on PermissionSetGroup and User.UserLogins,
// references inside sObject Collections records, child subqueries returned whole).
//
// ProfileStrict takes away every behaviour that no public Salesforce source confirms and adds
// what real orgs do that the default lacks (docs/salesforce-behaviour.md lists both):
//   - no PermissionSetGroup.Assignments or User.UserLogins child relationships (INVALID_TYPE);
//   - composite references are not resolved inside sObject Collections record bodies;
//   - child subqueries are paged at 200 rows with their own nextRecordsUrl, and a parent's
//     queryMore invalidates the child cursors of the batches before it;
//   - an unresolvable reference is worded differently from the default (no client may read it);
//   - IN lists of more than 500 values are MALFORMED_QUERY;
//   - a duplicate FederationIdentifier answers with the message observed on real orgs;
//   - permission sets may need a PermissionSetLicense the user must hold first;
//   - the token's own user cannot be deactivated or frozen, an inactive user cannot be frozen.
//
// A behaviour a primary source confirms is the same in both profiles and cites its source next
// to the code.
type Profile int

const (
	ProfileDefault Profile = iota
	ProfileStrict
)

// TestProfileEnv names the environment variable the test harnesses read to choose the profile of
// the emulators they start ("default" or "strict"; empty = default).
const TestProfileEnv = "SCIM_BRIDGE_TEST_EMULATOR_PROFILE"

// ParseProfile reads "default" or "strict" (case-insensitive); "" is the default.
func ParseProfile(s string) (Profile, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return ProfileDefault, nil
	case "strict":
		return ProfileStrict, nil
	}
	return ProfileDefault, fmt.Errorf("unknown emulator profile %q (want default or strict)", s)
}

func (p Profile) String() string {
	if p == ProfileStrict {
		return "strict"
	}
	return "default"
}

// strict reports whether the emulator runs the strict profile.
func (e *Emulator) strict() bool { return e.cfg.Profile == ProfileStrict }

// ProfileFromEnv is the profile TestProfileEnv names in getenv (os.Getenv): test harnesses run
// their suites under either profile this way.
func ProfileFromEnv(getenv func(string) string) (Profile, error) {
	p, err := ParseProfile(getenv(TestProfileEnv))
	if err != nil {
		return ProfileDefault, fmt.Errorf("%s: %w", TestProfileEnv, err)
	}
	return p, nil
}
