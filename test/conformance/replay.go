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
	// Requires lists ServiceProviderConfig capabilities every step needs beyond those a step's own
	// request shows (PATCH needs patch, a filter query needs filter).
	Requires []string `json:"requires"`
	// Vars are defined before the first step; values may use ${run}, ${prefix}, ${randomId}.
	Vars  map[string]string `json:"vars"`
	Steps []step            `json:"steps"`
}

// step is one request and what the response must be; each step is one result of the IdP section.
//
// Expect maps a response path (see lookup) to a JSON value it must equal, to "$present" or
// "$absent", or to {"$len": N} for an array's length. After a 204 answer the expectations are
// checked on a GET of the same path. Capture stores response values (a path, or "header:Name")
// in variables for later steps; a step that uses a variable an earlier step failed to capture does
// not run. DependsOn names earlier steps whose effect this step reads (a removal after an add), so
// it does not run — rather than pass vacuously or fail again — when they did not pass.
// Deviations replaces Expect and Status when that deviation is switched on. IdPSpecific marks a
// request in a form the RFCs do not define (Why says which); such a step's failure says only that
// this IdP's form is not understood.
type step struct {
	Name        string                   `json:"name"`
	IdPSpecific bool                     `json:"idpSpecific"`
	Why         string                   `json:"why"`
	DependsOn   []string                 `json:"dependsOn"`
	Requires    []string                 `json:"requires"`
	Method      string                   `json:"method"`
	Path        string                   `json:"path"`
	Query       map[string]string        `json:"query"`
	Headers     map[string]string        `json:"headers"`
	Body        any                      `json:"body"`
	Status      statusList               `json:"status"`
	Error       bool                     `json:"error"`
	ScimType    string                   `json:"scimType"`
	Expect      map[string]any           `json:"expect"`
	Capture     map[string]string        `json:"capture"`
	Deviations  map[Deviation]stepChange `json:"deviations"`
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
		if err := f.validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		flows = append(flows, f)
	}
	return flows, nil
}

// validate checks what loading cannot: names, statuses, and that dependencies point backwards.
func (f flow) validate() error {
	if f.Name == "" || len(f.Steps) == 0 {
		return fmt.Errorf("a flow needs a name and steps")
	}
	seen := map[string]bool{}
	for i, st := range f.Steps {
		if st.Name == "" || seen[st.Name] {
			return fmt.Errorf("step %d: a step needs a name unique in its flow", i+1)
		}
		if len(st.Status) == 0 {
			return fmt.Errorf("step %q has no status", st.Name)
		}
		if st.IdPSpecific && st.Why == "" {
			return fmt.Errorf("step %q is IdP-specific but does not say why", st.Name)
		}
		for _, d := range st.DependsOn {
			if !seen[d] {
				return fmt.Errorf("step %q depends on %q, which is not an earlier step", st.Name, d)
			}
		}
		seen[st.Name] = true
	}
	return nil
}

// flowRun is one flow's state during a run: its variables, shared by its steps.
type flowRun struct {
	flow flow
	vars map[string]string // nil until the first step runs
}

// checkName is the result name of step i: "IdP-okta/05-profile-update-with-put-and-id-in-the-body".
func (fr *flowRun) checkName(i int) string {
	return fmt.Sprintf("IdP-%s/%02d-%s", fr.flow.Name, i+1, slug(fr.flow.Steps[i].Name))
}

func (fr *flowRun) stepIndex(name string) int {
	return slices.IndexFunc(fr.flow.Steps, func(st step) bool { return st.Name == name })
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

func replayChecks() []check {
	flows, err := loadFlows()
	if err != nil {
		return []check{{name: "IdP-replay/load-fixtures", section: SectionIdP, fn: func(c *C) { c.Fatalf("%v", err) }}}
	}
	var out []check
	for _, f := range flows {
		fr := &flowRun{flow: f}
		for i, st := range f.Steps {
			kind := StepStandard
			if st.IdPSpecific {
				kind = StepIdPSpecific
			}
			out = append(out, check{name: fr.checkName(i), section: SectionIdP, step: kind,
				fn: func(c *C) { c.replayStep(fr, i) }})
		}
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

// initVars defines the flow's variables once, before its first step.
func (fr *flowRun) initVars(c *C) {
	if fr.vars != nil {
		return
	}
	vars := map[string]string{"run": c.s.run, "prefix": c.s.prefix, "randomId": randomID()}
	keys := make([]string, 0, len(fr.flow.Vars))
	for k := range fr.flow.Vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, err := expand(fr.flow.Vars[k], vars)
		if err != nil {
			c.Fatalf("fixture vars.%s: %v", k, err)
		}
		vars[k] = v.(string)
	}
	fr.vars = vars
}

// replayStep runs step i of a flow. It does not run when a step it depends on, or the step that
// captures a variable it uses, did not pass; it is skipped when the server does not advertise what
// it needs. Enterprise-extension data is left out of the request and the expectations when the
// server does not advertise the extension.
func (c *C) replayStep(fr *flowRun, i int) {
	st := fr.flow.Steps[i]
	fr.initVars(c)
	vars := fr.vars
	for _, d := range st.DependsOn {
		c.dependsOn(fr.checkName(fr.stepIndex(d)))
	}
	for _, name := range referencedVars(st) {
		if _, ok := vars[name]; ok {
			continue
		}
		producer := slices.IndexFunc(fr.flow.Steps[:i], func(p step) bool { _, ok := p.Capture[name]; return ok })
		if producer < 0 {
			c.Fatalf("fixture: undefined variable %s", name)
		}
		dep := fr.checkName(producer)
		c.notRunBecause(dep, c.s.status[dep])
	}
	c.requireCaps(append(stepNeeds(st), fr.flow.Requires...)...)
	if !c.s.enterprise {
		st = c.withoutEnterprise(st)
	}

	req := c.stepRequest(st, vars)
	r := c.do(req)
	if req.method == http.MethodPost && (r.status == http.StatusCreated || r.status == http.StatusOK) {
		if slices.Contains(st.Status, r.status) {
			c.s.track(strings.Trim(req.path, "/"), str(r.obj, "id"))
		} else {
			c.refused(r, strings.Trim(req.path, "/"))
		}
	}
	if slices.Contains(st.Status, r.status) {
		// Later steps need the ids even when this step's other expectations fail.
		c.capture(st, r, vars)
	}
	c.judgeStep(st, req, r, vars)
}

// judgeStep checks a step's answer against the fixture's expectation first and, only when that does
// not hold, against each switched-on deviation's (which then marks the check); it ends the check
// with the first problem when none holds.
func (c *C) judgeStep(st step, req request, r *response, vars map[string]string) {
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
	var fetched map[string]any // the resource read after a 204, fetched at most once
	var firstProblem string
	for _, o := range outcomes {
		problem := c.stepOutcome(r, req, o.status, o.expect, vars, &fetched)
		if problem == "" {
			if o.deviation != "" {
				c.deviation = o.deviation
			}
			c.checkStepError(st, r)
			return
		}
		if firstProblem == "" {
			firstProblem = problem
		}
	}
	if st.IdPSpecific {
		firstProblem = "IdP-specific form (" + st.Why + "): " + firstProblem
	}
	c.Fatalf("%s", firstProblem)
}

// stepNeeds lists the capabilities a step's request shows it needs, plus those it names.
func stepNeeds(st step) []string {
	var needs []string
	if strings.EqualFold(st.Method, http.MethodPatch) {
		needs = append(needs, "patch")
	}
	if _, ok := st.Query["filter"]; ok {
		needs = append(needs, "filter")
	}
	return append(needs, st.Requires...)
}

// referencedVars lists the ${names} a step uses anywhere.
func referencedVars(st step) []string {
	data, _ := json.Marshal(struct {
		Path    string
		Query   map[string]string
		Headers map[string]string
		Body    any
		Expect  map[string]any
		Dev     map[Deviation]stepChange
	}{st.Path, st.Query, st.Headers, st.Body, st.Expect, st.Deviations})
	var out []string
	for _, m := range varRef.FindAllSubmatch(data, -1) {
		if name := string(m[1]); !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// withoutEnterprise returns st without enterprise-extension data, for a server that does not
// advertise the extension (as the RFC checks do). A PATCH left with no operation is skipped.
func (c *C) withoutEnterprise(st step) step {
	body, bodyChanged := withoutExtension(st.Body)
	expect, expectChanged := withoutExtension(st.Expect)
	if !bodyChanged && !expectChanged {
		return st
	}
	st.Body = body
	st.Expect, _ = expect.(map[string]any)
	if ops, isPatch := lookupKey(asMap(body), "Operations").([]any); isPatch && len(ops) == 0 {
		c.Skipf("the step only changes enterprise-extension attributes, and the User resource type does not advertise the extension")
	}
	c.Warnf("enterprise-extension data left out: the User resource type does not advertise the extension")
	return st
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// withoutExtension removes, at any depth, keys that name the enterprise extension (alone or as a
// prefix of "urn:…:User:department"), the URN in arrays (schemas), and PATCH operations whose
// path lies in the extension. It reports whether anything was removed.
func withoutExtension(v any) (any, bool) {
	inExt := func(s string) bool { return strings.HasPrefix(strings.ToLower(s), strings.ToLower(enterpriseURN)) }
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		changed := false
		for k, e := range x {
			if inExt(k) {
				changed = true
				continue
			}
			ne, ch := withoutExtension(e)
			out[k], changed = ne, changed || ch
		}
		return out, changed
	case []any:
		out := make([]any, 0, len(x))
		changed := false
		for _, e := range x {
			if s, ok := e.(string); ok && inExt(s) {
				changed = true
				continue
			}
			if m, ok := e.(map[string]any); ok && inExt(str(m, "path")) {
				changed = true
				continue
			}
			ne, ch := withoutExtension(e)
			out, changed = append(out, ne), changed || ch
		}
		return out, changed
	}
	return v, false
}

// stepRequest expands a step's variables into the request it sends.
func (c *C) stepRequest(st step, vars map[string]string) request {
	must := func(v any, err error) any {
		if err != nil {
			c.Fatalf("fixture: %v", err)
		}
		return v
	}
	req := request{method: st.Method, path: must(expand(st.Path, vars)).(string), header: map[string]string{}}
	if st.Body != nil {
		req.body = must(expand(st.Body, vars))
	}
	if len(st.Query) > 0 {
		req.query = map[string][]string{}
		for k, v := range st.Query {
			req.query[k] = []string{must(expand(v, vars)).(string)}
		}
	}
	for k, v := range st.Headers {
		req.header[k] = must(expand(v, vars)).(string)
	}
	return req
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

// checkStepError checks the SCIM error body of a step that expects an error.
func (c *C) checkStepError(st step, r *response) {
	if !st.Error {
		return
	}
	var types []string
	if st.ScimType != "" {
		types = []string{st.ScimType}
	}
	c.checkErrorBody(r, types)
}

// capture stores a step's captures; a value it cannot find fails the step (later steps that use it
// then do not run).
func (c *C) capture(st step, r *response, vars map[string]string) {
	for name, from := range st.Capture {
		var val string
		if h, ok := strings.CutPrefix(from, "header:"); ok {
			val = r.header.Get(h)
		} else {
			val = fmt.Sprint(lookupOr(r.obj, from))
		}
		if val == "" || val == "<nil>" {
			c.Errorf("capture %s: %s is empty in %s", name, from, r)
			continue
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
