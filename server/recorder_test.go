package server

import (
	"net/http"
	"testing"
)

// A ResponseRecorder records as a connection sends: the first status wins, a body without a status
// is a 200, and the headers set before the status are kept.
func TestResponseRecorder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		serve      http.HandlerFunc
		wantStatus int
		wantBody   string
		wantETag   string
	}{
		{"nothing written is 200", func(http.ResponseWriter, *http.Request) {}, 200, "", ""},
		{"body without status is 200", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("x")) }, 200, "x", ""},
		{"first status wins", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Etag", `W/"3"`)
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("a"))
			_, _ = w.Write([]byte("b"))
		}, 201, "ab", `W/"3"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := NewResponseRecorder()
			tt.serve(rec, nil)
			if rec.Status() != tt.wantStatus || string(rec.Body()) != tt.wantBody || rec.Header().Get("Etag") != tt.wantETag {
				t.Errorf("recorded %d %q ETag %q; want %d %q ETag %q", rec.Status(), rec.Body(), rec.Header().Get("Etag"), tt.wantStatus, tt.wantBody, tt.wantETag)
			}
		})
	}
}
