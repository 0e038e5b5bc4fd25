package server

import (
	"testing"
)

// TestProbeAccessLinesAtDebug: probes and scrapes log their access line at debug, SCIM requests at
// info, so that a production log at info is not one line per probe.
func TestProbeAccessLinesAtDebug(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	for path, want := range map[string]string{
		"/healthz": "debug", "/readyz": "debug", "/metrics": "debug", "/scim/v2/Users": "info",
	} {
		id := "probe-" + path[1:3]
		env.do(t, "GET", path, "", "X-Request-Id", id)
		found := false
		for _, line := range env.logs.lines(t) {
			if line["message"] == "request" && line["request_id"] == id {
				found = true
				if line["level"] != want {
					t.Errorf("access line for %s at %v; want %s", path, line["level"], want)
				}
			}
		}
		if !found {
			t.Errorf("no access line for %s", path)
		}
	}
}

// TestTokenSetReplace: a replaced token set takes effect for the next request; an invalid
// replacement is refused and leaves the old tokens working.
func TestTokenSetReplace(t *testing.T) {
	t.Parallel()
	set, err := NewTokenSet([]Token{{Name: "entra", Token: entraToken}})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, func(c *Config) { c.Tokens, c.TokenSet = nil, set })
	if r := env.do(t, "GET", "/scim/v2/Users", ""); r.status != 200 {
		t.Fatalf("GET with the entra token = %d; want 200", r.status)
	}
	if err := set.Replace([]Token{{Name: "okta", Token: oktaToken}}); err != nil {
		t.Fatal(err)
	}
	if r := env.do(t, "GET", "/scim/v2/Users", ""); r.status != 401 {
		t.Errorf("GET with the replaced entra token = %d; want 401", r.status)
	}
	if r := env.do(t, "GET", "/scim/v2/Users", "", "Authorization", "Bearer "+oktaToken); r.status != 200 {
		t.Errorf("GET with the new okta token = %d; want 200", r.status)
	}
	if err := set.Replace([]Token{{Name: "", Token: ""}}); err == nil {
		t.Error("Replace accepted a token without name or value")
	}
	if r := env.do(t, "GET", "/scim/v2/Users", "", "Authorization", "Bearer "+oktaToken); r.status != 200 {
		t.Errorf("after a refused Replace the okta token = %d; want 200 (unchanged)", r.status)
	}
}
