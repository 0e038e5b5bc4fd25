// Package conformance is a black-box SCIM 2.0 conformance suite (RFC 7643, RFC 7644) and a set of
// identity-provider replay flows. It talks only HTTP to a SCIM base URL, makes only the requests a
// provisioning client would make, and at the end deletes what it created (or deactivates it where the
// server cannot delete).
//
// A run has two results. The RFC section holds checks that rest on RFC 7643/7644 text and accept
// every choice the RFCs leave to the server; each is named after the requirement it tests
// ("RFC7644-3.4.2.2/filter-eq-userName"). The IdP-compatibility section replays what Entra ID, Okta
// and PingOne send, one result per step, each step marked standard or IdP-specific; it tells how far
// real identity providers will get and counts towards the exit status only when asked (Target.IdP).
//
// Features a server does not advertise in /ServiceProviderConfig (sort, etag, bulk, changePassword,
// patch, filter, the enterprise extension) are reported as skipped, not failed. A check whose
// fixture or precondition comes from a failed check reports "not run: depends on …". Known,
// documented deviations of a server are accepted only when the caller switches them on
// (Target.Deviations); the report names every check that passed by a deviation. A URL that serves
// no SCIM or a rejected token stops the run before any check with a *SetupError.
package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// Target is the SCIM server under test.
type Target struct {
	// BaseURL is the SCIM base, e.g. https://scim.example.com/scim/v2.
	BaseURL string
	// Token is the bearer token the suite presents.
	Token string
	// HTTPClient is used for every request; nil = a client with a 30 s timeout.
	HTTPClient *http.Client
	// Deviations are the documented deviations the server is allowed (see docs/conformance.md).
	Deviations []Deviation
	// RunID makes this run's data unique (userNames "scimtest-<RunID>-…"); "" = random.
	RunID string
	// IdP makes failures of the IdP-compatibility section fail the run too (Report.OK, Run).
	IdP bool
}

// Deviation names a documented, deliberate departure from RFC 7643/7644 that a check accepts
// instead of the RFC behaviour when the caller switches it on.
type Deviation string

const (
	// DeleteDeactivates: DELETE /Users/{id} answers 204 but the user stays readable with
	// active=false (Salesforce cannot delete users).
	DeleteDeactivates Deviation = "delete-deactivates"
	// GroupDeleteForbidden: DELETE /Groups/{id} answers 403 with a SCIM error because the server's
	// configuration forbids deleting groups.
	GroupDeleteForbidden Deviation = "group-delete-forbidden"
	// MembershipMerge: PUT /Groups and "replace members" only add members; they never remove a
	// member the request did not name (the bridge's permission_sets: merge).
	MembershipMerge Deviation = "membership-merge"
)

// KnownDeviations lists every deviation the suite understands with what it changes.
func KnownDeviations() map[Deviation]string {
	return map[Deviation]string{
		DeleteDeactivates:    "DELETE /Users/{id} answers 204; a later GET shows the user with active=false instead of 404",
		GroupDeleteForbidden: "DELETE /Groups/{id} may answer 403 with a SCIM error body instead of 204",
		MembershipMerge:      "PUT /Groups and replace members only add members; members not named stay",
	}
}

// ParseDeviations parses a comma-separated list such as "delete-deactivates,group-delete-forbidden".
func ParseDeviations(list string) ([]Deviation, error) {
	known := KnownDeviations()
	var out []Deviation
	var unknown []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, ok := known[Deviation(name)]; !ok {
			unknown = append(unknown, name)
			continue
		}
		out = append(out, Deviation(name))
	}
	if len(unknown) > 0 {
		names := make([]string, 0, len(known))
		for d := range known {
			names = append(names, string(d))
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown deviation %s; known: %s", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return out, nil
}

// Status is the outcome of one check.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	// NotRun: a check this one depends on failed, so its answer would say nothing new.
	NotRun Status = "not run"
)

// Section is the part of the report a result counts in.
type Section string

const (
	// SectionRFC holds checks that rest on RFC 7643/7644 text; it decides the exit status.
	SectionRFC Section = "rfc"
	// SectionIdP holds the IdP replay steps; it decides the exit status only when asked (Target.IdP).
	SectionIdP Section = "idp"
)

// StepKind tells whether an IdP replay step sends what the RFCs define or a form only that
// identity provider uses (Entra's string booleans, PascalCase ops, dotted path-less keys, …).
type StepKind string

const (
	StepStandard    StepKind = "standard"
	StepIdPSpecific StepKind = "idp-specific"
)

// Result is the outcome of one named check.
type Result struct {
	// Check is the full name, "<requirement>/<what>".
	Check string `json:"check"`
	// Requirement is the RFC section (e.g. "RFC7644-3.4.2.2") or the replay flow ("IdP-okta").
	Requirement string  `json:"requirement"`
	Section     Section `json:"section"`
	// Step is set on IdP replay steps.
	Step   StepKind `json:"step,omitempty"`
	Status Status   `json:"status"`
	// Detail explains a failure, a skip or why the check did not run.
	Detail string `json:"detail,omitempty"`
	// Warning is something worth knowing about a passed check (a permitted but unhelpful choice).
	Warning string `json:"warning,omitempty"`
	// Deviation is set when the check passed by an accepted deviation rather than the RFC rule.
	Deviation Deviation `json:"deviation,omitempty"`
}

// Execute runs the whole suite against target without a *testing.T (for tools and for testing the
// suite itself). An error means the suite could not start — a *SetupError when the URL serves no
// SCIM or the token is rejected; check failures are in the Report.
func Execute(ctx context.Context, target Target) (Report, error) {
	s, err := newSuite(target)
	if err != nil {
		return Report{}, err
	}
	if err := s.preflight(ctx); err != nil {
		return Report{}, err
	}
	s.execute(ctx, func(ck check, run func() Result) { run() })
	return s.report(), nil
}

// Run runs the suite as subtests of t, one per check: a failed RFC check fails its subtest, a
// skipped or not-run check skips it. A failed IdP step fails its subtest only with Target.IdP,
// else it is logged. A setup error ends t at once with its plain message. It returns the report.
func Run(t *testing.T, target Target) Report {
	t.Helper()
	s, err := newSuite(target)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	if err := s.preflight(t.Context()); err != nil {
		t.Fatalf("conformance: %v", err)
	}
	s.execute(t.Context(), func(ck check, run func() Result) {
		t.Run(ck.name, func(t *testing.T) {
			r := run()
			switch {
			case r.Status == Failed && (r.Section == SectionRFC || target.IdP):
				t.Error(r.Detail)
			case r.Status == Failed:
				t.Logf("IdP compatibility (%s step) failed: %s", r.Step, r.Detail)
			case r.Status == Skipped || r.Status == NotRun:
				t.Skip(r.Detail)
			}
			if r.Warning != "" {
				t.Logf("warning: %s", r.Warning)
			}
			if r.Deviation != "" {
				t.Logf("passed by deviation %s", r.Deviation)
			}
		})
	})
	return s.report()
}

// suite is one run's state. Checks run one after another; fixtures created by earlier checks are
// used by later ones.
type suite struct {
	target  Target
	base    *url.URL
	client  *http.Client
	run     string // unique run id
	prefix  string // "scimtest-<run>-"
	started time.Time

	caps       Capabilities
	capsErr    error
	enterprise bool // the User resource type advertises the enterprise extension
	// userSchemaLacksGroups: /Schemas/<User> was read and defines no groups attribute.
	userSchemaLacksGroups bool
	// userAlways holds the User attributes /Schemas declares returned "always" (lower case).
	userAlways   map[string]bool
	requests     int
	badMediaType []string // "METHOD path → content type" of responses with a body that was not application/scim+json

	results []Result
	status  map[string]Status // check name → outcome, for dependencies
	rootOf  map[string]string // not-run check → the failed check it ultimately depends on

	users    map[string]string // fixture name → id
	userVals map[string]userFixture
	groupID  string
	groupDN  string

	created createdSet
}

type createdSet struct {
	users  []string
	groups []string
}

func newSuite(target Target) (*suite, error) {
	if target.BaseURL == "" {
		return nil, errors.New("target base URL is empty")
	}
	base, err := url.Parse(strings.TrimRight(target.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("target base URL %q is not an absolute http(s) URL", target.BaseURL)
	}
	client := target.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	run := target.RunID
	if run == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		run = hex.EncodeToString(b[:])
	}
	run = strings.ToLower(run)
	return &suite{
		target:   target,
		base:     base,
		client:   client,
		run:      run,
		prefix:   "scimtest-" + run + "-",
		started:  time.Now(),
		users:    map[string]string{},
		userVals: map[string]userFixture{},
		status:   map[string]Status{},
		rootOf:   map[string]string{},
	}, nil
}

func (s *suite) allows(d Deviation) bool { return slices.Contains(s.target.Deviations, d) }

// check is one named test of the suite. The zero section is the RFC section.
type check struct {
	name    string
	fn      func(*C)
	section Section
	step    StepKind
}

// execute runs every check through runCheck, then cleans up. runCheck must call run exactly once.
func (s *suite) execute(ctx context.Context, runCheck func(ck check, run func() Result)) {
	all := append(s.checks(),
		check{name: "suite/cleanup", fn: (*C).cleanup},
		check{name: "RFC7644-3.1/content-type-every-response", fn: (*C).contentTypeEveryResponse})
	for _, ck := range all {
		runCheck(ck, func() Result {
			r := s.runOne(ctx, ck)
			s.results = append(s.results, r)
			s.status[r.Check] = r.Status
			return r
		})
	}
}

// checks lists the suite in execution order. Later checks use fixtures made by earlier ones.
func (s *suite) checks() []check {
	var all []check
	all = append(all, discoveryChecks()...)
	all = append(all, authChecks()...)
	all = append(all, userChecks()...)
	all = append(all, filterChecks()...)
	all = append(all, listChecks()...)
	all = append(all, patchChecks()...)
	all = append(all, etagChecks()...)
	all = append(all, groupChecks()...)
	all = append(all, errorChecks()...)
	all = append(all, bulkChecks()...)
	all = append(all, idpDiscoveryChecks()...)
	all = append(all, replayChecks()...)
	return all
}

// stopCheck is the panic value that ends a check early (Fatalf, Skipf, notRun).
type stopCheck struct{}

func (s *suite) runOne(ctx context.Context, ck check) (res Result) {
	c := &C{ctx: ctx, s: s, name: ck.name}
	requirement, _, _ := strings.Cut(ck.name, "/")
	section := ck.section
	if section == "" {
		section = SectionRFC
	}
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopCheck); !ok {
				c.errs = append(c.errs, fmt.Sprintf("panic: %v", v))
			}
		}
		res = Result{Check: ck.name, Requirement: requirement, Section: section, Step: ck.step, Status: Passed}
		switch {
		case len(c.errs) > 0:
			res.Status = Failed
			res.Detail = strings.Join(c.errs, "; ")
		case c.notRun != "":
			res.Status = NotRun
			res.Detail = c.notRun
		case c.skip != "":
			res.Status = Skipped
			res.Detail = c.skip
		default:
			res.Deviation = c.deviation
			res.Warning = c.warning
		}
	}()
	if err := ctx.Err(); err != nil {
		c.notRun = "not run: " + err.Error()
		return res
	}
	ck.fn(c)
	return res
}

// C is the context of one running check.
type C struct {
	ctx       context.Context
	s         *suite
	name      string
	errs      []string
	skip      string
	notRun    string
	warning   string
	deviation Deviation
}

// Errorf records a failure and continues the check.
func (c *C) Errorf(format string, args ...any) { c.errs = append(c.errs, fmt.Sprintf(format, args...)) }

// Fatalf records a failure and ends the check.
func (c *C) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	panic(stopCheck{})
}

// Skipf ends the check as skipped.
func (c *C) Skipf(format string, args ...any) {
	c.skip = fmt.Sprintf(format, args...)
	panic(stopCheck{})
}

// Warnf notes something worth knowing on a check that passes.
func (c *C) Warnf(format string, args ...any) { c.warning = fmt.Sprintf(format, args...) }

// dependsOn ends the check as not run unless every named check ran and passed: its own answer
// would only repeat their failure.
func (c *C) dependsOn(checks ...string) {
	for _, name := range checks {
		if st, ok := c.s.status[name]; ok && st != Passed {
			c.notRunBecause(name, st)
		}
	}
}

// notRunBecause ends the check because check dep, which it needs, ended with status st: skipped
// when dep was skipped (a capability not advertised), else not run. When dep did not run either,
// the message names the failed check at the root of the chain.
func (c *C) notRunBecause(dep string, st Status) {
	if st == Skipped {
		c.Skipf("depends on %s, which was skipped", dep)
	}
	if root := c.s.rootOf[dep]; st == NotRun && root != "" {
		dep = root
	}
	c.s.rootOf[c.name] = dep
	c.notRun = "not run: depends on " + dep
	panic(stopCheck{})
}

// deviate reports whether deviation d is allowed and, if so, marks the check as passing by it.
func (c *C) deviate(d Deviation) bool {
	if c.s.allows(d) {
		c.deviation = d
		return true
	}
	return false
}

// requireCaps skips the check unless discovery succeeded and every named capability is advertised.
func (c *C) requireCaps(names ...string) {
	if c.s.capsErr != nil {
		c.notRunBecause(checkServiceProviderConfig, Failed)
	}
	for _, n := range names {
		if !c.s.caps.has(n) {
			c.Skipf("the server does not advertise %s in /ServiceProviderConfig", n)
		}
	}
}

// fixtureCreator names the check that creates each fixture user.
var fixtureCreator = map[string]string{
	"alice": checkCreateUser, "bob": checkCreateUser, "carol": checkCreateUser, "pat": checkCreateUser,
	"scratch": checkPasswordNeverReturned,
}

// user returns the id of a fixture user; without it the check does not run.
func (c *C) user(name string) string {
	id := c.s.users[name]
	if id == "" {
		c.notRunBecause(fixtureCreator[name], c.s.status[fixtureCreator[name]])
	}
	return id
}

func (c *C) group() string {
	if c.s.groupID == "" {
		c.notRunBecause(checkCreateGroup, c.s.status[checkCreateGroup])
	}
	return c.s.groupID
}
