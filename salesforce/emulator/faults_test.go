package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	users := func() int { return len(h.e.List("User")) }

	h.e.InjectFault(Fault{Method: "GET", PathPattern: "/services/data/*", Status: 503})
	status, _, body := h.do("GET", v+"/limits", nil)
	if status != 503 || string(body) != `[{"message":"Server Unavailable","errorCode":"SERVER_UNAVAILABLE"}]` {
		t.Errorf("503 fault = %d %s", status, body)
	}
	if status, _, _ := h.do("GET", v+"/limits", nil); status != 200 {
		t.Errorf("after a once-only fault = %d; want 200", status)
	}

	h.e.InjectFault(Fault{PathPattern: v + "/sobjects/User/*", HTML: true, Times: 2})
	admin := h.idOf("User", "Username", "admin@emulator.example.com")
	for i := 0; i < 2; i++ {
		status, hdr, body := h.do("GET", v+"/sobjects/User/"+admin, nil)
		if status != 502 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("<html>")) {
			t.Errorf("HTML fault #%d = %d %s %s", i, status, hdr.Get("Content-Type"), body)
		}
	}
	mustDo(t, h, "GET", v+"/sobjects/User/"+admin, nil, 200)

	h.e.InjectFault(Fault{Method: "PATCH", PathPattern: v + "/sobjects/User/*", ErrorCode: "UNABLE_TO_LOCK_ROW"})
	status, _, body = h.do("PATCH", v+"/sobjects/User/"+admin, map[string]any{"Title": "locked"})
	wantError(t, "lock fault", status, body, 400, "UNABLE_TO_LOCK_ROW")
	if h.e.Get("User", admin)["Title"] != nil {
		t.Errorf("a faulted PATCH was applied")
	}

	h.e.InjectFault(Fault{Status: 403, ErrorCode: "UNABLE_TO_LOCK_ROW"})
	status, _, body = h.do("GET", v+"/limits", nil)
	if first := wantError(t, "code with another status", status, body, 403, "UNABLE_TO_LOCK_ROW"); !strings.HasPrefix(first["message"].(string), "unable to obtain exclusive access") {
		t.Errorf("message = %v", first["message"])
	}

	h.e.InjectFault(Fault{PathPattern: v + "/sobjects/User", Latency: 80 * time.Millisecond})
	start := time.Now()
	h.createUser("slow@example.com", "Standard User")
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("latency fault took %v; want ≥ 80ms", d)
	}

	// A dropped connection before applying changes nothing; with AfterApply the change is made.
	n := users()
	h.e.InjectFault(Fault{Method: "POST", PathPattern: v + "/sobjects/User", DropConnection: true})
	if _, err := postJSON(h, v+"/sobjects/User", h.newUser("lost@example.com", "Standard User")); err == nil {
		t.Errorf("dropped connection answered")
	}
	if users() != n {
		t.Errorf("a request dropped before applying created a user")
	}
	h.e.InjectFault(Fault{Method: "POST", PathPattern: v + "/composite", DropConnection: true, AfterApply: true})
	if _, err := postJSON(h, v+"/composite", map[string]any{"compositeRequest": []any{
		sub("POST", "/sobjects/User", "u", h.newUser("applied@example.com", "Standard User"))}}); err == nil {
		t.Errorf("dropped connection answered")
	}
	if users() != n+1 {
		t.Errorf("AfterApply did not apply the change")
	}

	h.e.InjectFault(Fault{PathPattern: "/services/oauth2/token", Status: 400, ErrorCode: "rate_limit_exceeded", Message: "too many"})
	status2, tokenBody := h.tokenCall(map[string][]string{"grant_type": {"client_credentials"}})
	if status2 != 400 || tokenBody["error"] != "rate_limit_exceeded" || tokenBody["error_description"] != "too many" {
		t.Errorf("token fault = %d %v", status2, tokenBody)
	}
	h.e.InjectFault(Fault{PathPattern: v + "/*", Status: 401, Times: -1})
	for i := 0; i < 3; i++ {
		status, _, body := h.do("GET", v+"/limits", nil)
		wantError(t, "unlimited 401 fault", status, body, 401, "INVALID_SESSION_ID")
	}
	h.e.clearFaults()
	mustDo(t, h, "GET", v+"/limits", nil, 200)
}

func postJSON(h *harness, path string, body any) (*http.Response, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", h.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestHTTPHooks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{RefreshToken: testRefreshToken})
	hook := func(method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, h.srv.URL+"/__emulator/"+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	h.createUser("hook@example.com", "Standard User")
	status, body := hook("GET", "stats", "")
	var st Stats
	if err := json.Unmarshal(body, &st); status != 200 || err != nil || st.APICalls != 1 || st.ByKind["sobject_create"] != 1 {
		t.Errorf("stats = %d %s", status, body)
	}
	if !bytes.Contains(body, []byte(`"api_calls":1`)) || !bytes.Contains(body, []byte(`"by_kind"`)) {
		t.Errorf("stats JSON keys = %s", body)
	}

	if status, body := hook("POST", "faults", `{"method":"GET","pathPattern":"/services/data/v66.0/limits","status":503,"latency":"20ms","times":2}`); status != 204 {
		t.Fatalf("POST faults = %d %s", status, body)
	}
	start := time.Now()
	if s, _, _ := h.do("GET", v+"/limits", nil); s != 503 || time.Since(start) < 20*time.Millisecond {
		t.Errorf("fault from the hook = %d after %v", s, time.Since(start))
	}
	if status, _ := hook("DELETE", "faults", ""); status != 204 {
		t.Errorf("DELETE faults = %d", status)
	}
	mustDo(t, h, "GET", v+"/limits", nil, 200)
	for _, bad := range []string{`{"latency":"soon"}`, `{"nope":1}`, `{`} {
		if status, _ := hook("POST", "faults", bad); status != 400 {
			t.Errorf("POST faults %s = %d; want 400", bad, status)
		}
	}

	if status, _ := hook("POST", "expire-tokens", ""); status != 204 {
		t.Errorf("expire-tokens = %d", status)
	}
	if s, _, _ := h.do("GET", v+"/limits", nil); s != 401 {
		t.Errorf("after expire-tokens = %d; want 401", s)
	}
	h.token = h.clientCredentialsToken()
	if status, _ := hook("POST", "reset", ""); status != 204 {
		t.Errorf("reset = %d", status)
	}
	if s, _, _ := h.do("GET", v+"/limits", nil); s != 401 {
		t.Errorf("access token after reset = %d; want 401", s)
	}
	if st := h.e.Stats(); st.APICalls != 0 {
		t.Errorf("APICalls after reset = %d", st.APICalls)
	}
	for _, r := range h.e.List("User") {
		if r["Username"] == "hook@example.com" {
			t.Errorf("user survived reset")
		}
	}
	if status, body := h.tokenCall(map[string][]string{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "refresh_token": {testRefreshToken}}); status != 200 {
		t.Errorf("configured refresh token after reset = %d %v", status, body)
	}
	if status, _ := hook("GET", "nope", ""); status != 404 {
		t.Errorf("unknown hook = %d", status)
	}
	if status, _ := hook("GET", "reset", ""); status != 405 {
		t.Errorf("GET reset = %d", status)
	}
}
