package app

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scim-bridge/scim-bridge/salesforce/emulator"
)

// explain runs the explain command on body and returns its output and error.
func explain(t *testing.T, args []string, env []string, body string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runExplain(context.Background(), args, env, strings.NewReader(body), &out, &errOut)
	return out.String(), errOut.String(), err
}

func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "explain", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantRow checks that the output has a field row with this value, rule and origin.
func wantRow(t *testing.T, out, field, value, rule, from string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(field) + ` +` + regexp.QuoteMeta(value) + ` +` + regexp.QuoteMeta(rule) + ` +` + regexp.QuoteMeta(from))
	if !re.MatchString(out) {
		t.Errorf("no row %s %s %s %s in:\n%s", field, value, rule, from, out)
	}
}

// explain --offline on the bodies Entra and Okta send: every field with the rule behind it
// (mapping, normalisation, default, derivation), the profile, what active does, and no write.
func TestExplainIdPSampleBodiesOffline(t *testing.T) {
	t.Parallel()
	t.Run("Entra create", func(t *testing.T) {
		t.Parallel()
		out, errOut, err := explain(t, []string{"--offline"}, nil, sample(t, "entra-create.json"))
		if err != nil {
			t.Fatalf("explain = %v: %s\n%s", err, errOut, out)
		}
		if !strings.HasPrefix(out, "POST /Users: checked against built-in defaults") {
			t.Errorf("output does not say what it checked against:\n%s", out)
		}
		wantRow(t, out, "Username", `"alice.smith@contoso.com"`, "normalisation", `userName (sent "Alice.Smith@Contoso.com")`)
		wantRow(t, out, "LanguageLocaleKey", `"en_US"`, "normalisation", `preferredLanguage (sent "en-US")`)
		wantRow(t, out, "FirstName", `"Alice"`, "mapping", "name.givenName")
		wantRow(t, out, "Department", `"Sales"`, "mapping", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
		wantRow(t, out, "FederationIdentifier", `"8c3e0f6a-2b7d-4d0e-9b1f-6a1c2d3e4f50"`, "mapping", "externalId")
		wantRow(t, out, "TimeZoneSidKey", `"America/Los_Angeles"`, "default", "users.defaults.TimeZoneSidKey")
		wantRow(t, out, "Alias", `"asmith"`, "derivation", "name.givenName")
		for _, want := range []string{"Profile: Standard User (00e", "default users.defaults.profile", "Active: active true", "Nothing was written."} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("Entra PATCH with PascalCase ops and a string boolean", func(t *testing.T) {
		t.Parallel()
		out, errOut, err := explain(t, []string{"--offline"}, []string{"SCIM_BRIDGE_PROVISIONING_DISABLE_ACTION=freeze"}, sample(t, "entra-patch.json"))
		if err != nil {
			t.Fatalf("explain = %v: %s\n%s", err, errOut, out)
		}
		wantRow(t, out, "Email", `"alice.jones@contoso.com"`, "mapping", "emails")
		wantRow(t, out, "LastName", `"Jones"`, "mapping", "name.familyName")
		if !strings.Contains(out, "PATCH /Users") || !strings.Contains(out, "Active: active false: UserLogin.IsFrozen=true (provisioning.disable_action freeze; freeze_user)") {
			t.Errorf("output does not explain the PATCH's deactivation under freeze:\n%s", out)
		}
	})
	t.Run("Okta create with a password", func(t *testing.T) {
		t.Parallel()
		out, errOut, err := explain(t, []string{"--offline"}, nil, sample(t, "okta-create.json"))
		if err != nil {
			t.Fatalf("explain = %v: %s\n%s", err, errOut, out)
		}
		wantRow(t, out, "Username", `"bob.lee@example.com"`, "mapping", "userName")
		wantRow(t, out, "LocaleSidKey", `"en_US"`, "normalisation", `locale (sent "en-US")`)
		wantRow(t, out, "LanguageLocaleKey", `"en_US"`, "default", "users.defaults.LanguageLocaleKey")
		if strings.Contains(out, "tlpWENT2m") {
			t.Error("the password reached the output")
		}
	})
	t.Run("Okta PUT clears what it leaves out", func(t *testing.T) {
		t.Parallel()
		out, errOut, err := explain(t, []string{"--offline"}, nil, sample(t, "okta-put.json"))
		if err != nil {
			t.Fatalf("explain = %v: %s\n%s", err, errOut, out)
		}
		wantRow(t, out, "LastName", `"Lee-Park"`, "mapping", "name.familyName")
		wantRow(t, out, "Title", "(cleared)", "cleared", "title")
		if !strings.Contains(out, "PUT /Users") || !strings.Contains(out, "Active: active false: IsActive=false") {
			t.Errorf("output does not explain the PUT's deactivation:\n%s", out)
		}
	})
}

// What the bridge would refuse, explain names with the SCIM error the IdP would get, and exits 1.
func TestExplainNamesRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		env        []string
		want       string
	}{
		{"an unknown profile", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","name":{"familyName":"A"},
			"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User":{"profile":"Ghost Profile"}}`, nil,
			"Refused: 400: profile: no Salesforce profile has this name or id"},
		{"an email that is not one", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","name":{"familyName":"A"},
			"emails":[{"value":"not-an-email","primary":true}]}`, nil, "Refused: 400: emails must be an email address"},
		{"creation switched off", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com"}`,
			[]string{"SCIM_BRIDGE_PROVISIONING_CREATE_USERS=false"}, "Refused: 403: user creation is disabled (provisioning.create_users)"},
		{"a body the SCIM layer refuses", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":42}`, nil, "Refused: 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, err := explain(t, []string{"--offline"}, tt.env, tt.body)
			if !errors.Is(err, ErrReported) || !strings.Contains(out, tt.want) {
				t.Errorf("explain = %v; want ErrReported and %q:\n%s%s", err, tt.want, out, errOut)
			}
		})
	}
}

// Online, explain reads the org in the configuration: its profiles and permission sets.
func TestExplainAgainstTheConfiguredOrg(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(emulator.Config{ClientID: "explain-client", ClientSecret: "explain-secret", RefreshToken: "explain-refresh"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "bridge.yaml")
	yaml := "salesforce:\n  url: " + srv.URL + "\n  client_id: explain-client\n  client_secret: explain-secret\n  refresh_token: explain-refresh\n" +
		"provisioning:\n  dry_run: true\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"c@example.com","name":{"familyName":"C"},
		"urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User":{"profile":"System Administrator","permissionSets":[{"value":"Sales_Ops"}]}}`
	before := emu.Stats().APICalls
	out, errOut, err := explain(t, []string{"--config", cfg}, nil, body)
	if err != nil {
		t.Fatalf("explain = %v: %s\n%s", err, errOut, out)
	}
	for _, want := range []string{"checked against " + srv.URL, "Profile: System Administrator (00e", "mapping urn:scim-bridge:params:scim:schemas:extension:salesforce:2.0:User:profile",
		"Permission sets named: Sales_Ops (0PS", "Skipped: provisioning.dry_run is on"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(emu.List("User")) != 1 { // the seeded integration user only
		t.Errorf("explain created a user")
	}
	if emu.Stats().APICalls == before {
		t.Error("explain did not read the org")
	}
}

// Soft data is never refused: explain shows the derivation, the truncation and the default that
// stand in for what the IdP sent.
func TestExplainShowsSoftDataRules(t *testing.T) {
	t.Parallel()
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@example.com","displayName":"Xavier Long",
		"timezone":"Mars/Olympus","nickName":"averyveryverylongnick"}`
	out, errOut, err := explain(t, []string{"--offline"}, nil, body)
	if err != nil {
		t.Fatalf("explain = %v: %s\n%s", err, errOut, out)
	}
	wantRow(t, out, "LastName", `"Long"`, "derivation", "displayName's last word")
	wantRow(t, out, "Alias", `"averyver"`, "normalisation", "nickName, truncated")
	wantRow(t, out, "TimeZoneSidKey", `"America/Los_Angeles"`, "default", "users.defaults.TimeZoneSidKey (the request's value is none of the org's")
	wantRow(t, out, "Email", `"x@example.com"`, "derivation", "userName")
}

// A body that is not a JSON object is named in words, never with the decoder's Go text.
func TestExplainSaysWhyABodyIsNotOne(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, want string }{
		{"", "the body on stdin is empty"},
		{"  \n", "the body on stdin is empty"},
		{`{"userName": "a@example.com"`, "the body on stdin is not valid JSON: it ends too early"},
		{`{bad json}`, "the body on stdin is not valid JSON (at byte 2)"},
		{`[{"userName": "a@example.com"}]`, "the body on stdin is not a JSON object"},
		{`"a@example.com"`, "the body on stdin is not a JSON object"},
	}
	for _, tt := range tests {
		_, err := explainMethod("", []byte(tt.body))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("explainMethod(%q) = %v; want %q…", tt.body, err, tt.want)
		}
		for _, goText := range []string{"json:", "Go value", "invalid character", "unexpected end"} {
			if err != nil && strings.Contains(err.Error(), goText) {
				t.Errorf("explainMethod(%q) = %q; has the decoder's text %q", tt.body, err, goText)
			}
		}
	}
	_, errOut, err := explain(t, []string{"--offline"}, nil, "{"+strings.Repeat(" ", maxExplainBody)+"}")
	if !errors.Is(err, ErrReported) || !strings.Contains(errOut, "larger than 1 MiB") {
		t.Errorf("explain of a 1 MiB body = %v, %q; want it refused as too large", err, errOut)
	}
}

// Run by hand with nothing piped in, explain says what it waits for instead of hanging silently;
// a pipe gets no such line. (/dev/null is a character device like a terminal, and then empty.)
func TestExplainSaysItReadsFromTheTerminal(t *testing.T) {
	t.Parallel()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	var out, errOut bytes.Buffer
	if err := runExplain(context.Background(), []string{"--offline"}, nil, devNull, &out, &errOut); err == nil {
		t.Error("explain of an empty terminal input succeeded; want the empty-body error")
	}
	if !strings.Contains(errOut.String(), "paste it and end with Ctrl-D") {
		t.Errorf("explain on a terminal said %q; want a line saying it reads the body from the terminal", errOut.String())
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer r.Close()
	errOut.Reset()
	_ = runExplain(context.Background(), []string{"--offline"}, nil, r, &out, &errOut)
	if strings.Contains(errOut.String(), "Ctrl-D") {
		t.Errorf("explain on a pipe said %q; want no terminal hint", errOut.String())
	}
}

// explain --offline loads the configuration as check does: a bearer token given by token_file (as
// the Kubernetes manifests give it) is read, not refused as too short.
func TestExplainOfflineReadsTokenFiles(t *testing.T) {
	t.Parallel()
	tokenFile := writeFile(t, "idp-token", "a-bearer-token-of-some-length\n")
	config := writeFile(t, "config.yaml", "auth:\n  tokens:\n    - name: entra\n      token_file: "+tokenFile+"\n")
	out, errOut, err := explain(t, []string{"--offline", "--config", config}, nil, sample(t, "entra-create.json"))
	if err != nil || !strings.Contains(out, "LastName") {
		t.Errorf("explain --offline with a token_file = %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
}
