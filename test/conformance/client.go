package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const (
	mediaType     = "application/scim+json"
	errorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"
	listURN       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	bulkReqURN    = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkRespURN   = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	spcURN        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	rtURN         = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaURN     = "urn:ietf:params:scim:schemas:core:2.0:Schema"

	maxResponseBytes = 8 << 20
)

// request is one HTTP request of the suite. Path is relative to the base URL ("/Users/123").
type request struct {
	method string
	path   string
	query  url.Values
	// body is marshalled as JSON unless it is a []byte (sent as is) or nil.
	body   any
	header map[string]string
	// noAuth sends no Authorization header; header["Authorization"] overrides the bearer token.
	noAuth bool
}

// response is an HTTP response; obj is the body when it is a JSON object.
type response struct {
	req    request
	status int
	header http.Header
	body   []byte
	obj    map[string]any
}

func (r *response) String() string {
	b := string(r.body)
	if len(b) > 300 {
		b = b[:300] + "…"
	}
	return fmt.Sprintf("%s %s → %d %s", r.req.method, r.req.path, r.status, b)
}

// send performs one request. Responses of any status are returned; err is a transport failure.
func (s *suite) send(c *C, req request) (*response, error) {
	u := *s.base
	path, rawQuery, _ := strings.Cut(req.path, "?")
	u.Path = strings.TrimRight(s.base.Path, "/") + path
	u.RawPath = ""
	q := url.Values{}
	if rawQuery != "" {
		parsed, err := url.ParseQuery(rawQuery)
		if err != nil {
			return nil, err
		}
		q = parsed
	}
	for k, vs := range req.query {
		q[k] = append(q[k], vs...)
	}
	u.RawQuery = q.Encode()

	var body io.Reader
	switch b := req.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	hr, err := http.NewRequestWithContext(c.ctx, req.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Accept", mediaType)
	if body != nil {
		hr.Header.Set("Content-Type", mediaType)
	}
	if !req.noAuth {
		hr.Header.Set("Authorization", "Bearer "+s.target.Token)
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	s.requests++
	resp, err := s.client.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, err
	}
	r := &response{req: req, status: resp.StatusCode, header: resp.Header, body: data}
	if len(bytes.TrimSpace(data)) > 0 {
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&obj) == nil {
			r.obj = normalizeNumbers(obj).(map[string]any)
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != mediaType {
			s.badMediaType = append(s.badMediaType, fmt.Sprintf("%s %s → %d %q", req.method, path, resp.StatusCode, resp.Header.Get("Content-Type")))
		}
	}
	return r, nil
}

// normalizeNumbers turns json.Number into float64 so that comparisons with literals work.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
		return x
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	}
	return v
}

// do sends a request and ends the check on a transport failure.
func (c *C) do(req request) *response {
	r, err := c.s.send(c, req)
	if err != nil {
		c.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	return r
}

func (c *C) get(path string, query url.Values) *response {
	return c.do(request{method: http.MethodGet, path: path, query: query})
}

func (c *C) post(path string, body any) *response {
	return c.do(request{method: http.MethodPost, path: path, body: body})
}

func (c *C) put(path string, body any) *response {
	return c.do(request{method: http.MethodPut, path: path, body: body})
}

func (c *C) delete(path string) *response {
	return c.do(request{method: http.MethodDelete, path: path})
}

// patch sends a PatchOp request with the given operations.
func (c *C) patch(path string, ops ...map[string]any) *response {
	return c.do(request{method: http.MethodPatch, path: path, body: patchBody(ops...)})
}

func patchBody(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, op := range ops {
		list[i] = op
	}
	return map[string]any{"schemas": []any{patchURN}, "Operations": list}
}

func op(kind, path string, value any) map[string]any {
	m := map[string]any{"op": kind}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

// wantStatus ends the check unless the response has one of the statuses.
func (c *C) wantStatus(r *response, statuses ...int) {
	for _, s := range statuses {
		if r.status == s {
			return
		}
	}
	c.Fatalf("%s; want status %v", r, statuses)
}

// wantResource ends the check unless r is 200/201 with a JSON object that has an id.
func (c *C) wantResource(r *response, status int) map[string]any {
	c.wantStatus(r, status)
	if r.obj == nil {
		c.Fatalf("%s; want a JSON resource", r)
	}
	if id, _ := r.obj["id"].(string); id == "" {
		c.Fatalf("%s; resource has no id", r)
	}
	return r.obj
}

// wantError checks an RFC 7644 §3.12 error response: status, schemas, status as a string and, when
// scimTypes is not empty, one of those scimType values.
func (c *C) wantError(r *response, status int, scimTypes ...string) {
	if r.status != status {
		c.Fatalf("%s; want status %d", r, status)
	}
	c.checkErrorBody(r, scimTypes)
}

// checkErrorBody records what is wrong with the SCIM error body of r.
func (c *C) checkErrorBody(r *response, scimTypes []string) {
	if r.obj == nil {
		c.Errorf("%s; want a SCIM error body", r)
		return
	}
	if !containsFold(r.obj["schemas"], errorURN) {
		c.Errorf("error body schemas = %v; want [%s]", r.obj["schemas"], errorURN)
	}
	want := strconv.Itoa(r.status)
	switch st := r.obj["status"].(type) {
	case string:
		if st != want {
			c.Errorf("error body status = %q; want %q", st, want)
		}
	default:
		c.Errorf("error body status = %v (%T); want the string %q", r.obj["status"], r.obj["status"], want)
	}
	if len(scimTypes) > 0 {
		got, _ := r.obj["scimType"].(string)
		if !slices.Contains(scimTypes, got) {
			c.Errorf("error body scimType = %q; want %s", got, strings.Join(scimTypes, " or "))
		}
	}
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != mediaType {
		c.Errorf("error Content-Type = %q; want %s", r.header.Get("Content-Type"), mediaType)
	}
}

// list is a parsed ListResponse.
type list struct {
	total        int
	itemsPerPage int
	hasItems     bool
	startIndex   int
	hasStart     bool
	resources    []map[string]any
}

// wantList ends the check unless r is a 200 ListResponse.
func (c *C) wantList(r *response) list {
	c.wantStatus(r, http.StatusOK)
	if r.obj == nil {
		c.Fatalf("%s; want a ListResponse", r)
	}
	if !containsFold(r.obj["schemas"], listURN) {
		c.Errorf("ListResponse schemas = %v; want [%s]", r.obj["schemas"], listURN)
	}
	var l list
	tr, ok := r.obj["totalResults"].(float64)
	if !ok {
		c.Fatalf("%s; ListResponse has no numeric totalResults", r)
	}
	l.total = int(tr)
	if v, ok := r.obj["itemsPerPage"].(float64); ok {
		l.itemsPerPage, l.hasItems = int(v), true
	}
	if v, ok := r.obj["startIndex"].(float64); ok {
		l.startIndex, l.hasStart = int(v), true
	}
	switch res := lookupKey(r.obj, "Resources").(type) {
	case nil:
	case []any:
		for _, e := range res {
			m, ok := e.(map[string]any)
			if !ok {
				c.Fatalf("%s; Resources holds a non-object", r)
			}
			l.resources = append(l.resources, m)
		}
	default:
		c.Fatalf("%s; Resources is not an array", r)
	}
	return l
}

func (l list) ids() []string {
	out := make([]string, 0, len(l.resources))
	for _, r := range l.resources {
		id, _ := r["id"].(string)
		out = append(out, id)
	}
	return out
}
