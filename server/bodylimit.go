package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Bounds on what the bridge reads and throws away before it answers 413. Many HTTP clients (Go's,
// Java's, Node's) send the whole body before they read the answer; if the server closes the
// connection with unread bytes in its receive buffer, the kernel answers with a TCP reset and the
// client sees "connection reset" instead of the 413. Reading the rest first lets the answer
// arrive. Past either bound the connection is closed as before: a client that sends more than
// this is not one the bridge owes a clean answer.
const (
	drainMaxBytes = 8 << 20
	drainMaxTime  = 10 * time.Second
)

// limitBody caps the request body at MaxBodyBytes. A body declared larger is refused at once, one
// found larger while reading fails with *http.MaxBytesError (see readBody); either way the rest of
// it is drained before the 413 and the connection is closed after it.
func (s *server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			drainBody(w, r, r.Body)
			writeTooLarge(w, s.cfg.MaxBodyBytes)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &cappedBody{rc: r.Body, remaining: s.cfg.MaxBodyBytes, limit: s.cfg.MaxBodyBytes}
		}
		next.ServeHTTP(w, r)
	})
}

// cappedBody is http.MaxBytesReader without its side effect: MaxBytesReader makes the server close
// the connection as soon as the limit is hit, with the rest of the body unread. cappedBody only
// reports *http.MaxBytesError and leaves draining to tooLargeWhileReading.
type cappedBody struct {
	rc        io.ReadCloser
	remaining int64
	limit     int64
	err       error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.remaining+1 {
		p = p[:b.remaining+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) <= b.remaining {
		b.remaining -= int64(n)
		b.err = err
		return n, err
	}
	n = int(b.remaining)
	b.remaining = 0
	b.err = &http.MaxBytesError{Limit: b.limit}
	return n, b.err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// tooLargeWhileReading answers 413 for a body that turned out larger than the limit while being
// read: the rest is drained first.
func tooLargeWhileReading(w http.ResponseWriter, r *http.Request, tooLarge *http.MaxBytesError) {
	body := r.Body
	if cb, ok := body.(*cappedBody); ok {
		body = cb.rc
	}
	drainBody(w, r, body)
	writeTooLarge(w, tooLarge.Limit)
}

// drainBody reads and discards what is left of body, at most drainMaxBytes and for at most
// drainMaxTime, and marks the response "Connection: close". A client that asked for
// "100-continue" has not sent its body and will not: nothing is read (reading would invite it).
func drainBody(w http.ResponseWriter, r *http.Request, body io.Reader) {
	w.Header().Set("Connection", "close")
	if body == nil || body == http.NoBody || strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(drainMaxTime)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainMaxBytes))
	_ = rc.SetReadDeadline(time.Time{})
}

// readBody reads the whole (size-limited) request body. Over the limit it answers 413 and returns
// false. Bodies are read here, not by the SCIM library, because the library swallows read errors
// and would answer 400 for an oversized body (scimlib.go, entry 1).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Body == nil {
		return nil, true
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			tooLargeWhileReading(w, r, tooLarge)
			return nil, false
		}
		writeError(w, r, &scimschema.Error{Kind: scimschema.KindInvalidSyntax, Detail: "the request body could not be read", Err: err})
		return nil, false
	}
	return body, true
}

// noStore marks every SCIM response as uncacheable and not to be content-sniffed: the bodies carry
// personal data, and an error page must never be rendered as anything but what it says it is.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
