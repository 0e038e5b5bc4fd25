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
		add("token obtained", false, "%s; check salesforce.url, salesforce.login_url, salesforce.flow and the client id, secret, refresh token or JWT key", safeText(err))
		return steps
	}
	add("token obtained", true, "OAuth token accepted by Salesforce")

	version := b.c.APIVersion()
	if vs, err := b.c.Versions(ctx); err != nil {
		add("API version available", false, "listing API versions failed: %s", safeText(err))
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
		add("User describe readable", false, "%s; the integration user needs the API Enabled and View Setup and Configuration permissions", safeText(err))
	} else {
		add("User describe readable", true, "%d User fields", len(d.Fields))
		if problems := b.checkDefaults(d); len(problems) > 0 {
			add("user defaults valid", false, "%s", strings.Join(problems, "; "))
		} else {
			add("user defaults valid", true, "every users.defaults value is accepted by this org")
		}
	}

	o := b.op(ctx)
	cat, err := o.load(nil)
	if err != nil {
		add("default profile found", false, "loading profiles and permission sets failed: %s; the integration user needs Manage Users and Assign Permission Sets", safeText(err))
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
		n := len(cat.exposed)
		if n == 0 {
			add("exposed permission sets found", false, "no permission set matches groups.source %q and groups.include; no SCIM Group will be visible", b.cfg.Groups.Source)
		} else {
			add("exposed permission sets found", true, "%d exposed as SCIM Groups", n)
		}
	}

	if u := b.c.Usage(); !u.Known {
		add("API calls remaining", false, "Salesforce sent no Sforce-Limit-Info header")
	} else {
		add("API calls remaining", u.Used < u.Max, "%d of %d daily API calls remaining", max(u.Max-u.Used, 0), u.Max)
	}
	return steps
}

// checkDefaults compares users.defaults with the org's User describe: each key must be a User field
// and a restricted picklist's value one of its active values, else every create would fail late.
func (b *Backend) checkDefaults(d *Describe) []string {
	fields := map[string]DescribeField{}
	for _, f := range d.Fields {
		fields[strings.ToLower(f.Name)] = f
	}
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
