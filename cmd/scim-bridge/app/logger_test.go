package app

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

// TestLogFormat: SCIM_BRIDGE_LOG_FORMAT chooses the format whatever the output is; unset, a pipe
// or file gets JSON.
func TestLogFormat(t *testing.T) {
	for _, tt := range []struct {
		format   string
		wantJSON bool
	}{
		{"", true},
		{"json", true},
		{"console", false},
		{"JSON", true},     // an operator's capitals are the same word
		{"Console", false}, // and are accepted by the configuration check too (below)
	} {
		var out bytes.Buffer
		env := map[string]string{}
		if tt.format != "" {
			env[envLogFormat] = tt.format
		}
		logger := newLogger(&out, env)
		logger.Info().Str("listen", "127.0.0.1:8080").Msg("scim-bridge serving")
		var line map[string]any
		isJSON := json.Unmarshal(out.Bytes(), &line) == nil
		if isJSON != tt.wantJSON || !strings.Contains(out.String(), "scim-bridge serving") {
			t.Errorf("SCIM_BRIDGE_LOG_FORMAT=%q wrote %q; want JSON %v", tt.format, out.String(), tt.wantJSON)
		}
		if !tt.wantJSON && strings.Contains(out.String(), "\x1b[") {
			t.Errorf("console format to a non-terminal has colour codes: %q", out.String())
		}
	}
	for _, format := range []string{"JSON", "Console"} {
		if _, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), map[string]string{envLogFormat: format}, "", forServe); err != nil {
			t.Errorf("SCIM_BRIDGE_LOG_FORMAT=%s: %v; want it accepted as %s", format, err, strings.ToLower(format))
		}
	}
	if _, err := loadConfig(writeFile(t, "c.yaml", minimalYAML), map[string]string{envLogFormat: "xml"}, "", forServe); err == nil ||
		!strings.Contains(err.Error(), "SCIM_BRIDGE_LOG_FORMAT: must be json or console") {
		t.Errorf("SCIM_BRIDGE_LOG_FORMAT=xml: %v; want an error naming the variable", err)
	}
}

func TestVersionSources(t *testing.T) {
	withVCS := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tt := range []struct {
		name, ldflags string
		bi            *debug.BuildInfo
		want          string
	}{
		{"ldflags win", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}}, "v1.2.3"},
		{"go install @version", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"a checkout with VCS stamping", "dev", withVCS, "dev+0123456789ab-dirty"},
		{"nothing known", "dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"no build info", "dev", nil, "dev"},
	} {
		if got := versionFrom(tt.ldflags, tt.bi); got != tt.want {
			t.Errorf("%s: versionFrom = %q; want %q", tt.name, got, tt.want)
		}
	}
}
