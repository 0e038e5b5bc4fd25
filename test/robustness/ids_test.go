package robustness

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/test/harness"
)

// TestMalformedIDs addresses users and groups by junk ids with every method: each is a SCIM 404 (or
// 400), never a 5xx or a Salesforce MALFORMED_ID, and nothing changes.
func TestMalformedIDs(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	userID := b.createUser(t, b.marker("i"))
	groupID := b.groupID(t, "Sales Operations")
	admin := ""
	for _, row := range b.Emulator.List("User") {
		if row["Username"] == "admin@emulator.example.com" {
			admin = row["Id"].(string)
		}
	}
	ids := map[string]string{
		"empty segment":         "%20",
		"short":                 "005",
		"not base62":            "005!!!!!!!!!!!!!!!",
		"19 characters":         userID + "A",
		"17 characters":         userID[:17],
		"wrong checksum":        userID[:15] + "ZZZ",
		"unknown 15-char":       "005000000000zZZ",
		"unknown 18-char":       "005000000000zZZAAY",
		"group id":              groupID,
		"user id":               userID,
		"profile id":            "00e000000000001AAA",
		"path traversal":        "..%2F..%2Fhealthz",
		"dot dot":               "..",
		"encoded slash":         userID + "%2Fx",
		"NUL":                   "%00",
		"percent junk":          "%25%27%22%3C%3E",
		"SOQL quote":            url.PathEscape("005' OR Id != '"),
		"unicode":               url.PathEscape("005😀000000000AAA"),
		"long":                  strings.Repeat("0", 5000),
		"query-looking":         url.PathEscape("?filter=x"),
		"user id with a suffix": userID + ".json",
	}
	userBefore := b.Org.UserState(userID)
	adminBefore := b.Org.UserState(admin)
	groupBefore := b.Org.GroupState(groupID)
	patch := patchBody(op("replace", "title", b.marker("i")))
	put := validUser(b.marker("i"))
	groupPatch := patchBody(op("add", "members", []any{map[string]any{"value": userID}}))
	groupPut := map[string]any{"schemas": []any{harness.GroupURN}, "displayName": b.marker("i")}
	for name, id := range ids {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, r := range []struct {
				method, resource string
				body             any
			}{
				{http.MethodGet, "/Users/", nil},
				{http.MethodPut, "/Users/", put},
				{http.MethodPatch, "/Users/", patch},
				{http.MethodDelete, "/Users/", nil},
				{http.MethodGet, "/Groups/", nil},
				{http.MethodPut, "/Groups/", groupPut},
				{http.MethodPatch, "/Groups/", groupPatch},
				{http.MethodDelete, "/Groups/", nil},
			} {
				// A group id is only junk on /Users, a user id only on /Groups.
				if (name == "group id" && r.resource == "/Groups/") || (name == "user id" && r.resource == "/Users/") {
					continue
				}
				what := r.method + " " + r.resource + harness.Shorten(id) + " (" + name + ")"
				resp := b.do(t, r.method, r.resource+id, r.body)
				want := badOr404
				if r.method == http.MethodDelete && r.resource == "/Groups/" {
					want = expect{status: []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound}}
				}
				if r.method == http.MethodPut || r.method == http.MethodPatch {
					want.status = append(want.status, http.StatusMethodNotAllowed)
				}
				if name == "path traversal" || name == "dot dot" {
					want.status = append(want.status, http.StatusMethodNotAllowed)
				}
				b.check(t, what, resp, want)
			}
		})
	}
	t.Cleanup(func() {
		assertUnchanged(t, "requests to malformed user ids", userBefore, b.Org.UserState(userID))
		assertUnchanged(t, "requests to malformed user ids (admin)", adminBefore, b.Org.UserState(admin))
		assertUnchanged(t, "requests to malformed group ids", groupBefore, b.Org.GroupState(groupID))
	})
}

// TestAlternativeIDForms reads a real user by its 15-character id and by its lower-cased 18-character
// id: Salesforce accepts both (the 18-character form is case-insensitive by design), so the bridge may
// serve them (200, with the canonical id) or not know them (404), but never 5xx.
func TestAlternativeIDForms(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	id := b.createUser(t, b.marker("f"))
	resp := b.do(t, http.MethodGet, "/Users/"+id[:15], nil)
	b.check(t, "GET /Users/{15-char id}", resp, expect{status: []int{http.StatusOK, http.StatusNotFound}})
	if resp.Status == http.StatusOK && resp.Doc["id"] != id {
		t.Errorf("GET /Users/{15-char id} answered id %v; want the 18-character %s", resp.Doc["id"], id)
	}
	resp = b.do(t, http.MethodGet, "/Users/"+strings.ToLower(id), nil)
	b.check(t, "GET /Users/{lower-cased id}", resp, expect{status: []int{http.StatusOK, http.StatusNotFound}})
	if resp.Status == http.StatusOK && resp.Doc["id"] != id {
		t.Errorf("GET /Users/{lower-cased id} answered id %v; want %s", resp.Doc["id"], id)
	}
	before := b.Org.UserState(id)
	resp = b.do(t, http.MethodPatch, "/Users/"+id[:15], patchBody(op("replace", "title", 5)))
	b.check(t, "PATCH /Users/{15-char id} with a bad value", resp, badOr404)
	assertUnchanged(t, "PATCH /Users/{15-char id} with a bad value", before, b.Org.UserState(id))
}

// TestAuthentication checks that missing and wrong bearer tokens are SCIM 401s and that a wrong
// token is never logged.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := start(t, options{})
	wrong := "rb-wrong-" + randomHex(16)
	b.secret(wrong)
	for name, req := range map[string]harness.Request{
		"no header":        {Method: http.MethodGet, Path: "/Users", Token: "-"},
		"wrong token":      {Method: http.MethodGet, Path: "/Users", Token: wrong},
		"token prefix":     {Method: http.MethodGet, Path: "/Users", Token: b.Token[:len(b.Token)-1]},
		"token with space": {Method: http.MethodGet, Path: "/Users", Token: b.Token + " x"},
		"wrong on POST":    {Method: http.MethodPost, Path: "/Users", Token: wrong, Body: []byte(`{"userName":"` + b.marker("a") + `"}`)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resp := b.send(t, req)
			b.check(t, name, resp, expect{status: []int{http.StatusUnauthorized}})
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s = 401 without WWW-Authenticate", name)
			}
		})
	}
	t.Run("basic auth", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest(http.MethodGet, b.BaseURL+"/Users", nil)
		req.SetBasicAuth("admin", wrong)
		resp, err := harness.NewHTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Basic auth = %d; want 401", resp.StatusCode)
		}
	})
}
