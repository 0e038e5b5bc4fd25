package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// The response side of the SCIM library's workarounds (catalogue in scimlib.go): what a resource
// handler hands the library (projection.resource, handlerError) and what the library writes
// (correctingWriter).

// corrections is the request-scoped record of what the library's response needs corrected; the
// resource handlers note into it, correctingWriter applies it.
type corrections struct {
	// handlerErr is the error a resource handler returned. The library cannot put 429/503 on the
	// wire (it rewrites them to 500 with the raw text) and rejects statuses it deems inapplicable to
	// a method, so correctingWriter writes this error instead of the library's.
	handlerErr *scimschema.Error
	// isList and itemsPerPage: the library writes the requested count as itemsPerPage, where
	// RFC 7644 §3.4.2 defines it as the number of resources in the page.
	isList       bool
	itemsPerPage int
	// pathID and canonicalID: the resource was asked for as pathID and is canonically canonicalID
	// (Salesforce takes 15-character and case-folded ids); the library builds meta.location from
	// the request's path.
	pathID      string
	canonicalID string
	// notModified is set by a single-resource GET whose If-None-Match names the current version:
	// the library ignores If-None-Match, so its 200 becomes a bodiless 304 that keeps the ETag
	// (RFC 7232 §4.1).
	notModified bool
}

type correctionsKey struct{}

func withCorrections(ctx context.Context, c *corrections) context.Context {
	return context.WithValue(ctx, correctionsKey{}, c)
}

// correctionsOf is the request's corrections record, nil outside the library.
func correctionsOf(r *http.Request) *corrections {
	c, _ := r.Context().Value(correctionsKey{}).(*corrections)
	return c
}

// noteCanonicalID records that the resource asked for as pathID is canonically canonicalID.
func noteCanonicalID(r *http.Request, pathID, canonicalID string) {
	if c := correctionsOf(r); c != nil && canonicalID != "" && pathID != canonicalID {
		c.pathID, c.canonicalID = pathID, canonicalID
	}
}

// noteItemsPerPage records the number of resources a list returns.
func noteItemsPerPage(r *http.Request, n int) {
	if c := correctionsOf(r); c != nil {
		c.isList, c.itemsPerPage = true, n
	}
}

// noteNotModified records that the GET is to be answered 304 Not Modified.
func noteNotModified(r *http.Request) {
	if c := correctionsOf(r); c != nil {
		c.notModified = true
	}
}

// handlerError logs err, notes it for correctingWriter and returns the library's equivalent. It is
// the only way resource handlers return errors: the library never sees a raw Go error, whose text it
// would show in "detail".
func handlerError(r *http.Request, err error) error {
	e := scimschema.AsError(err)
	h := classify(e)
	logError(r.Context(), e, h)
	if c := correctionsOf(r); c != nil {
		c.handlerErr = e
	}
	return scimerrors.ScimError{Status: h.status, ScimType: scimerrors.ScimType(h.scimType), Detail: h.detail}
}

// correctingWriter sits between the SCIM library and the client and applies the corrections noted
// while the library served the request: when a handler noted an error and the library writes an
// error status, the noted error is written instead (with Retry-After) and the library's body is
// discarded; a noted 304 replaces the library's 200; a list's itemsPerPage and a resource's
// meta.location are corrected in the body.
type correctingWriter struct {
	http.ResponseWriter
	fixes       *corrections
	wroteHeader bool
	discard     bool
}

func (w *correctingWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if status >= 400 && w.fixes.handlerErr != nil {
		w.discard = true
		writeHTTPError(w.ResponseWriter, classify(w.fixes.handlerErr))
		return
	}
	if status == http.StatusOK && w.fixes.notModified {
		w.discard = true
		w.Header().Del("Content-Type")
		w.Header().Del("Content-Length")
		w.ResponseWriter.WriteHeader(http.StatusNotModified)
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *correctingWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	switch {
	case w.fixes.isList:
		items := strconv.Itoa(w.fixes.itemsPerPage)
		if out, ok := setTopLevel(b, "itemsPerPage", []byte(items)); ok {
			if _, err := w.ResponseWriter.Write(out); err != nil {
				return 0, err
			}
			return len(b), nil
		}
		return w.rewrite(b, func(body map[string]json.RawMessage) {
			body["itemsPerPage"] = json.RawMessage(items)
		})
	case w.fixes.canonicalID != "":
		return w.rewrite(b, w.canonicalLocation)
	}
	return w.ResponseWriter.Write(b)
}

// rewrite corrects the library's JSON body (written in one Write) with fix; a body that is not a
// JSON object passes unchanged.
func (w *correctingWriter) rewrite(b []byte, fix func(map[string]json.RawMessage)) (int, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil {
		return w.ResponseWriter.Write(b)
	}
	fix(body)
	out, err := json.Marshal(body)
	if err != nil {
		return w.ResponseWriter.Write(b)
	}
	if _, err := w.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// canonicalLocation puts the canonical id into the resource's meta.location.
func (w *correctingWriter) canonicalLocation(body map[string]json.RawMessage) {
	var meta map[string]json.RawMessage
	var loc string
	if json.Unmarshal(body["meta"], &meta) != nil || json.Unmarshal(meta["location"], &loc) != nil {
		return
	}
	suffix := "/" + url.PathEscape(w.fixes.pathID)
	if !strings.HasSuffix(loc, suffix) {
		return
	}
	meta["location"], _ = json.Marshal(strings.TrimSuffix(loc, suffix) + "/" + url.PathEscape(w.fixes.canonicalID))
	body["meta"], _ = json.Marshal(meta)
}

func (w *correctingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// projection is the request's attributes / excludedAttributes query parameters (RFC 7644 §3.9),
// which the library ignores.
type projection struct {
	attributes, excluded []string
}

func projectionOf(r *http.Request) projection {
	q := r.URL.Query()
	return projection{attributes: splitList(q.Get("attributes")), excluded: splitList(q.Get("excludedAttributes"))}
}

func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// resource converts a backend resource for the library: password stripped (the library echoes the
// write-only password back), the projection applied (the library ignores attributes and
// excludedAttributes), externalId only when requested.
func (p projection) resource(res scimschema.Resource) scim.Resource {
	attrs := make(map[string]any, len(res.Attributes))
	for k, v := range res.Attributes {
		if !strings.EqualFold(k, "password") {
			attrs[k] = v
		}
	}
	projected := scimschema.Project(attrs, p.attributes, p.excluded)
	if projected == nil {
		projected = map[string]any{}
	}
	out := scim.Resource{ID: res.ID, Attributes: projected, Meta: scim.Meta{Version: res.Version}}
	if res.ExternalID != "" && scimschema.Requested("externalId", p.attributes, p.excluded) {
		out.ExternalID = optional.NewString(res.ExternalID)
	}
	if !res.Created.IsZero() {
		t := res.Created
		out.Meta.Created = &t
	}
	if !res.LastModified.IsZero() {
		t := res.LastModified
		out.Meta.LastModified = &t
	}
	return out
}

// setTopLevel replaces the value of key in the top-level JSON object b by value, without decoding
// and re-encoding the rest: a ListResponse of 200 users is hundreds of kilobytes, and its
// itemsPerPage (correctingWriter) is a few bytes. It scans b once, skipping nested values and strings
// (with their escapes). ok is false when b is not an object holding key at its top level; the
// caller then falls back to a full rewrite.
func setTopLevel(b []byte, key string, value []byte) (out []byte, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end, ok := skipString(b, i)
		if !ok {
			return nil, false
		}
		name := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		start := skipSpace(b, i+1)
		stop, ok := skipValue(b, start)
		if !ok {
			return nil, false
		}
		if string(name) == key {
			out = make([]byte, 0, len(b)-(stop-start)+len(value))
			out = append(append(append(out, b[:start]...), value...), b[stop:]...)
			return out, true
		}
		i = skipSpace(b, stop)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return nil, false // key absent
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index just after the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	// A number, true, false or null: up to the next delimiter.
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
		i++
	}
	return i, i > start
}
