package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const minimalYAML = `
auth:
  tokens: [{name: entra, token: "0123456789abcdef0123"}]
salesforce:
  url: https://acme.my.salesforce.com
  client_id: cid
  refresh_token: rt
`

func TestLoadConfigDefaultsAndFile(t *testing.T) {
	cfg, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), nil, true)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Salesforce.APIVersion != "66.0" || cfg.Salesforce.Timeout != 30*time.Second {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if cfg.Provisioning.PermissionSets != "merge" || cfg.Groups.AllowDelete || !cfg.Groups.AllowCreate {
		t.Errorf("provisioning/groups defaults wrong: %+v %+v", cfg.Provisioning, cfg.Groups)
	}
	if cfg.Users.Defaults["profile"] != "Standard User" {
		t.Errorf("users.defaults.profile = %q", cfg.Users.Defaults["profile"])
	}
}

func TestLoadConfigReportsEveryProblemNamingItsKey(t *testing.T) {
	bad := `
listen: nowhere
colour: blue
salesforce:
  url: http://acme.my.salesforce.com
  flow: password
  max_concurrency: 0
  api_version: "66"
provisioning:
  disable_action: delete
  permission_sets: both
groups:
  source: roles
`
	_, err := loadConfig(writeFile(t, "c.yaml", bad), nil, true)
	if err == nil {
		t.Fatal("loadConfig accepted a bad file")
	}
	for _, key := range []string{
		"colour", "listen:", "salesforce.url: must be https unless it is a loopback address", "salesforce.flow",
		"salesforce.max_concurrency", "salesforce.api_version", "salesforce.client_id",
		"provisioning.disable_action", "provisioning.permission_sets", "groups.source", "auth.tokens",
	} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %q:\n%v", key, err)
		}
	}
}

func TestLoadConfigEnvironmentOverrides(t *testing.T) {
	secretFile := writeFile(t, "secret", "from-file-secret\n")
	env := map[string]string{
		"SCIM_BRIDGE_LISTEN":                        "0.0.0.0:9000",
		"SCIM_BRIDGE_SALESFORCE_CLIENT_SECRET_FILE": secretFile,
		"SCIM_BRIDGE_SALESFORCE_TIMEOUT":            "5s",
		"SCIM_BRIDGE_SALESFORCE_JWT_USERNAME":       "int@acme.com",
		"SCIM_BRIDGE_PROVISIONING_DRY_RUN":          "true",
		"SCIM_BRIDGE_GROUPS_INCLUDE":                "Sales_*, Support_*",
		"SCIM_BRIDGE_USERS_DEFAULTS_TIMEZONESIDKEY": "Europe/Paris",
		"SCIM_BRIDGE_AUTH_TOKENS":                   "okta:abcdefghijklmnopqrst,entra:ABCDEFGHIJKLMNOPQRST",
	}
	cfg, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), env, true)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.Listen != "0.0.0.0:9000" {
		t.Errorf("listen = %q", cfg.Listen)
	}
	if cfg.Salesforce.ClientSecret != "from-file-secret" {
		t.Errorf("client_secret from _FILE not applied")
	}
	if cfg.Salesforce.Timeout != 5*time.Second || cfg.Salesforce.JWT.Username != "int@acme.com" || !cfg.Provisioning.DryRun {
		t.Errorf("overrides not applied: %+v", cfg.Salesforce)
	}
	if got := strings.Join(cfg.Groups.Include, "|"); got != "Sales_*|Support_*" {
		t.Errorf("groups.include = %q", got)
	}
	if cfg.Users.Defaults["TimeZoneSidKey"] != "Europe/Paris" {
		t.Errorf("users.defaults.TimeZoneSidKey = %q", cfg.Users.Defaults["TimeZoneSidKey"])
	}
	if len(cfg.Auth.Tokens) != 2 || cfg.Auth.Tokens[0].Name != "okta" {
		t.Errorf("auth tokens from env = %+v", cfg.Auth.Tokens)
	}
}

func TestLoadConfigBadEnvironmentValueNamesTheVariable(t *testing.T) {
	_, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), map[string]string{"SCIM_BRIDGE_SALESFORCE_MAX_CONCURRENCY": "many"}, true)
	if err == nil || !strings.Contains(err.Error(), "SCIM_BRIDGE_SALESFORCE_MAX_CONCURRENCY") {
		t.Fatalf("err = %v; want it to name the variable", err)
	}
}

func TestLoopbackHTTPAllowed(t *testing.T) {
	for url, ok := range map[string]bool{
		"http://127.0.0.1:9999":                   true,
		"http://localhost:9999":                   true,
		"https://acme.my.salesforce.com":          true,
		"http://acme.my.salesforce.com":           false,
		"ftp://127.0.0.1":                         false,
		"https://acme.my.salesforce.com/services": false,
	} {
		if got := checkSalesforceURL(url) == ""; got != ok {
			t.Errorf("checkSalesforceURL(%q) ok = %v; want %v", url, got, ok)
		}
	}
}

func TestRedactedConfigHidesSecrets(t *testing.T) {
	cfg, err := loadConfig(writeFile(t, "c.yaml", minimalYAML+"  client_secret: very-secret-value\n"), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	out := cfg.redacted()
	for _, secret := range []string{"very-secret-value", "0123456789abcdef0123", "refresh_token: rt"} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted config shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "client_id: cid") {
		t.Errorf("redacted config lost non-secret keys:\n%s", out)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	env := map[string]string{"SCIM_BRIDGE_AUTH_TOKENS": "entra:0123456789abcdef0123", "SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN": "rt"}
	data, err := os.ReadFile("../../../docs/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The example names secret files that do not exist here; drop those two lines.
	var kept []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.Contains(l, "token_file: /run/secrets") {
			kept = append(kept, l)
		}
	}
	if _, err := loadConfig(writeFile(t, "example.yaml", strings.Join(kept, "\n")), env, true); err != nil {
		t.Fatalf("docs/config.example.yaml: %v", err)
	}
}

func mustWrite(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
