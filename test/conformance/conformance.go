// Package conformance is a black-box SCIM 2.0 conformance suite (RFC 7643, RFC 7644) and a set of
// identity-provider replay flows. It talks only HTTP to a SCIM base URL, makes only the requests a
// provisioning client would make, and at the end deletes what it created (or deactivates it where the
// server cannot delete).
//
// Every check is named after the requirement it tests ("RFC7644-3.4.2.2/filter-eq-userName").
// Features a server does not advertise in /ServiceProviderConfig (sort, etag, bulk, changePassword,
// patch, filter) are reported as skipped, not failed. Known, documented deviations of a server are
// accepted only when the caller switches them on (Target.Deviations); the report names every check
// that passed by a deviation.
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
)

// Result is the outcome of one named check.
type Result struct {
	// Check is the full name, "<requirement>/<what>".
	Check string `json:"check"`
	// Requirement is the RFC section (e.g. "RFC7644-3.4.2.2") or the replay flow ("IdP-entra-legacy").
	Requirement string `json:"requirement"`
	Status      Status `json:"status"`
	// Detail explains a failure or a skip.
	Detail string `json:"detail,omitempty"`
	// Deviation is set when the check passed by an accepted deviation rather than the RFC rule.
	Deviation Deviation `json:"deviation,omitempty"`
}

// Execute runs the whole suite against target without a *testing.T (for tools and for testing the
// suite itself). An error means the suite could not start; check failures are in the Report.
func Execute(ctx context.Context, target Target) (Report, error) {
	s, err := newSuite(target)
	if err != nil {
		return Report{}, err
	}
	s.execute(ctx, func(name string, run func() Result) { run() })
	return s.report(), nil
}

// Run runs the suite as subtests of t, one per check: a failed check fails its subtest, a skipped
// check (a capability the server does not advertise) skips it. It returns the report.
func Run(t *testing.T, target Target) Report {
	t.Helper()
	s, err := newSuite(target)
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	s.execute(t.Context(), func(name string, run func() Result) {
		t.Run(name, func(t *testing.T) {
			r := run()
			switch r.Status {
			case Failed:
				t.Error(r.Detail)
			case Skipped:
				t.Skip(r.Detail)
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

	caps         Capabilities
	capsErr      error
	enterprise   bool // the User resource type advertises the enterprise extension
	requests     int
	badMediaType []string // "METHOD path → content type" of responses with a body that was not application/scim+json

	results []Result

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
	}, nil
}

func (s *suite) allows(d Deviation) bool { return slices.Contains(s.target.Deviations, d) }

// check is one named test of the suite.
type check struct {
	name string
	fn   func(*C)
}

// execute runs every check through runCheck, then cleans up. runCheck must call run exactly once.
func (s *suite) execute(ctx context.Context, runCheck func(name string, run func() Result)) {
	for _, ck := range s.checks() {
		runCheck(ck.name, func() Result {
			r := s.runOne(ctx, ck)
			s.results = append(s.results, r)
			return r
		})
	}
	runCheck("suite/cleanup", func() Result {
		r := s.runOne(ctx, check{"suite/cleanup", (*C).cleanup})
		s.results = append(s.results, r)
		return r
	})
	runCheck("RFC7644-3.1/content-type-every-response", func() Result {
		r := s.runOne(ctx, check{"RFC7644-3.1/content-type-every-response", (*C).contentTypeEveryResponse})
		s.results = append(s.results, r)
		return r
	})
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
	all = append(all, replayChecks()...)
	return all
}

// stopCheck is the panic value that ends a check early (Fatalf, Skipf).
type stopCheck struct{}

func (s *suite) runOne(ctx context.Context, ck check) (res Result) {
	c := &C{ctx: ctx, s: s, name: ck.name}
	requirement, _, _ := strings.Cut(ck.name, "/")
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopCheck); !ok {
				c.errs = append(c.errs, fmt.Sprintf("panic: %v", v))
			}
		}
		res = Result{Check: ck.name, Requirement: requirement, Status: Passed}
		switch {
		case len(c.errs) > 0:
			res.Status = Failed
			res.Detail = strings.Join(c.errs, "; ")
		case c.skip != "":
			res.Status = Skipped
			res.Detail = c.skip
		default:
			res.Deviation = c.deviation
		}
	}()
	if err := ctx.Err(); err != nil {
		c.Fatalf("not run: %v", err)
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
		c.Fatalf("ServiceProviderConfig unavailable: %v", c.s.capsErr)
	}
	for _, n := range names {
		if !c.s.caps.has(n) {
			c.Skipf("the server does not advertise %s in /ServiceProviderConfig", n)
		}
	}
}

// user returns the id of a fixture user or ends the check.
func (c *C) user(name string) string {
	id := c.s.users[name]
	if id == "" {
		c.Fatalf("fixture user %q was not created (see RFC7644-3.3/create-user)", name)
	}
	return id
}

func (c *C) group() string {
	if c.s.groupID == "" {
		c.Fatalf("fixture group was not created (see RFC7644-3.3/create-group)")
	}
	return c.s.groupID
}
