package emulator

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const (
	maxBodyBytes = 32 << 20
	// maxRequestLineBytes bounds the URI, and the URI plus the headers, of a request: longer URIs
	// get 414, longer URI+headers 431 (D-ERR, D-LIMITS: 16,384 bytes).
	maxRequestLineBytes = 16384
)

// Handler serves everything: /services/oauth2/…, /services/data…, and the test hooks under
// /__emulator/ (which need no token).
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serveHTTP) }

func (e *Emulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if p := cleanPath(r.URL.Path); p != r.URL.Path {
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = p, ""
	}
	if strings.HasPrefix(r.URL.Path, "/__emulator/") {
		e.serveHooks(w, r)
		return
	}
	if status := oversizeStatus(r); status != 0 {
		// Salesforce's edge refuses these before any API handling: no JSON body, nothing counted.
		http.Error(w, http.StatusText(status), status)
		return
	}
	if f := e.takeFault(r); f != nil {
		if f.Latency > 0 {
			timer := time.NewTimer(f.Latency)
			select {
			case <-timer.C:
			case <-r.Context().Done():
				timer.Stop()
				return
			}
		}
		if f.answers() {
			if f.AfterApply {
				e.route(&bufferedWriter{}, r)
			}
			if f.DropConnection {
				dropConnection(w)
				return
			}
			writeFault(w, r, f, e.faultUsage(r, f))
			return
		}
	}
	e.route(w, r)
}

func (e *Emulator) route(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/services/oauth2/token":
		e.serveToken(w, r)
	case p == "/services/oauth2/revoke":
		e.serveRevoke(w, r)
	case p == "/services/oauth2/userinfo":
		e.serveUserInfo(w, r)
	case p == "/services/data" || p == "/services/data/":
		// The Versions resource needs no token, is not counted and carries no Sforce-Limit-Info.
		writeResponse(w, r, jsonResponse(http.StatusOK, versionsList()), "")
	case strings.HasPrefix(p, "/services/data/"):
		e.serveData(w, r)
	default:
		writeResponse(w, r, errorResponse(errNotFound()), "")
	}
}

// oversizeStatus is 414 when the request URI exceeds 16,384 bytes, 431 when the URI and headers
// together do, 0 otherwise.
func oversizeStatus(r *http.Request) int {
	n := len(r.RequestURI)
	if n > maxRequestLineBytes {
		return http.StatusRequestURITooLong
	}
	n += len("Host: \r\n") + len(r.Host)
	for name, values := range r.Header {
		for _, value := range values {
			n += len(name) + len(": \r\n") + len(value)
		}
	}
	if n > maxRequestLineBytes {
		return http.StatusRequestHeaderFieldsTooLarge
	}
	return 0
}

// faultUsage counts an injected JSON error on the versioned REST API the way the org counts a
// refused request, and returns the Sforce-Limit-Info value to send with it ("" for none). Every
// answer of the org carries the header except 401s (no session to charge) and the gateway HTML
// pages; 4xx refusals are counted as calls, except 403 (limit refusals are not), and 5xx are not.
func (e *Emulator) faultUsage(r *http.Request, f *Fault) string {
	rest, ok := strings.CutPrefix(r.URL.Path, "/services/data/")
	verSeg, _, _ := strings.Cut(rest, "/")
	if _, known := parseVersion(verSeg); !ok || !known || f.HTML {
		return ""
	}
	status := f.status()
	if status == http.StatusUnauthorized {
		return ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if status >= 400 && status < 500 && status != http.StatusForbidden {
		e.apiCalls++
		e.byKind["fault"]++
	}
	return e.usage()
}

// readBody reads a request body, inflating it when it is gzip-encoded.
func readBody(r *http.Request) ([]byte, error) {
	var src io.Reader = http.MaxBytesReader(nil, r.Body, maxBodyBytes)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		src = io.LimitReader(zr, maxBodyBytes)
	}
	return io.ReadAll(src)
}

// serveData serves the versioned REST API: token check, daily limit, counting, dispatch.
func (e *Emulator) serveData(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/services/data/")
	verSeg, sub, _ := strings.Cut(rest, "/")
	version, ok := parseVersion(verSeg)
	if !ok {
		writeResponse(w, r, errorResponse(errNotFound()), "")
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeResponse(w, r, errorResponse(newError(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body could not be read.")), "")
		return
	}
	e.mu.Lock()
	userID, authErr := e.authenticate(r)
	if authErr != nil {
		e.mu.Unlock()
		writeResponse(w, r, errorResponse(authErr), "")
		return
	}
	if e.apiCalls >= e.cfg.APILimit {
		usage := e.usage()
		e.mu.Unlock()
		writeResponse(w, r, errorResponse(newError(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", msgLimitExceeded)), usage)
		return
	}
	e.apiCalls++
	req := &apiRequest{method: r.Method, path: "/" + sub, version: version, query: r.URL.Query(), header: r.Header,
		body: body, userID: userID}
	resp, kind := e.dispatch(req)
	e.byKind[kind]++
	e.st.forget()
	usage := e.usage()
	e.mu.Unlock()
	writeResponse(w, r, resp, usage)
}

func (e *Emulator) usage() string { return fmt.Sprintf("api-usage=%d/%d", e.apiCalls, e.cfg.APILimit) }

func writeResponse(w http.ResponseWriter, r *http.Request, resp *apiResponse, usage string) {
	h := w.Header()
	if usage != "" {
		h.Set("Sforce-Limit-Info", usage)
	}
	if resp.location != "" {
		h.Set("Location", resp.location)
	}
	if resp.body != nil {
		h.Set("Content-Type", "application/json;charset=UTF-8")
	}
	w.WriteHeader(resp.status)
	if resp.body != nil && r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
}

// serveHooks serves the test hooks. They are not Salesforce API and need no token.
func (e *Emulator) serveHooks(w http.ResponseWriter, r *http.Request) {
	hookError := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	switch hook := strings.TrimPrefix(r.URL.Path, "/__emulator/"); {
	case hook == "reset" && r.Method == http.MethodPost:
		e.Reset()
	case hook == "expire-tokens" && r.Method == http.MethodPost:
		e.ExpireTokens()
	case hook == "faults" && r.Method == http.MethodDelete:
		e.clearFaults()
	case hook == "faults" && r.Method == http.MethodPost:
		body, err := readBody(r)
		if err != nil {
			hookError(http.StatusBadRequest, "reading body: "+err.Error())
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		var fj faultJSON
		if err := dec.Decode(&fj); err != nil {
			hookError(http.StatusBadRequest, "fault: "+err.Error())
			return
		}
		f, err := fj.fault()
		if err != nil {
			hookError(http.StatusBadRequest, "fault: "+err.Error())
			return
		}
		e.InjectFault(f)
	case hook == "permission-set-group-status" && r.Method == http.MethodPost:
		body, err := readBody(r)
		var req struct{ ID, Status string }
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err == nil {
			err = e.SetPermissionSetGroupStatus(req.ID, req.Status)
		}
		if err != nil {
			hookError(http.StatusBadRequest, err.Error())
			return
		}
	case hook == "stats" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e.Stats())
		return
	case hook == "reset" || hook == "expire-tokens" || hook == "faults" || hook == "stats" || hook == "permission-set-group-status":
		hookError(http.StatusMethodNotAllowed, "method not allowed")
		return
	default:
		hookError(http.StatusNotFound, "no such hook")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
