package emulator

import (
	"net/http"
	"strings"
	"testing"
)

// Real clients: the Salesforce CLI reads /services/oauth2/userinfo when it logs in with an
// access token, and clients that join an instance URL ending in "/" send "//services/data/…".
func TestUserInfoAndDoubledSlashes(t *testing.T) {
	t.Parallel()
	for _, profile := range []Profile{ProfileDefault, ProfileStrict} {
		h := newHarness(t, Config{Profile: profile})
		status, _, body := h.do("GET", "/services/oauth2/userinfo", nil)
		if status != http.StatusOK {
			t.Fatalf("%s userinfo = %d %s", profile, status, body)
		}
		info := decode(t, body).(map[string]any)
		admin := h.idOf("User", "Username", "admin@emulator.example.com")
		if info["preferred_username"] != "admin@emulator.example.com" || !sameRecord(info["user_id"].(string), admin) ||
			!strings.HasPrefix(info["organization_id"].(string), "00D") || !strings.HasSuffix(info["sub"].(string), "/"+info["user_id"].(string)) {
			t.Errorf("%s userinfo = %v", profile, info)
		}
		if status, _, body := h.doToken("not-a-token", "GET", "/services/oauth2/userinfo", nil); status != http.StatusForbidden || string(body) != "Bad_OAuth_Token" {
			t.Errorf("%s userinfo with a bad token = %d %s; want 403 Bad_OAuth_Token", profile, status, body)
		}
		if status, _, body := h.do("GET", "/"+v+"//limits", nil); status != http.StatusOK {
			t.Errorf("%s //services/data/…//limits = %d %s; want 200", profile, status, body)
		}
	}
}
