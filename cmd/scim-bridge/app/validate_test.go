package app

import (
	"strings"
	"testing"
)

// TestConfigProblemsSayWhereTheValueCameFrom: a value that breaks a rule is named with its line in
// the file, or with the variable that set it; a key nobody set (a required one) has neither.
func TestConfigProblemsSayWhereTheValueCameFrom(t *testing.T) {
	file := writeFile(t, "c.yaml", minimalYAML+`  api_version: "66"
  max_concurrency: 500
users:
  username_domain: ACME.com
  mapping:
    - {scim: nope, salesforce: X__c}
`)
	env := map[string]string{"SCIM_BRIDGE_SALESFORCE_MAX_CONCURRENCY": "0", "SCIM_BRIDGE_SALESFORCE_FLOW": "jwt"}
	_, err := loadConfig(file, env, "", forServe)
	if err == nil {
		t.Fatal("loadConfig accepted a bad file")
	}
	for _, want := range []string{
		"salesforce.api_version: must look like 66.0 (line 8)\n",
		"salesforce.max_concurrency: must be between 1 and 100 (set by SCIM_BRIDGE_SALESFORCE_MAX_CONCURRENCY)\n",
		"users.username_domain: must be a lower-case domain such as acme.com (line 11)\n",
		`users.mapping[0].scim: unknown SCIM attribute "nope" (line 13)`,
		"salesforce.jwt.username: is required with flow jwt\n",
	} {
		if !strings.Contains(err.Error()+"\n", want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n := strings.Count(err.Error(), "users.username_domain"); n != 1 {
		t.Errorf("users.username_domain is reported %d times; want once:\n%v", n, err)
	}
}

func TestPublicURLWithAQueryIsRefused(t *testing.T) {
	_, err := loadConfig(writeFile(t, "c.yaml", minimalYAML+"public_url: https://scim.example.com/?tenant=a\n"), nil, "", forServe)
	if err == nil || !strings.Contains(err.Error(), "public_url: must not have a query or fragment (line 8)") {
		t.Errorf("err = %v; want public_url named with its line", err)
	}
}

func TestKeyParts(t *testing.T) {
	for key, want := range map[string]string{
		"salesforce.jwt.username": "salesforce|jwt|username",
		"users.mapping[2].scim":   "users|mapping|[2]|scim",
		"groups.include[0]":       "groups|include|[0]",
		"listen":                  "listen",
	} {
		if got := strings.Join(keyParts(key), "|"); got != want {
			t.Errorf("keyParts(%q) = %q; want %q", key, got, want)
		}
	}
}

// TestPackageRulesReachTheOperatorOnce: rules that live in rest.Config and salesforce.BackendConfig
// are reported by loadConfig, once, with their full keys.
func TestPackageRulesReachTheOperatorOnce(t *testing.T) {
	file := writeFile(t, "c.yaml", minimalYAML+`  flow: jwt
  jwt: {username: int@acme.com, private_key_file: /nonexistent/key.pem}
  batch_window: 2s
users:
  user_types: [Standard, "Power Partner"]
provisioning:
  disable_action: delete
`)
	_, err := loadConfig(file, nil, "", forServe)
	if err == nil {
		t.Fatal("loadConfig accepted a bad file")
	}
	for _, want := range []string{
		"salesforce.jwt.private_key_file: cannot read: no such file or directory (line 9)",
		"salesforce.batch_window: must be between 0 (off) and 1s, such as 5ms (line 10)",
		`users.user_types[1]: "Power Partner" is not a Salesforce UserType value (line 12)`,
		`provisioning.disable_action: must be disable or freeze, not "delete" (line 14)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, key := range []string{"salesforce.jwt.private_key_file", "provisioning.disable_action"} {
		if n := strings.Count(err.Error(), key); n != 1 {
			t.Errorf("%s reported %d times; want once:\n%v", key, n, err)
		}
	}
}
