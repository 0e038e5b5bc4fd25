package emulator

import (
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// benchHarness is an emulator with a token, called in-process through Handler.
// seed, when given, replaces the default seed.
func benchHarness(b *testing.B, seed ...*Seed) (http.Handler, string, *Emulator) {
	b.Helper()
	cfg := Config{ClientID: testClientID, ClientSecret: testClientSecret, APILimit: math.MaxInt32}
	if len(seed) > 0 {
		cfg.Seed = seed[0]
	}
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	handler := e.Handler()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testClientSecret}}
	req := httptest.NewRequest("POST", "/services/oauth2/token", nil)
	req.PostForm = form
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("token = %d %s", rec.Code, rec.Body)
	}
	token := decode(b, rec.Body.Bytes()).(map[string]any)["access_token"].(string)
	return handler, token, e
}

func benchGET(b *testing.B, handler http.Handler, token, path string) {
	b.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("GET %s = %d %s", path, rec.Code, rec.Body)
		}
	}
}

// BenchmarkTokenCheck measures the cheapest authenticated call: token check, limit count and a
// tiny answer.
func BenchmarkTokenCheck(b *testing.B) {
	handler, token, _ := benchHarness(b)
	benchGET(b, handler, token, v+"/limits")
}

func BenchmarkGetUserByID(b *testing.B) {
	handler, token, e := benchHarness(b)
	id := e.List("User")[0]["Id"].(string)
	benchGET(b, handler, token, v+"/sobjects/User/"+id+"?fields=Id,Username,IsActive,LastModifiedDate")
}

func BenchmarkQueryUserByUsername(b *testing.B) {
	handler, token, _ := benchHarness(b)
	q := url.QueryEscape("SELECT Id, Username, IsActive, (SELECT PermissionSetId FROM PermissionSetAssignments) FROM User WHERE Username = 'admin@emulator.example.com'")
	benchGET(b, handler, token, v+"/query?q="+q)
}
