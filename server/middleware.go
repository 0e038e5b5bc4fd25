package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

const requestIDHeader = "X-Request-Id"

// requestInfo is filled in while a request passes the middleware and read by the access log.
type requestInfo struct {
	actor string
}

type requestInfoKey struct{}

// requestID takes a sane incoming X-Request-Id (≤ 64 of [A-Za-z0-9-_.]) or makes one, echoes it in
// the response, and puts a logger carrying it into the context for everything below.
func (s *server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(requestIDHeader, id)
		log := s.cfg.Logger.With().Str("request_id", id).Logger()
		ctx := log.WithContext(r.Context())
		ctx = context.WithValue(ctx, requestInfoKey{}, &requestInfo{})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusRecorder) statusOrOK() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// accessLog writes one line per request. The path is logged without its query string: SCIM
// filters carry attribute values. Probes and scrapes (/healthz, /readyz, /metrics) arrive every few
// seconds from every replica's orchestrator: their lines are at debug level.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		info, _ := r.Context().Value(requestInfoKey{}).(*requestInfo)
		level := zerolog.InfoLevel
		if isProbePath(r.URL.Path) {
			level = zerolog.DebugLevel
		}
		ev := zerolog.Ctx(r.Context()).WithLevel(level).
			Str("method", r.Method).
			Str("path", r.URL.Path).
			Int("status", rec.statusOrOK()).
			Int64("bytes", rec.bytes).
			Float64("duration_ms", float64(time.Since(start).Microseconds())/1000).
			Str("remote", r.RemoteAddr)
		if info != nil && info.actor != "" {
			ev = ev.Str("token_name", info.actor)
		}
		ev.Msg("request")
	})
}

// isProbePath reports whether path is one that orchestrators and Prometheus poll.
func isProbePath(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// recoverPanic turns a handler panic into a logged error and a SCIM 500 "internal error".
func (s *server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			zerolog.Ctx(r.Context()).Error().
				Str("panic", fmt.Sprint(v)).
				Bytes("stack", debug.Stack()).
				Msg("handler panicked")
			if rec.status == 0 {
				writeHTTPError(rec, classify(&scimschema.Error{Kind: scimschema.KindInternal}))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// tokenDigest is a configured token, hashed so that comparisons take the same time whatever the
// lengths involved.
type tokenDigest struct {
	name   string
	digest [sha256.Size]byte
}

// authenticate accepts "Authorization: Bearer <token>" matching any configured token, compared in
// constant time against all of them. The token's name goes into the context (scimschema.WithActor)
// and the access log.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, presented, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			writeUnauthorized(w)
			return
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(presented)))
		name := ""
		for _, t := range s.tokens.current() {
			if subtle.ConstantTimeCompare(got[:], t.digest[:]) == 1 && name == "" {
				name = t.name
			}
		}
		if name == "" {
			writeUnauthorized(w)
			return
		}
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
			info.actor = name
		}
		if s.cfg.TokenUsed != nil {
			s.cfg.TokenUsed(name)
		}
		ctx := scimschema.WithActor(r.Context(), name)
		log := zerolog.Ctx(ctx).With().Str("token_name", name).Logger()
		next.ServeHTTP(w, r.WithContext(log.WithContext(ctx)))
	})
}
