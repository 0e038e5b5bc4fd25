package salesforce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CheckStep is one line of the "Test connection" report.
type CheckStep struct {
	Name   string
	OK     bool
	Detail string
}

// Check runs the "Test connection" steps: token, API version, User describe, default profile,
// exposed permission sets and API usage. Every failing step says what to fix and never shows a
// secret. Only a token failure stops the run (nothing else can work without one).
func (b *Backend) Check(ctx context.Context) []CheckStep {
	var steps []CheckStep
	add := func(name string, ok bool, format string, args ...any) {
		steps = append(steps, CheckStep{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}

	if err := b.c.Token(ctx); err != nil {
		if KindOf(err) == KindAuth {
			// The client's message already names the setting to fix.
			add("token obtained", false, "%s", safeText(err))
		} else {
			add("token obtained", false, "%s; check salesforce.url and salesforce.login_url", safeText(err))
		}
		return steps
	}
	add("token obtained", true, "OAuth token accepted by Salesforce")

	version := b.c.APIVersion()
	if vs, err := b.c.Versions(ctx); err != nil {
		add("API version available", false, "listing API versions failed: %s; %s", safeText(err), fixFor(err, "check salesforce.url"))
	} else if !slices.ContainsFunc(vs, func(v Version) bool { return v.Version == version }) {
		newest := ""
		if len(vs) > 0 {
			newest = vs[len(vs)-1].Version
		}
		add("API version available", false, "API version %s is not offered by this org (newest %s); set salesforce.api_version", version, newest)
	} else {
		add("API version available", true, "API version %s", version)
	}

	if d, err := b.c.Describe(ctx, "User"); err != nil {
		add("User describe readable", false, "%s; %s", safeText(err), fixFor(err, "the integration user needs the API Enabled and View Setup and Configuration permissions"))
	} else {
		add("User describe readable", true, "%d User fields", len(d.Fields))
		fields := describedFields(d)
		if problems := append(b.checkDefaults(fields), b.checkMapping(fields)...); len(problems) > 0 {
			add("user defaults and mapping valid", false, "%s", strings.Join(problems, "; "))
		} else {
			add("user defaults and mapping valid", true, "every users.defaults value and mapped field exists in this org")
		}
	}

	o := b.op(ctx)
	cat, err := o.load(nil, 0)
	if err != nil {
		add("default profile found", false, "loading profiles and permission sets failed: %s; %s", safeText(err), fixFor(err, "the integration user needs Manage Users and Assign Permission Sets"))
	} else {
		def := b.cfg.Users.Defaults["profile"]
		switch p, ok := cat.profile(def); {
		case def == "":
			add("default profile found", false, "users.defaults.profile is not set: every create must name a profile")
		case !ok:
			add("default profile found", false, "no profile named by users.defaults.profile exists in this org; set it to one of the org's profile names or ids")
		default:
			add("default profile found", true, "profile %q (%s)", p.Name, p.ID)
		}
		if len(b.cfg.AssignableProfiles) > 0 {
			if missing := b.missingAssignable(cat); len(missing) > 0 {
				add("assignable profiles found", false, "users.assignable_profiles names profiles this org lacks: %s", strings.Join(missing, ", "))
			} else {
				add("assignable profiles found", true, "%d profiles", len(b.cfg.AssignableProfiles))
			}
		}
		n := len(cat.exposed)
		if n == 0 {
			add("exposed permission sets found", false, "no permission set matches groups.source %q and groups.include, so no SCIM Group will be visible; widen groups.include or create a permission set in Salesforce", b.cfg.Groups.Source)
		} else {
			add("exposed permission sets found", true, "%d exposed as SCIM Groups", n)
		}
	}

	if u := b.c.Usage(); !u.Known {
		add("API calls remaining", false, "Salesforce sent no Sforce-Limit-Info header; check that salesforce.url is the org's My Domain URL")
	} else {
		detail := fmt.Sprintf("%d of %d daily API calls remaining", max(u.Max-u.Used, 0), u.Max)
		if u.Used >= u.Max {
			detail += "; the org's daily allowance is used up: wait for it to recover or buy more API calls"
		}
		add("API calls remaining", u.Used < u.Max, "%s", detail)
	}
	return steps
}

// describedFields indexes a describe's fields by lower-cased name.
func describedFields(d *Describe) map[string]DescribeField {
	fields := make(map[string]DescribeField, len(d.Fields))
	for _, f := range d.Fields {
		fields[strings.ToLower(f.Name)] = f
	}
	return fields
}

// checkDefaults compares users.defaults with the org's User describe: each key must be a User field
// and a restricted picklist's value one of its active values, else every create would fail late.
func (b *Backend) checkDefaults(fields map[string]DescribeField) []string {
	var problems []string
	for key, value := range b.cfg.Users.Defaults {
		if key == "profile" {
			continue
		}
		f, ok := fields[strings.ToLower(key)]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("users.defaults.%s: the org's User object has no such field", key))
		case f.RestrictedPicklist && !slices.ContainsFunc(f.PicklistValues, func(v PicklistValue) bool {
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
func (b *Backend) checkMapping(fields map[string]DescribeField) []string {
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
	if KindOf(err) == KindLimited {
		return "the org's daily API allowance is used up (REQUEST_LIMIT_EXCEEDED): wait for it to recover or buy more API calls"
	}
	return advice
}

// safeText describes a client error for an operator. The client's Error text carries the HTTP
// status and Salesforce's code but never a message that could echo values, nor a secret.
func safeText(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return strings.TrimPrefix(e.Error(), "salesforce: ")
	}
	switch KindOf(err) {
	case KindUnavailable:
		return "Salesforce is unreachable (network error or timeout)"
	case KindAuth:
		return "Salesforce refused the credentials"
	}
	return "unexpected error"
}
