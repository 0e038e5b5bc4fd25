package emulator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestClientCredentialsTokenShape(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	for _, tc := range []struct {
		name  string
		basic bool
	}{{"form credentials", false}, {"HTTP Basic credentials", true}} {
		form := url.Values{"grant_type": {"client_credentials"}}
		if !tc.basic {
			form.Set("client_id", testClientID)
			form.Set("client_secret", testClientSecret)
		}
		req, _ := http.NewRequest("POST", h.srv.URL+"/services/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.basic {
			req.SetBasicAuth(testClientID, testClientSecret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		b := readAll(t, resp)
		body, _ = decode(t, b).(map[string]any)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: token = %d %s", tc.name, resp.StatusCode, b)
		}
		if _, has := body["expires_in"]; has {
			t.Errorf("%s: token answer has expires_in; Salesforce sends none", tc.name)
		}
		if _, has := body["refresh_token"]; has {
			t.Errorf("%s: client_credentials answer has a refresh_token", tc.name)
		}
		if body["instance_url"] != h.srv.URL || body["token_type"] != "Bearer" {
			t.Errorf("%s: instance_url/token_type = %v/%v", tc.name, body["instance_url"], body["token_type"])
		}
		if !regexp.MustCompile(`^00D[0-9A-Za-z]{12}!\S+$`).MatchString(body["access_token"].(string)) {
			t.Errorf("%s: access_token %q is not 00D…!…", tc.name, body["access_token"])
		}
		admin := h.idOf("User", "Username", "admin@emulator.example.com")
		wantID := h.srv.URL + "/id/" + h.e.orgID + "/" + admin
		if body["id"] != wantID {
			t.Errorf("%s: id = %v; want %s", tc.name, body["id"], wantID)
		}
		if !regexp.MustCompile(`^[0-9]{13}$`).MatchString(body["issued_at"].(string)) {
			t.Errorf("%s: issued_at = %v; want milliseconds as a string", tc.name, body["issued_at"])
		}
		mac := hmac.New(sha256.New, []byte(testClientSecret))
		mac.Write([]byte(wantID + body["issued_at"].(string)))
		if body["signature"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			t.Errorf("%s: signature is not HMAC-SHA256(id+issued_at)", tc.name)
		}
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{RefreshToken: testRefreshToken})
	for _, tc := range []struct {
		name      string
		form      url.Values
		wantError string
		wantDesc  string
	}{
		{"unknown client id", url.Values{"grant_type": {"client_credentials"}, "client_id": {"nope"}, "client_secret": {testClientSecret}}, "invalid_client_id", "client identifier invalid"},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {"nope"}}, "invalid_client", ""},
		{"missing secret for client credentials", url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}}, "invalid_client", ""},
		{"unknown grant", url.Values{"grant_type": {"password"}, "client_id": {testClientID}}, "unsupported_grant_type", "grant type not supported"},
		{"missing grant", url.Values{"client_id": {testClientID}}, "unsupported_grant_type", ""},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "refresh_token": {"nope"}}, "invalid_grant", "expired access/refresh token"},
		{"refresh with wrong client", url.Values{"grant_type": {"refresh_token"}, "client_id": {"nope"}, "refresh_token": {testRefreshToken}}, "invalid_client_id", ""},
	} {
		status, body := h.tokenCall(tc.form)
		if status != http.StatusBadRequest || body["error"] != tc.wantError {
			t.Errorf("%s: = %d %v; want 400 %s", tc.name, status, body, tc.wantError)
		}
		if tc.wantDesc != "" && body["error_description"] != tc.wantDesc {
			t.Errorf("%s: error_description = %v; want %q", tc.name, body["error_description"], tc.wantDesc)
		}
	}
	if got := h.e.Stats(); got.APICalls != 0 || got.ByKind["token"] < 8 {
		t.Errorf("Stats = %+v; want token calls counted by kind but not as API calls", got)
	}
}

func TestRefreshTokenGrant(t *testing.T) {
	t.Parallel()
	refresh := func(h *harness, token string) (int, map[string]any) {
		return h.tokenCall(url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID},
			"client_secret": {testClientSecret}, "refresh_token": {token}})
	}
	t.Run("without rotation the refresh token stays valid and none is returned", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Config{RefreshToken: testRefreshToken})
		for i := 0; i < 2; i++ {
			status, body := refresh(h, testRefreshToken)
			if status != 200 {
				t.Fatalf("refresh #%d = %d %v", i, status, body)
			}
			if _, has := body["refresh_token"]; has {
				t.Fatalf("refresh #%d returned a refresh_token without rotation", i)
			}
			if s, _, b := h.doToken(body["access_token"].(string), "GET", v+"/limits", nil); s != 200 {
				t.Fatalf("using refreshed token = %d %s", s, b)
			}
		}
	})
	t.Run("with rotation the old refresh token stops working", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Config{RefreshToken: testRefreshToken, RotateRefreshTokens: true})
		status, body := refresh(h, testRefreshToken)
		if status != 200 || body["refresh_token"] == nil || body["refresh_token"] == testRefreshToken {
			t.Fatalf("rotating refresh = %d %v; want a new refresh_token", status, body)
		}
		if status, body := refresh(h, testRefreshToken); status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("reusing the rotated-out token = %d %v; want invalid_grant", status, body)
		}
		if status, _ := refresh(h, body["refresh_token"].(string)); status != 200 {
			t.Fatalf("the new refresh token = %d; want 200", status)
		}
	})
	t.Run("ForceInvalidGrant fault fails the next refresh only", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, Config{RefreshToken: testRefreshToken})
		h.e.InjectFault(Fault{PathPattern: "/services/oauth2/token", ForceInvalidGrant: true})
		if status, body := refresh(h, testRefreshToken); status != 400 || body["error"] != "invalid_grant" ||
			body["error_description"] != "expired access/refresh token" {
			t.Fatalf("faulted refresh = %d %v", status, body)
		}
		if status, _ := refresh(h, testRefreshToken); status != 200 {
			t.Fatalf("refresh after the fault = %d; want 200", status)
		}
	})
}

func TestAccessTokenExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, Config{TokenTTL: time.Hour, Now: clock.Now})
	if s, _, b := h.do("GET", v+"/limits", nil); s != 200 {
		t.Fatalf("fresh token = %d %s", s, b)
	}
	clock.Advance(time.Hour)
	s, hdr, b := h.do("GET", v+"/limits", nil)
	if s != 401 || string(b) != `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]` {
		t.Fatalf("expired token = %d %s; want Salesforce's 401 body", s, b)
	}
	if hdr.Get("Sforce-Limit-Info") != "" {
		t.Errorf("a 401 carries Sforce-Limit-Info %q", hdr.Get("Sforce-Limit-Info"))
	}
	h.token = h.clientCredentialsToken()
	h.e.ExpireTokens()
	if s, _, _ := h.do("GET", v+"/limits", nil); s != 401 {
		t.Fatalf("after ExpireTokens = %d; want 401", s)
	}
	// A missing header or an unknown token is an invalid session; a header that is not
	// "Bearer <token>" is a malformed one (O-PYFN).
	for _, tc := range []struct{ name, header, want string }{
		{"no header", "", `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`},
		{"garbage", "Bearer garbage", `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`},
		{"lower-case scheme", "bearer garbage", `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`},
		{"basic", "Basic Zm9vOmJhcg==", `[{"message":"INVALID_HEADER_TYPE","errorCode":"INVALID_AUTH_HEADER"}]`},
		{"bare token", h.token, `[{"message":"INVALID_HEADER_TYPE","errorCode":"INVALID_AUTH_HEADER"}]`},
	} {
		req, _ := http.NewRequest("GET", h.srv.URL+v+"/limits", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if b := readAll(t, resp); resp.StatusCode != 401 || string(b) != tc.want {
			t.Errorf("%s: = %d %s; want 401 %s", tc.name, resp.StatusCode, b, tc.want)
		}
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{RefreshToken: testRefreshToken})
	revoke := func(token string) int {
		resp, err := http.PostForm(h.srv.URL+"/services/oauth2/revoke", url.Values{"token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := revoke(h.token); s != 200 {
		t.Fatalf("revoke access token = %d", s)
	}
	if s, _, _ := h.do("GET", v+"/limits", nil); s != 401 {
		t.Fatalf("revoked access token = %d; want 401", s)
	}
	_, body := h.tokenCall(url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "refresh_token": {testRefreshToken}})
	fromRefresh := body["access_token"].(string)
	if s := revoke(testRefreshToken); s != 200 {
		t.Fatalf("revoke refresh token = %d", s)
	}
	if s, _, _ := h.doToken(fromRefresh, "GET", v+"/limits", nil); s != 401 {
		t.Errorf("access token of a revoked refresh token = %d; want 401", s)
	}
	if status, body := h.tokenCall(url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "refresh_token": {testRefreshToken}}); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("revoked refresh token = %d %v; want invalid_grant", status, body)
	}
	if s := revoke("unknown"); s != 400 {
		t.Errorf("revoke unknown = %d; want 400", s)
	}
}

// jwtFixture is an RSA key with a self-signed certificate.
type jwtFixture struct {
	key     *rsa.PrivateKey
	certPEM []byte
}

func newJWTFixture(t testing.TB) jwtFixture {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "emulator test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return jwtFixture{key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (f jwtFixture) sign(t testing.TB, claims jwt.MapClaims, key *rsa.PrivateKey) string {
	t.Helper()
	if key == nil {
		key = f.key
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTBearerGrant(t *testing.T) {
	t.Parallel()
	fx := newJWTFixture(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	clock := newFakeClock()
	h := newHarness(t, Config{JWTCertificatePEM: fx.certPEM, Now: clock.Now})
	h.e.Insert("User", h.newUser("inactive@example.com", "Standard User"))
	h.e.Update("User", h.idOf("User", "Username", "inactive@example.com"), map[string]any{"IsActive": false})
	now := clock.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": testClientID, "sub": "admin@emulator.example.com", "aud": "https://login.salesforce.com",
			"exp": now.Add(3 * time.Minute).Unix()}
	}
	grant := func(assertion string) (int, map[string]any) {
		return h.tokenCall(url.Values{"grant_type": {grantJWTBearer}, "assertion": {assertion}})
	}
	status, body := grant(fx.sign(t, good(), nil))
	if status != 200 || body["access_token"] == nil || body["refresh_token"] != nil {
		t.Fatalf("valid assertion = %d %v; want a token without refresh_token", status, body)
	}
	if s, _, b := h.doToken(body["access_token"].(string), "GET", v+"/limits", nil); s != 200 {
		t.Fatalf("JWT access token = %d %s", s, b)
	}
	// The Salesforce CLI signs exp in milliseconds (Date.now() + 300); Salesforce accepts it.
	millis := good()
	millis["exp"] = now.Add(time.Minute).UnixMilli()
	if status, body := grant(fx.sign(t, millis, nil)); status != 200 {
		t.Errorf("exp in milliseconds: %d %v; want 200", status, body)
	}
	selfAud := good()
	selfAud["aud"] = h.srv.URL
	if status, body := grant(fx.sign(t, selfAud, nil)); status != 200 {
		t.Errorf("audience = the emulator's URL: %d %v; want 200", status, body)
	}
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good()).SignedString([]byte("secret"))
	for _, tc := range []struct {
		name      string
		mutate    func(jwt.MapClaims)
		key       *rsa.PrivateKey
		raw       string
		wantError string
	}{
		{name: "wrong issuer", mutate: func(c jwt.MapClaims) { c["iss"] = "other" }, wantError: "invalid_client_id"},
		{name: "unknown user", mutate: func(c jwt.MapClaims) { c["sub"] = "nobody@example.com" }, wantError: "invalid_grant"},
		{name: "inactive user", mutate: func(c jwt.MapClaims) { c["sub"] = "inactive@example.com" }, wantError: "inactive_user"},
		{name: "foreign audience", mutate: func(c jwt.MapClaims) { c["aud"] = "https://evil.example.com" }, wantError: "invalid_grant"},
		{name: "expiry too far ahead", mutate: func(c jwt.MapClaims) { c["exp"] = now.Add(10 * time.Minute).Unix() }, wantError: "invalid_grant"},
		{name: "expired", mutate: func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }, wantError: "invalid_grant"},
		{name: "expired, in milliseconds", mutate: func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).UnixMilli() }, wantError: "invalid_grant"},
		{name: "no expiry", mutate: func(c jwt.MapClaims) { delete(c, "exp") }, wantError: "invalid_grant"},
		{name: "signed with another key", key: other, wantError: "invalid_grant"},
		{name: "HS256", raw: hs, wantError: "invalid_grant"},
		{name: "garbage", raw: "not.a.jwt", wantError: "invalid_grant"},
	} {
		assertion := tc.raw
		if assertion == "" {
			c := good()
			if tc.mutate != nil {
				tc.mutate(c)
			}
			assertion = fx.sign(t, c, tc.key)
		}
		if status, body := grant(assertion); status != 400 || body["error"] != tc.wantError {
			t.Errorf("%s: = %d %v; want 400 %s", tc.name, status, body, tc.wantError)
		}
	}

	noCert := newHarness(t, Config{})
	if status, body := noCert.tokenCall(url.Values{"grant_type": {grantJWTBearer}, "assertion": {fx.sign(t, good(), nil)}}); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("JWT without a configured certificate = %d %v; want invalid_grant", status, body)
	}
}

func TestNewRejectsBadJWTCertificate(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{JWTCertificatePEM: []byte("not pem")}); err == nil || !strings.Contains(err.Error(), "JWTCertificatePEM") {
		t.Fatalf("New(bad PEM) = %v; want an error naming JWTCertificatePEM", err)
	}
}

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return []byte(b.String())
}
