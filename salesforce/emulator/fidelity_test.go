package emulator

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Regression tests for the behaviours the fidelity review against the Salesforce reference
// corrected or made configurable.

// sendRaw sends a request with exactly the given headers (no token unless given) and returns the
// status, headers and body.
func sendRaw(t *testing.T, h *harness, method, path string, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestMissingGrantTypeIsUnsupported(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	// A body Salesforce cannot read as a form (JSON, or nothing) has no grant_type and is answered
	// like an unknown grant (observed: ccoenraets/force-server#3, omniphx/forrest#145).
	for _, form := range []url.Values{{}, {"client_id": {testClientID}, "client_secret": {testClientSecret}}} {
		status, body := h.tokenCall(form)
		if status != 400 || body["error"] != "unsupported_grant_type" || body["error_description"] != "grant type not supported" {
			t.Errorf("token call without grant_type = %d %v; want 400 unsupported_grant_type / grant type not supported", status, body)
		}
	}
}

func TestFaultsCarryLimitInfo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{APILimit: 1000})
	usage := func(hdr http.Header) string { return hdr.Get("Sforce-Limit-Info") }
	_, hdr, _ := h.do("GET", v+"/limits", nil)
	if usage(hdr) != "api-usage=1/1000" {
		t.Fatalf("Sforce-Limit-Info = %q; want api-usage=1/1000", usage(hdr))
	}
	for _, tc := range []struct {
		name  string
		fault Fault
		want  string
	}{
		{"row lock (counted)", Fault{ErrorCode: "UNABLE_TO_LOCK_ROW"}, "api-usage=2/1000"},
		{"503 JSON (not counted)", Fault{Status: 503}, "api-usage=2/1000"},
		{"403 limit (not counted)", Fault{Status: 403}, "api-usage=2/1000"},
		{"401 (no header)", Fault{Status: 401}, ""},
		{"gateway HTML (no header)", Fault{HTML: true}, ""},
	} {
		tc.fault.PathPattern = v + "/limits"
		h.e.InjectFault(tc.fault)
		status, hdr, body := h.do("GET", v+"/limits", nil)
		if status != tc.fault.status() {
			t.Errorf("%s: status = %d %s; want %d", tc.name, status, body, tc.fault.status())
		}
		if got := usage(hdr); got != tc.want {
			t.Errorf("%s: Sforce-Limit-Info = %q; want %q", tc.name, got, tc.want)
		}
	}
	// Faults outside the versioned API (token endpoint, unknown version) never carry it.
	h.e.InjectFault(Fault{PathPattern: "/services/data/v20.0/*", Status: 400})
	if _, hdr, _ := h.do("GET", "/services/data/v20.0/limits", nil); usage(hdr) != "" {
		t.Errorf("fault on an unknown version carries Sforce-Limit-Info %q", usage(hdr))
	}
}

func TestOversizedRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	auth := map[string]string{"Authorization": "Bearer " + h.token}
	base := v + "/query?q="
	fits := base + strings.Repeat("a", maxRequestLineBytes-1000-len(base))
	if status, _, body := sendRaw(t, h, "GET", fits, auth); status != 400 || !strings.Contains(body, "MALFORMED_QUERY") {
		t.Errorf("URI of 15,384 bytes = %d %s; want the query's own 400", status, body)
	}
	before := h.e.Stats().APICalls
	tooLong := base + strings.Repeat("a", maxRequestLineBytes+1-len(base))
	if status, hdr, _ := sendRaw(t, h, "GET", tooLong, auth); status != http.StatusRequestURITooLong || hdr.Get("Sforce-Limit-Info") != "" {
		t.Errorf("URI of 16,385 bytes = %d (Sforce-Limit-Info %q); want 414 without it", status, hdr.Get("Sforce-Limit-Info"))
	}
	big := map[string]string{"Authorization": "Bearer " + h.token, "X-Padding": strings.Repeat("p", maxRequestLineBytes-200)}
	if status, _, _ := sendRaw(t, h, "GET", v+"/limits", big); status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("URI+headers over 16,384 bytes = %d; want 431", status)
	}
	if got := h.e.Stats().APICalls - before; got != 0 {
		t.Errorf("414/431 answers counted %d API calls; want 0", got)
	}
}

func TestConditionalHeaderFormats(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, Config{Now: clock.Now})
	id := h.createUser("cond@example.com", "Standard User")
	modified := clock.Now()
	clock.Advance(time.Minute)
	later, earlier := modified.Add(time.Second), modified.Add(-time.Hour)

	// "EEE, dd MMM yyyy HH:mm:ss z": GMT, another zone name or a numeric zone.
	for _, since := range []string{later.Format(http.TimeFormat), later.Format("Mon, 02 Jan 2006 15:04:05 UTC"),
		later.In(time.FixedZone("", 2*3600)).Format(time.RFC1123Z)} {
		if s, _, b := h.do("GET", v+"/sobjects/User/"+id, nil, "If-Modified-Since", since); s != 304 {
			t.Errorf("GET If-Modified-Since %q = %d %s; want 304", since, s, b)
		}
	}
	if s, _, _ := h.do("GET", v+"/sobjects/User/"+id, nil, "If-Modified-Since", "yesterday"); s != 200 {
		t.Errorf("GET with an unreadable If-Modified-Since = %d; want 200 (ignored)", s)
	}
	s, _, b := h.do("GET", v+"/sobjects/User/"+id, nil, "If-Unmodified-Since", earlier.Format(http.TimeFormat))
	wantError(t, "GET If-Unmodified-Since before the change", s, b, 412, "PRECONDITION_FAILED")

	// An unreadable If-Unmodified-Since on PATCH or POST is a 400 (D-COND).
	s, _, b = h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "x"}, "If-Unmodified-Since", "not a date")
	wantError(t, "PATCH with an unreadable If-Unmodified-Since", s, b, 400, "INVALID_HEADER_TYPE")
	s, _, b = h.do("POST", v+"/sobjects/User", h.newUser("cond2@example.com", "Standard User"), "If-Unmodified-Since", "not a date")
	wantError(t, "POST with an unreadable If-Unmodified-Since", s, b, 400, "INVALID_HEADER_TYPE")
	if got := h.e.Get("User", id)["Title"]; got != nil {
		t.Errorf("refused PATCH changed Title to %v", got)
	}
	s, _, b = h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "x"}, "If-Unmodified-Since", earlier.Format(time.RFC1123Z))
	wantError(t, "PATCH If-Unmodified-Since before the change", s, b, 412, "PRECONDITION_FAILED")
	if s, _, b := h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "x"}, "If-Unmodified-Since", later.Format(http.TimeFormat)); s != 204 {
		t.Errorf("PATCH If-Unmodified-Since after the change = %d %s; want 204", s, b)
	}
}

func TestFederationIdentifierUniqueByDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	u := h.newUser("f1@example.com", "Standard User")
	u["FederationIdentifier"] = "Fed-1"
	id := decode(t, mustDo(t, h, "POST", v+"/sobjects/User", u, 201)).(map[string]any)["id"].(string)
	u2 := h.newUser("f2@example.com", "Standard User")
	u2["FederationIdentifier"] = "Fed-1"
	s, _, b := h.do("POST", v+"/sobjects/User", u2)
	first := wantError(t, "repeated FederationIdentifier", s, b, 400, "DUPLICATE_VALUE")
	if want := "duplicate value found: FederationIdentifier duplicates value on record with id: " + id; first["message"] != want {
		t.Errorf("message = %v; want %s", first["message"], want)
	}
	// Federation IDs compare case-sensitively.
	u2["FederationIdentifier"] = "fed-1"
	mustDo(t, h, "POST", v+"/sobjects/User", u2, 201)

	lax := newHarness(t, Config{Quirks: Quirks{AllowDuplicateFederationID: true}})
	for _, name := range []string{"a@example.com", "b@example.com"} {
		u := lax.newUser(name, "Standard User")
		u["FederationIdentifier"] = "same"
		mustDo(t, lax, "POST", v+"/sobjects/User", u, 201)
	}
}

func TestUnconfirmedUserQuirks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Quirks: Quirks{
		RequireCommunityNickname: true,
		RejectMixedCaseUsername:  true,
		DeactivationBlockerCode:  "CANNOT_DISABLE_LAST_ADMIN",
		DeleteUserError:          newError(http.StatusBadRequest, "INVALID_TYPE", "entity type cannot be deleted: User"),
	}})
	u := h.newUser("nick@example.com", "Standard User")
	s, _, b := h.do("POST", v+"/sobjects/User", u)
	if first := wantError(t, "create without a nickname", s, b, 400, "REQUIRED_FIELD_MISSING"); first["message"] != "Required fields are missing: [CommunityNickname]" {
		t.Errorf("message = %v", first["message"])
	}
	u["CommunityNickname"] = "nick"
	u["Username"] = "Nick@Example.com"
	s, _, b = h.do("POST", v+"/sobjects/User", u)
	wantError(t, "mixed-case Username", s, b, 400, "INVALID_EMAIL_ADDRESS")
	u["Username"] = "nick@example.com"
	id := decode(t, mustDo(t, h, "POST", v+"/sobjects/User", u, 201)).(map[string]any)["id"].(string)

	h.e.SetUserDeactivationBlocker(id, "last admin")
	s, _, b = h.do("PATCH", v+"/sobjects/User/"+id, map[string]any{"IsActive": false})
	if first := wantError(t, "blocked deactivation", s, b, 400, "CANNOT_DISABLE_LAST_ADMIN"); first["message"] != "last admin" {
		t.Errorf("message = %v", first["message"])
	}
	s, _, b = h.do("DELETE", v+"/sobjects/User/"+id, nil)
	wantError(t, "configured DELETE User answer", s, b, 400, "INVALID_TYPE")

	// Defaults: the nickname is generated and mixed case is lower-cased.
	d := newHarness(t, Config{})
	u = d.newUser("Mixed.Case@Example.com", "Standard User")
	id = decode(t, mustDo(t, d, "POST", v+"/sobjects/User", u, 201)).(map[string]any)["id"].(string)
	if row := d.e.Get("User", id); row["Username"] != "mixed.case@example.com" || row["CommunityNickname"] == nil {
		t.Errorf("defaults: Username %v, CommunityNickname %v; want lower-cased and generated", row["Username"], row["CommunityNickname"])
	}
}

func TestSecondResolutionTimestamps(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	clock.Advance(1234 * time.Millisecond)
	h := newHarness(t, Config{Now: clock.Now, Quirks: Quirks{SecondResolutionTimestamps: true}})
	id := h.createUser("ts@example.com", "Standard User")
	first := h.e.Get("User", id)["SystemModstamp"].(time.Time)
	mustDo(t, h, "PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "x"}, 204)
	second := h.e.Get("User", id)["SystemModstamp"].(time.Time)
	if !first.Equal(second) || first.Nanosecond() != 0 {
		t.Errorf("SystemModstamp %v then %v; want the same whole second", first, second)
	}
	body := decode(t, mustDo(t, h, "GET", v+"/sobjects/User/"+id+"?fields=SystemModstamp", nil, 200)).(map[string]any)
	if got := body["SystemModstamp"]; got != "2026-03-01T12:00:01.000+0000" {
		t.Errorf("SystemModstamp = %v; want 2026-03-01T12:00:01.000+0000", got)
	}

	// Default: milliseconds, strictly increasing even within one millisecond.
	d := newHarness(t, Config{Now: clock.Now})
	id = d.createUser("ts@example.com", "Standard User")
	first = d.e.Get("User", id)["SystemModstamp"].(time.Time)
	mustDo(t, d, "PATCH", v+"/sobjects/User/"+id, map[string]any{"Title": "x"}, 204)
	if second := d.e.Get("User", id)["SystemModstamp"].(time.Time); !second.After(first) {
		t.Errorf("default SystemModstamp %v then %v; want strictly increasing", first, second)
	}
}

func TestTokenQuirks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{Quirks: Quirks{TokenAPIInstanceURL: true, CountTokenRequests: true}})
	before := h.e.Stats().APICalls
	status, body := h.tokenCall(url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testClientSecret}})
	if status != 200 || body["api_instance_url"] != body["instance_url"] || body["api_instance_url"] == nil {
		t.Errorf("token answer = %d %v; want api_instance_url = instance_url", status, body)
	}
	if got := h.e.Stats().APICalls - before; got != 1 {
		t.Errorf("token call counted %d API calls; want 1 with CountTokenRequests", got)
	}

	d := newHarness(t, Config{})
	before = d.e.Stats().APICalls
	status, body = d.tokenCall(url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testClientSecret}})
	if _, present := body["api_instance_url"]; status != 200 || present {
		t.Errorf("default token answer = %d %v; want no api_instance_url", status, body)
	}
	if got := d.e.Stats().APICalls - before; got != 0 {
		t.Errorf("default token call counted %d API calls; want 0", got)
	}
}
