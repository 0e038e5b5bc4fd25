package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestIDs(t *testing.T) {
	t.Parallel()
	// The example from Salesforce's create documentation.
	if got, ok := normalizeID("001D000000IqhSL"); !ok || got != "001D000000IqhSLIAZ" {
		t.Errorf("normalizeID(001D000000IqhSL) = %q, %v; want 001D000000IqhSLIAZ", got, ok)
	}
	if got, ok := normalizeID("001D000000IqhSLiaz"); !ok || got != "001D000000IqhSLIAZ" {
		t.Errorf("suffix case is not significant: %q, %v", got, ok)
	}
	for _, bad := range []string{"", "001", "001D000000IqhSLXXX", "001D000000Iqh-L", "001D000000IqhSLIAZ1"} {
		if _, ok := normalizeID(bad); ok {
			t.Errorf("normalizeID(%q) accepted", bad)
		}
	}
	seen := map[string]bool{}
	for n := 0; n < 5000; n++ {
		id := makeID("005", n)
		if back, ok := normalizeID(id[:15]); !ok || back != id || seen[strings.ToLower(id)] {
			t.Fatalf("makeID(%d) = %s is not a unique case-safe id", n, id)
		}
		seen[strings.ToLower(id)] = true
	}
}

func TestDirectAccess(t *testing.T) {
	t.Parallel()
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	profile := ""
	for _, p := range e.List("profile") {
		if p["Name"] == "Standard User" {
			profile = p["Id"].(string)
		}
	}
	fields := map[string]any{"Username": "direct@example.com", "LastName": "D", "Email": "direct@example.com", "Alias": "d",
		"TimeZoneSidKey": "GMT", "LocaleSidKey": "en_GB", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8", "ProfileId": profile}
	id, err := e.Insert("User", fields)
	if err != nil {
		t.Fatalf("Insert = %v", err)
	}
	_, err = e.Insert("User", fields)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != "DUPLICATE_USERNAME" || apiErr.Status != 400 {
		t.Errorf("duplicate Insert = %v; want *Error DUPLICATE_USERNAME", err)
	}
	row := e.Get("User", id[:15])
	row["LastName"] = "changed in the copy"
	if e.Get("User", id)["LastName"] != "D" {
		t.Errorf("Get returned the stored row instead of a copy")
	}
	if err := e.Update("User", id, map[string]any{"Alias": "toolongalias"}); !errors.As(err, &apiErr) || apiErr.Code != "STRING_TOO_LONG" {
		t.Errorf("Update = %v; want STRING_TOO_LONG", err)
	}
	if err := e.Update("User", id, map[string]any{"Alias": "dd"}); err != nil {
		t.Errorf("Update = %v", err)
	}
	if err := e.Delete("User", id); !errors.As(err, &apiErr) || apiErr.Status != 405 {
		t.Errorf("Delete(User) = %v; want 405", err)
	}
	if e.Get("User", "bad") != nil || e.Get("Nope", id) != nil || e.List("Nope") != nil {
		t.Errorf("lookups of bad ids or types returned rows")
	}
	if s := e.Stats(); s.APICalls != 0 {
		t.Errorf("direct access counted %d API calls", s.APICalls)
	}
}

func TestSeeds(t *testing.T) {
	t.Parallel()
	s, err := LoadSeed(strings.NewReader(`{
		"licenses":[{"name":"Salesforce","totalLicenses":2}],
		"profiles":[{"name":"Admin","license":"Salesforce"}],
		"permissionSets":[{"name":"Extra","label":"Extra"}],
		"permissionSetGroups":[{"developerName":"Bundle","masterLabel":"Bundle"}],
		"users":[{"username":"root@example.com","lastName":"Root","email":"root@example.com","alias":"root","profile":"Admin",
		          "permissionSets":["Extra"],"permissionSetGroups":["Bundle"],"frozen":true}]}`))
	if err != nil {
		t.Fatalf("LoadSeed = %v", err)
	}
	e, err := New(Config{Seed: s})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	users := e.List("User")
	if len(users) != 1 || users[0]["Username"] != "root@example.com" || users[0]["CreatedById"] != users[0]["Id"] {
		t.Fatalf("seeded users = %v", users)
	}
	if e.List("UserLogin")[0]["IsFrozen"] != true {
		t.Errorf("seeded user not frozen")
	}
	if n := len(e.List("PermissionSetAssignment")); n != 3 {
		t.Errorf("seeded assignments = %d; want 3 (profile, Extra, Bundle)", n)
	}
	for _, p := range e.List("Profile") {
		if p["CreatedById"] != users[0]["Id"] {
			t.Errorf("profile CreatedById = %v; want the integration user", p["CreatedById"])
		}
	}

	for _, tc := range []struct{ name, json, want string }{
		{"unknown key", `{"users":[],"nope":1}`, "nope"},
		{"no users", `{"users":[]}`, "users"},
	} {
		if _, err := LoadSeed(strings.NewReader(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadSeed(%s) = %v; want an error about %s", tc.name, err, tc.want)
		}
	}
	bad := DefaultSeed()
	bad.Users[0].Profile = "Missing"
	if _, err := New(Config{Seed: bad}); err == nil || !strings.Contains(err.Error(), `users[0]: unknown profile "Missing"`) {
		t.Errorf("New with a dangling profile = %v", err)
	}
	bad = DefaultSeed()
	bad.Users[0].Alias = "much-too-long"
	if _, err := New(Config{Seed: bad}); err == nil || !strings.Contains(err.Error(), "Alias") {
		t.Errorf("New with an invalid user = %v", err)
	}
	if _, err := New(Config{APILimit: -1, TokenTTL: -1}); err == nil || !strings.Contains(err.Error(), "APILimit") || !strings.Contains(err.Error(), "TokenTTL") {
		t.Errorf("New with negative limits = %v; want both problems reported", err)
	}

	d := DefaultSeed()
	e, _ = New(Config{Seed: d})
	names := map[string]bool{}
	for _, ps := range e.List("PermissionSet") {
		names[ps["Name"].(string)] = true
	}
	for _, want := range []string{"Sales_Ops", "Support_Agent", "Marketing_User", "Analytics_Viewer", "Sales_Cloud_User"} {
		if !names[want] {
			t.Errorf("default seed lacks permission set %s", want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Seed: bigSeed()})
	ops := h.idOf("PermissionSet", "Name", "Sales_Ops")
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				u := h.newUser(fmt.Sprintf("w%d-%d@example.com", w, i), "Standard User")
				status, _, body := h.do("POST", v+"/composite", map[string]any{"allOrNone": true, "compositeRequest": []any{
					sub("POST", "/sobjects/User", "u", u),
					sub("POST", "/sobjects/PermissionSetAssignment", "a", map[string]any{"AssigneeId": "@{u.id}", "PermissionSetId": ops}),
				}})
				if status != http.StatusOK || strings.Contains(string(body), "PROCESSING_HALTED") {
					errs <- fmt.Sprintf("worker %d: %d %s", w, status, body)
				}
				q := url.QueryEscape(fmt.Sprintf("SELECT Id FROM User WHERE Username = 'w%d-%d@example.com'", w, i))
				if s, _, b := h.do("GET", v+"/query?q="+q, nil); s != 200 || !strings.Contains(string(b), `"totalSize":1`) {
					errs <- fmt.Sprintf("worker %d query: %d %s", w, s, b)
				}
				h.e.Stats()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if s := h.e.Stats(); s.APICalls != 160 {
		t.Errorf("APICalls = %d; want 160", s.APICalls)
	}
}

// The User picklists have the size of a real org's (picklists.json names its sources), including
// the values IdPs send most and the emulator once lacked.
func TestUserPicklistsHaveRealSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		values  []string
		atLeast int
		has     []string
	}{
		{"TimeZoneSidKey", timeZones, 400, []string{"Europe/London", "America/Los_Angeles", "Asia/Kolkata", "GMT", "Pacific/Chatham"}},
		{"LocaleSidKey", locales, 190, []string{"en_GB", "en_US", "de_AT", "iw_IL", "pt_PT"}},
		{"LanguageLocaleKey", languages, 40, []string{"en_GB", "en_US", "iw", "in", "pt_PT", "fr_CA"}},
	} {
		if len(tc.values) < tc.atLeast {
			t.Errorf("%s has %d values; want at least %d", tc.name, len(tc.values), tc.atLeast)
		}
		for _, v := range tc.has {
			if !slices.Contains(tc.values, v) {
				t.Errorf("%s lacks %s", tc.name, v)
			}
		}
	}
	// The describe serves them unchanged in shape.
	h := newHarness(t, Config{})
	status, _, body := h.do("GET", v+"/sobjects/User/describe", nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"value":"en_GB"`) || !strings.Contains(string(body), `"value":"Pacific/Chatham"`) {
		t.Errorf("describe = %d, en_GB or Pacific/Chatham missing", status)
	}
}
