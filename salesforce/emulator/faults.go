package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
)

// Fault makes matching requests fail the way Salesforce or the network in front of it does.
// Faults are checked in the order injected; the first match applies. JSON answers on the
// versioned REST API carry Sforce-Limit-Info like the org's own errors (see faultUsage).
type Fault struct {
	Method      string        // "" matches every method
	PathPattern string        // path.Match pattern on the URL path, or a prefix ending in '*' ("/services/data/*")
	Status      int           // HTTP status; 0 = 400 when ErrorCode is set, 502 when HTML is set
	ErrorCode   string        // Salesforce errorCode (or OAuth "error" on the token endpoint); "" = derived from Status
	Message     string        // "" = Salesforce's usual text for the code
	HTML        bool          // answer a gateway-style HTML page instead of JSON
	Latency     time.Duration // delay before answering (or before running the request normally when nothing else is set)
	// DropConnection closes the connection without an answer (http.Hijacker). With AfterApply the
	// request is carried out first and only its answer is lost; otherwise nothing is changed.
	DropConnection bool
	AfterApply     bool
	Times          int // how many requests the fault applies to; 0 = once, negative = until removed
	// ForceInvalidGrant answers the token endpoint 400 invalid_grant "expired access/refresh token".
	ForceInvalidGrant bool
}

type activeFault struct {
	Fault
	remaining int // < 0: unlimited
}

// InjectFault adds a fault.
func (e *Emulator) InjectFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	remaining := f.Times
	if remaining == 0 {
		remaining = 1
	}
	e.faults = append(e.faults, &activeFault{Fault: f, remaining: remaining})
}

// clearFaults removes every injected fault.
func (e *Emulator) clearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

func (f *Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	p := f.PathPattern
	if p == "" || p == "*" {
		return true
	}
	if strings.HasSuffix(p, "*") && strings.HasPrefix(r.URL.Path, strings.TrimSuffix(p, "*")) {
		return true
	}
	ok, _ := path.Match(p, r.URL.Path)
	return ok
}

// takeFault returns (and uses up one application of) the first fault matching r.
func (e *Emulator) takeFault(r *http.Request) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if !f.matches(r) {
			continue
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		fault := f.Fault
		return &fault
	}
	return nil
}

// answers reports whether the fault produces its own answer (rather than only adding latency).
func (f *Fault) answers() bool {
	return f.Status != 0 || f.ErrorCode != "" || f.HTML || f.DropConnection || f.ForceInvalidGrant
}

// defaultFaultText is Salesforce's usual error for a status.
func defaultFaultText(status int) (code, message string) {
	switch status {
	case http.StatusUnauthorized:
		return "INVALID_SESSION_ID", msgSessionInvalid
	case http.StatusForbidden:
		return "REQUEST_LIMIT_EXCEEDED", msgLimitExceeded
	case http.StatusNotFound:
		return "NOT_FOUND", msgNotFound
	case http.StatusServiceUnavailable:
		return "SERVER_UNAVAILABLE", "Server Unavailable"
	case http.StatusBadRequest:
		return "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records"
	}
	return "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)"
}

// status is the HTTP status the fault answers with.
func (f *Fault) status() int {
	switch {
	case f.Status != 0:
		return f.Status
	case f.ForceInvalidGrant:
		return http.StatusBadRequest
	case f.HTML:
		return http.StatusBadGateway
	case f.ErrorCode != "":
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}

// writeFault answers a request with the fault's error; usage is the Sforce-Limit-Info value
// ("" for none).
func writeFault(w http.ResponseWriter, r *http.Request, f *Fault, usage string) {
	status := f.status()
	if usage != "" {
		w.Header().Set("Sforce-Limit-Info", usage)
	}
	if f.HTML {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%d %s</h1><p>The server encountered a temporary error and could not complete your request.</p></body></html>\n",
			status, http.StatusText(status), status, http.StatusText(status))
		return
	}
	code, message := defaultFaultText(status)
	if f.ErrorCode != "" && f.ErrorCode != code {
		code, message = f.ErrorCode, f.ErrorCode
		for _, s := range []int{400, 401, 403, 404, 503} {
			if c, m := defaultFaultText(s); c == code {
				message = m
			}
		}
	}
	if f.Message != "" {
		message = f.Message
	}
	if strings.HasPrefix(r.URL.Path, "/services/oauth2/") {
		oe := &oauthError{Error: code, Description: message}
		if f.ForceInvalidGrant {
			oe = errExpiredGrant
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(oe)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(newError(status, code, message)))
}

// dropConnection closes the client connection without an HTTP answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Not hijackable (HTTP/2, a recorder): abort the handler, which resets the stream.
	panic(http.ErrAbortHandler)
}

// bufferedWriter collects an answer that is then thrown away (Fault.AfterApply).
type bufferedWriter struct{ header http.Header }

func (b *bufferedWriter) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}
func (b *bufferedWriter) Write(p []byte) (int, error) { return len(p), nil }
func (b *bufferedWriter) WriteHeader(int)             {}

// faultJSON is the wire form of a Fault for POST /__emulator/faults (durations as Go strings).
type faultJSON struct {
	Method            string `json:"method"`
	PathPattern       string `json:"pathPattern"`
	Status            int    `json:"status"`
	ErrorCode         string `json:"errorCode"`
	Message           string `json:"message"`
	HTML              bool   `json:"html"`
	Latency           string `json:"latency"`
	DropConnection    bool   `json:"dropConnection"`
	AfterApply        bool   `json:"afterApply"`
	Times             int    `json:"times"`
	ForceInvalidGrant bool   `json:"forceInvalidGrant"`
}

func (fj faultJSON) fault() (Fault, error) {
	f := Fault{Method: fj.Method, PathPattern: fj.PathPattern, Status: fj.Status, ErrorCode: fj.ErrorCode,
		Message: fj.Message, HTML: fj.HTML, DropConnection: fj.DropConnection, AfterApply: fj.AfterApply,
		Times: fj.Times, ForceInvalidGrant: fj.ForceInvalidGrant}
	if fj.Latency != "" {
		d, err := time.ParseDuration(fj.Latency)
		if err != nil {
			return f, fmt.Errorf("latency: %w", err)
		}
		f.Latency = d
	}
	if f.PathPattern != "" && !strings.HasSuffix(f.PathPattern, "*") {
		if _, err := path.Match(f.PathPattern, ""); err != nil {
			return f, fmt.Errorf("pathPattern: %w", err)
		}
	}
	return f, nil
}
