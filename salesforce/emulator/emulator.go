// Package emulator is an in-memory Salesforce org that speaks the Salesforce REST API's wire format:
// the OAuth token endpoint (refresh-token, client-credentials and JWT-bearer grants), versioned REST
// under /services/data (sObject CRUD and describe for User, Profile, PermissionSet,
// PermissionSetGroup, PermissionSetAssignment, UserLogin, UserLicense and UserRole, a SOQL subset,
// composite and sObject Collections), Salesforce's error arrays and codes, Sforce-Limit-Info and
// licence counting. Test hooks (reset, fault injection, call counts) live under /__emulator/.
//
// Behaviour follows /work/shared/reference/salesforce-api.md; what that reference marks as
// unconfirmed is configurable through Quirks.
package emulator

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config configures an Emulator. The zero value is usable: it accepts no client credentials but
// serves the default seed.
type Config struct {
	ClientID, ClientSecret string           // accepted connected-app credentials
	RefreshToken           string           // a refresh token that is valid from the start (runs as the first seeded user)
	RotateRefreshTokens    bool             // the refresh grant returns a new refresh_token and invalidates the old one
	TokenTTL               time.Duration    // access-token lifetime; 0 = 2h
	APILimit               int              // daily allowance M in Sforce-Limit-Info; 0 = 15000
	JWTCertificatePEM      []byte           // PEM public key or certificate for jwt-bearer (nil: the flow answers invalid_grant)
	JWTAudiences           []string         // nil = login.salesforce.com, test.salesforce.com and the emulator's own URL
	Seed                   *Seed            // nil = DefaultSeed()
	OtherOrgUsernames      []string         // usernames "taken in another org": creating them → DUPLICATE_USERNAME
	Quirks                 Quirks           // behaviours the reference could not confirm
	Profile                Profile          // ProfileStrict: only documented behaviour, plus what real orgs add
	Now                    func() time.Time // nil = time.Now
}

// Quirks switches behaviours that public sources could not confirm (reference §9). The zero value
// is the best-supported guess for each.
type Quirks struct {
	ProfilePermissionSetErrorCode string // error when assigning a profile-owned PS; "" = INVALID_CROSS_REFERENCE_KEY
	OmitUserLoginRows             bool   // create no UserLogin row for new users
	AllowDuplicateFederationID    bool   // accept a FederationIdentifier another user has (default: DUPLICATE_VALUE)
	// DuplicateFederationIDCode is the errorCode of that refusal; "" = DUPLICATE_VALUE, under the
	// strict profile FIELD_INTEGRITY_EXCEPTION (with the observed message).
	DuplicateFederationIDCode string
	// MissingPermissionSetLicenseCode is the errorCode of an assignment refused because the user
	// lacks the permission set licence the permission set needs; "" = FIELD_INTEGRITY_EXCEPTION.
	MissingPermissionSetLicenseCode string
	// PermissionSetGroupStatusCode is the errorCode of an assignment refused because the group's
	// Status is not Updated; "" = FIELD_INTEGRITY_EXCEPTION.
	PermissionSetGroupStatusCode    string
	DeleteAssignedPermissionSetCode string // error when deleting an assigned PS; "" = DELETE_FAILED
	LicenseLimitMessage             string // "" = "License Limit Exceeded"
	// DeleteUserError answers DELETE /sobjects/User/{id}; nil = 405 METHOD_NOT_ALLOWED
	// "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH".
	DeleteUserError *Error
	// DeactivationBlockerCode is the errorCode of a SetUserDeactivationBlocker refusal;
	// "" = FIELD_INTEGRITY_EXCEPTION.
	DeactivationBlockerCode string
	// RequireCommunityNickname makes CommunityNickname required on create instead of generating it
	// from the e-mail local part.
	RequireCommunityNickname bool
	// RejectMixedCaseUsername refuses a Username with upper-case letters (INVALID_EMAIL_ADDRESS)
	// instead of lower-casing it.
	RejectMixedCaseUsername bool
	// SecondResolutionTimestamps stores audit datetimes (SystemModstamp, LastModifiedDate, …) at
	// whole seconds, as real records show them ("…T17:38:40.000+0000"); changes within one second
	// then share a SystemModstamp. The default keeps milliseconds and strictly increasing stamps.
	SecondResolutionTimestamps bool
	// TokenAPIInstanceURL adds "api_instance_url" (= instance_url) to token answers, as some newer
	// orgs are said to do.
	TokenAPIInstanceURL bool
	// CountTokenRequests counts token and revoke calls toward the daily API allowance.
	CountTokenRequests bool
}

// Stats counts the API calls the emulator has served since the start or the last Reset.
type Stats struct {
	APICalls int            `json:"api_calls"` // what Sforce-Limit-Info reports as used
	ByKind   map[string]int `json:"by_kind"`   // query, composite, sobject_get, …, token (tokens are not API calls)
}

// Emulator is one in-memory org. All methods are safe for concurrent use.
type Emulator struct {
	cfg       Config
	now       func() time.Time
	schema    *schema
	seed      *Seed
	jwtKey    *rsa.PublicKey
	orgID     string
	otherOrgs map[string]bool

	mu        sync.Mutex
	st        *store
	adminID   string // the integration user: the first seeded user
	tokens    map[string]*accessToken
	refreshes map[string]*refreshGrant
	faults    []*activeFault
	cursors   *cursorCache
	blockers  map[string]string // user id → deactivation-blocker message
	apiCalls  int
	byKind    map[string]int
	counter   int  // numbers query locators
	seeding   bool // loading the seed: existing org data, exempt from Quirks that only refuse API input
}

// New validates cfg, loads the seed and returns a ready emulator.
func New(cfg Config) (*Emulator, error) {
	var problems []string
	if cfg.TokenTTL < 0 {
		problems = append(problems, "TokenTTL: must not be negative")
	}
	if cfg.APILimit < 0 {
		problems = append(problems, "APILimit: must not be negative")
	}
	if cfg.Profile != ProfileDefault && cfg.Profile != ProfileStrict {
		problems = append(problems, "Profile: unknown")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 2 * time.Hour
	}
	if cfg.APILimit == 0 {
		cfg.APILimit = 15000
	}
	e := &Emulator{cfg: cfg, now: cfg.Now, schema: newSchema(cfg.Profile), seed: cfg.Seed, otherOrgs: map[string]bool{}}
	if e.now == nil {
		e.now = time.Now
	}
	if e.seed == nil {
		e.seed = DefaultSeed()
	}
	if cfg.JWTCertificatePEM != nil {
		key, err := parseRSAPublicKey(cfg.JWTCertificatePEM)
		if err != nil {
			problems = append(problems, "JWTCertificatePEM: "+err.Error())
		}
		e.jwtKey = key
	}
	for _, u := range cfg.OtherOrgUsernames {
		e.otherOrgs[strings.ToLower(u)] = true
	}
	e.orgID = makeID("00D", 1)
	if len(problems) == 0 {
		if err := e.reset(); err != nil {
			problems = append(problems, "Seed: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, errors.New("emulator: " + strings.Join(problems, "; "))
	}
	return e, nil
}

// reset rebuilds the org from the seed and forgets every token but the configured refresh token.
func (e *Emulator) reset() error {
	e.st = newStore(e.schema)
	e.tokens = map[string]*accessToken{}
	e.refreshes = map[string]*refreshGrant{}
	e.faults = nil
	e.cursors = newCursorCache()
	e.blockers = map[string]string{}
	e.apiCalls = 0
	e.byKind = map[string]int{}
	e.seeding = true
	err := e.loadSeed(e.seed)
	e.seeding = false
	if err != nil {
		return err
	}
	e.st.forget()
	if e.cfg.RefreshToken != "" {
		e.refreshes[e.cfg.RefreshToken] = &refreshGrant{userID: e.adminID}
	}
	return nil
}

// Reset puts the org back to the seed: data, counters, faults, blockers, query cursors and every
// issued token are discarded; the configured refresh token is valid again.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.reset(); err != nil {
		// The same seed loaded in New, so this cannot fail.
		panic(fmt.Sprintf("emulator: reloading the seed: %v", err))
	}
}

// ExpireTokens makes every issued access token invalid now; refresh tokens stay valid.
func (e *Emulator) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens = map[string]*accessToken{}
}

// Stats returns the call counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{APICalls: e.apiCalls, ByKind: make(map[string]int, len(e.byKind))}
	for k, v := range e.byKind {
		s.ByKind[k] = v
	}
	return s
}

// SetUserDeactivationBlocker makes a later PATCH IsActive=false on that user fail with 400
// FIELD_INTEGRITY_EXCEPTION and the given message (Salesforce refuses to deactivate users that
// workflows, default owners and the like still reference). An empty message removes the blocker.
func (e *Emulator) SetUserDeactivationBlocker(userID, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id, ok := normalizeID(userID)
	if !ok {
		return
	}
	if message == "" {
		delete(e.blockers, id)
		return
	}
	e.blockers[id] = message
}

// SetPermissionSetGroupStatus sets a permission set group's Status, as Salesforce does while it
// recalculates the group ("Updating", "Outdated") or after a recalculation failed ("Failed");
// "Updated" ends it. Assignments of a group whose Status is not Updated are refused (help:
// "Permission Set Group Considerations"; the errorCode is Quirks.PermissionSetGroupStatusCode).
func (e *Emulator) SetPermissionSetGroupStatus(groupID, status string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Contains(psgStatuses, status) {
		return fmt.Errorf("emulator: status %q is not one of %v", status, psgStatuses)
	}
	id, ok := normalizeID(groupID)
	row := e.st.get("PermissionSetGroup", id)
	if !ok || row == nil {
		return fmt.Errorf("emulator: no permission set group %s", groupID)
	}
	updated := copyRow(row)
	updated["Status"] = status
	e.st.replace("PermissionSetGroup", id, updated)
	e.st.forget()
	return nil
}

// Direct data access for tests. These calls are not API calls and need no token, but writes go
// through the same validation as the REST API.

// Get returns a copy of one row, nil when there is none.
func (e *Emulator) Get(object, id string) map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.schema.object(object)
	n, ok := normalizeID(id)
	if o == nil || !ok {
		return nil
	}
	return copyRow(e.st.get(o.Name, n))
}

// List returns copies of every row of a type in creation order.
func (e *Emulator) List(object string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.schema.object(object)
	if o == nil {
		return nil
	}
	var out []map[string]any
	for _, r := range e.st.all(o.Name) {
		out = append(out, copyRow(r))
	}
	return out
}

// Insert creates a row as POST /sobjects/{object} would and returns its id. Errors are *Error.
func (e *Emulator) Insert(object string, fields map[string]any) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.st.forget()
	o := e.schema.object(object)
	if o == nil {
		return "", errNotFound()
	}
	id, err := e.create(o, fields, e.adminID)
	if err != nil {
		return "", err
	}
	return id, nil
}

// Update changes a row as PATCH /sobjects/{object}/{id} would. Errors are *Error.
func (e *Emulator) Update(object, id string, fields map[string]any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.st.forget()
	o := e.schema.object(object)
	if o == nil {
		return errNotFound()
	}
	if err := e.update(o, id, fields, e.adminID); err != nil {
		return err
	}
	return nil
}

// Delete removes a row as DELETE /sobjects/{object}/{id} would. Errors are *Error.
func (e *Emulator) Delete(object, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer e.st.forget()
	o := e.schema.object(object)
	if o == nil {
		return errNotFound()
	}
	if err := e.delete(o, id); err != nil {
		return err
	}
	return nil
}
