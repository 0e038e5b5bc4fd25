package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runCheck runs `check` with a config file and returns its report and whether it passed.
func runCheckWith(t *testing.T, yaml string, env []string) (string, bool) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"check", "--config", writeFile(t, "c.yaml", yaml)}, env, &out, &errOut)
	return out.String() + errOut.String(), err == nil
}

// reportLine returns the report's line for step name.
func reportLine(report, name string) string {
	for _, l := range strings.Split(report, "\n") {
		if strings.Contains(l, "  "+name) {
			return l
		}
	}
	return ""
}

func checkYAML(url, extra string) string {
	return "salesforce: {url: " + url + ", client_id: check-client, client_secret: check-secret, refresh_token: 5Aep-check" + extra + "}\n"
}

// TestCheckSkipsStepsAfterAFailedOne: with an API version the org lacks, the steps that need it are
// skipped naming it, instead of failing with unrelated advice.
func TestCheckSkipsStepsAfterAFailedOne(t *testing.T) {
	url := startEmulator(t)
	report, ok := runCheckWith(t, checkYAML(url, ", api_version: \"20.0\""), nil)
	if ok {
		t.Fatalf("check passed with API version 20.0:\n%s", report)
	}
	if l := reportLine(report, "API version available"); !strings.HasPrefix(l, "FAIL") || !strings.Contains(l, "salesforce.api_version") {
		t.Errorf("API version line = %q; want FAIL naming salesforce.api_version", l)
	}
	for _, step := range []string{"User describe readable", "user defaults and mapping valid", "default profile found", "exposed permission sets found"} {
		if l := reportLine(report, step); !strings.HasPrefix(l, "SKIP") || !strings.Contains(l, `needs "API version available"`) {
			t.Errorf("%s line = %q; want SKIP naming the API version step", step, l)
		}
	}
	if l := reportLine(report, "token obtained"); !strings.HasPrefix(l, "ok") {
		t.Errorf("token line = %q; want ok (it does not need the API version)", l)
	}
}

// TestCheckNamesAnUnknownProfileWithTheOrgsList: the report shows the name that was not found and
// the names that exist.
func TestCheckNamesAnUnknownProfileWithTheOrgsList(t *testing.T) {
	url := startEmulator(t)
	report, ok := runCheckWith(t, checkYAML(url, "")+"users: {defaults: {profile: Standard Usr}}\n", nil)
	l := reportLine(report, "default profile found")
	if ok || !strings.HasPrefix(l, "FAIL") {
		t.Fatalf("check with an unknown profile:\n%s", report)
	}
	for _, want := range []string{`"Standard Usr"`, "users.defaults.profile", `"Standard User"`, `"System Administrator"`} {
		if !strings.Contains(l, want) {
			t.Errorf("profile line lacks %s: %q", want, l)
		}
	}
}

// TestCheckFailsOnAnUnwritableTokenFile: a rotated refresh token that cannot be saved is lost at the
// next restart, so check says so before it happens.
func TestCheckFailsOnAnUnwritableTokenFile(t *testing.T) {
	url := startEmulator(t)
	missing := filepath.Join(t.TempDir(), "not-mounted", "refresh-token")
	report, ok := runCheckWith(t, checkYAML(url, ", token_file: "+missing), nil)
	l := reportLine(report, "token_file writable")
	if ok || !strings.HasPrefix(l, "FAIL") || !strings.Contains(l, "salesforce.token_file") || !strings.Contains(l, "no such file or directory") {
		t.Errorf("check with token_file in a missing directory: line %q\n%s", l, report)
	}

	if os.Geteuid() != 0 { // root writes anywhere
		dir := filepath.Join(t.TempDir(), "read-only")
		if err := os.Mkdir(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		report, ok := runCheckWith(t, checkYAML(url, ", token_file: "+filepath.Join(dir, "refresh-token")), nil)
		if l := reportLine(report, "token_file writable"); ok || !strings.Contains(l, "permission denied") {
			t.Errorf("check with token_file in a read-only directory: line %q", l)
		}
	}

	writable := filepath.Join(t.TempDir(), "refresh-token")
	report, ok = runCheckWith(t, checkYAML(url, ", token_file: "+writable), nil)
	if l := reportLine(report, "token_file writable"); !ok || !strings.HasPrefix(l, "ok") {
		t.Errorf("check with a writable token_file: line %q\n%s", l, report)
	}
	// The lock file that serialises refreshes across replicas (salesforce/rest/tokenrotation.go) stays,
	// as the token file would; nothing else may.
	entries, _ := os.ReadDir(filepath.Dir(writable))
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return e.Name() == filepath.Base(writable)+".lock" })
	if len(entries) != 0 {
		t.Errorf("check left files behind in the token_file directory: %v", entries)
	}
}

// TestConfigErrorsOperatorsMeet: the message names the key and the fix.
func TestConfigErrorsOperatorsMeet(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		env        []string
		want       []string
		notWant    []string
	}{
		{
			name: "public_url with the SCIM base pasted",
			yaml: "public_url: https://scim.example.com/scim/v2\n",
			want: []string{"public_url: must not include /scim/v2", "set it to https://scim.example.com"},
		},
		{
			name: "public_url with another path",
			yaml: "public_url: https://example.com/tenant-a\n",
			want: []string{"public_url: must have no path: set it to https://example.com", "X-Forwarded-Prefix"},
		},
		{
			name:    "YAML syntax error reported alone",
			yaml:    "salesforce:\n  url: https://acme.my.salesforce.com\n client_id: x\n",
			want:    []string{"line 2", "not valid YAML"},
			notWant: []string{"is required", "salesforce.client_id"},
		},
		{
			name: "an empty key where a token's keys go",
			yaml: "auth: {tokens: [{\"\": x}]}\n",
			want: []string{"auth.tokens[0].: unknown key", "known keys here: name, token, token_file\n"},
		},
		{
			name: "environment token named like a file token",
			yaml: "auth: {tokens: [{name: entra, token: entra-token-0123456789}]}\n",
			env:  []string{"SCIM_BRIDGE_AUTH_TOKENS=entra:other-token-0123456789"},
			want: []string{`"entra" is used twice`, "SCIM_BRIDGE_AUTH_TOKENS"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(writeFile(t, "c.yaml", tt.yaml), envMap(tt.env), "", forServe)
			if err == nil {
				t.Fatal("loadConfig accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error has %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestEnvironmentTokensAddToFileTokens: SCIM_BRIDGE_AUTH_TOKENS and SCIM_BRIDGE_TOKEN add to
// auth.tokens rather than replacing them.
func TestEnvironmentTokensAddToFileTokens(t *testing.T) {
	cfg, err := loadConfig(writeFile(t, "c.yaml", "auth: {tokens: [{name: entra, token: entra-token-0123456789}]}\n"+checkYAML("https://acme.my.salesforce.com", "")),
		envMap([]string{"SCIM_BRIDGE_AUTH_TOKENS=okta:okta-token-0123456789", "SCIM_BRIDGE_TOKEN=env-token-0123456789"}), "", forServe)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tok := range cfg.Auth.Tokens {
		names = append(names, tok.Name)
	}
	if got := strings.Join(names, ","); got != "entra,okta,env" {
		t.Errorf("tokens = %s; want entra,okta,env", got)
	}
}
