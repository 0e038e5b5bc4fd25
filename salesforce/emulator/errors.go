package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Error is one Salesforce error as the REST API reports it: an element of the JSON error array
// [{"message","errorCode","fields"}] sent with HTTP status Status.
type Error struct {
	Status  int
	Code    string
	Message string
	Fields  []string // nil: the element has no "fields" key
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Salesforce's texts, verbatim where the reference quotes them.
const (
	msgSessionInvalid = "Session expired or invalid"
	msgNotFound       = "The requested resource does not exist"
	msgLimitExceeded  = "TotalRequests Limit exceeded."
	msgCrossReference = "invalid cross reference id"
	msgIDInBody       = "The Id field should not be specified in the sobject data."
	msgDuplicateUser  = "Duplicate Username.<br>The username already exists in this or another Salesforce organization. " +
		"Usernames must be unique across all Salesforce organizations. To resolve, use a different username " +
		"(it doesn't need to match the user's email address)."
	msgDuplicateNickname = "Duplicate Nickname.<br>Another user has already selected this nickname.<br>Please select another."
	msgRolledBack        = "The transaction was rolled back since another operation in the same transaction failed."
	msgRecordRolledBack  = "Record rolled back because not all records were valid and the request was using AllOrNone header"
)

func newError(status int, code, message string, fields ...string) *Error {
	e := &Error{Status: status, Code: code, Message: message}
	if fields != nil {
		e.Fields = fields
	}
	return e
}

// fieldError is a 400 DML error naming fields (always with a "fields" array, possibly empty).
func fieldError(code, message string, fields ...string) *Error {
	if fields == nil {
		fields = []string{}
	}
	return &Error{Status: http.StatusBadRequest, Code: code, Message: message, Fields: fields}
}

func errSession() *Error {
	return newError(http.StatusUnauthorized, "INVALID_SESSION_ID", msgSessionInvalid)
}

// errAuthHeader answers an Authorization header that is not "Bearer <token>".
func errAuthHeader() *Error {
	return newError(http.StatusUnauthorized, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE")
}

func errNotFound() *Error { return newError(http.StatusNotFound, "NOT_FOUND", msgNotFound) }

func errMethodNotAllowed(method, allowed string) *Error {
	return newError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", method, allowed))
}

func errMalformedID(o *objectDef, id string) *Error {
	return fieldError("MALFORMED_ID", fmt.Sprintf("%s ID: id value of incorrect type: %s", o.Label, id), "Id")
}

func errCrossReference(field string) *Error {
	return fieldError("INVALID_CROSS_REFERENCE_KEY", msgCrossReference, field)
}

func errRequiredMissing(fields []string) *Error {
	return fieldError("REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(fields, ", ")+"]", fields...)
}

// wireError is the JSON form of an Error.
type wireError struct {
	Message   string    `json:"message"`
	ErrorCode string    `json:"errorCode"`
	Fields    *[]string `json:"fields,omitempty"`
}

func errorBody(errs ...*Error) []byte {
	out := make([]wireError, len(errs))
	for i, e := range errs {
		out[i] = wireError{Message: e.Message, ErrorCode: e.Code}
		if e.Fields != nil {
			f := e.Fields
			out[i].Fields = &f
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// recordError is the per-record error form of sObject Collections, which says statusCode.
type recordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

func toRecordError(e *Error) recordError {
	f := e.Fields
	if f == nil {
		f = []string{}
	}
	return recordError{StatusCode: e.Code, Message: e.Message, Fields: f}
}
