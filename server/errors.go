package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// This file is the only place that turns errors into HTTP statuses and SCIM error bodies
// (RFC 7644 §3.12).

const (
	scimContentType = "application/scim+json"
	errorSchema     = "urn:ietf:params:scim:api:messages:2.0:Error"

	defaultRetryAfterLimited     = 30 * time.Second
	defaultRetryAfterUnavailable = 10 * time.Second
)

// errorBody is an RFC 7644 §3.12 error response.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// httpError is one error as it goes on the wire.
type httpError struct {
	status     int
	scimType   string
	detail     string
	retryAfter time.Duration // > 0 adds Retry-After
	allow      []string      // non-empty adds Allow (405)
}

func (e httpError) body() errorBody {
	return errorBody{
		Schemas:  []string{errorSchema},
		Status:   strconv.Itoa(e.status),
		ScimType: e.scimType,
		Detail:   e.detail,
	}
}

// classify maps a seam error to its wire form. Detail is the seam's client-safe text; an internal
// error never shows its cause.
func classify(e *scimschema.Error) httpError {
	h := httpError{status: http.StatusInternalServerError, detail: e.Detail}
	switch e.Kind {
	case scimschema.KindInvalidValue:
		h.status, h.scimType = http.StatusBadRequest, "invalidValue"
	case scimschema.KindInvalidSyntax:
		h.status, h.scimType = http.StatusBadRequest, "invalidSyntax"
	case scimschema.KindInvalidFilter:
		h.status, h.scimType = http.StatusBadRequest, "invalidFilter"
	case scimschema.KindInvalidPath:
		h.status, h.scimType = http.StatusBadRequest, "invalidPath"
	case scimschema.KindNoTarget:
		h.status, h.scimType = http.StatusBadRequest, "noTarget"
	case scimschema.KindMutability:
		h.status, h.scimType = http.StatusBadRequest, "mutability"
	case scimschema.KindTooMany:
		h.status, h.scimType = http.StatusBadRequest, "tooMany"
	case scimschema.KindUniqueness:
		h.status, h.scimType = http.StatusConflict, "uniqueness"
	case scimschema.KindConflict:
		h.status = http.StatusConflict
	case scimschema.KindNotFound:
		h.status = http.StatusNotFound
	case scimschema.KindForbidden:
		h.status = http.StatusForbidden
	case scimschema.KindPrecondition:
		h.status = http.StatusPreconditionFailed
	case scimschema.KindLimited:
		h.status = http.StatusTooManyRequests
		h.retryAfter = e.RetryAfter
		if h.retryAfter <= 0 {
			h.retryAfter = defaultRetryAfterLimited
		}
	case scimschema.KindUnavailable:
		h.status = http.StatusServiceUnavailable
		h.retryAfter = e.RetryAfter
		if h.retryAfter <= 0 {
			h.retryAfter = defaultRetryAfterUnavailable
		}
	case scimschema.KindNotImplemented:
		h.status = http.StatusNotImplemented
	default:
		h.detail = "internal error"
	}
	if h.detail == "" {
		h.detail = http.StatusText(h.status)
	}
	return h
}

// logError records err with the request's logger: the cause of a 5xx at error/warn level (the
// client only sees the safe detail), a client error at debug level.
func logError(ctx context.Context, e *scimschema.Error, h httpError) {
	log := zerolog.Ctx(ctx)
	var ev *zerolog.Event
	switch {
	case h.status == http.StatusInternalServerError:
		ev = log.Error()
	case h.status >= 500 || h.status == http.StatusTooManyRequests:
		ev = log.Warn()
	default:
		ev = log.Debug()
	}
	ev = ev.Int("status", h.status).Str("detail", e.Detail)
	if e.Err != nil {
		ev = ev.AnErr("cause", e.Err)
	}
	ev.Msg("scim request failed")
}

// writeError logs err and writes it as a SCIM error. Errors without a *scimschema.Error in their
// chain are internal errors.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := scimschema.AsError(err)
	h := classify(e)
	logError(r.Context(), e, h)
	writeHTTPError(w, h)
}

func writeHTTPError(w http.ResponseWriter, h httpError) {
	hdr := w.Header()
	hdr.Set("Content-Type", scimContentType)
	hdr.Del("Etag")
	hdr.Del("Location")
	if h.retryAfter > 0 {
		hdr.Set("Retry-After", strconv.Itoa(int((h.retryAfter+time.Second-1)/time.Second)))
	}
	if len(h.allow) > 0 {
		hdr.Set("Allow", strings.Join(h.allow, ", "))
	}
	w.WriteHeader(h.status)
	_ = json.NewEncoder(w).Encode(h.body())
}

func writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="scim-bridge"`)
	writeHTTPError(w, httpError{status: http.StatusUnauthorized, detail: "a valid bearer token is required"})
}

func writeMethodNotAllowed(w http.ResponseWriter, r *http.Request, allowed []string) {
	writeHTTPError(w, httpError{
		status: http.StatusMethodNotAllowed,
		detail: "method " + r.Method + " is not allowed on this endpoint",
		allow:  allowed,
	})
}

func writeTooLarge(w http.ResponseWriter, limit int64) {
	writeHTTPError(w, httpError{
		status: http.StatusRequestEntityTooLarge,
		detail: "the request body exceeds the limit of " + strconv.FormatInt(limit, 10) + " bytes",
	})
}

func writeBulkTooMany(w http.ResponseWriter) {
	writeHTTPError(w, httpError{
		status: http.StatusRequestEntityTooLarge,
		detail: "a bulk request may hold at most " + strconv.Itoa(maxBulkOperations) + " operations",
	})
}

// failure is the request-scoped holder of the error a resource handler returned to the SCIM
// library. The library cannot put 429/503 on the wire (it rewrites them to 500 with the raw text)
// and rejects statuses it deems inapplicable to a method, so the handler stashes the seam error here
// and failureWriter replaces whatever error the library writes by this one.
//
// It also carries the number of resources a list handler returned: the library writes the requested
// count as itemsPerPage, where RFC 7644 §3.4.2 defines it as the number of resources in the page.
//
// And it carries the resource's canonical id when the request named it otherwise (Salesforce takes
// 15-character and case-folded ids): the library builds meta.location from the request's path.
type failure struct {
	err          *scimschema.Error
	itemsPerPage int
	isList       bool
	pathID       string
	canonicalID  string
	// notModified is set by a single-resource GET whose If-None-Match names the current version:
	// the library's 200 becomes a bodiless 304 that keeps the ETag (RFC 7232 §4.1).
	notModified bool
}

// noteCanonicalID records that the resource asked for as pathID is canonically canonicalID.
func noteCanonicalID(r *http.Request, pathID, canonicalID string) {
	if f, ok := r.Context().Value(failureKey{}).(*failure); ok && canonicalID != "" && pathID != canonicalID {
		f.pathID, f.canonicalID = pathID, canonicalID
	}
}

type failureKey struct{}

func withFailure(ctx context.Context, f *failure) context.Context {
	return context.WithValue(ctx, failureKey{}, f)
}

// handlerError logs err, stashes it for failureWriter and returns the library's equivalent. It is the
// only way resource handlers return errors: the library never sees a raw Go error, whose text it
// would show in "detail".
func handlerError(r *http.Request, err error) error {
	e := scimschema.AsError(err)
	h := classify(e)
	logError(r.Context(), e, h)
	if f, ok := r.Context().Value(failureKey{}).(*failure); ok {
		f.err = e
	}
	return scimerrors.ScimError{Status: h.status, ScimType: scimerrors.ScimType(h.scimType), Detail: h.detail}
}

// failureWriter sits between the SCIM library and the client: when a handler stashed an error and
// the library writes an error status, the stashed error is written instead (with Retry-After) and
// the library's body is discarded.
type failureWriter struct {
	http.ResponseWriter
	failure     *failure
	wroteHeader bool
	discard     bool
}

func (w *failureWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if status >= 400 && w.failure.err != nil {
		w.discard = true
		writeHTTPError(w.ResponseWriter, classify(w.failure.err))
		return
	}
	if status == http.StatusOK && w.failure.notModified {
		w.discard = true
		w.Header().Del("Content-Type")
		w.Header().Del("Content-Length")
		w.ResponseWriter.WriteHeader(http.StatusNotModified)
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *failureWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	switch {
	case w.failure.isList:
		items := strconv.Itoa(w.failure.itemsPerPage)
		if out, ok := setTopLevel(b, "itemsPerPage", []byte(items)); ok {
			if _, err := w.ResponseWriter.Write(out); err != nil {
				return 0, err
			}
			return len(b), nil
		}
		return w.rewrite(b, func(body map[string]json.RawMessage) {
			body["itemsPerPage"] = json.RawMessage(items)
		})
	case w.failure.canonicalID != "":
		return w.rewrite(b, w.canonicalLocation)
	}
	return w.ResponseWriter.Write(b)
}

// rewrite corrects the library's JSON body (written in one Write) with fix; a body that is not a
// JSON object passes unchanged.
func (w *failureWriter) rewrite(b []byte, fix func(map[string]json.RawMessage)) (int, error) {
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
func (w *failureWriter) canonicalLocation(body map[string]json.RawMessage) {
	var meta map[string]json.RawMessage
	var loc string
	if json.Unmarshal(body["meta"], &meta) != nil || json.Unmarshal(meta["location"], &loc) != nil {
		return
	}
	suffix := "/" + url.PathEscape(w.failure.pathID)
	if !strings.HasSuffix(loc, suffix) {
		return
	}
	meta["location"], _ = json.Marshal(strings.TrimSuffix(loc, suffix) + "/" + url.PathEscape(w.failure.canonicalID))
	body["meta"], _ = json.Marshal(meta)
}

func (w *failureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errorResponse is err as a status and SCIM error body, for places that embed an error response
// in their own answer (Bulk operations).
func errorResponse(r *http.Request, err error) (int, []byte) {
	e := scimschema.AsError(err)
	h := classify(e)
	logError(r.Context(), e, h)
	body, _ := json.Marshal(h.body())
	return h.status, body
}
