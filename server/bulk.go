package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Bulk (RFC 7644 §3.7). Each operation is served by the same SCIM handler as a direct request, on
// a request carrying the bulk request's context (request id, logger, token name), headers and host.
// "bulkId:<id>" references in paths and data are replaced by the id the operation with that bulkId
// created; operations run once everything they reference exists, so references may point forward.

const (
	bulkRequestSchema  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkResponseSchema = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	bulkIDPrefix       = "bulkId:"
)

type bulkRequest struct {
	Schemas      []string        `json:"schemas"`
	FailOnErrors int             `json:"failOnErrors"`
	Operations   []bulkOperation `json:"Operations"`
}

type bulkOperation struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`
}

type bulkResult struct {
	Location string          `json:"location,omitempty"`
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`

	id string // the resource id the operation created or addressed
}

type bulkResponse struct {
	Schemas    []string     `json:"schemas"`
	Operations []bulkResult `json:"Operations"`
}

func (s *server) bulk(w http.ResponseWriter, r *http.Request) {
	req, ok := readBulkRequest(w, r)
	if !ok {
		return
	}
	run := newBulkRun(req)
	s.runBulk(r, run)
	resp := bulkResponse{Schemas: []string{bulkResponseSchema}, Operations: []bulkResult{}}
	for _, res := range run.results {
		if res != nil {
			resp.Operations = append(resp.Operations, *res)
		}
	}
	w.Header().Set("Content-Type", scimContentType)
	_ = json.NewEncoder(w).Encode(resp)
}

// readBulkRequest reads and checks a BulkRequest; when it is refused the answer is written and ok is
// false.
func readBulkRequest(w http.ResponseWriter, r *http.Request) (req bulkRequest, ok bool) {
	body, ok := readBody(w, r)
	if !ok {
		return req, false
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, r, scimschema.Errorf(scimschema.KindInvalidSyntax, "the body is not a SCIM BulkRequest"))
		return req, false
	}
	switch {
	case len(req.Schemas) > 0 && !containsFold(req.Schemas, bulkRequestSchema):
		writeError(w, r, scimschema.Errorf(scimschema.KindInvalidValue, "schemas must be [%q]", bulkRequestSchema))
		return req, false
	case len(req.Operations) > maxBulkOperations:
		writeBulkTooMany(w)
		return req, false
	case len(req.Operations) == 0:
		writeError(w, r, scimschema.Errorf(scimschema.KindInvalidValue, "Operations must hold at least one operation"))
		return req, false
	case req.FailOnErrors < 0:
		writeError(w, r, scimschema.Errorf(scimschema.KindInvalidValue, "failOnErrors must not be negative"))
		return req, false
	}
	return req, true
}

// bulkRun is one BulkRequest while its operations run: what each references, what has been
// created or has failed so far, and the results in the order of the request.
type bulkRun struct {
	ops          []bulkOperation
	data         []bulkData // each operation's data, decoded once
	failOnErrors int
	refs         [][]string        // the bulkIds each operation references
	defined      map[string]bool   // bulkIds some POST operation promises to create
	created      map[string]string // bulkId → id
	failed       map[string]bool   // bulkIds whose operation failed
	results      []*bulkResult     // nil for an operation that did not run
	errorCount   int
	stopped      bool // failOnErrors errors were reached: nothing more runs
}

func newBulkRun(req bulkRequest) *bulkRun {
	run := &bulkRun{
		ops:          req.Operations,
		data:         make([]bulkData, len(req.Operations)),
		failOnErrors: req.FailOnErrors,
		refs:         make([][]string, len(req.Operations)),
		defined:      map[string]bool{},
		created:      map[string]string{},
		failed:       map[string]bool{},
		results:      make([]*bulkResult, len(req.Operations)),
	}
	for i, op := range run.ops {
		if op.BulkID != "" && strings.EqualFold(op.Method, http.MethodPost) {
			run.defined[op.BulkID] = true
		}
		run.data[i] = decodeBulkData(op.Data)
		run.refs[i] = bulkReferences(op.Path, run.data[i].doc)
	}
	return run
}

// bulkData is an operation's data, decoded once for its references, its wave and the body it is
// served with. Numbers stay json.Number, so that the body keeps them as the client wrote them.
type bulkData struct {
	doc any
	ok  bool // the operation has data and it is valid JSON
}

func decodeBulkData(raw json.RawMessage) bulkData {
	if len(raw) == 0 {
		return bulkData{}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var d bulkData
	d.ok = dec.Decode(&d.doc) == nil
	return d
}

// record keeps the result of operation i and stops the run when failOnErrors is reached.
func (run *bulkRun) record(i int, res bulkResult) {
	run.results[i] = &res
	status, _ := strconv.Atoi(res.Status)
	if status >= 400 {
		run.errorCount++
		if run.ops[i].BulkID != "" {
			run.failed[run.ops[i].BulkID] = true
		}
	} else if run.ops[i].BulkID != "" && res.id != "" {
		run.created[run.ops[i].BulkID] = res.id
	}
	run.stopped = run.failOnErrors > 0 && run.errorCount >= run.failOnErrors
}

// readiness tells whether every reference of operation i is created (ready), one can no longer be
// (missing names it), or some are still to come.
func (run *bulkRun) readiness(i int) (ready bool, missing string) {
	ready = true
	for _, ref := range run.refs[i] {
		if _, ok := run.created[ref]; ok {
			continue
		}
		if !run.defined[ref] || run.failed[ref] {
			return false, ref
		}
		ready = false
	}
	return ready, ""
}

// runBulk runs the operations in passes over those still pending, until all have run, the run is
// stopped, or a pass runs none (the rest reference each other in a cycle and fail).
func (s *server) runBulk(r *http.Request, run *bulkRun) {
	pending := make([]int, len(run.ops))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 && !run.stopped {
		waiting := s.runBulkPass(r, run, pending)
		if !run.stopped && len(waiting) == len(pending) {
			for _, i := range waiting {
				if run.stopped {
					break
				}
				run.record(i, bulkFailure(r, run.ops[i], scimschema.Errorf(scimschema.KindInvalidValue,
					"the operation's bulkId references form a cycle"), http.StatusConflict))
			}
			return
		}
		pending = waiting
	}
}

// runBulkPass runs, in order, each pending operation whose references are all created (a run of
// ready creates together, as a wave), fails each that references a bulkId no operation will
// create, and returns those still waiting for a reference.
func (s *server) runBulkPass(r *http.Request, run *bulkRun, pending []int) (waiting []int) {
	for k := 0; k < len(pending) && !run.stopped; k++ {
		i := pending[k]
		ready, missing := run.readiness(i)
		if ready {
			if wave := run.wave(pending[k:]); len(wave) > 1 {
				for j, res := range s.runBulkWave(r, run, wave) {
					if !run.stopped {
						run.record(wave[j], res)
					}
				}
				k += len(wave) - 1
				continue
			}
		}
		switch {
		case missing != "":
			run.record(i, bulkFailure(r, run.ops[i], scimschema.Errorf(scimschema.KindInvalidValue,
				"the operation references bulkId %q, which no successful operation created", missing), http.StatusConflict))
		case ready:
			run.record(i, s.runBulkOperation(r, run.ops[i], run.data[i], run.created))
		default:
			waiting = append(waiting, i)
		}
	}
	return waiting
}

// maxBulkWave is the most creates of a BulkRequest that run at once.
const maxBulkWave = 100

// wave is the run of operations, from the start of pending, that may run at once: ready
// creates (POST, every bulkId they reference already created) of distinct userNames and
// displayNames. Creates of different resources do not depend on each other, so running them
// together gives each the answer it has in order, and the backend can combine them into one
// Salesforce call (salesforce.batch_window). Under failOnErrors the wave holds at most as many
// operations as errors are still accepted: the operations that would run before the limit is
// reached in order are exactly those that run.
func (run *bulkRun) wave(pending []int) []int {
	limit := maxBulkWave
	if run.failOnErrors > 0 {
		limit = min(limit, run.failOnErrors-run.errorCount)
	}
	names := map[string]bool{}
	var wave []int
	for _, i := range pending {
		if len(wave) >= limit || !strings.EqualFold(run.ops[i].Method, http.MethodPost) {
			break
		}
		if ready, _ := run.readiness(i); !ready {
			break
		}
		data, _ := run.data[i].doc.(map[string]any)
		name := strings.ToLower(stringValue(data, "userName") + "\x00" + stringValue(data, "displayName"))
		if names[name] {
			break // the same resource twice: the second must see the first
		}
		names[name] = true
		wave = append(wave, i)
	}
	return wave
}

// runBulkWave runs the operations of a wave concurrently and returns their results in order. They
// are companions (scimschema.Companions): the backend may wait for all of them before combining
// them into one Salesforce call.
func (s *server) runBulkWave(r *http.Request, run *bulkRun, wave []int) []bulkResult {
	results := make([]bulkResult, len(wave))
	group := scimschema.NewCompanions(len(wave))
	var wg sync.WaitGroup
	for j, i := range wave {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &scimschema.Companion{Group: group}
			defer c.Arrive() // an operation refused before the backend saw it
			ctx := scimschema.WithCompanion(r.Context(), c)
			results[j] = s.runBulkOperation(r.WithContext(ctx), run.ops[i], run.data[i], run.created) // reads run only
		}()
	}
	wg.Wait()
	return results
}

// bulkFailure is a failed operation result; status overrides the error's own status when non-zero
// (RFC 7644 §3.7.3 answers an unresolvable bulkId with 409).
func bulkFailure(r *http.Request, op bulkOperation, err error, status int) bulkResult {
	st, body := errorResponse(r, err, status)
	return bulkResult{Method: strings.ToUpper(op.Method), BulkID: op.BulkID, Status: strconv.Itoa(st), Response: body}
}

// bulkReferences lists the bulkIds an operation's path and data refer to.
func bulkReferences(path string, data any) []string {
	var refs []string
	for _, seg := range strings.Split(path, "/") {
		if id, ok := strings.CutPrefix(seg, bulkIDPrefix); ok {
			refs = append(refs, id)
		}
	}
	walkStrings(data, func(s string) string {
		refs = append(refs, stringReferences(s)...)
		return s
	})
	return refs
}

// stringValue is the string m holds under key, its letter case ignored as json.Unmarshal does; ""
// when there is none.
func stringValue(m map[string]any, key string) string {
	_, v := lookup(m, key)
	s, _ := v.(string)
	return s
}

// A data string refers to a bulkId when it is "bulkId:<id>" or, inside a PATCH path filter such as
// members[value eq "bulkId:<id>"], when it holds the quoted "bulkId:<id>".
var quotedBulkID = regexp.MustCompile(`"bulkId:([^"\\]+)"`)

func stringReferences(s string) []string {
	if id, ok := strings.CutPrefix(s, bulkIDPrefix); ok {
		return []string{id}
	}
	var refs []string
	for _, m := range quotedBulkID.FindAllStringSubmatch(s, -1) {
		refs = append(refs, m[1])
	}
	return refs
}

// resolveReferences replaces the bulkId references in s (as stringReferences finds them) by the
// ids the operations created.
func resolveReferences(s string, created map[string]string) string {
	if id, ok := strings.CutPrefix(s, bulkIDPrefix); ok {
		if resolved, ok := created[id]; ok {
			return resolved
		}
		return s
	}
	return quotedBulkID.ReplaceAllStringFunc(s, func(m string) string {
		if resolved, ok := created[m[len(`"bulkId:`):len(m)-1]]; ok {
			return strconv.Quote(resolved)
		}
		return m
	})
}

// walkStrings replaces every string value in v (recursively) by f(value) and returns the result.
func walkStrings(v any, f func(string) string) any {
	switch t := v.(type) {
	case string:
		return f(t)
	case map[string]any:
		for k, e := range t {
			t[k] = walkStrings(e, f)
		}
	case []any:
		for i, e := range t {
			t[i] = walkStrings(e, f)
		}
	}
	return v
}

// validBulkTarget reports whether an operation's method and path go together: POST goes to /Users
// or /Groups, the other methods to /Users/{id} or /Groups/{id}.
func validBulkTarget(method, path string) bool {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if !strings.HasPrefix(path, "/") || (parts[0] != "Users" && parts[0] != "Groups") || strings.ContainsAny(path, "?#") {
		return false
	}
	switch method {
	case http.MethodPost:
		return len(parts) == 1
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		return len(parts) == 2 && parts[1] != "" && parts[1] != ".search"
	}
	return false
}

// runBulkOperation serves one operation through the same SCIM handler as a direct request, with its
// bulkId references replaced by the ids created so far. An operation runs once, so its data is
// rewritten in place.
func (s *server) runBulkOperation(r *http.Request, op bulkOperation, data bulkData, created map[string]string) bulkResult {
	method := strings.ToUpper(op.Method)
	path := resolveBulkPath(op.Path, created)
	if err := checkBulkOperation(method, path, op); err != nil {
		return bulkFailure(r, op, err, 0)
	}
	var body []byte
	if method != http.MethodDelete {
		if !data.ok {
			return bulkFailure(r, op, scimschema.Errorf(scimschema.KindInvalidSyntax, "data is not valid JSON"), 0)
		}
		body, _ = json.Marshal(walkStrings(data.doc, func(v string) string { return resolveReferences(v, created) }))
	}
	inner, err := bulkSubrequest(r, method, path, op.Version, body)
	if err != nil {
		return bulkFailure(r, op, scimschema.Errorf(scimschema.KindInvalidValue, "path is not a valid URL path"), 0)
	}
	rec := NewResponseRecorder()
	// The router's panic recovery covers only the request's own goroutine; a wave's operations run
	// on theirs, so each operation gets it too: a panic is this operation's 500, not the process's end.
	s.recoverPanic(http.HandlerFunc(s.serveSCIM)).ServeHTTP(rec, inner)
	return s.bulkResultOf(r, op, method, path, rec)
}

// resolveBulkPath replaces the bulkId references among the segments of an operation's path by the
// ids created, and spells the endpoint as the HTTP routes do ("/users/{id}/" is /Users/{id}).
func resolveBulkPath(opPath string, created map[string]string) string {
	segments := strings.Split(opPath, "/")
	for i, seg := range segments {
		if id, ok := strings.CutPrefix(seg, bulkIDPrefix); ok {
			if resolved, ok := created[id]; ok {
				segments[i] = resolved
			}
		}
	}
	path := strings.Join(segments, "/")
	if p, ok := canonicalSCIMPath(scimPrefix + path); ok && strings.HasPrefix(path, "/") {
		path = strings.TrimPrefix(p, scimPrefix)
	}
	return path
}

// checkBulkOperation refuses an operation whose method and path do not go together, a POST without
// bulkId, and a write without data.
func checkBulkOperation(method, path string, op bulkOperation) error {
	switch {
	case !validBulkTarget(method, path):
		return scimschema.Errorf(scimschema.KindInvalidValue,
			"method must be POST (to /Users or /Groups), PUT, PATCH or DELETE (to /Users/{id} or /Groups/{id})")
	case method == http.MethodPost && op.BulkID == "":
		return scimschema.Errorf(scimschema.KindInvalidValue, "bulkId is required for POST")
	case method != http.MethodDelete && len(op.Data) == 0:
		return scimschema.Errorf(scimschema.KindInvalidValue, "data is required for %s", method)
	}
	return nil
}

// bulkSubrequest is the request an operation is served as: the bulk request's context, headers,
// host, TLS state and remote address, the operation's version as its only If-Match.
func bulkSubrequest(r *http.Request, method, path, version string, body []byte) (*http.Request, error) {
	inner, err := http.NewRequestWithContext(r.Context(), method, scimPrefix+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	inner.Header = r.Header.Clone()
	inner.Header.Del("Content-Length")
	inner.Header.Del("If-Match")
	inner.Header.Del("If-None-Match")
	inner.Header.Set("Content-Type", scimContentType)
	if version != "" {
		inner.Header.Set("If-Match", version)
	}
	inner.Host = r.Host
	inner.TLS = r.TLS
	inner.RemoteAddr = r.RemoteAddr
	return inner, nil
}

// bulkResultOf is the operation's result from its recorded response: status, version (ETag), the
// response body, and on success its location and the id it created or addressed.
func (s *server) bulkResultOf(r *http.Request, op bulkOperation, method, path string, rec *ResponseRecorder) bulkResult {
	res := bulkResult{
		Method:  method,
		BulkID:  op.BulkID,
		Status:  strconv.Itoa(rec.Status()),
		Version: rec.Header().Get("Etag"),
	}
	if b := bytes.TrimSpace(rec.Body()); len(b) > 0 && json.Valid(b) {
		res.Response = b
	}
	if rec.Status() >= 300 {
		return res
	}
	if method == http.MethodPost {
		res.Location = rec.Header().Get("Location")
		var created struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(rec.Body(), &created) == nil {
			res.id = created.ID
		}
	} else {
		res.Location = s.scimBase(r) + path
		res.id = path[strings.LastIndex(path, "/")+1:]
	}
	return res
}
