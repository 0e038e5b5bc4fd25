package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// This file is the only place that turns errors into HTTP statuses and SCIM error bodies
// (RFC 7644 §3.12). A resource handler's error reaches the SCIM library through handlerError
// (scimlib_response.go), which classifies it here.

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

// errorResponse is err as a status and SCIM error body, for places that embed an error response
// in their own answer (Bulk operations). A non-zero status replaces the error's own in both; the
// log line keeps the error's own.
func errorResponse(r *http.Request, err error, status int) (int, []byte) {
	e := scimschema.AsError(err)
	h := classify(e)
	logError(r.Context(), e, h)
	if status != 0 {
		h.status = status
	}
	body, _ := json.Marshal(h.body())
	return h.status, body
}
