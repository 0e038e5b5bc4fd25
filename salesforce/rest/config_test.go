package rest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

// TestLoopbackHTTPAllowed: http:// only for loopback addresses (the emulator); a path is refused.
// (Moved from cmd/scim-bridge/app, where the rule used to live.)
func TestLoopbackHTTPAllowed(t *testing.T) {
	t.Parallel()
	for url, ok := range map[string]bool{
		"http://127.0.0.1:9999":                   true,
		"http://localhost:9999":                   true,
		"https://acme.my.salesforce.com":          true,
		"http://acme.my.salesforce.com":           false,
		"ftp://127.0.0.1":                         false,
		"https://acme.my.salesforce.com/services": false,
	} {
		var problems setting.FieldErrors
		if got := checkBaseURL(&problems, "url", url) != nil; got != ok || got != (len(problems) == 0) {
			t.Errorf("checkBaseURL(%q) ok = %v (problems %v); want %v", url, got, problems, ok)
		}
	}
}

func completeConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL, cfg.ClientID, cfg.RefreshToken = "https://acme.my.salesforce.com", "cid", "5Aep-rt"
	return cfg
}

// TestValidateKeysProblemsRelativeToTheSalesforceSection: every problem at once, each keyed as in
// the salesforce section; zero values New would default are problems to Validate.
func TestValidateKeysProblemsRelativeToTheSalesforceSection(t *testing.T) {
	t.Parallel()
	if problems := completeConfig(t).Validate(); len(problems) > 0 {
		t.Fatalf("DefaultConfig with url, client_id and refresh_token: %v", problems)
	}
	cfg := completeConfig(t)
	cfg.APIVersion, cfg.MaxConcurrency, cfg.Timeout, cfg.Flow = "", 0, 0, "password"
	want := setting.FieldErrors{
		{Key: "api_version", Problem: "must look like 66.0"},
		{Key: "flow", Problem: "must be refresh_token, client_credentials or jwt"},
		{Key: "max_concurrency", Problem: "must be between 1 and 100"},
		{Key: "timeout", Problem: "must be a positive duration such as 30s"},
	}
	if diff := cmp.Diff(want, cfg.Validate()); diff != "" {
		t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
	}
}

// TestAPIVersionHasOnePattern: the one api_version rule (cmd and New used to disagree).
func TestAPIVersionHasOnePattern(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{"66.0": true, "20.0": true, "99.0": true, "66": false, "v66.0": false, "09.0": false, "9.0": false, "100.0": false, "66.1": false} {
		cfg := completeConfig(t)
		cfg.APIVersion = v
		if got := !cfg.Validate().Has("api_version"); got != ok {
			t.Errorf("api_version %q accepted = %v; want %v", v, got, ok)
		}
	}
}

// TestJWTKeyFromAFile: the jwt flow reads JWTPrivateKeyFile when no PEM is given, and says why a
// file does not do.
func TestJWTKeyFromAFile(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "not-a-key.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"a PEM RSA key", good, ""},
		{"no file", "", "jwt.private_key_file: is required with flow jwt"},
		{"a missing file", filepath.Join(dir, "missing.pem"), "jwt.private_key_file: cannot read: no such file or directory"},
		{"not a key", bad, "jwt.private_key_file: not a PEM-encoded RSA private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := completeConfig(t)
			cfg.Flow, cfg.JWTUsername, cfg.JWTPrivateKeyFile = FlowJWT, "int@acme.com", tc.file
			got := cfg.Validate().Error()
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("Validate() = %q; want %q", got, tc.want)
			}
		})
	}
}
