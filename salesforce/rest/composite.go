package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Composite and sObject Collections: several operations in one API call (Salesforce counts a
// composite request as one call, whatever it holds).

// Composite limits: at most 25 subrequests, at most 5 of them queries or collections ("Up to 5 of
// these subrequests can be sObject Collections or query operations, including Query and QueryAll
// requests", D-COMP https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite_post.htm).
const (
	MaxSubrequests      = 25
	MaxQuerySubrequests = 5
	// CollectionChunk is the most records one sObject Collections call takes.
	CollectionChunk = 200
)

// Subrequest is one operation inside a composite request. Path is relative to the versioned base
// ("sobjects/User", "sobjects/User/@{newUser.id}", QueryPath(soql)); references such as
// "@{ref.id}" pass through to Salesforce unchanged. Body is JSON-encoded when non-nil.
type Subrequest struct {
	Method, Path, ReferenceID string
	Body                      any
	Headers                   map[string]string
}

// SubResponse is one subrequest's outcome. Err is decoded when Status >= 400; a subrequest that
// did not run because another failed carries Code PROCESSING_HALTED.
type SubResponse struct {
	ReferenceID string
	Status      int
	Body        json.RawMessage
	Err         *Error
}

var referenceIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)

// isQueryOrCollection reports whether a subrequest path counts toward the 5 query or sObject
// Collections subrequests of a composite.
func isQueryOrCollection(path string) bool {
	for _, p := range []string{"query", "queryAll", "composite/sobjects"} {
		if rest, ok := strings.CutPrefix(path, p); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
			return true
		}
	}
	return false
}

// QueryPath is the composite subrequest path of a SOQL query: "query?q=<url-encoded>".
func QueryPath(soql string) string {
	return "query?q=" + url.QueryEscape(soql)
}

type compositeSub struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body,omitempty"`
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// compositeBody is the composite request. CollateSubrequests is always false: from API v49
// Salesforce may otherwise run unrelated subrequests out of order, and the backend relies on order
// (read-backs after writes, conditional writes after the queries they reference).
type compositeBody struct {
	AllOrNone          bool           `json:"allOrNone"`
	CollateSubrequests bool           `json:"collateSubrequests"`
	CompositeRequest   []compositeSub `json:"compositeRequest"`
}

type compositeResult struct {
	CompositeResponse []struct {
		Body           json.RawMessage `json:"body"`
		HTTPStatusCode int             `json:"httpStatusCode"`
		ReferenceID    string          `json:"referenceId"`
	} `json:"compositeResponse"`
}

// Composite sends subs as one composite request (one API call). With allOrNone a failure rolls
// everything back. The top-level answer is 200 even when subrequests fail: look at each
// SubResponse. A composite made only of GETs is retried like a read.
func (c *Client) Composite(ctx context.Context, allOrNone bool, subs []Subrequest) ([]SubResponse, error) {
	raw, err := c.CompositeRaw(ctx, allOrNone, subs)
	if err != nil {
		return nil, err
	}
	return DecodeComposite(raw)
}

// CompositeRaw is Composite with the answer left undecoded, for a caller that decodes it into
// types in one pass (the backend's typed user reads).
func (c *Client) CompositeRaw(ctx context.Context, allOrNone bool, subs []Subrequest) ([]byte, error) {
	if len(subs) == 0 {
		return nil, errors.New("salesforce: composite needs at least one subrequest")
	}
	if len(subs) > MaxSubrequests {
		return nil, fmt.Errorf("salesforce: composite takes at most %d subrequests, got %d", MaxSubrequests, len(subs))
	}
	body := compositeBody{AllOrNone: allOrNone, CompositeRequest: make([]compositeSub, len(subs))}
	safe := true
	seen := make(map[string]bool, len(subs))
	queries := 0
	for i, s := range subs {
		if isQueryOrCollection(s.Path) {
			if queries++; queries > MaxQuerySubrequests {
				return nil, fmt.Errorf("salesforce: composite takes at most %d query or sObject Collections subrequests", MaxQuerySubrequests)
			}
		}
		switch s.Method {
		case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		default:
			return nil, fmt.Errorf("salesforce: composite subrequest %d: method %q is not GET, POST, PATCH, PUT or DELETE", i, s.Method)
		}
		if !referenceIDPattern.MatchString(s.ReferenceID) || seen[s.ReferenceID] {
			return nil, fmt.Errorf("salesforce: composite subrequest %d: reference id %q must be unique, letters, digits and _", i, s.ReferenceID)
		}
		seen[s.ReferenceID] = true
		if s.Path == "" || strings.HasPrefix(s.Path, "/") || strings.Contains(s.Path, "://") || strings.Contains(s.Path, "..") {
			return nil, fmt.Errorf("salesforce: composite subrequest %q: path must be relative to the versioned base", s.ReferenceID)
		}
		for h := range s.Headers {
			switch strings.ToLower(h) {
			case "accept", "authorization", "content-type":
				return nil, fmt.Errorf("salesforce: composite subrequest %q: header %s is not allowed", s.ReferenceID, h)
			}
		}
		if s.Method != http.MethodGet {
			safe = false
		}
		body.CompositeRequest[i] = compositeSub{
			Method: s.Method, URL: c.dataBase + s.Path, ReferenceID: s.ReferenceID, Body: s.Body, HTTPHeaders: s.Headers,
		}
	}
	var raw rawAnswer
	if err := c.call(ctx, request{op: "composite", method: http.MethodPost, path: c.DataPath("composite"), body: body, safe: safe}, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// DecodeComposite decodes a composite answer into its subresponses.
func DecodeComposite(raw []byte) ([]SubResponse, error) {
	var res compositeResult
	if len(bytes.TrimSpace(raw)) == 0 {
		return []SubResponse{}, nil
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, &Error{Kind: KindOther, ownMessage: true, Message: "the composite answer is not the JSON the client expects"}
	}
	out := make([]SubResponse, len(res.CompositeResponse))
	for i, r := range res.CompositeResponse {
		out[i] = SubResponse{ReferenceID: r.ReferenceID, Status: r.HTTPStatusCode, Body: r.Body}
		if r.HTTPStatusCode >= 400 {
			out[i].Err = decodeError(r.HTTPStatusCode, r.Body)
		}
	}
	return out, nil
}

// SaveResult is one record's outcome in an sObject Collections call, in input order. Errors carry
// Salesforce's per-record statusCode as Code and Status 0.
type SaveResult struct {
	ID      string
	Success bool
	Errors  []Error
}

func (r SaveResponse) Result() SaveResult {
	s := SaveResult{ID: r.ID, Success: r.Success}
	for _, e := range r.Errors {
		s.Errors = append(s.Errors, e.AsError())
	}
	return s
}

// halted is the result of a record that was never sent because an earlier chunk of an allOrNone
// call failed.
func halted() SaveResult {
	return SaveResult{Errors: []Error{{Code: "PROCESSING_HALTED", Kind: KindOther, ownMessage: true,
		Message: "not sent: an earlier chunk failed and allOrNone was requested"}}}
}

// CreateRecords inserts records with sObject Collections, CollectionChunk records per call. Every
// record needs "attributes":{"type":…}. allOrNone holds within a chunk only: after a failing chunk
// the remaining records are not sent (PROCESSING_HALTED) but earlier chunks stay committed. On a
// transport error the results so far are returned with the error.
func (c *Client) CreateRecords(ctx context.Context, allOrNone bool, records []Record) ([]SaveResult, error) {
	return c.saveRecords(ctx, http.MethodPost, allOrNone, records)
}

// UpdateRecords updates records with sObject Collections; every record needs "attributes" with
// "type" and an "id". Chunking and allOrNone as for CreateRecords.
func (c *Client) UpdateRecords(ctx context.Context, allOrNone bool, records []Record) ([]SaveResult, error) {
	for i, r := range records {
		id, _ := r["id"].(string)
		if id == "" {
			id, _ = r["Id"].(string)
		}
		if !validID(id) {
			return nil, fmt.Errorf("salesforce: update record %d: missing or malformed id", i)
		}
	}
	return c.saveRecords(ctx, http.MethodPatch, allOrNone, records)
}

func (c *Client) saveRecords(ctx context.Context, method string, allOrNone bool, records []Record) ([]SaveResult, error) {
	for i, r := range records {
		attrs, _ := r["attributes"].(map[string]any)
		typ, _ := attrs["type"].(string)
		if checkObject(typ) != nil {
			return nil, fmt.Errorf("salesforce: record %d: attributes.type must name the sObject", i)
		}
	}
	results := make([]SaveResult, 0, len(records))
	for start := 0; start < len(records); start += CollectionChunk {
		chunk := records[start:min(start+CollectionChunk, len(records))]
		var res []SaveResponse
		body := map[string]any{"allOrNone": allOrNone, "records": chunk}
		if err := c.call(ctx, request{op: "collections", method: method, path: c.DataPath("composite", "sobjects"), body: body}, &res); err != nil {
			return results, err
		}
		if failed, err := appendResults(&results, res, len(chunk)); err != nil {
			return results, err
		} else if failed && allOrNone {
			for len(results) < len(records) {
				results = append(results, halted())
			}
			return results, nil
		}
	}
	return results, nil
}

// DeleteRecords deletes records by id with sObject Collections, CollectionChunk ids per call.
// Chunking and allOrNone as for CreateRecords.
func (c *Client) DeleteRecords(ctx context.Context, allOrNone bool, ids []string) ([]SaveResult, error) {
	for _, id := range ids {
		if !validID(id) {
			return nil, malformedID()
		}
	}
	results := make([]SaveResult, 0, len(ids))
	for start := 0; start < len(ids); start += CollectionChunk {
		chunk := ids[start:min(start+CollectionChunk, len(ids))]
		q := url.Values{"ids": {strings.Join(chunk, ",")}, "allOrNone": {fmt.Sprint(allOrNone)}}
		var res []SaveResponse
		if err := c.call(ctx, request{op: "collections", method: http.MethodDelete, path: c.DataPath("composite", "sobjects"), query: q}, &res); err != nil {
			return results, err
		}
		if failed, err := appendResults(&results, res, len(chunk)); err != nil {
			return results, err
		} else if failed && allOrNone {
			for len(results) < len(ids) {
				results = append(results, halted())
			}
			return results, nil
		}
	}
	return results, nil
}

// appendResults adds one chunk's results and reports whether any record failed.
func appendResults(results *[]SaveResult, res []SaveResponse, want int) (failed bool, err error) {
	if len(res) != want {
		return false, &Error{Kind: KindOther, ownMessage: true,
			Message: fmt.Sprintf("sObject Collections answered %d results for %d records", len(res), want)}
	}
	for _, r := range res {
		*results = append(*results, r.Result())
		failed = failed || !r.Success
	}
	return failed, nil
}
