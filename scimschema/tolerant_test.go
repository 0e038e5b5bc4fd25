package scimschema

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The org lists of these tests hold what both a small and a real-size org hold.
var (
	orgLanguages = []string{"da", "de", "en_US", "en_GB", "es", "es_MX", "fi", "fr", "it", "ja", "ko", "nl_NL", "no", "pt_BR", "ru", "sv", "th", "zh_CN", "zh_TW", "iw", "in"}
	orgLocales   = []string{"de_AT", "de_CH", "de_DE", "en_AU", "en_GB", "en_US", "es_ES", "es_MX", "fr_BE", "fr_CA", "fr_FR", "ja_JP", "no_NO", "pt_BR", "pt_PT", "zh_CN", "zh_HK", "zh_TW", "iw_IL"}
	orgZones     = []string{"Pacific/Honolulu", "America/Los_Angeles", "America/Vancouver", "America/Tijuana", "America/Denver", "America/Chicago", "America/New_York", "GMT", "Europe/London", "Europe/Paris", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo"}
)

func TestNormalizePicklist(t *testing.T) {
	t.Parallel()
	zones := NewZoneMatcher(orgZones, time.LoadLocation)
	tests := []struct {
		field, in, want string // want "" = no match
	}{
		{"LanguageLocaleKey", "de-DE", "de"},
		{"LanguageLocaleKey", "de_AT", "de"},
		{"LanguageLocaleKey", "fr-FR", "fr"},
		{"LanguageLocaleKey", "en-US,en;q=0.9", "en_US"},
		{"LanguageLocaleKey", "en", "en_US"},
		{"LanguageLocaleKey", "en-GB", "en_GB"},
		{"LanguageLocaleKey", "zh-Hans", "zh_CN"},
		{"LanguageLocaleKey", "zh-Hant", "zh_TW"},
		{"LanguageLocaleKey", "zh-Hans-CN", "zh_CN"},
		{"LanguageLocaleKey", "pt", "pt_BR"},
		{"LanguageLocaleKey", "nb-NO", "no"},
		{"LanguageLocaleKey", "es-AR", "es"},
		{"LanguageLocaleKey", "tlh", ""},
		{"LanguageLocaleKey", "he-IL", "iw"}, // Salesforce keeps the old code for Hebrew
		{"LanguageLocaleKey", "id", "in"},
		{"LocaleSidKey", "he", "iw_IL"},
		{"LanguageLocaleKey", "*", ""},
		{"LocaleSidKey", "fr", "fr_FR"},
		{"LocaleSidKey", "de", "de_DE"},
		{"LocaleSidKey", "de-CH", "de_CH"},
		{"LocaleSidKey", "de_DE.UTF-8@euro", "de_DE"},
		{"LocaleSidKey", "EN-us", "en_US"},
		{"LocaleSidKey", "ja", "ja_JP"},
		{"LocaleSidKey", "zh-Hant-HK", "zh_HK"},
		{"LocaleSidKey", "zh-Hant", "zh_TW"},
		{"LocaleSidKey", "pt", "pt_BR"},
		{"LocaleSidKey", "xx-YY", ""},
		{"TimeZoneSidKey", "US/Pacific", "America/Los_Angeles"},
		{"TimeZoneSidKey", "US/Eastern", "America/New_York"},
		{"TimeZoneSidKey", "UTC", "GMT"},
		{"TimeZoneSidKey", "Etc/UTC", "GMT"},
		{"TimeZoneSidKey", "Asia/Calcutta", "Asia/Kolkata"},
		{"TimeZoneSidKey", "europe/paris", "Europe/Paris"},
		{"TimeZoneSidKey", "Mars/Olympus", ""},
		{"TimeZoneSidKey", "../../etc/passwd", ""},
		{"EmailEncodingKey", "utf8", "UTF-8"},
	}
	lists := map[string][]string{"LanguageLocaleKey": orgLanguages, "LocaleSidKey": orgLocales, "TimeZoneSidKey": orgZones, "EmailEncodingKey": {"UTF-8", "ISO-8859-1"}}
	for _, tt := range tests {
		got, ok := normalizePicklist(tt.field, lists[tt.field], tt.in, zones)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("normalizePicklist(%s, %q) = %q, %v; want %q", tt.field, tt.in, got, ok, tt.want)
		}
	}
}

func TestForCreateForgivesSoftData(t *testing.T) {
	t.Parallel()
	org := UserDescribe{
		Picklists: Picklists{"LanguageLocaleKey": orgLanguages, "LocaleSidKey": orgLocales, "TimeZoneSidKey": orgZones, "EmailEncodingKey": {"UTF-8"}},
		Lengths:   map[string]int{"Title": 80, "Department": 80, "FirstName": 40},
		Zones:     NewZoneMatcher(orgZones, time.LoadLocation),
	}
	m := newMapper(t, UserMappingConfig{})
	long := strings.Repeat("Ä", 90)
	w, err := m.ForCreate(decode(t, `{"userName":"room.4@acme.com","displayName":"Meeting Room Four","nickName":"Christopher",
		"title":"`+long+`","preferredLanguage":"tlh","locale":"fr","timezone":"US/Pacific",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"`+long+`","manager":"jane@acme.com"}}`), org)
	if err != nil {
		t.Fatalf("ForCreate: %v", err)
	}
	want := map[string]any{"LastName": "Four", "Alias": "Christop", "Title": strings.Repeat("Ä", 80), "Department": strings.Repeat("Ä", 80),
		"LanguageLocaleKey": "en_US", "LocaleSidKey": "fr_FR", "TimeZoneSidKey": "America/Los_Angeles", "ManagerId": "jane@acme.com",
		"CommunityNickname": "room.4"}
	for f, v := range want {
		if w.Fields[f] != v {
			t.Errorf("Fields[%s] = %v; want %v", f, w.Fields[f], v)
		}
	}
	if diff := cmp.Diff([]string{"Alias", "Department", "Title"}, w.Truncated); diff != "" {
		t.Errorf("Truncated (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"LanguageLocaleKey"}, w.Defaulted); diff != "" {
		t.Errorf("Defaulted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"LastName", "Email", "CommunityNickname"}, w.Derived); diff != "" {
		t.Errorf("Derived (-want +got):\n%s", diff)
	}

	// Without displayName, LastName is userName's local part.
	w, err = m.ForCreate(decode(t, `{"userName":"svc-backup@acme.com"}`), org)
	if err != nil || w.Fields["LastName"] != "svc-backup" {
		t.Errorf("ForCreate(userName only) = %v, %v; want LastName svc-backup", w.Fields["LastName"], err)
	}
}

func TestForCreateStillRefusesHardData(t *testing.T) {
	t.Parallel()
	org := UserDescribe{Picklists: Picklists{"LanguageLocaleKey": orgLanguages}}
	tests := []struct {
		name string
		cfg  UserMappingConfig
		body string
		want string
	}{
		{"strict picklists", UserMappingConfig{StrictPicklists: true}, `{"userName":"a@acme.com","preferredLanguage":"tlh"}`,
			`preferredLanguage must be one of the org's LanguageLocaleKey values, e.g. "en_US", "de", "fr", "es", "ja"`},
		{"required familyName", UserMappingConfig{Mapping: []MappingEntry{{SCIM: "name.familyName", Required: ptr(true)}}}, `{"userName":"a@acme.com","displayName":"A B"}`,
			"name.familyName is required: Salesforce needs LastName"},
		{"employee number too long", UserMappingConfig{}, `{"userName":"a@acme.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"` + strings.Repeat("9", 21) + `"}}`,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber is longer than 20 characters (Salesforce EmployeeNumber)"},
		{"email too long", UserMappingConfig{}, `{"userName":"a@acme.com","emails":[{"value":"` + strings.Repeat("a", 120) + `@acme.com"}]}`,
			"emails is longer than 128 characters (Salesforce Email)"},
		{"control character in userName", UserMappingConfig{}, "{\"userName\":\"a\\u0000@acme.com\"}",
			"userName contains a character that is invisible, controls the terminal or changes the text direction (U+0000); remove it"},
		{"bidi override in a given name", UserMappingConfig{}, "{\"userName\":\"a@acme.com\",\"name\":{\"givenName\":\"\\u202eevil\"}}",
			"name.givenName contains a character that is invisible, controls the terminal or changes the text direction (U+202E); remove it"},
		{"zero-width space in displayName", UserMappingConfig{}, "{\"userName\":\"a@acme.com\",\"displayName\":\"A\\u200bB\"}",
			"displayName contains a character that is invisible, controls the terminal or changes the text direction (U+200B); remove it"},
		{"replacement character in an email", UserMappingConfig{}, "{\"userName\":\"a@acme.com\",\"emails\":[{\"value\":\"a\\ufffd@acme.com\"}]}",
			"emails.value contains a character that is invisible, controls the terminal or changes the text direction (U+FFFD); remove it"},
		{"C1 control in nickName", UserMappingConfig{}, "{\"userName\":\"a@acme.com\",\"nickName\":\"a\\u0085\"}",
			"nickName contains a character that is invisible, controls the terminal or changes the text direction (U+0085); remove it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newMapper(t, tt.cfg).ForCreate(decode(t, tt.body), org)
			if kindOf(err) != KindInvalidValue || AsError(err).Detail != tt.want {
				t.Errorf("ForCreate error = %v; want KindInvalidValue %q", err, tt.want)
			}
		})
	}
}

func TestNamesOfEveryScriptAreAccepted(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{})
	for _, name := range []string{"José Ñúñez", "Zoë Åström", "王 小明", "محمد علي", "דוד כהן", "Ngọc Trâm", "मी\u200dरा", "نرگس\u200cها"} {
		given, family, _ := strings.Cut(name, " ")
		body := map[string]any{"userName": "u@acme.com", "displayName": name, "name": map[string]any{"givenName": given, "familyName": family + "x"}}
		if _, err := m.ForCreate(body, UserDescribe{}); err != nil {
			t.Errorf("ForCreate(name %q): %v", name, err)
		}
	}
}

func TestSettleConflicts(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{})
	put := func(nick, alias string) UserWrite {
		t.Helper()
		w, err := m.ForReplace(decode(t, `{"userName":"a@acme.com","nickName":"`+nick+`",
			"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User":{"alias":"`+alias+`"}}`), UserDescribe{})
		if err != nil {
			t.Fatalf("ForReplace: %v", err)
		}
		return w
	}
	current := map[string]any{"Alias": "old"}
	// GET-modify-PUT: nickName changed, the echoed alias did not.
	w := put("new", "old")
	if len(w.Conflicts) != 1 {
		t.Fatalf("Conflicts = %v; want one for Alias", w.Conflicts)
	}
	if err := m.SettleConflicts(&w, current); err != nil || w.Fields["Alias"] != "new" {
		t.Errorf("SettleConflicts = %v, Alias %v; want the changed nickName", err, w.Fields["Alias"])
	}
	w = put("old", "newer")
	if err := m.SettleConflicts(&w, current); err != nil || w.Fields["Alias"] != "newer" {
		t.Errorf("SettleConflicts = %v, Alias %v; want the changed alias", err, w.Fields["Alias"])
	}
	w = put("one", "two")
	err := m.SettleConflicts(&w, current)
	if want := "urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:alias and nickName both set Salesforce Alias, to different values; send one of them, or the same value in both"; kindOf(err) != KindInvalidValue || AsError(err).Detail != want {
		t.Errorf("SettleConflicts(both changed) = %v; want %q", err, want)
	}
	// A long nickName and its truncated alias agree: no conflict.
	if w := put("Christopher", "Christop"); len(w.Conflicts) != 0 || w.Fields["Alias"] != "Christop" {
		t.Errorf("ForReplace(Christopher, Christop) = %v, %v; want no conflict", w.Conflicts, w.Fields["Alias"])
	}
}

func TestRederive(t *testing.T) {
	t.Parallel()
	m := newMapper(t, UserMappingConfig{Mapping: []MappingEntry{{SCIM: "displayName", Salesforce: "CommunityNickname"}}})
	w, err := m.ForPatch(ops(t, `{"Operations":[{"op":"remove","path":"nickName"},{"op":"remove","path":"displayName"}]}`), UserDescribe{})
	if err != nil {
		t.Fatalf("ForPatch: %v", err)
	}
	if diff := cmp.Diff([]string{"Alias", "CommunityNickname"}, w.Rederive); diff != "" {
		t.Fatalf("Rederive (-want +got):\n%s", diff)
	}
	m.Rederive(&w, map[string]any{"FirstName": "Grace", "LastName": "Hopper", "Username": "grace.hopper@navy.mil"})
	if w.Fields["Alias"] != "ghopper" || w.Fields["CommunityNickname"] != "grace.hopper" {
		t.Errorf("Rederive fields = %v; want Alias ghopper, CommunityNickname grace.hopper", w.Fields)
	}
}
