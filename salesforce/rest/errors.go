package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
)

// Kind classifies a Salesforce failure into the few outcomes a caller acts on.
type Kind int

const (
	KindOther       Kind = iota // anything not listed below (permissions, 405, rolled-back siblings …)
	KindNotFound                // the record or resource does not exist (404, NOT_FOUND, a malformed direct id)
	KindConflict                // a uniqueness rule refused the write (DUPLICATE_*), or 409/412
	KindInvalid                 // Salesforce rejected the input (400 validation codes)
	KindLimited                 // the org's API allowance is used up (403 REQUEST_LIMIT_EXCEEDED)
	KindUnavailable             // Salesforce could not be reached, timed out, or answered 5xx / non-JSON
	KindAuth                    // OAuth failed or the session was refused even after a refresh
	KindLocked                  // UNABLE_TO_LOCK_ROW: another transaction holds the row; retrying may work
)

var kindNames = [...]string{"other", "not_found", "conflict", "invalid", "limited", "unavailable", "auth", "locked"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a classified Salesforce failure: a REST error array, a per-record error of an sObject
// Collections call, a token-endpoint refusal, or a transport failure.
//
// Message is Salesforce's own text for REST errors and can echo submitted field values ("Email:
// invalid email address: jdoe@"), so Error() leaves it out; it includes Message only when this
// package wrote it (token, transport and non-JSON failures). Neither ever contains a token or
// secret.
type Error struct {
	Status  int    // HTTP status; 0 for per-record collection errors and transport failures
	Code    string // Salesforce errorCode/statusCode or OAuth error ("invalid_grant"); "" when none
	Message string
	Fields  []string
	Kind    Kind

	ownMessage bool  // Message was written by this package and is safe to print
	cause      error // underlying transport error, for errors.Is; never printed
	notSent    bool  // the request never reached Salesforce (no token, dial failure): safe to repeat
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("salesforce: ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d ", e.Status)
	}
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString(e.Kind.String())
	}
	if len(e.Fields) > 0 {
		fmt.Fprintf(&b, " (fields %s)", strings.Join(e.Fields, ", "))
	}
	if e.ownMessage && e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Safe is e in an operator's words, without the "salesforce:" prefix: the client's own message
// alone when it wrote one and Salesforce gave no status or code ("token endpoint: Salesforce could
// not be reached: connection refused …"), else the status, the error code and any own message.
// Like Error, it never holds Salesforce's message text.
func (e *Error) Safe() string {
	if e.Status == 0 && e.Code == "" && e.ownMessage && e.Message != "" {
		return e.Message
	}
	return strings.TrimPrefix(e.Error(), "salesforce: ")
}

// Unwrap exposes the transport cause (context.DeadlineExceeded, *net.OpError …) to errors.Is/As.
func (e *Error) Unwrap() error { return e.cause }

// KindOf classifies err, looking through wrapping. A context deadline or cancellation and network
// errors are KindUnavailable; nil and unknown errors are KindOther.
func KindOf(err error) Kind {
	if err == nil {
		return KindOther
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return KindUnavailable
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return KindUnavailable
	}
	return KindOther
}

// IsCode reports whether err is (or wraps) an *Error with the given Salesforce or OAuth code.
func IsCode(err error, code string) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Code == code
}

// classify maps an HTTP status and Salesforce error code to a Kind. The code wins where it is
// specific; the status decides the rest. INVALID_CROSS_REFERENCE_KEY is NotFound only with 404
// (a direct id inside composite) and Invalid with 400 (a bad ProfileId in a create): callers that
// need finer distinctions keep Error.Code.
func classify(status int, code string) Kind {
	switch {
	case code == "UNABLE_TO_LOCK_ROW":
		return KindLocked
	case code == "REQUEST_LIMIT_EXCEEDED":
		return KindLimited
	case code == "INVALID_SESSION_ID" || status == 401:
		return KindAuth
	case strings.HasPrefix(code, "DUPLICATE_"):
		return KindConflict
	case code == "INVALID_QUERY_LOCATOR":
		// A query cursor expired or was invalidated (a parent's queryMore invalidates its child
		// cursors; SOAP API queryMore()): nothing is missing, the query has to run again. Callers
		// that can re-run it do so once (QueryEach); otherwise the SCIM client retries after 503.
		return KindUnavailable
	case code == "NOT_FOUND" || status == 404:
		return KindNotFound
	case code == "SERVER_UNAVAILABLE" || status >= 500:
		return KindUnavailable
	case status == 409 || status == 412:
		return KindConflict
	case status == 400 || (status == 0 && code != ""):
		switch code {
		case "PROCESSING_HALTED", "ALL_OR_NONE_OPERATION_ROLLED_BACK":
			return KindOther
		}
		return KindInvalid
	}
	return KindOther
}

// apiError is one element of Salesforce's REST error array.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

// decodeError turns a non-2xx REST answer into an *Error. Salesforce answers with a JSON array
// [{"message","errorCode","fields"}]; gateways in front of it answer with HTML. A non-JSON body
// never becomes message text.
func decodeError(status int, body []byte) *Error {
	trimmed := bytes.TrimSpace(body)
	var list []apiError
	switch {
	case len(trimmed) == 0:
		return ownError(status, "", fmt.Sprintf("Salesforce answered HTTP %d with an empty body", status))
	case trimmed[0] == '[':
		if json.Unmarshal(trimmed, &list) != nil {
			list = nil
		}
	case trimmed[0] == '{':
		var one apiError
		if json.Unmarshal(trimmed, &one) == nil && one.ErrorCode != "" {
			list = []apiError{one}
		}
	}
	if len(list) == 0 || list[0].ErrorCode == "" {
		return ownError(status, "", fmt.Sprintf("Salesforce answered HTTP %d with a non-JSON body", status))
	}
	return fromAPIErrors(status, list)
}

func fromAPIErrors(status int, list []apiError) *Error {
	e := &Error{Status: status, Code: list[0].ErrorCode}
	messages := make([]string, 0, len(list))
	for _, a := range list {
		if a.Message != "" {
			messages = append(messages, a.Message)
		}
		for _, f := range a.Fields {
			if !slices.Contains(e.Fields, f) {
				e.Fields = append(e.Fields, f)
			}
		}
	}
	e.Message = strings.Join(messages, "; ")
	e.Kind = classify(status, e.Code)
	return e
}

// ownError is an *Error whose message this package wrote.
func ownError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message, Kind: classify(status, code), ownMessage: true}
}

// transportError wraps a failure to get any HTTP answer. The cause is kept for errors.Is but its
// text (which can hold the request URL and thus SOQL values) is never printed; the message names
// the cause in an operator's words instead (NetworkCause).
func transportError(err error) *Error {
	msg := "Salesforce could not be reached: " + NetworkCause(err)
	switch {
	case errors.Is(err, context.Canceled):
		msg = "the request was canceled"
	case isTimeout(err):
		msg = "Salesforce did not answer in time (timeout)"
	}
	// A failed dial sent nothing, so even a write may be repeated; any later failure may have
	// reached Salesforce.
	op, isOp := errors.AsType[*net.OpError](err)
	return &Error{Message: msg, Kind: KindUnavailable, ownMessage: true, cause: err, notSent: isOp && op.Op == "dial"}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// NetworkCause names why no HTTP answer came, in the words an operator searches for: no such host,
// connection refused, a connection closed without an answer, a timeout, a certificate problem or
// a scheme mismatch. Go's own text (`Get "…": dial tcp …`) is never part of it: it can hold the
// request URL. The bridge's Salesforce calls and the status and healthcheck commands share it.
func NetworkCause(err error) string {
	if dns, ok := errors.AsType[*net.DNSError](err); ok {
		if dns.IsNotFound {
			return "no such host (the host name does not resolve; check the URL's host name)"
		}
		if dns.IsTimeout {
			return "DNS lookup timeout"
		}
		return "DNS lookup failed"
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return "certificate signed by an unknown authority (a TLS-intercepting proxy needs its CA in the system trust store)"
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return "certificate is not valid for this host name (check the URL's host name)"
	}
	if ce, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		if ce.Reason == x509.Expired {
			return "certificate expired or not yet valid (check the system clock)"
		}
		return "certificate is invalid"
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return "certificate verification failed"
	}
	// An https URL for an http listener: net/http reports the TLS record error as
	// http.ErrSchemeMismatch ("server gave HTTP response to HTTPS client").
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok || errors.Is(err, http.ErrSchemeMismatch) {
		return "TLS handshake failed (is the URL https:// for an http listener, or the reverse?)"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens on that address)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset: closed without an answer (is it an HTTP listener? http:// for an https one, or the reverse?)"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "network unreachable"
	case isTimeout(err):
		return "timeout (something listens but does not answer)"
	}
	return "network error"
}

// RecordError is one per-record error of an sObject Collections result; note "statusCode" where
// REST errors say "errorCode".
type RecordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

func (r RecordError) AsError() Error {
	return Error{Code: r.StatusCode, Message: r.Message, Fields: r.Fields, Kind: classify(0, r.StatusCode)}
}

func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return "refused"
}

// NewError is an error the caller raises itself (a Salesforce answer it cannot use); message is
// its own words, safe to show, never Salesforce's text.
func NewError(kind Kind, message string) *Error {
	return &Error{Kind: kind, ownMessage: true, Message: message}
}
