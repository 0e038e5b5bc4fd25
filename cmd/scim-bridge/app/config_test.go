package app

import (
	"fmt"
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
	cfg, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), nil, "", forServe)
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
	_, err := loadConfig(writeFile(t, "c.yaml", bad), nil, "", forServe)
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
		"SCIM_BRIDGE_AUTH_TOKENS":                   "okta:abcdefghijklmnopqrst,ping:ABCDEFGHIJKLMNOPQRST",
	}
	cfg, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), env, "", forServe)
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
	if len(cfg.Auth.Tokens) != 3 || cfg.Auth.Tokens[1].Name != "okta" || cfg.Auth.Tokens[2].Name != "ping" {
		t.Errorf("auth tokens from env = %+v; want entra (file), then okta and ping added", cfg.Auth.Tokens)
	}
}

func TestLoadConfigBadEnvironmentValueNamesTheVariable(t *testing.T) {
	_, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), map[string]string{"SCIM_BRIDGE_SALESFORCE_MAX_CONCURRENCY": "many"}, "", forServe)
	if err == nil || !strings.Contains(err.Error(), "SCIM_BRIDGE_SALESFORCE_MAX_CONCURRENCY") {
		t.Fatalf("err = %v; want it to name the variable", err)
	}
}

func TestRedactedConfigHidesSecrets(t *testing.T) {
	cfg, err := loadConfig(writeFile(t, "c.yaml", minimalYAML+"  client_secret: very-secret-value\n"), nil, "", forServe)
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

func mustWrite(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLoadConfigNamesTheKeyOfEveryFileProblem: type errors, unknown keys (at any depth) and
// repeated keys are each reported with their dotted key and line, all at once, never with the value.
func TestLoadConfigNamesTheKeyOfEveryFileProblem(t *testing.T) {
	file := minimalYAML + `  max_concurrency: many
  timeout: 5
  jwt: {user: x}
tls: [a]
provisioning:
  dry_run: maybe
  dry_run: true
groups:
  include: Sales_*
users:
  defaults: {Department: [a, b]}
  mapping:
    - {scim: title, sf: Title, on_update: perhaps}
`
	_, err := loadConfig(writeFile(t, "c.yaml", file), nil, "", forServe)
	if err == nil {
		t.Fatal("loadConfig accepted a file with wrong types")
	}
	for _, want := range []string{
		"salesforce.max_concurrency: must be a whole number (line 8)",
		"salesforce.timeout: must be a duration with a unit, such as 30s (line 9)",
		"salesforce.jwt.user: unknown key (line 10); known keys here: username, private_key_file",
		"tls: must be a mapping of keys (cert_file, key_file) (line 11)",
		"provisioning.dry_run: is set twice (lines 13 and 14)",
		"provisioning.dry_run: must be true or false (line 13)",
		"groups.include: must be a list, such as [a, b] (line 16)",
		"users.defaults.Department: must be a single value (line 18)",
		"users.mapping[0].sf: unknown key (line 20)",
		"users.mapping[0].on_update: must be true or false (line 20)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, leak := range []string{"many", "maybe", "perhaps", "app.", "!!"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error shows %q (a value or a Go type):\n%v", leak, err)
		}
	}
	// A value of the wrong type keeps the default, so no second complaint about the same key.
	if strings.Contains(err.Error(), "max_concurrency: must be between") || strings.Contains(err.Error(), "must not be empty") {
		t.Errorf("a type error caused a second problem:\n%v", err)
	}
}

func TestLoadConfigTokensMustBeAList(t *testing.T) {
	_, err := loadConfig(writeFile(t, "c.yaml", "auth:\n  tokens: x\n"), nil, "", forServe)
	if err == nil || !strings.Contains(err.Error(), "auth.tokens: must be a list") {
		t.Fatalf("err = %v; want auth.tokens named", err)
	}
}

func TestLoadConfigEnvironmentProblems(t *testing.T) {
	secret := writeFile(t, "secret", "s3cret\n")
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a misspelt variable", map[string]string{"SCIM_BRIDGE_SALESFORCE_CLIENTSECRET": "x"},
			"environment SCIM_BRIDGE_SALESFORCE_CLIENTSECRET: names no configuration key"},
		{"a variable for a list of mappings", map[string]string{"SCIM_BRIDGE_USERS_MAPPING": "x"},
			"environment SCIM_BRIDGE_USERS_MAPPING: cannot be set from the environment"},
		{"a secret and its file", map[string]string{"SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN": "a", "SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN_FILE": secret},
			"environment SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN: set either SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN or SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN_FILE, not both"},
		{"a missing secret file", map[string]string{"SCIM_BRIDGE_TOKEN_FILE": secret + ".missing"},
			"environment SCIM_BRIDGE_TOKEN_FILE: cannot read the secret file"},
		{"_FILE on a key that is not a secret", map[string]string{"SCIM_BRIDGE_LISTEN_FILE": secret},
			"environment SCIM_BRIDGE_LISTEN_FILE: names no configuration key"},
		{"a duration without unit", map[string]string{"SCIM_BRIDGE_SALESFORCE_TIMEOUT": "5"},
			"environment SCIM_BRIDGE_SALESFORCE_TIMEOUT: must be a duration with a unit"},
		{"a bad log level", map[string]string{"SCIM_BRIDGE_LOG_LEVEL": "loud"},
			"environment SCIM_BRIDGE_LOG_LEVEL: must be debug, info, warn or error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), tc.env, "", forServe)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

func TestLoadConfigSecretsFromFiles(t *testing.T) {
	env := map[string]string{
		"SCIM_BRIDGE_TOKEN_FILE":                    writeFile(t, "tok", "token-from-a-file-0123\n"),
		"SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN_FILE": writeFile(t, "rt", "5Aep-from-file\n"),
		"SCIM_BRIDGE_SALESFORCE_ACCESS_TOKEN_FILE":  writeFile(t, "at", "00D-from-file\n"),
		"SCIM_BRIDGE_LOG_LEVEL":                     "debug",
		"SCIM_BRIDGE_CONFIG":                        "ignored-here",
	}
	cfg, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), env, "", forServe)
	if err != nil {
		t.Fatal(err)
	}
	last := cfg.Auth.Tokens[len(cfg.Auth.Tokens)-1]
	if last.Name != "env" || last.Token != "token-from-a-file-0123" {
		t.Errorf("SCIM_BRIDGE_TOKEN_FILE gave %+v", last)
	}
	if cfg.Salesforce.RefreshToken != "5Aep-from-file" || cfg.Salesforce.AccessToken != "00D-from-file" {
		t.Errorf("salesforce secrets from files = %q, %q", cfg.Salesforce.RefreshToken, cfg.Salesforce.AccessToken)
	}
}

func TestListenFlagWinsOverEnvironmentAndFile(t *testing.T) {
	file := writeFile(t, "c.yaml", minimalYAML+"listen: not-an-address\n")
	env := map[string]string{"SCIM_BRIDGE_LISTEN": "also-not-an-address"}
	cfg, err := loadConfig(file, env, "127.0.0.1:9123", forServe)
	if err != nil {
		t.Fatalf("--listen did not replace the invalid listen before validation: %v", err)
	}
	if cfg.Listen != "127.0.0.1:9123" {
		t.Errorf("listen = %q", cfg.Listen)
	}
	cfg, err = loadConfig(file, env, "", forServe)
	if err == nil || !strings.Contains(err.Error(), "listen: must be host:port") {
		t.Errorf("without --listen: %v, %q", err, cfg.Listen)
	}
}

func TestLoadConfigTLSFilesMustLoad(t *testing.T) {
	certFile, keyFile := selfSignedCert(t)
	ok := minimalYAML + fmt.Sprintf("tls: {cert_file: %q, key_file: %q}\n", certFile, keyFile)
	if _, err := loadConfig(writeFile(t, "c.yaml", ok), nil, "", forServe); err != nil {
		t.Fatalf("a valid certificate and key: %v", err)
	}
	swapped := minimalYAML + fmt.Sprintf("tls: {cert_file: %q, key_file: %q}\n", keyFile, certFile)
	if _, err := loadConfig(writeFile(t, "c.yaml", swapped), nil, "", forServe); err == nil || !strings.Contains(err.Error(), "tls.cert_file: cannot load") {
		t.Errorf("swapped certificate and key: err = %v; want tls.cert_file named", err)
	}
}
