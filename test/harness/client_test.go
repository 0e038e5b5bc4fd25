package harness

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The client's header rules are what the robustness suite relies on to send what an IdP would
// not: no token, another token, no or another content type.
func TestClientHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		w.Header().Set("X-Type", r.Header.Get("Content-Type"))
		w.Header().Set("X-Accept", r.Header.Get("Accept"))
		switch r.URL.Path {
		case "/array":
			_, _ = w.Write([]byte(`[1]`))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Token: "tok"}
	cases := []struct {
		name                string
		req                 Request
		auth, ctype, accept string
	}{
		{"defaults without a body", Request{Method: "GET", Path: "/x"}, "Bearer tok", "", SCIMJSON},
		{"defaults with a body", Request{Method: "POST", Path: "/x", Body: []byte(`{}`)}, "Bearer tok", SCIMJSON, SCIMJSON},
		{"another token", Request{Method: "GET", Path: "/x", Token: "other"}, "Bearer other", "", SCIMJSON},
		{"no token", Request{Method: "GET", Path: "/x", Token: "-"}, "", "", SCIMJSON},
		{"another content type", Request{Method: "POST", Path: "/x", Body: []byte(`{}`), ContentType: "text/plain"}, "Bearer tok", "text/plain", SCIMJSON},
		{"no content type", Request{Method: "POST", Path: "/x", Body: []byte(`{}`), ContentType: "-"}, "Bearer tok", "", SCIMJSON},
	}
	for _, tc := range cases {
		resp, err := c.Send(tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := []string{resp.Header.Get("X-Auth"), resp.Header.Get("X-Type"), resp.Header.Get("X-Accept")}
		if diff := cmp.Diff([]string{tc.auth, tc.ctype, tc.accept}, got); diff != "" {
			t.Errorf("%s: Authorization, Content-Type, Accept (-want +got):\n%s", tc.name, diff)
		}
		if resp.Doc["ok"] != true || resp.DecodeErr != nil {
			t.Errorf("%s: Doc = %v, DecodeErr = %v; want the decoded object", tc.name, resp.Doc, resp.DecodeErr)
		}
	}
	if resp := c.Do(t, "GET", "/array", nil); resp.Doc != nil || resp.DecodeErr == nil {
		t.Errorf("GET /array: Doc = %v, DecodeErr = %v; want no Doc and a DecodeErr", resp.Doc, resp.DecodeErr)
	}
	if resp := c.Do(t, "GET", "/empty", nil); resp.Status != http.StatusNoContent || resp.Doc != nil || resp.DecodeErr != nil {
		t.Errorf("GET /empty = %d, Doc = %v, DecodeErr = %v; want 204 and neither", resp.Status, resp.Doc, resp.DecodeErr)
	}
}
