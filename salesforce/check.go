package salesforce

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
)

// CheckStep is one line of the "Test connection" report.
type CheckStep struct {
	Name string
	OK   bool
	// Skipped is set when a step this one needs failed: the step did not run, and Detail names
	// the step to fix first (its advice would only repeat or mislead).
	Skipped bool
	Detail  string
}

// Names of the check steps; later steps name earlier ones they need.
const (
	stepTokenFile  = "token_file writable"
	stepToken      = "token obtained"
	stepVersion    = "API version available"
	stepDescribe   = "User describe readable"
	stepUserFields = "user defaults and mapping valid"
	stepProfile    = "default profile found"
	stepPermSets   = "exposed permission sets found"
	stepAssignable = "assignable profiles found"
	stepAllowance  = "API calls remaining"
)

// checkRun collects steps and skips a step whose prerequisites did not pass.
type checkRun struct {
	steps []CheckStep
	// blocked maps a step that did not pass to the failed step at the root: itself when it failed,
	// the failure it waited for when it was skipped.
	blocked map[string]string
}

// step runs f unless a step in needs did not pass; f returns whether it passed and the detail.
func (r *checkRun) step(name string, needs []string, f func() (bool, string)) {
	for _, n := range needs {
		if root, ok := r.blocked[n]; ok {
			r.blocked[name] = root
			r.steps = append(r.steps, CheckStep{Name: name, Skipped: true,
				Detail: fmt.Sprintf("needs %q, which failed; fix that first", root)})
			return
		}
	}
	ok, detail := f()
	if !ok {
		r.blocked[name] = name
	}
	r.steps = append(r.steps, CheckStep{Name: name, OK: ok, Detail: detail})
}

// Check runs the "Test connection" steps: token_file, token, API version, User describe, default
// profile, exposed permission sets and API usage. Every failing step says what to fix and never
// shows a secret; a step that needs a failed one is skipped, saying which.
func (b *Backend) Check(ctx context.Context) []CheckStep {
	r := &checkRun{blocked: map[string]string{}}
	if path := b.c.RotatingTokenFile(); path != "" {
		r.step(stepTokenFile, nil, func() (bool, string) { return checkTokenFile(path) })
	}
	r.step(stepToken, nil, func() (bool, string) { return b.checkToken(ctx) })
	r.step(stepVersion, []string{stepToken}, func() (bool, string) { return b.checkVersion(ctx) })

	var fields map[string]rest.DescribeField
	r.step(stepDescribe, []string{stepVersion}, func() (ok bool, detail string) {
		fields, ok, detail = b.checkDescribe(ctx)
		return ok, detail
	})
	r.step(stepUserFields, []string{stepDescribe}, func() (bool, string) {
		if problems := append(b.checkDefaults(fields), b.checkMapping(fields)...); len(problems) > 0 {
			return false, strings.Join(problems, "; ")
		}
		return true, "every users.defaults value and mapped field exists in this org"
	})

	// The catalog steps share one load, made by the first of them that runs.
	cat := sync.OnceValues(func() (*catalog, error) { return b.operation(ctx).load(nil, 0) })
	r.step(stepProfile, []string{stepVersion}, func() (bool, string) { return b.checkProfile(cat) })
	if len(b.cfg.AssignableProfiles) > 0 {
		r.step(stepAssignable, []string{stepVersion}, func() (bool, string) { return b.checkAssignable(cat) })
	}
	r.step(stepPermSets, []string{stepVersion}, func() (bool, string) { return b.checkPermSets(cat) })
	r.step(stepAllowance, []string{stepVersion}, b.checkAllowance)
	return r.steps
}

func (b *Backend) checkToken(ctx context.Context) (bool, string) {
	err := b.c.Token(ctx)
	switch {
	case err == nil:
		return true, "OAuth token accepted by Salesforce"
	case rest.KindOf(err) == rest.KindAuth:
		return false, safeText(err) // the client's message already names the setting to fix
	}
	return false, safeText(err) + "; check salesforce.url and salesforce.login_url"
}

func (b *Backend) checkVersion(ctx context.Context) (bool, string) {
	version := b.c.APIVersion()
	vs, err := b.c.Versions(ctx)
	if err != nil {
		return false, fmt.Sprintf("listing API versions failed: %s; %s", safeText(err), fixFor(err, "check salesforce.url"))
	}
	if !slices.ContainsFunc(vs, func(v rest.Version) bool { return v.Version == version }) {
		newest := ""
		if len(vs) > 0 {
			newest = vs[len(vs)-1].Version
		}
		return false, fmt.Sprintf("API version %s is not offered by this org (newest %s); set salesforce.api_version", version, newest)
	}
	return true, "API version " + version
}

// checkDescribe reads the User describe; its fields feed the check of defaults and mapping.
func (b *Backend) checkDescribe(ctx context.Context) (map[string]rest.DescribeField, bool, string) {
	d, err := b.c.Describe(ctx, "User")
	if err != nil {
		return nil, false, fmt.Sprintf("%s; %s", safeText(err), fixFor(err, "the integration user needs the API Enabled and View Setup and Configuration permissions"))
	}
	return describedFields(d), true, fmt.Sprintf("%d User fields", len(d.Fields))
}

func (b *Backend) checkProfile(cat func() (*catalog, error)) (bool, string) {
	c, err := cat()
	if err != nil {
		return false, fmt.Sprintf("loading profiles and permission sets failed: %s; %s", safeText(err), fixFor(err, "the integration user needs Manage Users and Assign Permission Sets"))
	}
	return b.checkDefaultProfile(c)
}

func (b *Backend) checkAssignable(cat func() (*catalog, error)) (bool, string) {
	c, err := cat()
	if err != nil {
		return false, fmt.Sprintf("loading profiles failed: %s", safeText(err))
	}
	if missing := b.missingAssignable(c); len(missing) > 0 {
		return false, "users.assignable_profiles names profiles this org lacks: " + strings.Join(missing, ", ")
	}
	return true, fmt.Sprintf("%d profiles", len(b.cfg.AssignableProfiles))
}

func (b *Backend) checkPermSets(cat func() (*catalog, error)) (bool, string) {
	c, err := cat()
	if err != nil {
		return false, fmt.Sprintf("loading permission sets failed: %s", safeText(err))
	}
	if n := len(c.exposed); n > 0 {
		return true, fmt.Sprintf("%d exposed as SCIM Groups", n)
	}
	return false, fmt.Sprintf("no permission set matches groups.source %q and groups.include, so no SCIM Group will be visible; widen groups.include or create a permission set in Salesforce", b.cfg.Groups.Source)
}

func (b *Backend) checkAllowance() (bool, string) {
	u := b.c.Usage()
	if !u.Known {
		return false, "Salesforce sent no Sforce-Limit-Info header; check that salesforce.url is the org's My Domain URL"
	}
	detail := fmt.Sprintf("%d of %d daily API calls remaining", max(u.Max-u.Used, 0), u.Max)
	if u.Used >= u.Max {
		detail += "; the org's daily allowance is used up: wait for it to recover or buy more API calls"
	}
	return u.Used < u.Max, detail
}

// checkDefaultProfile finds users.defaults.profile among the org's profiles; when it is missing the
// answer lists the org's profile names, so the fix can be copied.
func (b *Backend) checkDefaultProfile(cat *catalog) (bool, string) {
	def := b.cfg.Users.Defaults["profile"]
	if def == "" {
		return false, "users.defaults.profile is not set: every create must name a profile"
	}
	if p, ok := cat.profile(def); ok {
		return true, fmt.Sprintf("profile %q (%s)", p.Name, p.ID)
	}
	return false, fmt.Sprintf("users.defaults.profile: no profile %q exists in this org; set it to one of: %s", def, profileNames(cat))
}

// profileNames lists the org's profile names, sorted and quoted, for "one of" hints; a long list is
// cut after 30 names, saying how many more there are.
func profileNames(cat *catalog) string {
	const most = 30
	names := make([]string, 0, len(cat.profiles))
	for _, p := range cat.profiles {
		names = append(names, strconv.Quote(p.Name))
	}
	slices.Sort(names)
	if len(names) > most {
		return fmt.Sprintf("%s and %d more (Setup → Profiles)", strings.Join(names[:most], ", "), len(names)-most)
	}
	return strings.Join(names, ", ")
}

// checkTokenFile tells whether a rotated refresh token could be saved at path: the bridge replaces
// it through a temporary file in the same directory, so the directory must be writable, and an
// existing file readable.
func checkTokenFile(path string) (bool, string) {
	const why = "a rotated refresh token could not be saved, and after a restart the old one no longer works"
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".check-*")
	if err != nil {
		return false, fmt.Sprintf("salesforce.token_file: cannot create a file in %s (%v): %s; give the bridge's user write access to that directory (systemd: StateDirectory=; Kubernetes: a writable volume)", dir, pathCause(err), why)
	}
	tmp.Close()
	_ = os.Remove(tmp.Name())
	if f, err := os.Open(path); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Sprintf("salesforce.token_file: cannot read %s (%v)", path, pathCause(err))
	}
	return true, path + " can be written"
}

// pathCause is the reason of a file-system error without the path it repeats.
func pathCause(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// describedFields indexes a describe's fields by lower-cased name.
func describedFields(d *rest.Describe) map[string]rest.DescribeField {
	fields := make(map[string]rest.DescribeField, len(d.Fields))
	for _, f := range d.Fields {
		fields[strings.ToLower(f.Name)] = f
	}
	return fields
}

// checkDefaults compares users.defaults with the org's User describe: each key must be a User field
// and a restricted picklist's value one of its active values, else every create would fail late.
func (b *Backend) checkDefaults(fields map[string]rest.DescribeField) []string {
	var problems []string
	for key, value := range b.cfg.Users.Defaults {
		if key == "profile" {
			continue
		}
		f, ok := fields[strings.ToLower(key)]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("users.defaults.%s: the org's User object has no such field", key))
		case f.RestrictedPicklist && !slices.ContainsFunc(f.PicklistValues, func(v rest.PicklistValue) bool {
			return v.Active && strings.EqualFold(v.Value, value)
		}):
			problems = append(problems, fmt.Sprintf("users.defaults.%s: %q is not one of the org's values", key, value))
		}
	}
	slices.Sort(problems)
	return problems
}

// checkMapping compares the User fields the mapping reads and writes with the org's describe: a
// field the org lacks (a custom field not yet created, a typo) would fail every read.
func (b *Backend) checkMapping(fields map[string]rest.DescribeField) []string {
	var problems []string
	named := map[string]bool{}
	for i, e := range b.cfg.Users.Mapping {
		if e.Salesforce == "" {
			continue
		}
		named[strings.ToLower(e.Salesforce)] = true
		if _, ok := fields[strings.ToLower(e.Salesforce)]; !ok {
			problems = append(problems, fmt.Sprintf("users.mapping[%d].salesforce: the org's User object has no field %s", i, e.Salesforce))
		}
	}
	for _, f := range b.mapper.ReadFields() {
		if _, ok := fields[strings.ToLower(f)]; !ok && !strings.Contains(f, ".") && !named[strings.ToLower(f)] {
			problems = append(problems, fmt.Sprintf("the User field %s that the default mapping uses does not exist in this org; map its SCIM attribute elsewhere with users.mapping", f))
		}
	}
	return problems
}

// fixFor is what to do about a failed step: the API allowance when Salesforce refused for that
// reason, else the step's own advice.
func fixFor(err error, advice string) string {
	if rest.KindOf(err) == rest.KindLimited {
		return "the org's daily API allowance is used up (REQUEST_LIMIT_EXCEEDED): wait for it to recover or buy more API calls"
	}
	return advice
}

// safeText describes a client error for an operator. The client's Error text carries the HTTP
// status and Salesforce's code but never a message that could echo values, nor a secret.
func safeText(err error) string {
	var e *rest.Error
	if errors.As(err, &e) {
		return e.Safe()
	}
	switch rest.KindOf(err) {
	case rest.KindUnavailable:
		return "Salesforce is unreachable (network error or timeout)"
	case rest.KindAuth:
		return "Salesforce refused the credentials"
	}
	return "unexpected error"
}
