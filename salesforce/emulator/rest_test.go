package emulator

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestVersions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	resp, err := http.Get(h.srv.URL + "/services/data/")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Sforce-Limit-Info") != "" {
		t.Fatalf("GET /services/data/ = %d, limit header %q; want 200 without the header", resp.StatusCode, resp.Header.Get("Sforce-Limit-Info"))
	}
	list := decode(t, body).([]any)
	want := map[string]string{"31.0": "Summer '14", "65.0": "Winter '26", "66.0": "Spring '26", "67.0": "Summer '26", "68.0": "Winter '27"}
	for _, item := range list {
		m := item.(map[string]any)
		if label, ok := want[m["version"].(string)]; ok {
			if m["label"] != label || m["url"] != "/services/data/v"+m["version"].(string) {
				t.Errorf("version %v = %v; want label %q", m["version"], m, label)
			}
			delete(want, m["version"].(string))
		}
	}
	if len(want) != 0 {
		t.Errorf("versions missing: %v", want)
	}
	for _, tc := range []struct {
		version string
		want    int
	}{{"v31.0", 200}, {"v66.0", 200}, {"v68.0", 200}, {"v30.0", 404}, {"v69.0", 404}, {"v66.1", 404}, {"66.0", 404}} {
		status, _, body := h.do("GET", "/services/data/"+tc.version+"/limits", nil)
		if status != tc.want {
			t.Errorf("GET %s/limits = %d %s; want %d", tc.version, status, body, tc.want)
		}
		if tc.want == 404 {
			wantError(t, tc.version, status, body, 404, "NOT_FOUND")
		}
	}
	if s := h.e.Stats(); s.APICalls != 3 {
		t.Errorf("APICalls = %d; want 3 (only the accepted versions count)", s.APICalls)
	}
}

func TestLimitHeaderAndDailyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{APILimit: 3})
	for i := 1; i <= 3; i++ {
		var status int
		var hdr http.Header
		if i == 2 {
			status, hdr, _ = h.do("POST", v+"/composite", map[string]any{"compositeRequest": []any{
				map[string]any{"method": "GET", "url": v + "/limits", "referenceId": "a"},
				map[string]any{"method": "GET", "url": v + "/limits", "referenceId": "b"},
			}})
		} else {
			status, hdr, _ = h.do("GET", v+"/sobjects/User/describe", nil)
		}
		if want := fmt.Sprintf("api-usage=%d/3", i); status != 200 || hdr.Get("Sforce-Limit-Info") != want {
			t.Fatalf("call %d = %d, Sforce-Limit-Info %q; want 200, %q", i, status, hdr.Get("Sforce-Limit-Info"), want)
		}
	}
	status, hdr, body := h.do("GET", v+"/limits", nil)
	if status != 403 || string(body) != `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]` {
		t.Fatalf("call beyond the limit = %d %s", status, body)
	}
	if hdr.Get("Sforce-Limit-Info") != "api-usage=3/3" {
		t.Errorf("403 Sforce-Limit-Info = %q", hdr.Get("Sforce-Limit-Info"))
	}
	h.clientCredentialsToken() // token calls still work and do not count
	st := h.e.Stats()
	if st.APICalls != 3 || st.ByKind["composite"] != 1 || st.ByKind["describe"] != 2 {
		t.Errorf("Stats = %+v; want 3 calls: 1 composite, 2 describe", st)
	}
}

func TestDescribeUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	status, _, body := h.do("GET", v+"/sobjects/User/describe", nil)
	if status != 200 {
		t.Fatalf("describe = %d %s", status, body)
	}
	d := decode(t, body).(map[string]any)
	if d["name"] != "User" || d["keyPrefix"] != "005" {
		t.Fatalf("describe name/keyPrefix = %v/%v", d["name"], d["keyPrefix"])
	}
	fields := map[string]map[string]any{}
	for _, f := range d["fields"].([]any) {
		m := f.(map[string]any)
		fields[m["name"].(string)] = m
	}
	values := func(field string) []string {
		var out []string
		for _, p := range fields[field]["picklistValues"].([]any) {
			out = append(out, p.(map[string]any)["value"].(string))
		}
		return out
	}
	for field, want := range map[string][]string{
		"TimeZoneSidKey":    {"America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "GMT"},
		"LocaleSidKey":      {"en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "es_MX", "pt_BR"},
		"LanguageLocaleKey": {"da", "de", "en_US", "es", "es_MX", "fi", "fr", "it", "ja", "ko", "nl_NL", "no", "pt_BR", "ru", "sv", "th", "zh_CN", "zh_TW"},
		"EmailEncodingKey":  {"UTF-8", "ISO-8859-1", "Shift_JIS", "ISO-2022-JP", "EUC-JP", "ks_c_5601-1987", "Big5", "GB2312", "Big5-HKSCS"},
	} {
		if fields[field]["restrictedPicklist"] != true {
			t.Errorf("%s restrictedPicklist = %v", field, fields[field]["restrictedPicklist"])
		}
		got := values(field)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s picklist lacks %s", field, w)
			}
		}
	}
	if len(values("TimeZoneSidKey")) < 30 {
		t.Errorf("only %d time zones", len(values("TimeZoneSidKey")))
	}
	if p := fields["ProfileId"]; p["type"] != "reference" || p["relationshipName"] != "Profile" || p["referenceTo"].([]any)[0] != "Profile" {
		t.Errorf("ProfileId = %v", p)
	}
	if u := fields["UserType"]; u["createable"] != false || u["updateable"] != false {
		t.Errorf("UserType is writable: %v", u)
	}
	if a := fields["Alias"]; a["length"] != float64(8) || a["nillable"] != false {
		t.Errorf("Alias = %v", a)
	}
	var children []string
	for _, c := range d["childRelationships"].([]any) {
		children = append(children, c.(map[string]any)["relationshipName"].(string))
	}
	if !slices.Contains(children, "PermissionSetAssignments") {
		t.Errorf("childRelationships = %v; want PermissionSetAssignments", children)
	}
	for _, object := range []string{"Profile", "PermissionSet", "PermissionSetGroup", "PermissionSetAssignment", "UserLogin", "UserLicense", "UserRole"} {
		if s, _, b := h.do("GET", v+"/sobjects/"+object+"/describe", nil); s != 200 {
			t.Errorf("describe %s = %d %s", object, s, b)
		}
	}
	status, _, body = h.do("GET", v+"/sobjects/Nope/describe", nil)
	wantError(t, "describe Nope", status, body, 404, "NOT_FOUND")
}

func TestUserCreateValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{OtherOrgUsernames: []string{"taken@elsewhere.com"}})
	h.createUser("existing@example.com", "Standard User")
	with := func(changes map[string]any) map[string]any {
		u := h.newUser("new@example.com", "Standard User")
		for k, val := range changes {
			if val == nil {
				delete(u, k)
			} else {
				u[k] = val
			}
		}
		return u
	}
	for _, tc := range []struct {
		name       string
		body       any
		wantStatus int
		wantCode   string
		wantFields []string
		wantMsg    string
	}{
		{"every required field missing", map[string]any{}, 400, "REQUIRED_FIELD_MISSING",
			[]string{"Username", "LastName", "Email", "Alias", "ProfileId", "TimeZoneSidKey", "LocaleSidKey", "LanguageLocaleKey", "EmailEncodingKey"},
			"Required fields are missing: [Username, LastName, Email, Alias, ProfileId, TimeZoneSidKey, LocaleSidKey, LanguageLocaleKey, EmailEncodingKey]"},
		{"alias longer than 8", with(map[string]any{"Alias": "abcdefghij"}), 400, "STRING_TOO_LONG", []string{"Alias"}, "Alias: data value too large: abcdefghij (max length=8)"},
		{"first name longer than 40", with(map[string]any{"FirstName": strings.Repeat("x", 41)}), 400, "STRING_TOO_LONG", []string{"FirstName"}, ""},
		{"unknown time zone", with(map[string]any{"TimeZoneSidKey": "Mars/Base"}), 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{"TimeZoneSidKey"}, "Time Zone: bad value for restricted picklist field: Mars/Base"},
		{"unknown locale", with(map[string]any{"LocaleSidKey": "xx_XX"}), 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{"LocaleSidKey"}, ""},
		{"unknown language", with(map[string]any{"LanguageLocaleKey": "tlh"}), 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{"LanguageLocaleKey"}, ""},
		{"unknown encoding", with(map[string]any{"EmailEncodingKey": "UTF-16"}), 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", []string{"EmailEncodingKey"}, ""},
		{"bad email", with(map[string]any{"Email": "not-an-email"}), 400, "INVALID_EMAIL_ADDRESS", []string{"Email"}, "Email: invalid email address: not-an-email"},
		{"username not an email", with(map[string]any{"Username": "jdoe"}), 400, "INVALID_EMAIL_ADDRESS", []string{"Username"}, ""},
		{"unknown profile", with(map[string]any{"ProfileId": makeID("00e", 999999)}), 400, "INVALID_CROSS_REFERENCE_KEY", []string{"ProfileId"}, "invalid cross reference id"},
		{"malformed profile id", with(map[string]any{"ProfileId": "00e!"}), 400, "MALFORMED_ID", []string{"ProfileId"}, ""},
		{"unknown manager", with(map[string]any{"ManagerId": makeID("005", 999999)}), 400, "INVALID_CROSS_REFERENCE_KEY", []string{"ManagerId"}, ""},
		{"Id in the body", with(map[string]any{"Id": makeID("005", 1)}), 400, "INVALID_FIELD", nil, "The Id field should not be specified in the sobject data."},
		{"unknown field", with(map[string]any{"Shoe_Size__c": 44}), 400, "INVALID_FIELD", nil, "No such column 'Shoe_Size__c' on sobject of type User"},
		{"read-only fields", with(map[string]any{"UserType": "Guest", "CreatedDate": "2020-01-01T00:00:00Z"}), 400, "INVALID_FIELD_FOR_INSERT_UPDATE", []string{"CreatedDate", "UserType"}, ""},
		{"username taken, other case", with(map[string]any{"Username": "EXISTING@example.com"}), 400, "DUPLICATE_USERNAME", []string{"Username"}, msgDuplicateUser},
		{"username taken in another org", with(map[string]any{"Username": "Taken@Elsewhere.com"}), 400, "DUPLICATE_USERNAME", []string{"Username"}, ""},
		{"nickname taken", with(map[string]any{"CommunityNickname": "EXISTING"}), 400, "DUPLICATE_COMM_NICKNAME", []string{"CommunityNickname"}, msgDuplicateNickname},
		{"boolean of the wrong type", with(map[string]any{"IsActive": "maybe"}), 400, "JSON_PARSER_ERROR", nil, ""},
		{"not JSON", "{", 400, "JSON_PARSER_ERROR", nil, ""},
	} {
		status, _, body := h.do("POST", v+"/sobjects/User", tc.body)
		first := wantError(t, tc.name, status, body, tc.wantStatus, tc.wantCode)
		if tc.wantFields != nil {
			var got []string
			for _, f := range first["fields"].([]any) {
				got = append(got, f.(string))
			}
			if !slices.Equal(got, tc.wantFields) {
				t.Errorf("%s: fields = %v; want %v", tc.name, got, tc.wantFields)
			}
		}
		if tc.wantMsg != "" && first["message"] != tc.wantMsg {
			t.Errorf("%s: message = %q; want %q", tc.name, first["message"], tc.wantMsg)
		}
	}
	if n := len(h.e.List("User")); n != 2 {
		t.Errorf("%d users after only failed creates; want 2", n)
	}
}

func TestUserCreateDefaultsAndSideEffects(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now})
	body := h.newUser("Mixed.Case@Example.com", "Standard User")
	body["Email"] = "jane@example.com"
	status, hdr, resp := h.do("POST", v+"/sobjects/User", body)
	if status != 201 {
		t.Fatalf("create = %d %s", status, resp)
	}
	created := decode(t, resp).(map[string]any)
	id := created["id"].(string)
	if created["success"] != true || len(created["errors"].([]any)) != 0 || len(id) != 18 || !strings.HasPrefix(id, "005") {
		t.Fatalf("create answer = %s", resp)
	}
	if hdr.Get("Location") != v+"/sobjects/User/"+id {
		t.Errorf("Location = %q", hdr.Get("Location"))
	}
	body2 := h.newUser("other@example.com", "Standard User")
	body2["Email"] = "jane@example.org"
	id2 := decode(t, mustDo(t, h, "POST", v+"/sobjects/User", body2, 201)).(map[string]any)["id"].(string)

	u := h.e.Get("User", id)
	for field, want := range map[string]any{"Username": "mixed.case@example.com", "IsActive": true, "UserType": "Standard",
		"CommunityNickname": "jane", "Name": "Tess Tester"} {
		if u[field] != want {
			t.Errorf("%s = %v; want %v", field, u[field], want)
		}
	}
	if nick := h.e.Get("User", id2)["CommunityNickname"]; nick == "jane" || nick == nil {
		t.Errorf("second generated nickname = %v; want a unique one", nick)
	}
	created1, modified1 := u["CreatedDate"].(time.Time), u["SystemModstamp"].(time.Time)
	// Stamps never repeat, so with a frozen clock they step ahead by a millisecond per change.
	if !created1.Equal(modified1) || created1.Before(clock.Now()) || created1.After(clock.Now().Add(time.Second)) {
		t.Errorf("CreatedDate %v, SystemModstamp %v; want both equal and just after %v", created1, modified1, clock.Now())
	}
	// The clock does not move: stamps must still strictly increase.
	mustDo(t, h, "PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "Boss"}, 204)
	u2 := h.e.Get("User", id)
	if !u2["SystemModstamp"].(time.Time).After(modified1) || !u2["LastModifiedDate"].(time.Time).After(modified1) {
		t.Errorf("after PATCH SystemModstamp %v, LastModifiedDate %v; want after %v", u2["SystemModstamp"], u2["LastModifiedDate"], modified1)
	}

	q := url.QueryEscape("SELECT Id, IsFrozen FROM UserLogin WHERE UserId = '" + id + "'")
	if res := decode(t, mustDo(t, h, "GET", v+"/query?q="+q, nil, 200)).(map[string]any); res["totalSize"] != float64(1) {
		t.Errorf("UserLogin rows for the new user = %v; want 1", res["totalSize"])
	}
	q = url.QueryEscape("SELECT PermissionSet.ProfileId FROM PermissionSetAssignment WHERE AssigneeId = '" + id + "' AND PermissionSet.IsOwnedByProfile = true")
	res := decode(t, mustDo(t, h, "GET", v+"/query?q="+q, nil, 200)).(map[string]any)
	if res["totalSize"] != float64(1) {
		t.Fatalf("profile permission set assignments = %v; want 1", res)
	}
	if got := res["records"].([]any)[0].(map[string]any)["PermissionSet"].(map[string]any)["ProfileId"]; got != h.idOf("Profile", "Name", "Standard User") {
		t.Errorf("hidden assignment is to the permission set of profile %v", got)
	}

	// 15-character ids are accepted as input.
	status, _, resp = h.do("GET", v+"/sobjects/User/"+id[:15]+"?fields=Id,Username", nil)
	if status != 200 || string(resp) != `{"attributes":{"type":"User","url":"/services/data/v66.0/sobjects/User/`+id+`"},"Id":"`+id+`","Username":"mixed.case@example.com"}` {
		t.Errorf("GET by 15-char id = %d %s", status, resp)
	}
}

func mustDo(t testing.TB, h *harness, method, path string, body any, want int) []byte {
	t.Helper()
	status, _, resp := h.do(method, path, body)
	if status != want {
		t.Fatalf("%s %s = %d %s; want %d", method, path, status, resp, want)
	}
	return resp
}

func TestRecordErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	admin := h.idOf("User", "Username", "admin@emulator.example.com")
	for _, tc := range []struct {
		name, method, path string
		body               any
		wantStatus         int
		wantCode           string
		wantMsg            string
	}{
		{"unknown id", "GET", "/sobjects/User/" + makeID("005", 999999), nil, 404, "NOT_FOUND", "The requested resource does not exist"},
		{"malformed id", "GET", "/sobjects/User/005abc", nil, 400, "MALFORMED_ID", ""},
		{"bad case-safe suffix", "GET", "/sobjects/User/" + admin[:15] + "ZZZ", nil, 400, "MALFORMED_ID", ""},
		{"unknown type", "GET", "/sobjects/Account/001000000000000", nil, 404, "NOT_FOUND", ""},
		{"unknown fields param", "GET", "/sobjects/User/" + admin + "?fields=Id,Nope", nil, 400, "INVALID_FIELD", ""},
		{"delete a user", "DELETE", "/sobjects/User/" + admin, nil, 405, "METHOD_NOT_ALLOWED", "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH"},
		{"create a UserLogin", "POST", "/sobjects/UserLogin", map[string]any{"UserId": admin}, 405, "METHOD_NOT_ALLOWED", "HTTP Method 'POST' not allowed. Allowed are HEAD,GET"},
		{"delete a UserLogin", "DELETE", "/sobjects/UserLogin/" + h.idOf("UserLogin", "UserId", admin), nil, 405, "METHOD_NOT_ALLOWED", "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH"},
		{"create a UserLicense", "POST", "/sobjects/UserLicense", map[string]any{}, 405, "METHOD_NOT_ALLOWED", "HTTP Method 'POST' not allowed. Allowed are HEAD,GET"},
		{"clear a required field", "PATCH", "/sobjects/User/" + admin, map[string]any{"LastName": nil}, 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]"},
		{"patch the Id", "PATCH", "/sobjects/User/" + admin, map[string]any{"Id": admin}, 400, "INVALID_FIELD", msgIDInBody},
		{"patch a read-only field", "PATCH", "/sobjects/User/" + admin, map[string]any{"SystemModstamp": "2020-01-01T00:00:00Z"}, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", ""},
		{"patch unknown id", "PATCH", "/sobjects/User/" + makeID("005", 999999), map[string]any{"Title": "x"}, 404, "NOT_FOUND", ""},
		{"unknown resource", "GET", "/nothing", nil, 404, "NOT_FOUND", ""},
		{"query without q", "GET", "/query", nil, 400, "MALFORMED_QUERY", "A query string has to be specified"},
		{"bad SOQL", "GET", "/query?q=SELECT+FROM+User", nil, 400, "MALFORMED_QUERY", ""},
		{"SOQL on an unknown column", "GET", "/query?q=SELECT+Nope+FROM+User", nil, 400, "INVALID_FIELD", ""},
	} {
		status, _, body := h.do(tc.method, v+tc.path, tc.body)
		first := wantError(t, tc.name, status, body, tc.wantStatus, tc.wantCode)
		if tc.wantMsg != "" && first["message"] != tc.wantMsg {
			t.Errorf("%s: message = %q; want %q", tc.name, first["message"], tc.wantMsg)
		}
	}
}

func TestUserUpdates(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now})
	id := h.createUser("u@example.com", "Standard User")
	clock.Advance(10 * time.Second)

	// _HttpMethod=PATCH override.
	mustDo(t, h, "POST", v+"/sobjects/User/"+id+"?_HttpMethod=PATCH", map[string]any{"Department": "Sales"}, 204)
	if got := h.e.Get("User", id)["Department"]; got != "Sales" {
		t.Fatalf("Department after POST ?_HttpMethod=PATCH = %v", got)
	}
	modified := h.e.Get("User", id)["LastModifiedDate"].(time.Time)

	// Conditional requests.
	before := modified.Add(-5 * time.Second).Format(http.TimeFormat)
	after := modified.Add(5 * time.Second).Format(http.TimeFormat)
	if s, _, b := h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "x"}, "If-Unmodified-Since", before); s != 412 {
		t.Errorf("PATCH If-Unmodified-Since before the change = %d %s; want 412", s, b)
	}
	if s, _, b := h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "x"}, "If-Unmodified-Since", after); s != 204 {
		t.Errorf("PATCH If-Unmodified-Since after the change = %d %s; want 204", s, b)
	}
	if s, _, b := h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "x"}, "If-Unmodified-Since", "yesterday"); s != 400 {
		t.Errorf("PATCH with a malformed If-Unmodified-Since = %d %s; want 400", s, b)
	}
	modified = h.e.Get("User", id)["LastModifiedDate"].(time.Time)
	if s, _, b := h.do("GET", v+"/sobjects/User/"+id, nil, "If-Modified-Since", modified.Add(time.Second).Format(http.TimeFormat)); s != 304 || len(b) != 0 {
		t.Errorf("GET If-Modified-Since after the change = %d %s; want 304", s, b)
	}
	if s, _, _ := h.do("GET", v+"/sobjects/User/"+id, nil, "If-Modified-Since", modified.Add(-time.Minute).Format(http.TimeFormat)); s != 200 {
		t.Errorf("GET If-Modified-Since before the change = %d; want 200", s)
	}

	// Username rules apply to updates too.
	h.createUser("taken@example.com", "Standard User")
	status, _, body := h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"Username": "TAKEN@example.com"})
	wantError(t, "rename to a taken username", status, body, 400, "DUPLICATE_USERNAME")
	mustDo(t, h, "PATCH", v+"/sobjects/User/"+id, map[string]any{"Username": "Renamed@Example.com"}, 204)
	if got := h.e.Get("User", id)["Username"]; got != "renamed@example.com" {
		t.Errorf("renamed Username = %v", got)
	}

	// Profile change replaces the hidden profile assignment.
	admins := h.idOf("Profile", "Name", "System Administrator")
	mustDo(t, h, "PATCH", v+"/sobjects/User/"+id, map[string]any{"ProfileId": admins}, 204)
	var owned []string
	for _, psa := range h.e.List("PermissionSetAssignment") {
		if psa["AssigneeId"] == id {
			if ps := h.e.Get("PermissionSet", psa["PermissionSetId"].(string)); ps["IsOwnedByProfile"] == true {
				owned = append(owned, ps["ProfileId"].(string))
			}
		}
	}
	if !slices.Equal(owned, []string{admins}) {
		t.Errorf("profile assignments after the profile change = %v; want only %s", owned, admins)
	}

	// Deactivation blocker.
	h.e.SetUserDeactivationBlocker(id, "This user is the default workflow user.")
	status, _, body = h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"IsActive": false})
	if first := wantError(t, "blocked deactivation", status, body, 400, "FIELD_INTEGRITY_EXCEPTION"); first["message"] != "This user is the default workflow user." {
		t.Errorf("blocker message = %v", first["message"])
	}
	h.e.SetUserDeactivationBlocker(id, "")
	mustDo(t, h, "PATCH", v+"/sobjects/User/"+id, map[string]any{"IsActive": "false"}, 204)
	if h.e.Get("User", id)["IsActive"] != false {
		t.Errorf("user still active")
	}
	// Deactivated users keep their assignments and stay readable.
	mustDo(t, h, "GET", v+"/sobjects/User/"+id, nil, 200)
}

func TestUserLoginFreeze(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	id := h.createUser("f@example.com", "Standard User")
	login := h.idOf("UserLogin", "UserId", id)
	if !strings.HasPrefix(login, "0Yw") {
		t.Fatalf("UserLogin id %s lacks prefix 0Yw", login)
	}
	mustDo(t, h, "PATCH", v+"/sobjects/UserLogin/"+login, map[string]any{"IsFrozen": true}, 204)
	q := url.QueryEscape("SELECT Id, UserId FROM UserLogin WHERE IsFrozen = true")
	res := decode(t, mustDo(t, h, "GET", v+"/query?q="+q, nil, 200)).(map[string]any)
	if res["totalSize"] != float64(1) || res["records"].([]any)[0].(map[string]any)["UserId"] != id {
		t.Errorf("frozen logins = %v", res)
	}
	status, _, body := h.do("PATCH", v+"/sobjects/UserLogin/"+login, map[string]any{"UserId": id})
	wantError(t, "patch UserLogin.UserId", status, body, 400, "INVALID_FIELD_FOR_INSERT_UPDATE")
	status, _, body = h.do("PATCH", v+"/sobjects/UserLogin/"+login, map[string]any{"IsPasswordLocked": true})
	wantError(t, "lock a password", status, body, 400, "FIELD_INTEGRITY_EXCEPTION")
}

func TestLicenseSeats(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	var chatter []string
	for i := 0; i < 5; i++ {
		chatter = append(chatter, h.createUser(fmt.Sprintf("c%d@example.com", i), "Chatter Free User"))
	}
	if got := h.e.Get("User", chatter[0])["UserType"]; got != "CsnOnly" {
		t.Errorf("Chatter Free UserType = %v; want CsnOnly", got)
	}
	status, _, body := h.do("POST", v+"/sobjects/User", h.newUser("c5@example.com", "Chatter Free User"))
	if first := wantError(t, "sixth Chatter Free user", status, body, 400, "LICENSE_LIMIT_EXCEEDED"); first["message"] != "License Limit Exceeded" {
		t.Errorf("message = %v", first["message"])
	}
	inactive := h.newUser("c6@example.com", "Chatter Free User")
	inactive["IsActive"] = false
	mustDo(t, h, "POST", v+"/sobjects/User", inactive, 201) // inactive users take no seat
	lic := h.idOf("UserLicense", "Name", "Chatter Free")
	if used := h.e.Get("UserLicense", lic)["UsedLicenses"]; used != 5 {
		t.Errorf("UsedLicenses = %v; want 5", used)
	}
	std := h.createUser("s@example.com", "Standard User")
	status, _, body = h.do("PATCH", v+"/sobjects/User/"+std, map[string]any{"ProfileId": h.idOf("Profile", "Name", "Chatter Free User")})
	wantError(t, "move into a full licence", status, body, 400, "LICENSE_LIMIT_EXCEEDED")
	mustDo(t, h, "PATCH", v+"/sobjects/User/"+chatter[0], map[string]any{"IsActive": false}, 204)
	c6 := h.idOf("User", "Username", "c6@example.com")
	mustDo(t, h, "PATCH", v+"/sobjects/User/"+c6, map[string]any{"IsActive": true}, 204)
	status, _, body = h.do("PATCH", v+"/sobjects/User/"+chatter[0], map[string]any{"IsActive": true})
	wantError(t, "reactivate into a full licence", status, body, 400, "LICENSE_LIMIT_EXCEEDED")
}

func TestGzipRequestBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_ = json.NewEncoder(zw).Encode(h.newUser("gz@example.com", "Standard User"))
	zw.Close()
	status, _, body := h.do("POST", v+"/sobjects/User", buf.Bytes(), "Content-Encoding", "gzip")
	if status != 201 {
		t.Fatalf("gzip create = %d %s", status, body)
	}
}
