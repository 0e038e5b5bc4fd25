package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiRequest is one REST call below /services/data/vNN.0, either top-level or a composite
// subrequest. Handlers run with the Emulator's mutex held.
type apiRequest struct {
	method      string
	path        string // below the version, e.g. "/sobjects/User/005…"
	version     string // "66.0"
	query       url.Values
	header      http.Header
	body        []byte
	userID      string // the acting user
	inComposite bool
	// forceAllOrNone: an enclosing composite's allOrNone=true overrides a collection's own flag.
	forceAllOrNone bool
}

// apiResponse is a handler's answer.
type apiResponse struct {
	status   int
	body     []byte // JSON; nil for no body
	location string // Location header of a 201
	// partialFailure: a collection call answered 200 but some records failed.
	partialFailure bool
}

func jsonResponse(status int, v any) *apiResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return errorResponse(newError(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
	}
	return &apiResponse{status: status, body: b}
}

func errorResponse(errs ...*Error) *apiResponse {
	return &apiResponse{status: errs[0].Status, body: errorBody(errs...)}
}

func (r *apiRequest) base() string { return "/services/data/v" + r.version }

// parseVersion accepts "vNN.0" for the versions the emulator serves (31.0 to 68.0).
func parseVersion(s string) (string, bool) {
	if !strings.HasPrefix(s, "v") || !strings.HasSuffix(s, ".0") {
		return "", false
	}
	n, err := strconv.Atoi(s[1 : len(s)-2])
	if err != nil || n < 31 || n > 68 {
		return "", false
	}
	return s[1:], true
}

// releaseName maps an API version to its release: 66.0 is Spring '26, three releases a year.
func releaseName(v int) string {
	k := v - 66
	year := 26 + floorDiv(k, 3)
	switch k - 3*floorDiv(k, 3) {
	case 0:
		return fmt.Sprintf("Spring '%02d", year)
	case 1:
		return fmt.Sprintf("Summer '%02d", year)
	default:
		return fmt.Sprintf("Winter '%02d", year+1)
	}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

type versionEntry struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

func versionsList() []versionEntry {
	var out []versionEntry
	for v := 31; v <= 68; v++ {
		out = append(out, versionEntry{Label: releaseName(v), URL: fmt.Sprintf("/services/data/v%d.0", v), Version: fmt.Sprintf("%d.0", v)})
	}
	return out
}

// dispatch routes a REST call and names its kind for Stats.
func (e *Emulator) dispatch(r *apiRequest) (*apiResponse, string) {
	if r.method == http.MethodPost && r.query.Get("_HttpMethod") != "" {
		r.method = strings.ToUpper(r.query.Get("_HttpMethod"))
	}
	segs := strings.Split(strings.Trim(r.path, "/"), "/")
	switch segs[0] {
	case "":
		if r.method != http.MethodGet {
			return errorResponse(errMethodNotAllowed(r.method, "HEAD,GET")), "other"
		}
		res := map[string]string{}
		for _, name := range []string{"sobjects", "query", "queryAll", "composite", "limits"} {
			res[name] = r.base() + "/" + name
		}
		return jsonResponse(http.StatusOK, res), "other"
	case "sobjects":
		return e.sobjects(r, segs[1:])
	case "query", "queryAll":
		return e.query(r, segs[1:]), "query"
	case "composite":
		switch {
		case len(segs) == 1 && !r.inComposite:
			return e.composite(r), "composite"
		case len(segs) >= 2 && segs[1] == "sobjects":
			return e.collections(r, segs[2:]), "collections"
		}
	case "limits":
		if len(segs) == 1 {
			return jsonResponse(http.StatusOK, map[string]any{"DailyApiRequests": map[string]int{
				"Max": e.cfg.APILimit, "Remaining": max(0, e.cfg.APILimit-e.apiCalls)}}), "other"
		}
	}
	return errorResponse(errNotFound()), "other"
}

// decodeObject reads a JSON object body, keeping numbers exact.
func decodeObject(body []byte) (map[string]any, *Error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, newError(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not a valid JSON object: "+parserMessage(err))
	}
	return m, nil
}

func parserMessage(err error) string {
	if err == nil {
		return "null"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	return err.Error()
}

func (e *Emulator) sobjects(r *apiRequest, segs []string) (*apiResponse, string) {
	if len(segs) == 0 || segs[0] == "" {
		if r.method != http.MethodGet {
			return errorResponse(errMethodNotAllowed(r.method, "HEAD,GET")), "describe"
		}
		return jsonResponse(http.StatusOK, e.globalDescribe(r)), "describe"
	}
	o := e.schema.object(segs[0])
	if o == nil {
		return errorResponse(errNotFound()), "other"
	}
	switch {
	case len(segs) == 1:
		switch r.method {
		case http.MethodGet:
			return jsonResponse(http.StatusOK, map[string]any{"objectDescribe": e.objectSummary(r, o), "recentItems": []any{}}), "describe"
		case http.MethodPost:
			if !o.Createable { // UserLogin, UserLicense: the type URL then only reads
				return errorResponse(errMethodNotAllowed(r.method, "HEAD,GET")), "sobject_create"
			}
			return e.createRecord(r, o), "sobject_create"
		}
		if !o.Createable {
			return errorResponse(errMethodNotAllowed(r.method, "HEAD,GET")), "other"
		}
		return errorResponse(errMethodNotAllowed(r.method, "HEAD,GET,POST")), "other"
	case len(segs) == 2 && segs[1] == "describe":
		if r.method != http.MethodGet {
			return errorResponse(errMethodNotAllowed(r.method, "HEAD,GET")), "describe"
		}
		return jsonResponse(http.StatusOK, e.describe(r, o)), "describe"
	case len(segs) == 2:
		switch r.method {
		case http.MethodGet, http.MethodHead:
			return e.getRecord(r, o, segs[1]), "sobject_get"
		case http.MethodPatch:
			return e.updateRecord(r, o, segs[1]), "sobject_update"
		case http.MethodDelete:
			if o.Name == "User" && e.cfg.Quirks.DeleteUserError != nil {
				return errorResponse(e.cfg.Quirks.DeleteUserError), "sobject_delete"
			}
			if !o.Deletable {
				return errorResponse(errMethodNotAllowed(r.method, o.allowedMethods())), "sobject_delete"
			}
			if err := e.delete(o, segs[1]); err != nil {
				return errorResponse(err), "sobject_delete"
			}
			return &apiResponse{status: http.StatusNoContent}, "sobject_delete"
		}
		return errorResponse(errMethodNotAllowed(r.method, o.allowedMethods())), "other"
	}
	return errorResponse(errNotFound()), "other"
}

func (e *Emulator) createRecord(r *apiRequest, o *objectDef) *apiResponse {
	if bad := invalidConditionalHeader(r); bad != nil {
		return errorResponse(bad)
	}
	raw, perr := decodeObject(r.body)
	if perr != nil {
		return errorResponse(perr)
	}
	id, err := e.create(o, raw, r.userID)
	if err != nil {
		return errorResponse(err)
	}
	resp := jsonResponse(http.StatusCreated, saveResult{ID: &id, Success: true, Errors: []recordError{}})
	resp.location = r.base() + "/sobjects/" + o.Name + "/" + id
	return resp
}

// saveResult is the body of a create and one element of a collections answer.
type saveResult struct {
	ID      *string       `json:"id,omitempty"`
	Success bool          `json:"success"`
	Errors  []recordError `json:"errors"`
}

// lastModified is the row's modification time at the second resolution of HTTP dates.
func lastModified(row map[string]any) (time.Time, bool) {
	for _, f := range []string{"LastModifiedDate", "SystemModstamp"} {
		if t, ok := row[f].(time.Time); ok {
			return t.Truncate(time.Second), true
		}
	}
	return time.Time{}, false
}

func (e *Emulator) getRecord(r *apiRequest, o *objectDef, rawID string) *apiResponse {
	_, row, err := e.lookupID(o, rawID)
	if err != nil {
		return errorResponse(err)
	}
	fields := o.Fields
	if list := r.query.Get("fields"); list != "" {
		fields = nil
		for _, name := range strings.Split(list, ",") {
			name = strings.TrimSpace(name)
			f := o.field(name)
			if f == nil {
				return errorResponse(newError(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf(
					"No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' "+
						"after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, o.Name)))
			}
			fields = append(fields, f)
		}
	}
	// Conditional GET (HTTP 1.1 rules, which Salesforce follows): an unparsable date is ignored.
	if h := r.header.Get("If-Unmodified-Since"); h != "" {
		if since, ok := parseHTTPDate(h); ok {
			if mod, ok := lastModified(row); ok && mod.After(since) {
				return errorResponse(errPreconditionFailed(h))
			}
		}
	} else if h := r.header.Get("If-Modified-Since"); h != "" {
		if since, ok := parseHTTPDate(h); ok {
			if mod, ok := lastModified(row); ok && !mod.After(since) {
				return &apiResponse{status: http.StatusNotModified}
			}
		}
	}
	return &apiResponse{status: http.StatusOK, body: encodeRecord(o, row, fields, r.version)}
}

func (e *Emulator) updateRecord(r *apiRequest, o *objectDef, rawID string) *apiResponse {
	raw, perr := decodeObject(r.body)
	if perr != nil {
		return errorResponse(perr)
	}
	if bad := invalidConditionalHeader(r); bad != nil {
		return errorResponse(bad)
	}
	if h := r.header.Get("If-Unmodified-Since"); h != "" {
		since, _ := parseHTTPDate(h)
		if _, row, lerr := e.lookupID(o, rawID); lerr == nil {
			if mod, ok := lastModified(row); ok && mod.After(since) {
				return errorResponse(errPreconditionFailed(h))
			}
		}
	}
	if err := e.update(o, rawID, raw, r.userID); err != nil {
		return errorResponse(err)
	}
	return &apiResponse{status: http.StatusNoContent}
}

// httpDateLayouts are the forms of Salesforce's documented "EEE, dd MMM yyyy HH:mm:ss z" that a
// conditional header may take: the HTTP forms (GMT), a zone abbreviation, or a numeric zone.
var httpDateLayouts = []string{time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC}

// parseHTTPDate reads an If-Modified-Since / If-Unmodified-Since value.
func parseHTTPDate(h string) (time.Time, bool) {
	h = strings.TrimSpace(h)
	if t, err := http.ParseTime(h); err == nil {
		return t, true
	}
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, h); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// invalidConditionalHeader is the 400 Salesforce answers a PATCH or POST whose
// If-Unmodified-Since cannot be read (D-COND; the errorCode is not documented).
func invalidConditionalHeader(r *apiRequest) *Error {
	h := r.header.Get("If-Unmodified-Since")
	if h == "" {
		return nil
	}
	if _, ok := parseHTTPDate(h); ok {
		return nil
	}
	return newError(http.StatusBadRequest, "INVALID_HEADER_TYPE", "If-Unmodified-Since: invalid date format: "+h)
}

func errPreconditionFailed(h string) *Error {
	return newError(http.StatusPreconditionFailed, "PRECONDITION_FAILED", "The requested resource has been modified since "+h)
}

// formatDatetime writes a datetime as Salesforce does: 2021-11-06T17:38:40.000+0000.
func formatDatetime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// encodeRecord writes a record as a GET of the row returns it: attributes, then the fields in
// order, null for empty ones.
func encodeRecord(o *objectDef, row map[string]any, fields []*fieldDef, version string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"attributes":{"type":`)
	writeJSON(&b, o.Name)
	b.WriteString(`,"url":`)
	writeJSON(&b, "/services/data/v"+version+"/sobjects/"+o.Name+"/"+strValue(row, "Id"))
	b.WriteString("}")
	for _, f := range fields {
		b.WriteByte(',')
		writeJSON(&b, f.Name)
		b.WriteByte(':')
		v := row[f.Name]
		if t, ok := v.(time.Time); ok {
			v = formatDatetime(t)
		}
		writeJSON(&b, v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any) {
	enc, err := json.Marshal(v)
	if err != nil {
		b.WriteString("null")
		return
	}
	b.Write(enc)
}

// Describe.

type describePicklistValue struct {
	Value        string `json:"value"`
	Label        string `json:"label"`
	Active       bool   `json:"active"`
	DefaultValue bool   `json:"defaultValue"`
}

type describeField struct {
	Name               string                  `json:"name"`
	Label              string                  `json:"label"`
	Type               string                  `json:"type"`
	Length             int                     `json:"length"`
	Nillable           bool                    `json:"nillable"`
	Createable         bool                    `json:"createable"`
	Updateable         bool                    `json:"updateable"`
	DefaultedOnCreate  bool                    `json:"defaultedOnCreate"`
	Filterable         bool                    `json:"filterable"`
	Sortable           bool                    `json:"sortable"`
	Custom             bool                    `json:"custom"`
	PicklistValues     []describePicklistValue `json:"picklistValues"`
	RestrictedPicklist bool                    `json:"restrictedPicklist"`
	ReferenceTo        []string                `json:"referenceTo"`
	RelationshipName   *string                 `json:"relationshipName"`
}

type describeChild struct {
	ChildSObject     string `json:"childSObject"`
	Field            string `json:"field"`
	RelationshipName string `json:"relationshipName"`
	CascadeDelete    bool   `json:"cascadeDelete"`
}

type describeResult struct {
	Name               string            `json:"name"`
	Label              string            `json:"label"`
	KeyPrefix          string            `json:"keyPrefix"`
	Createable         bool              `json:"createable"`
	Updateable         bool              `json:"updateable"`
	Deletable          bool              `json:"deletable"`
	Queryable          bool              `json:"queryable"`
	Retrieveable       bool              `json:"retrieveable"`
	Custom             bool              `json:"custom"`
	Fields             []describeField   `json:"fields,omitempty"`
	ChildRelationships []describeChild   `json:"childRelationships,omitempty"`
	URLs               map[string]string `json:"urls"`
}

func (e *Emulator) objectSummary(r *apiRequest, o *objectDef) describeResult {
	base := r.base() + "/sobjects/" + o.Name
	return describeResult{Name: o.Name, Label: o.Label, KeyPrefix: o.Prefix, Createable: o.Createable, Updateable: o.Updateable,
		Deletable: o.Deletable, Queryable: true, Retrieveable: true,
		URLs: map[string]string{"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"}}
}

func (e *Emulator) describe(r *apiRequest, o *objectDef) describeResult {
	d := e.objectSummary(r, o)
	d.Fields = []describeField{}
	for _, f := range o.Fields {
		df := describeField{Name: f.Name, Label: f.Label, Type: f.Type, Length: f.Length, Nillable: f.Nillable,
			Createable: f.Createable, Updateable: f.Updateable, DefaultedOnCreate: f.DefaultedOnCreate,
			Filterable: true, Sortable: f.Type != "textarea", PicklistValues: []describePicklistValue{},
			RestrictedPicklist: f.Restricted, ReferenceTo: []string{}}
		if f.Type == "reference" {
			df.Length = 18
		}
		for _, v := range f.Picklist {
			df.PicklistValues = append(df.PicklistValues, describePicklistValue{Value: v, Label: v, Active: true, DefaultValue: v == f.DefaultValue})
		}
		if f.ReferenceTo != "" {
			df.ReferenceTo = []string{f.ReferenceTo}
		}
		if f.RelationshipName != "" {
			name := f.RelationshipName
			df.RelationshipName = &name
		}
		d.Fields = append(d.Fields, df)
	}
	d.ChildRelationships = []describeChild{}
	for _, c := range e.sortedChildren(o) {
		d.ChildRelationships = append(d.ChildRelationships, describeChild{ChildSObject: c.Object, Field: c.Field, RelationshipName: c.Name})
	}
	return d
}

func (e *Emulator) sortedChildren(o *objectDef) []*childRelationship {
	var out []*childRelationship
	for _, c := range o.meta.Children {
		out = append(out, c)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (e *Emulator) globalDescribe(r *apiRequest) map[string]any {
	var list []describeResult
	for _, o := range e.schema.ordered {
		list = append(list, e.objectSummary(r, o))
	}
	return map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}
}
