package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// The request side of the SCIM library's workarounds (catalogue in scimlib.go): what the library
// would refuse is rewritten into what it accepts (IdP dialects, see the reference idp-clients.md),
// and what it would accept but must not is refused, before it sees the request.

// correctRequest applies the request-side corrections to a request for the library. It reads the
// body itself (the library would answer an oversized body with 400, not 413), refuses bodies and
// paging numbers the library does not check, rewrites bodies and filters it would wrongly refuse,
// and drops filters on discovery endpoints. When ok is false the answer is written.
func correctRequest(w http.ResponseWriter, r *http.Request) (_ *http.Request, ok bool) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		body, ok := readBody(w, r)
		if !ok {
			return nil, false
		}
		path := strings.TrimPrefix(r.URL.Path, scimPrefix)
		b := parseBody(body)
		if err := checkBody(r.Method, path, b); err != nil {
			writeError(w, r, err)
			return nil, false
		}
		r = withBody(r, normalizeBody(r.Method, path, b))
	case http.MethodGet:
		if err := checkPaging(r.URL.Query()); err != nil {
			writeError(w, r, err)
			return nil, false
		}
	}
	return correctFilter(r), true
}

// correctFilter drops the filter of a /Schemas or /ResourceTypes request (RFC 7644 §4 lets discovery
// ignore filters; the library's in-memory evaluator answers a filtered /Schemas with
// "Resources": null, which Entra rejects, and can panic on type mismatches) and rewrites the
// value-path filters the library refuses (rewriteFilter).
func correctFilter(r *http.Request) *http.Request {
	f := r.URL.Query().Get("filter")
	if f == "" {
		return r
	}
	q := r.URL.Query()
	if endpoint := scimEndpoint(r.URL.Path); endpoint == "Schemas" || endpoint == "ResourceTypes" {
		q.Del("filter")
	} else if rewritten := rewriteFilter(f); rewritten != f {
		q.Set("filter", rewritten)
	} else {
		return r
	}
	r = r.Clone(r.Context())
	r.URL.RawQuery = q.Encode()
	return r
}

// requestBody is a write request's body with its first JSON value, decoded once for the checks and
// rewrites here (the SCIM library decodes the body it is given again).
type requestBody struct {
	raw      []byte
	doc      any  // the first JSON value, numbers as json.Number so that a rewrite keeps them as sent
	parsed   bool // raw starts with a JSON value; if not, the SCIM library reports the syntax error
	trailing bool // data other than white space follows that value
}

// parseBody decodes raw once for checkBody and normalizeBody.
func parseBody(raw []byte) requestBody {
	b := requestBody{raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&b.doc); err != nil {
		return b
	}
	b.parsed = true
	_, err := dec.Token()
	b.trailing = !errors.Is(err, io.EOF)
	return b
}

// withBody returns a shallow copy of r whose body is b.
func withBody(r *http.Request, b []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.ContentLength = int64(len(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return r2
}

var enterpriseManagerPath = scimschema.EnterpriseUserURN + ":manager"

// normalizeBody rewrites /Users bodies in which Entra sends the enterprise manager as a bare id
// string: {"manager": "<id>"} becomes {"manager": {"value": "<id>"}} in POST and PUT bodies, in
// PATCH values whose path is the manager, and in path-less PATCH values (nested under the
// enterprise URN or as a URN-prefixed key). Other bodies are returned unchanged, byte for byte.
func normalizeBody(method, path string, body requestBody) []byte {
	if path != "/Users" && !strings.HasPrefix(path, "/Users/") {
		return body.raw
	}
	doc, ok := body.doc.(map[string]any)
	if !ok {
		return body.raw // not an object (or not JSON): nothing to rewrite
	}
	changed := false
	switch method {
	case http.MethodPost, http.MethodPut:
		changed = wrapManagerIn(doc)
	case http.MethodPatch:
		changed = nullReplacesRemove(doc)
		for _, op := range listValue(doc, "Operations") {
			opMap, ok := op.(map[string]any)
			if !ok {
				continue
			}
			valueKey, value := lookup(opMap, "value")
			_, path := lookup(opMap, "path")
			pathStr, _ := path.(string)
			switch {
			case strings.EqualFold(strings.TrimSpace(pathStr), enterpriseManagerPath):
				if wrapped, ok := wrapManager(value); ok {
					opMap[valueKey] = wrapped
					changed = true
				}
			case pathStr == "":
				if m, ok := value.(map[string]any); ok && wrapManagerIn(m) {
					changed = true
				}
			}
		}
	}
	if !changed {
		return body.raw
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return body.raw
	}
	return out
}

// nullReplacesRemove turns a PATCH replace to null into a remove: "the null value" and an
// unassigned attribute are the same state (RFC 7643 §2.5), and the SCIM library refuses a null
// value with a generic 400. {"op":"replace","path":"title","value":null} becomes
// {"op":"remove","path":"title"}; in a path-less replace each top-level key whose value is null
// leaves the value object and becomes a remove of that path, after the replace.
func nullReplacesRemove(doc map[string]any) bool {
	opsKey, opsValue := lookup(doc, "Operations")
	ops, ok := opsValue.([]any)
	if !ok {
		return false
	}
	changed := false
	out := make([]any, 0, len(ops))
	for _, op := range ops {
		opMap, ok := op.(map[string]any)
		if !ok {
			out = append(out, op)
			continue
		}
		opKey, name := lookup(opMap, "op")
		valueKey, value := lookup(opMap, "value")
		_, hasValue := opMap[valueKey]
		_, path := lookup(opMap, "path")
		pathStr, _ := path.(string)
		if s, _ := name.(string); !strings.EqualFold(s, "replace") || !hasValue {
			out = append(out, op)
			continue
		}
		switch v := value.(type) {
		case nil:
			if strings.TrimSpace(pathStr) == "" {
				out = append(out, op) // nothing names what to remove: the library's 400 stands
				continue
			}
			opMap[opKey] = "remove"
			delete(opMap, valueKey)
			changed = true
			out = append(out, opMap)
		case map[string]any:
			var removes []any
			if strings.TrimSpace(pathStr) == "" {
				for _, k := range sortedNullKeys(v) {
					delete(v, k)
					removes = append(removes, map[string]any{"op": "remove", "path": k})
				}
			}
			if len(removes) > 0 {
				changed = true
			}
			if len(v) > 0 || len(removes) == 0 {
				out = append(out, opMap)
			}
			out = append(out, removes...)
		default:
			out = append(out, op)
		}
	}
	if changed {
		doc[opsKey] = out
	}
	return changed
}

// sortedNullKeys are the keys of m whose value is null, sorted (the removes keep a stable order).
func sortedNullKeys(m map[string]any) []string {
	var keys []string
	for k, v := range m {
		if v == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// wrapManagerIn wraps a bare-string manager inside attrs, either under the enterprise extension key
// or as the URN-prefixed key itself.
func wrapManagerIn(attrs map[string]any) bool {
	changed := false
	for k, v := range attrs {
		switch {
		case strings.EqualFold(k, scimschema.EnterpriseUserURN):
			ext, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for ek, ev := range ext {
				if strings.EqualFold(ek, "manager") {
					if wrapped, ok := wrapManager(ev); ok {
						ext[ek] = wrapped
						changed = true
					}
				}
			}
		case strings.EqualFold(k, enterpriseManagerPath):
			if wrapped, ok := wrapManager(v); ok {
				attrs[k] = wrapped
				changed = true
			}
		}
	}
	return changed
}

func wrapManager(v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		return v, false
	}
	return map[string]any{"value": s}, true
}

// lookup finds key in m case-insensitively and returns the key as spelled in m.
func lookup(m map[string]any, key string) (string, any) {
	if v, ok := m[key]; ok {
		return key, v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return k, v
		}
	}
	return key, nil
}

func listValue(m map[string]any, key string) []any {
	_, v := lookup(m, key)
	list, _ := v.([]any)
	return list
}

// Checks the SCIM library does not make: it decodes only the first JSON value of a body (so data
// after it would be ignored), drops attributes under extension schemas it does not know (so a
// misspelt or foreign extension would be lost without a word), names no attribute when a required
// one is missing, and answers unparsable paging numbers without a scimType.

// resourceSchemas are the schema URIs a resource body may declare, by endpoint.
var resourceSchemas = map[string][]string{
	"Users":  {scimschema.UserSchemaURN, scimschema.EnterpriseUserURN, scimschema.SalesforceUserURN},
	"Groups": {scimschema.GroupSchemaURN},
}

// checkBody refuses a body with data after its JSON document, and a POST or PUT resource that names
// a schema, or holds an extension object, the resource type does not have.
func checkBody(method, path string, body requestBody) *scimschema.Error {
	if !body.parsed {
		return nil // the SCIM library reports the missing body or the syntax error
	}
	if body.trailing {
		return scimschema.Errorf(scimschema.KindInvalidSyntax, "the request body holds data after its JSON document")
	}
	if method != http.MethodPost && method != http.MethodPut {
		return nil
	}
	endpoint := scimEndpoint(path)
	known, ok := resourceSchemas[endpoint]
	obj, isObj := body.doc.(map[string]any)
	if !ok || !isObj {
		return nil
	}
	if err := checkRequired(endpoint, obj); err != nil {
		return err
	}
	for key, v := range obj {
		switch {
		case strings.EqualFold(key, "schemas"):
			list, _ := v.([]any)
			for _, s := range list {
				if urn, _ := s.(string); urn != "" && !containsFold(known, urn) {
					return scimschema.Errorf(scimschema.KindInvalidValue, "schemas: names a schema that %s does not have (they are %s)", endpoint, strings.Join(known, ", "))
				}
			}
		case strings.HasPrefix(strings.ToLower(key), "urn:") && !containsFold(known, key):
			return scimschema.Errorf(scimschema.KindInvalidValue, "the body holds an extension that %s does not have (its schemas are %s)", endpoint, strings.Join(known, ", "))
		}
	}
	return nil
}

// checkPaging refuses startIndex and count values that are not whole numbers (RFC 7644 §3.4.2.4;
// negative ones are allowed and clamped by the SCIM library).
func checkPaging(q url.Values) *scimschema.Error {
	for _, name := range []string{"startIndex", "count"} {
		if v, ok := q[name]; ok && len(v) > 0 {
			if _, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 32); err != nil {
				return scimschema.Errorf(scimschema.KindInvalidValue, "%s must be a whole number", name)
			}
		}
	}
	return nil
}

// requiredAttributes are the attributes a POST or PUT body must hold, per endpoint (RFC 7643 §4:
// userName and displayName are required). The SCIM library refuses a body without them with a
// generic "a required value was missing" that names nothing; this names the attribute.
var requiredAttributes = map[string][]string{"Users": {"schemas", "userName"}, "Groups": {"schemas", "displayName"}}

// checkRequired refuses a resource body that lacks a required attribute or gives it as something
// other than a non-empty string (schemas: a list), naming the attribute.
func checkRequired(endpoint string, obj map[string]any) *scimschema.Error {
	for _, name := range requiredAttributes[endpoint] {
		_, v := lookup(obj, name)
		if name == "schemas" {
			if list, ok := v.([]any); !ok || len(list) == 0 {
				return scimschema.Errorf(scimschema.KindInvalidValue, "schemas is required: list the resource's schema URNs (%s)", strings.Join(resourceSchemas[endpoint], ", "))
			}
			continue
		}
		switch s, isString := v.(string); {
		case v == nil:
			return scimschema.Errorf(scimschema.KindInvalidValue, "%s is required", name)
		case !isString:
			return scimschema.Errorf(scimschema.KindInvalidValue, "%s must be a string", name)
		case strings.TrimSpace(s) == "":
			return scimschema.Errorf(scimschema.KindInvalidValue, "%s is required and must not be empty", name)
		}
	}
	return nil
}

// sortOf reads sortBy and sortOrder from the query (RFC 7644 §3.4.2.3): the library ignores both
// and passes neither to GetAll.
func sortOf(r *http.Request) (sortBy string, descending bool, err error) {
	q := r.URL.Query()
	switch order := strings.ToLower(strings.TrimSpace(q.Get("sortOrder"))); order {
	case "", "ascending":
	case "descending":
		descending = true
	default:
		return "", false, scimschema.Errorf(scimschema.KindInvalidValue, `sortOrder must be "ascending" or "descending"`)
	}
	return strings.TrimSpace(q.Get("sortBy")), descending, nil
}

const searchRequestSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

// searchRequest is the body of POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3).
type searchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
}

// search serves POST …/.search as the equivalent GET list request, so both share filter
// validation (the library's own .search validates without id, externalId and meta) and paging.
func (s *server) search(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var sr searchRequest
	if err := json.Unmarshal(body, &sr); err != nil {
		writeError(w, r, scimschema.Errorf(scimschema.KindInvalidSyntax, "the body is not a SCIM SearchRequest"))
		return
	}
	if len(sr.Schemas) > 0 && !containsFold(sr.Schemas, searchRequestSchema) {
		writeError(w, r, scimschema.Errorf(scimschema.KindInvalidValue, "schemas must be [%q]", searchRequestSchema))
		return
	}
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("filter", sr.Filter)
	set("attributes", strings.Join(sr.Attributes, ","))
	set("excludedAttributes", strings.Join(sr.ExcludedAttributes, ","))
	set("sortBy", sr.SortBy)
	set("sortOrder", sr.SortOrder)
	if sr.StartIndex != nil {
		q.Set("startIndex", strconv.Itoa(*sr.StartIndex))
	}
	if sr.Count != nil {
		q.Set("count", strconv.Itoa(*sr.Count))
	}
	list := r.Clone(r.Context())
	list.Method = http.MethodGet
	list.URL.Path = strings.TrimSuffix(r.URL.Path, "/.search")
	list.URL.RawPath = ""
	list.URL.RawQuery = q.Encode()
	list.Body = http.NoBody
	list.ContentLength = 0
	s.serveSCIM(w, list)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
