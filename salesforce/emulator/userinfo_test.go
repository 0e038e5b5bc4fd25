package emulator

import (
	"net/http"
	"net/url"
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

// `sf data query` asks for a query's columns (columns=true) before its rows.
func TestQueryColumns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	status, _, body := h.do("GET", v+"/query?columns=true&q="+url.QueryEscape(
		"SELECT Id, Profile.Name, (SELECT Id FROM Assignments) FROM PermissionSet"), nil)
	if status != http.StatusOK {
		t.Fatalf("columns = %d %s", status, body)
	}
	doc := decode(t, body).(map[string]any)
	cols := doc["columnMetadata"].([]any)
	if doc["entityName"] != "PermissionSet" || len(cols) != 3 {
		t.Fatalf("columns = %s", body)
	}
	names := []string{}
	for _, c := range cols {
		m := c.(map[string]any)
		names = append(names, m["columnName"].(string))
		if m["columnName"] == "Assignments" && (m["aggregate"] != true || len(m["joinColumns"].([]any)) != 1) {
			t.Errorf("child subquery column = %v", m)
		}
		if m["columnName"] == "Profile" && (m["aggregate"] != false || len(m["joinColumns"].([]any)) != 1) {
			t.Errorf("parent relationship column = %v", m)
		}
	}
	if strings.Join(names, ",") != "Id,Profile,Assignments" {
		t.Errorf("column names = %v", names)
	}
}
