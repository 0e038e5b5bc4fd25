package server

import (
	"bytes"
	"net/http"
)

// ResponseRecorder is an http.ResponseWriter that keeps the response in memory: its status, headers
// and body. The bridge serves requests in process through it (each Bulk operation, `scim-bridge
// explain`), where the response is read rather than sent.
//
// Like a connection, it keeps the first status written and answers 200 when the body is written
// without one. Header returns the live header map: what the handler set, read after it returns.
type ResponseRecorder struct {
	status int
	header http.Header
	body   bytes.Buffer
}

// NewResponseRecorder returns an empty ResponseRecorder.
func NewResponseRecorder() *ResponseRecorder { return &ResponseRecorder{header: http.Header{}} }

// Header returns the response headers.
func (rec *ResponseRecorder) Header() http.Header { return rec.header }

// WriteHeader records status unless one is recorded already.
func (rec *ResponseRecorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

// Write appends b to the body.
func (rec *ResponseRecorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.Write(b)
}

// Status is the status written, 200 when nothing was.
func (rec *ResponseRecorder) Status() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// Body is the body written.
func (rec *ResponseRecorder) Body() []byte { return rec.body.Bytes() }
