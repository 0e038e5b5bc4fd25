package app

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const exampleConfig = "../../../docs/config.example.yaml"

// TestExampleConfigShowsTheDefaults: docs/config.example.yaml copied as it is changes nothing; what
// would change behaviour is commented out.
func TestExampleConfigShowsTheDefaults(t *testing.T) {
	data, err := readFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	got := defaultConfig()
	if probs := decodeYAML(data, &got); len(probs) > 0 {
		t.Fatalf("docs/config.example.yaml: %v", probs.err())
	}
	if diff := cmp.Diff(defaultConfig(), got, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(TokenConfig{})); diff != "" {
		t.Errorf("docs/config.example.yaml differs from the defaults (-default +example):\n%s", diff)
	}
}

// TestExampleConfigPassesCheck: the example plus the connection settings from the environment is a
// working configuration, as `check` against an (emulated) org shows.
func TestExampleConfigPassesCheck(t *testing.T) {
	url := startEmulator(t)
	env := []string{
		"SCIM_BRIDGE_SALESFORCE_URL=" + url,
		"SCIM_BRIDGE_SALESFORCE_CLIENT_ID=check-client",
		"SCIM_BRIDGE_SALESFORCE_CLIENT_SECRET=check-secret",
		"SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN=5Aep-check",
	}
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"check", "--config", exampleConfig}, env, &out, io.Discard); err != nil {
		t.Fatalf("check with docs/config.example.yaml failed: %v\n%s", err, out.String())
	}
	// serve accepts it too, given a bearer token.
	if _, err := loadConfig(exampleConfig, envMap(append(env, "SCIM_BRIDGE_TOKEN=0123456789abcdef0123")), "", forServe); err != nil {
		t.Errorf("serve would refuse docs/config.example.yaml: %v", err)
	}
}
