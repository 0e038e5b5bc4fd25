package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scim2/filter-parser/v2"
)

// fakeServer is a small in-memory SCIM 2.0 service provider that follows RFC 7643/7644. It exists
// to test the suite itself: the suite must pass against it whichever RFC-permitted choices it makes
// (fakeChoices), and must fail when one of its behaviours is broken (see the faults).
type fakeServer struct {
	token   string
	faults  map[string]bool
	choices fakeChoices

	mu      sync.Mutex
	nextID  int
	version int
	users   map[string]map[string]any
	groups  map[string]map[string]any
}

// fakeChoices are the choices RFC 7643/7644 leave to a server.
type fakeChoices struct {
	relativeLocation bool  // meta.location is "Users/<id>", relative to the SCIM base (RFC 7643 §2.3.7)
	discoveryRefusal int   // status for a non-GET on a discovery endpoint: 404, 405 or 501
	putKeepsOmitted  bool  // PUT keeps attributes the body omits (RFC 7644 §3.5.1 "MAY")
	bodyLimit        int64 // 0 = none (a huge body is judged on its content); else 413 above it
	userGroups       bool  // User.groups lists memberships (RFC 7643 §4.1.2 does not require it)
	idpForms         bool  // accepts Entra's and Okta's non-standard forms instead of a 400
	noEnterprise     bool  // no enterprise extension: refuses its data with 400 invalidValue
	nulls            bool  // discovery documents carry nulls for unassigned values (RFC 7643 §2.5)
	noSingleRT       bool  // /ResourceTypes/<id> is not addressable (RFC 7644 §4 defines no such address)
	userNameAlways   bool  // userName is declared, and served, returned "always" (RFC 7643 §7)
	noGroupsAttr     bool  // the User schema defines no groups attribute
}

// permissive is the loosest reading of the RFCs; strict the tightest.
var (
	permissive = fakeChoices{relativeLocation: true, discoveryRefusal: 404, putKeepsOmitted: true, idpForms: true, noSingleRT: true}
	strict     = fakeChoices{discoveryRefusal: 405, bodyLimit: 1 << 20, userGroups: true, nulls: true, userNameAlways: true}
)

// Faults a test can switch on to make the fake non-conformant.
const (
	faultPatchIgnored      = "patch-ignored"       // PATCH answers 200 and changes nothing
	faultFilterIgnored     = "filter-ignored"      // a list ignores the filter
	faultGhost200          = "ghost-200"           // an unknown id answers 200 with an empty resource
	faultDuplicateAccepted = "duplicate-accepted"  // a taken userName is created again
	faultDeleteNoop        = "delete-noop"         // DELETE answers 204 and deletes nothing
	faultPagingIgnored     = "paging-ignored"      // startIndex and count are ignored
	faultMemberRemovalNoop = "member-removal-noop" // removing members changes nothing
	faultAnyToken          = "any-token"           // any bearer token, or none, is accepted
	faultWrongContentType  = "wrong-content-type"  // responses are application/json
	faultCreateUserRefused = "create-user-refused" // POST /Users always answers 400 (a cascade source)

	faultEmptyFilter404   = "empty-filter-404"   // a filter without hits answers 404
	faultEchoPassword     = "echo-password"      // password is returned
	faultIgnoreIfMatch    = "ignore-if-match"    // If-Match is never checked
	faultNumericStatus    = "numeric-status"     // error bodies carry status as a number
	faultOrLeftToRight    = "or-left-to-right"   // "a or b and c" evaluated as "(a or b) and c"
	faultIgnoreStartIndex = "ignore-startIndex"  // startIndex is ignored
	faultPatchAddReplaces = "patch-add-replaces" // add on a multi-valued attribute replaces it
	faultDeleteKeepsUser  = "delete-keeps-user"  // DELETE /Users deactivates (like Salesforce)
	faultMembershipMerge  = "membership-merge"   // PUT /Groups and replace members only add
)

func newFakeServer(token string, choices fakeChoices, faults ...string) *fakeServer {
	f := &fakeServer{token: token, choices: choices, faults: map[string]bool{}, users: map[string]map[string]any{}, groups: map[string]map[string]any{}}
	for _, x := range faults {
		f.faults[x] = true
	}
	return f
}

type scimErr struct {
	status   int
	scimType string
	detail   string
}

func (e *scimErr) Error() string { return e.detail }

func errf(status int, scimType, format string, args ...any) *scimErr {
	return &scimErr{status, scimType, fmt.Sprintf(format, args...)}
}

func (f *fakeServer) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	if f.faults[faultWrongContentType] {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeServer) writeErr(w http.ResponseWriter, err error) {
	var se *scimErr
	if !errors.As(err, &se) {
		se = errf(500, "", "internal error")
	}
	body := map[string]any{"schemas": []any{errorURN}, "status": strconv.Itoa(se.status), "detail": se.detail}
	if f.faults[faultNumericStatus] {
		body["status"] = se.status
	}
	if se.scimType != "" {
		body["scimType"] = se.scimType
	}
	if se.status == 401 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
	}
	f.writeJSON(w, se.status, body)
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token && !f.faults[faultAnyToken] {
		f.writeErr(w, errf(401, "", "authentication required"))
		return
	}
	if f.choices.bodyLimit > 0 {
		r.Body = http.MaxBytesReader(w, r.Body, f.choices.bodyLimit)
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/scim/v2/")
	if !ok {
		f.writeErr(w, errf(404, "", "no such endpoint"))
		return
	}
	parts := strings.SplitN(strings.Trim(path, "/"), "/", 2)
	id := ""
	if len(parts) == 2 {
		id = parts[1]
	}
	base := "http://" + r.Host + "/scim/v2"
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	switch parts[0] {
	case "ServiceProviderConfig", "ResourceTypes", "Schemas":
		if r.Method != http.MethodGet {
			f.writeErr(w, errf(f.choices.discoveryRefusal, "", "discovery endpoints are read-only"))
			return
		}
		err = f.discovery(w, parts[0], id)
	case "Users", "Groups":
		err = f.resources(w, r, parts[0], id, base)
	default:
		err = errf(404, "", "no such endpoint")
	}
	if err != nil {
		f.writeErr(w, err)
	}
}

func (f *fakeServer) discovery(w http.ResponseWriter, what, id string) error {
	switch what {
	case "ServiceProviderConfig":
		f.writeJSON(w, 200, map[string]any{
			"documentationUri":      f.nullOrOmitted(),
			"schemas":               []any{spcURN},
			"patch":                 map[string]any{"supported": true},
			"bulk":                  map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
			"filter":                map[string]any{"supported": true, "maxResults": 200},
			"changePassword":        map[string]any{"supported": false},
			"sort":                  map[string]any{"supported": true},
			"etag":                  map[string]any{"supported": true},
			"authenticationSchemes": []any{map[string]any{"type": "oauthbearertoken", "name": "Bearer", "description": "bearer token"}},
		})
	case "ResourceTypes":
		user := map[string]any{"schemas": []any{rtURN}, "id": "User", "name": "User", "endpoint": "/Users", "schema": userURN}
		if !f.choices.noEnterprise {
			user["schemaExtensions"] = []any{map[string]any{"schema": enterpriseURN, "required": false}}
		}
		rts := []any{
			user,
			map[string]any{"schemas": []any{rtURN}, "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": groupURN},
		}
		if id != "" && f.choices.noSingleRT {
			return errf(404, "", "no such endpoint")
		}
		if id != "" {
			for _, rt := range rts {
				if str(rt, "name") == id {
					f.writeJSON(w, 200, rt)
					return nil
				}
			}
			return errf(404, "", "no such resource type")
		}
		f.writeJSON(w, 200, listOf(rts, 1, len(rts)))
	case "Schemas":
		attr := func(name, typ string, extra map[string]any) map[string]any {
			m := map[string]any{"name": name, "type": typ, "multiValued": false, "required": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none", "caseExact": false}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		userNameReturned := "default"
		if f.choices.userNameAlways {
			userNameReturned = "always"
		}
		schemas := []any{
			map[string]any{"schemas": []any{schemaURN}, "id": userURN, "name": "User", "attributes": []any{
				attr("userName", "string", map[string]any{"required": true, "uniqueness": "server", "returned": userNameReturned}),
				attr("name", "complex", map[string]any{"subAttributes": []any{attr("givenName", "string", nil), attr("familyName", "string", nil)}}),
				attr("password", "string", map[string]any{"mutability": "writeOnly", "returned": "never"}),
			}},
			map[string]any{"schemas": []any{schemaURN}, "id": groupURN, "name": "Group", "attributes": []any{attr("displayName", "string", nil)}},
		}
		if !f.choices.noGroupsAttr {
			user := schemas[0].(map[string]any)
			user["attributes"] = append(user["attributes"].([]any),
				attr("groups", "complex", map[string]any{"multiValued": true, "mutability": "readOnly", "subAttributes": []any{attr("value", "string", nil)}}))
		}
		if !f.choices.noEnterprise {
			schemas = append(schemas, map[string]any{"schemas": []any{schemaURN}, "id": enterpriseURN, "name": "EnterpriseUser", "attributes": []any{attr("department", "string", nil)}})
		}
		if id != "" {
			for _, s := range schemas {
				if str(s, "id") == id {
					f.writeJSON(w, 200, s)
					return nil
				}
			}
			return errf(404, "", "no such schema")
		}
		f.writeJSON(w, 200, listOf(schemas, 1, len(schemas)))
	}
	return nil
}

// nullOrOmitted is documentationUri: null (unassigned, RFC 7643 §2.5) with the nulls choice, else
// a URI.
func (f *fakeServer) nullOrOmitted() any {
	if f.choices.nulls {
		return nil
	}
	return "https://example.com/scim-docs"
}

func listOf(res []any, start, items int) map[string]any {
	return map[string]any{"schemas": []any{listURN}, "totalResults": len(res), "startIndex": start, "itemsPerPage": items, "Resources": res}
}

func (f *fakeServer) store(kind string) map[string]map[string]any {
	if kind == "Users" {
		return f.users
	}
	return f.groups
}

func readBody(r *http.Request) (map[string]any, error) {
	data, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errf(413, "", "request body too large")
	}
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errf(400, "invalidSyntax", "malformed JSON")
	}
	return m, nil
}

func (f *fakeServer) resources(w http.ResponseWriter, r *http.Request, kind, id, base string) error {
	st := f.store(kind)
	q := r.URL.Query()
	if id == "" {
		switch r.Method {
		case http.MethodGet:
			return f.list(w, kind, q, base)
		case http.MethodPost:
			body, err := readBody(r)
			if err != nil {
				return err
			}
			res, err := f.create(kind, body)
			if err != nil {
				return err
			}
			out := f.render(kind, res, base, q)
			w.Header().Set("Location", base+"/"+kind+"/"+str(res, "id"))
			w.Header().Set("ETag", str(out, "meta.version"))
			f.writeJSON(w, 201, out)
			return nil
		}
		return errf(405, "", "method not allowed")
	}
	res, ok := st[id]
	if !ok && f.faults[faultGhost200] {
		f.writeJSON(w, 200, map[string]any{"schemas": []any{userURN}, "id": id})
		return nil
	}
	if !ok {
		return errf(404, "", "resource not found")
	}
	if m := r.Header.Get("If-Match"); m != "" && !f.faults[faultIgnoreIfMatch] && m != versionOf(res) {
		return errf(412, "", "version mismatch")
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut:
		body, err := readBody(r)
		if err != nil {
			return err
		}
		if err := f.replace(kind, id, res, body); err != nil {
			return err
		}
	case http.MethodPatch:
		body, err := readBody(r)
		if err != nil {
			return err
		}
		if f.faults[faultPatchIgnored] {
			break
		}
		if err := f.applyPatch(kind, res, body); err != nil {
			return err
		}
		f.touch(res)
	case http.MethodDelete:
		if f.faults[faultDeleteNoop] {
			w.WriteHeader(204)
			return nil
		}
		if kind == "Users" && f.faults[faultDeleteKeepsUser] {
			res["active"] = false
			f.touch(res)
		} else {
			delete(st, id)
			for _, g := range f.groups {
				g["members"] = removeValues(g["members"], []string{id})
			}
		}
		w.WriteHeader(204)
		return nil
	default:
		return errf(405, "", "method not allowed")
	}
	out := f.render(kind, res, base, q)
	w.Header().Set("ETag", str(out, "meta.version"))
	f.writeJSON(w, 200, out)
	return nil
}

func versionOf(res map[string]any) string { return fmt.Sprintf(`W/"%v"`, res["_version"]) }

func (f *fakeServer) touch(res map[string]any) {
	f.version++
	res["_version"] = f.version
	res["_modified"] = time.Now().UTC().Format(time.RFC3339Nano)
}

// clean drops what a client may not set (RFC 7644 §3.5.1: readOnly values are ignored). A null
// value is kept: it asks to unassign the attribute (RFC 7643 §2.5).
func clean(body map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		switch strings.ToLower(k) {
		case "id", "meta", "schemas", "groups":
			continue
		}
		out[k] = v
	}
	return out
}

// checkExtension refuses enterprise-extension data when the fake does not offer the extension.
func (f *fakeServer) checkExtension(body map[string]any) error {
	if !f.choices.noEnterprise {
		return nil
	}
	_, data := body[enterpriseURN]
	if data || containsFold(body["schemas"], enterpriseURN) {
		return errf(400, "invalidValue", "unknown schema %s", enterpriseURN)
	}
	return nil
}

func (f *fakeServer) create(kind string, body map[string]any) (map[string]any, error) {
	if err := f.checkExtension(body); err != nil {
		return nil, err
	}
	res := clean(body)
	for k, v := range res {
		if v == nil {
			delete(res, k)
		}
	}
	if kind == "Users" {
		un := str(res, "userName")
		if un == "" || f.faults[faultCreateUserRefused] {
			return nil, errf(400, "invalidValue", "userName is required")
		}
		for _, u := range f.users {
			if f.faults[faultDuplicateAccepted] {
				break
			}
			if strings.EqualFold(str(u, "userName"), un) {
				return nil, errf(409, "uniqueness", "userName is taken")
			}
		}
	} else if str(res, "displayName") == "" {
		return nil, errf(400, "invalidValue", "displayName is required")
	}
	f.nextID++
	id := fmt.Sprintf("%s-%04d", strings.ToLower(kind[:1]), f.nextID)
	res["id"] = id
	res["_created"] = time.Now().UTC().Format(time.RFC3339Nano)
	f.touch(res)
	f.store(kind)[id] = res
	return res, nil
}

func (f *fakeServer) replace(kind, id string, res, body map[string]any) error {
	if err := f.checkExtension(body); err != nil {
		return err
	}
	next := clean(body)
	if kind == "Groups" && f.faults[faultMembershipMerge] {
		next["members"] = mergeMembers(res["members"], next["members"])
	}
	if kind == "Users" && str(next, "userName") == "" {
		return errf(400, "invalidValue", "userName is required")
	}
	for k := range res {
		if !strings.HasPrefix(k, "_") && k != "id" && !f.choices.putKeepsOmitted {
			delete(res, k)
		}
	}
	for k, v := range next {
		if v == nil {
			delete(res, k)
			continue
		}
		res[k] = v
	}
	f.touch(res)
	return nil
}

// render builds the response representation with schemas, meta, groups and the projection.
func (f *fakeServer) render(kind string, res map[string]any, base string, q url.Values) map[string]any {
	out := map[string]any{}
	for k, v := range res {
		if !strings.HasPrefix(k, "_") {
			out[k] = v
		}
	}
	if kind == "Users" {
		if !f.faults[faultEchoPassword] {
			delete(out, "password")
		}
		var groups []any
		for gid, g := range f.groups {
			if slices.Contains(values(g, "members", "value"), str(res, "id")) {
				groups = append(groups, map[string]any{"value": gid, "display": g["displayName"]})
			}
		}
		if len(groups) > 0 && f.choices.userGroups {
			out["groups"] = groups
		}
		out["schemas"] = []any{userURN}
		if _, ok := res[enterpriseURN]; ok {
			out["schemas"] = []any{userURN, enterpriseURN}
		}
	} else {
		out["schemas"] = []any{groupURN}
		if arr, _ := out["members"].([]any); len(arr) == 0 {
			delete(out, "members")
		}
	}
	rt := map[string]string{"Users": "User", "Groups": "Group"}[kind]
	location := base + "/" + kind + "/" + str(res, "id")
	if f.choices.relativeLocation {
		location = kind + "/" + str(res, "id")
	}
	out["meta"] = map[string]any{"resourceType": rt, "created": res["_created"], "lastModified": res["_modified"],
		"location": location, "version": versionOf(res)}
	return f.project(out, q)
}

func (f *fakeServer) project(res map[string]any, q url.Values) map[string]any {
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, strings.ToLower(p))
			}
		}
		return out
	}
	attrs, excl := split(q.Get("attributes")), split(q.Get("excludedAttributes"))
	always := map[string]bool{"id": true, "schemas": true, "meta": true, "username": f.choices.userNameAlways}
	out := map[string]any{}
	for k, v := range res {
		lk := strings.ToLower(k)
		switch {
		case always[lk]:
			out[k] = v
		case len(attrs) > 0:
			if slices.Contains(attrs, lk) {
				out[k] = v
				continue
			}
			if m, ok := v.(map[string]any); ok {
				sub := map[string]any{}
				for sk, sv := range m {
					if slices.Contains(attrs, lk+"."+strings.ToLower(sk)) {
						sub[sk] = sv
					}
				}
				if len(sub) > 0 {
					out[k] = sub
				}
			}
		case !slices.Contains(excl, lk):
			out[k] = v
		}
	}
	return out
}

func (f *fakeServer) list(w http.ResponseWriter, kind string, q url.Values, base string) error {
	var expr filter.Expression
	if fs := q.Get("filter"); fs != "" && !f.faults[faultFilterIgnored] {
		e, err := filter.ParseFilter([]byte(fs))
		if err != nil {
			return errf(400, "invalidFilter", "cannot parse filter")
		}
		expr = e
	}
	var matched []map[string]any
	for _, res := range f.store(kind) {
		view := f.render(kind, res, base, nil)
		if expr == nil || f.eval(view, expr) {
			matched = append(matched, view)
		}
	}
	if expr != nil && len(matched) == 0 && f.faults[faultEmptyFilter404] {
		return errf(404, "", "no match")
	}
	sortBy := q.Get("sortBy")
	desc := q.Get("sortOrder") == "descending"
	slices.SortStableFunc(matched, func(a, b map[string]any) int {
		if sortBy != "" {
			if c := strings.Compare(strings.ToLower(str(a, sortBy)), strings.ToLower(str(b, sortBy))); c != 0 {
				if desc {
					return -c
				}
				return c
			}
		}
		return strings.Compare(str(a, "id"), str(b, "id"))
	})
	start, count := 1, 200
	paging := !f.faults[faultPagingIgnored]
	if s, err := strconv.Atoi(q.Get("startIndex")); err == nil && s > 1 && !f.faults[faultIgnoreStartIndex] && paging {
		start = s
	}
	if c, err := strconv.Atoi(q.Get("count")); err == nil && paging {
		count = min(max(c, 0), 200)
	}
	page := []any{}
	for i := start - 1; i < len(matched) && len(page) < count; i++ {
		page = append(page, f.project(matched[i], q))
	}
	out := listOf(page, start, len(page))
	out["totalResults"] = len(matched)
	f.writeJSON(w, 200, out)
	return nil
}

// attrValues returns the values at an attribute path; multi-valued attributes give one per element.
func attrValues(res map[string]any, p filter.AttributePath) []any {
	var v any = res
	if p.URIPrefix != nil {
		v = lookupKey(res, *p.URIPrefix)
	}
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	v = lookupKey(m, p.AttributeName)
	var out []any
	collect := func(e any) {
		if p.SubAttribute != nil {
			if em, ok := e.(map[string]any); ok {
				e = lookupKey(em, *p.SubAttribute)
			} else {
				e = nil
			}
		}
		if e != nil {
			out = append(out, e)
		}
	}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			collect(e)
		}
	} else if v != nil {
		collect(v)
	}
	return out
}

func (f *fakeServer) eval(res map[string]any, e filter.Expression) bool {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if f.faults[faultOrLeftToRight] && x.Operator == filter.OR {
			if r, ok := x.Right.(*filter.LogicalExpression); ok && r.Operator == filter.AND {
				return (f.eval(res, x.Left) || f.eval(res, r.Left)) && f.eval(res, r.Right)
			}
		}
		if x.Operator == filter.AND {
			return f.eval(res, x.Left) && f.eval(res, x.Right)
		}
		return f.eval(res, x.Left) || f.eval(res, x.Right)
	case *filter.NotExpression:
		return !f.eval(res, x.Expression)
	case *filter.ValuePath:
		arr, _ := lookupKey(res, x.AttributePath.AttributeName).([]any)
		for _, el := range arr {
			if m, ok := el.(map[string]any); ok && f.eval(m, x.ValueFilter) {
				return true
			}
		}
		return false
	case *filter.AttributeExpression:
		vals := attrValues(res, x.AttributePath)
		if x.Operator == filter.PR {
			return len(vals) > 0
		}
		name := strings.ToLower(x.AttributePath.AttributeName)
		caseExact := name == "id" || name == "externalid"
		for _, v := range vals {
			if compare(v, x.CompareValue, x.Operator, caseExact) {
				return true
			}
		}
		return x.Operator == filter.NE && len(vals) == 0
	}
	return false
}

func compare(got, want any, op filter.CompareOperator, caseExact bool) bool {
	if gb, ok := got.(bool); ok {
		wb, ok := want.(bool)
		return ok && (op == filter.EQ && gb == wb || op == filter.NE && gb != wb)
	}
	g, w := fmt.Sprint(got), fmt.Sprint(want)
	if !caseExact {
		g, w = strings.ToLower(g), strings.ToLower(w)
	}
	switch op {
	case filter.EQ:
		return g == w
	case filter.NE:
		return g != w
	case filter.CO:
		return strings.Contains(g, w)
	case filter.SW:
		return strings.HasPrefix(g, w)
	case filter.EW:
		return strings.HasSuffix(g, w)
	case filter.GT:
		return g > w
	case filter.GE:
		return g >= w
	case filter.LT:
		return g < w
	case filter.LE:
		return g <= w
	}
	return false
}

func removeValues(members any, ids []string) any {
	arr, _ := members.([]any)
	var out []any
	for _, m := range arr {
		if !slices.Contains(ids, str(m, "value")) {
			out = append(out, m)
		}
	}
	return out
}

// normalizeValue turns Entra's "True"/"False" into booleans for boolean attributes and a bare
// manager id into {"value": id} — or, without idpForms, refuses them as RFC 7643 §2.3.2 and §4.3
// would have it.
func (f *fakeServer) normalizeValue(attr string, v any) (any, error) {
	s, isString := v.(string)
	if !isString {
		return v, nil
	}
	switch strings.ToLower(attr) {
	case "active", "primary":
		b, err := strconv.ParseBool(s)
		if err != nil || !f.choices.idpForms {
			return nil, errf(400, "invalidValue", "%s must be a boolean", attr)
		}
		return b, nil
	case "manager":
		if !f.choices.idpForms {
			return nil, errf(400, "invalidValue", "manager must be a complex value")
		}
		return map[string]any{"value": s}, nil
	}
	return v, nil
}

func (f *fakeServer) applyPatch(kind string, res map[string]any, body map[string]any) error {
	ops, _ := lookupKey(body, "Operations").([]any)
	if len(ops) == 0 {
		return errf(400, "invalidValue", "no operations")
	}
	for _, raw := range ops {
		o, _ := raw.(map[string]any)
		kindOp := str(o, "op")
		if kindOp != strings.ToLower(kindOp) && !f.choices.idpForms {
			return errf(400, "invalidSyntax", "op must be add, remove or replace")
		}
		kindOp = strings.ToLower(kindOp)
		value := o["value"]
		ps := str(o, "path")
		if f.choices.noEnterprise && strings.HasPrefix(ps, enterpriseURN) {
			return errf(400, "invalidPath", "unknown schema %s", enterpriseURN)
		}
		if ps == "" {
			if kindOp == "remove" {
				return errf(400, "noTarget", "remove needs a path")
			}
			m, ok := value.(map[string]any)
			if !ok {
				return errf(400, "invalidValue", "path-less value must be an object")
			}
			for k, v := range m {
				if strings.EqualFold(k, "id") {
					if !f.choices.idpForms {
						return errf(400, "mutability", "id is readOnly")
					}
					continue
				}
				if strings.ContainsAny(k, ".") || strings.HasPrefix(k, "urn:") && !strings.EqualFold(k, enterpriseURN) {
					if !f.choices.idpForms {
						return errf(400, "invalidPath", "a path-less value's keys are attribute names")
					}
				}
				p, err := filter.ParsePath([]byte(k))
				if err != nil {
					return errf(400, "invalidPath", "bad key")
				}
				if err := f.applyOp(kind, res, kindOp, p, v); err != nil {
					return err
				}
			}
			continue
		}
		p, err := filter.ParsePath([]byte(ps))
		if err != nil {
			return errf(400, "invalidPath", "bad path")
		}
		if err := f.applyOp(kind, res, kindOp, p, value); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeServer) applyOp(kind string, res map[string]any, opKind string, p filter.Path, value any) error {
	ap := p.AttributePath
	container := res
	if ap.URIPrefix != nil {
		ext, _ := lookupKey(res, *ap.URIPrefix).(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			res[*ap.URIPrefix] = ext
		}
		container = ext
	}
	name := ap.AttributeName
	if strings.EqualFold(name, "groups") || strings.EqualFold(name, "id") || strings.EqualFold(name, "meta") {
		return errf(400, "mutability", "%s is readOnly", name)
	}
	key := name
	for k := range container {
		if strings.EqualFold(k, name) {
			key = k
		}
	}
	sub := ap.SubAttributeName()
	if p.SubAttribute != nil {
		sub = *p.SubAttribute
	}
	value, err := f.normalizeValue(name, value)
	if err != nil {
		return err
	}
	if kind == "Groups" && strings.EqualFold(name, "members") && opKind == "remove" && f.faults[faultMemberRemovalNoop] {
		return nil
	}

	if p.ValueExpression != nil {
		arr, _ := container[key].([]any)
		hit := false
		var kept []any
		for _, el := range arr {
			m, _ := el.(map[string]any)
			if m == nil || !f.eval(m, p.ValueExpression) {
				kept = append(kept, el)
				continue
			}
			hit = true
			switch {
			case opKind == "remove" && sub == "":
				continue
			case opKind == "remove":
				delete(m, sub)
			case sub != "":
				nv, err := f.normalizeValue(sub, value)
				if err != nil {
					return err
				}
				m[sub] = nv
			default:
				if vm, ok := value.(map[string]any); ok {
					el = vm
				}
			}
			kept = append(kept, el)
		}
		if !hit && opKind != "remove" {
			return errf(400, "noTarget", "filter matched nothing")
		}
		container[key] = kept
		return nil
	}
	if sub != "" {
		m, _ := container[key].(map[string]any)
		if m == nil {
			m = map[string]any{}
			container[key] = m
		}
		if opKind == "remove" {
			delete(m, sub)
			return nil
		}
		nv, err := f.normalizeValue(sub, value)
		if err != nil {
			return err
		}
		m[sub] = nv
		return nil
	}
	switch opKind {
	case "remove":
		if vals, ok := value.([]any); ok && len(vals) > 0 {
			var ids []string
			for _, v := range vals {
				ids = append(ids, str(v, "value"))
			}
			container[key] = removeValues(container[key], ids)
			return nil
		}
		delete(container, key)
	case "add":
		if vals, ok := value.([]any); ok {
			existing, _ := container[key].([]any)
			if f.faults[faultPatchAddReplaces] {
				existing = nil
			}
			for _, v := range vals {
				if vm, ok := v.(map[string]any); ok {
					delete(vm, "$ref")
				}
				if !slices.ContainsFunc(existing, func(e any) bool { return str(e, "value") == str(v, "value") }) {
					existing = append(existing, v)
				}
			}
			container[key] = existing
			return nil
		}
		if vm, ok := value.(map[string]any); ok {
			if m, ok := container[key].(map[string]any); ok {
				for k, v := range vm {
					m[k] = v
				}
				return nil
			}
		}
		container[key] = value
	case "replace":
		if kind == "Groups" && strings.EqualFold(name, "members") && f.faults[faultMembershipMerge] {
			value = mergeMembers(container[key], value)
		}
		container[key] = value
	default:
		return errf(400, "invalidSyntax", "unknown op")
	}
	return nil
}

// mergeMembers returns the members of old plus those of next that old lacks.
func mergeMembers(old, next any) any {
	out, _ := old.([]any)
	out = slices.Clone(out)
	nextArr, _ := next.([]any)
	for _, m := range nextArr {
		if !slices.ContainsFunc(out, func(e any) bool { return str(e, "value") == str(m, "value") }) {
			out = append(out, m)
		}
	}
	return out
}
