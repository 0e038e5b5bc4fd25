package conformance

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Replay flows are JSON fixtures (testdata/*.json) that reproduce what an identity provider's SCIM
// client sends, step by step, and what it needs back. The files are embedded so the suite works
// from any directory.
//
//go:embed testdata/*.json
var flowFiles embed.FS

// flow is one replay fixture.
type flow struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Source names where the traffic pattern is documented.
	Source string `json:"source"`
	// Requires lists ServiceProviderConfig capabilities the flow needs (patch, filter, …).
	Requires []string `json:"requires"`
	// Vars are defined before the first step; values may use ${run}, ${prefix}, ${randomId}.
	Vars  map[string]string `json:"vars"`
	Steps []step            `json:"steps"`
}

// step is one request and what the response must be.
//
// Expect maps a response path (see lookup) to a JSON value it must equal, to "$present" or
// "$absent", or to {"$len": N} for an array's length. After a 204 answer the expectations are
// checked on a GET of the same path. Capture stores response values (a path, or "header:Name")
// in variables for later steps. Deviations replaces Expect and Status when that deviation is
// switched on.
type step struct {
	Name       string                   `json:"name"`
	Method     string                   `json:"method"`
	Path       string                   `json:"path"`
	Query      map[string]string        `json:"query"`
	Headers    map[string]string        `json:"headers"`
	Body       any                      `json:"body"`
	Status     statusList               `json:"status"`
	Error      bool                     `json:"error"`
	ScimType   string                   `json:"scimType"`
	Expect     map[string]any           `json:"expect"`
	Capture    map[string]string        `json:"capture"`
	Deviations map[Deviation]stepChange `json:"deviations"`
}

type stepChange struct {
	Status statusList     `json:"status"`
	Expect map[string]any `json:"expect"`
}

// statusList decodes a status code or a list of acceptable codes.
type statusList []int

func (s *statusList) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*s = statusList{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("status must be a number or a list of numbers")
	}
	*s = many
	return nil
}

func loadFlows() ([]flow, error) {
	names, err := flowFiles.ReadDir("testdata")
	if err != nil {
		return nil, err
	}
	var flows []flow
	for _, e := range names {
		if path.Ext(e.Name()) != ".json" {
			continue
		}
		data, err := flowFiles.ReadFile("testdata/" + e.Name())
		if err != nil {
			return nil, err
		}
		var f flow
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if f.Name == "" || len(f.Steps) == 0 {
			return nil, fmt.Errorf("%s: a flow needs a name and steps", e.Name())
		}
		flows = append(flows, f)
	}
	return flows, nil
}

func replayChecks() []check {
	flows, err := loadFlows()
	if err != nil {
		return []check{{"IdP-replay/load-fixtures", func(c *C) { c.Fatalf("%v", err) }}}
	}
	var out []check
	for _, f := range flows {
		out = append(out, check{"IdP-replay/" + f.Name, func(c *C) { c.replay(f) }})
	}
	return out
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// expand replaces ${name} in every string of v.
func expand(v any, vars map[string]string) (any, error) {
	switch x := v.(type) {
	case string:
		var missing []string
		out := varRef.ReplaceAllStringFunc(x, func(m string) string {
			name := m[2 : len(m)-1]
			val, ok := vars[name]
			if !ok {
				missing = append(missing, name)
			}
			return val
		})
		if len(missing) > 0 {
			return nil, fmt.Errorf("undefined variable %s", strings.Join(missing, ", "))
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ek, err := expand(k, vars)
			if err != nil {
				return nil, err
			}
			ev, err := expand(e, vars)
			if err != nil {
				return nil, err
			}
			out[ek.(string)] = ev
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := expand(e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	}
	return v, nil
}

func (c *C) replay(f flow) {
	c.requireCaps(f.Requires...)
	vars := map[string]string{"run": c.s.run, "prefix": c.s.prefix, "randomId": randomID()}
	keys := make([]string, 0, len(f.Vars))
	for k := range f.Vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := expand(f.Vars[k], vars)
		if err != nil {
			c.Fatalf("vars.%s: %v", k, err)
		}
		vars[k] = v.(string)
	}
	for i, st := range f.Steps {
		c.replayStep(fmt.Sprintf("step %d (%s)", i+1, st.Name), st, vars)
	}
}

func (c *C) replayStep(label string, st step, vars map[string]string) {
	fail := func(format string, args ...any) { c.Fatalf("%s: %s", label, fmt.Sprintf(format, args...)) }
	// The fixture's own expectation comes first; an allowed deviation is used only when the
	// response does not meet it, and then marks the check.
	type outcome struct {
		deviation Deviation
		status    statusList
		expect    map[string]any
	}
	outcomes := []outcome{{"", st.Status, st.Expect}}
	for d, change := range st.Deviations {
		if c.s.allows(d) {
			o := outcome{d, st.Status, st.Expect}
			if len(change.Status) > 0 {
				o.status = change.Status
			}
			if change.Expect != nil {
				o.expect = change.Expect
			}
			outcomes = append(outcomes, o)
		}
	}
	p, err := expand(st.Path, vars)
	if err != nil {
		fail("%v", err)
	}
	req := request{method: st.Method, path: p.(string), header: map[string]string{}}
	if st.Body != nil {
		b, err := expand(st.Body, vars)
		if err != nil {
			fail("%v", err)
		}
		req.body = b
	}
	if len(st.Query) > 0 {
		req.query = map[string][]string{}
		for k, v := range st.Query {
			ev, err := expand(v, vars)
			if err != nil {
				fail("%v", err)
			}
			req.query[k] = []string{ev.(string)}
		}
	}
	for k, v := range st.Headers {
		ev, err := expand(v, vars)
		if err != nil {
			fail("%v", err)
		}
		req.header[k] = ev.(string)
	}
	r := c.do(req)
	if r.status == http.StatusCreated && r.obj != nil && req.method == http.MethodPost {
		c.s.track(strings.Trim(req.path, "/"), str(r.obj, "id"))
	}
	if len(st.Status) == 0 {
		fail("fixture has no status")
	}
	var fetched map[string]any // the resource read after a 204, fetched at most once
	var firstProblem string
	for _, o := range outcomes {
		problem := c.stepOutcome(r, req, o.status, o.expect, vars, &fetched)
		if problem == "" {
			if o.deviation != "" {
				c.deviation = o.deviation
			}
			c.captureStep(label, st, r, vars)
			return
		}
		if firstProblem == "" {
			firstProblem = problem
		}
	}
	fail("%s", firstProblem)
}

// stepOutcome checks status, error body and expectations of one step; "" means they hold.
func (c *C) stepOutcome(r *response, req request, status statusList, expect map[string]any, vars map[string]string, fetched *map[string]any) string {
	if !slices.Contains(status, r.status) {
		return fmt.Sprintf("%s; want status %v", r, []int(status))
	}
	if len(expect) == 0 {
		return ""
	}
	body := r.obj
	if r.status == http.StatusNoContent {
		if *fetched == nil {
			g := c.get(strings.SplitN(req.path, "?", 2)[0], nil)
			if g.status != http.StatusOK || g.obj == nil {
				return fmt.Sprintf("after 204, %s; want 200", g)
			}
			*fetched = g.obj
		}
		body = *fetched
	}
	if body == nil {
		return fmt.Sprintf("%s; want a JSON body", r)
	}
	ex, err := expand(any(expect), vars)
	if err != nil {
		return err.Error()
	}
	paths := make([]string, 0, len(expect))
	for k := range ex.(map[string]any) {
		paths = append(paths, k)
	}
	slices.Sort(paths)
	var problems []string
	for _, p := range paths {
		if msg := assertPath(body, p, ex.(map[string]any)[p]); msg != "" {
			problems = append(problems, msg)
		}
	}
	if len(problems) > 0 {
		return fmt.Sprintf("%s %s: %s", req.method, req.path, strings.Join(problems, "; "))
	}
	return ""
}

// captureStep checks a step's error body and stores its captures; it ends the check on a problem.
func (c *C) captureStep(label string, st step, r *response, vars map[string]string) {
	fail := func(format string, args ...any) { c.Fatalf("%s: %s", label, fmt.Sprintf(format, args...)) }
	if st.Error {
		before := len(c.errs)
		var types []string
		if st.ScimType != "" {
			types = []string{st.ScimType}
		}
		c.checkErrorBody(r, types)
		if len(c.errs) > before {
			fail("error body: %s", strings.Join(c.errs[before:], "; "))
		}
	}
	for name, from := range st.Capture {
		var val string
		if h, ok := strings.CutPrefix(from, "header:"); ok {
			val = r.header.Get(h)
		} else {
			val = fmt.Sprint(lookupOr(r.obj, from))
		}
		if val == "" || val == "<nil>" {
			fail("capture %s: %s is empty in %s", name, from, r)
		}
		vars[name] = val
	}
}

func lookupOr(v any, p string) any {
	got, _ := lookup(v, p)
	return got
}

// assertPath checks one expectation and returns a description of a mismatch, "" when it holds.
func assertPath(body map[string]any, p string, want any) string {
	got, ok := lookup(body, p)
	switch w := want.(type) {
	case string:
		switch w {
		case "$present":
			if !ok {
				return p + " absent; want present"
			}
			return ""
		case "$absent":
			if ok {
				if arr, isArr := got.([]any); isArr && len(arr) == 0 {
					return ""
				}
				return fmt.Sprintf("%s = %v; want absent", p, got)
			}
			return ""
		}
	case map[string]any:
		if n, isLen := w["$len"]; isLen && len(w) == 1 {
			arr, _ := got.([]any)
			if float64(len(arr)) != n {
				return fmt.Sprintf("%s has %d elements; want %v", p, len(arr), n)
			}
			return ""
		}
	}
	if !ok {
		return fmt.Sprintf("%s absent; want %v", p, want)
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s = %v; want %v", p, got, want)
	}
	return ""
}
