package scimschema

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/scim2/filter-parser/v2"
)

func newMapper(t testing.TB, cfg UserMappingConfig) *UserMapper {
	t.Helper()
	if cfg.Defaults == nil {
		cfg.Defaults = map[string]string{"profile": "Standard User", "TimeZoneSidKey": "America/Los_Angeles",
			"LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8"}
	}
	m, err := NewUserMapper(cfg)
	if err != nil {
		t.Fatalf("NewUserMapper: %v", err)
	}
	return m
}

// decode parses a JSON document the way the SCIM library hands bodies over.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// ops parses a PATCH request body into seam operations, as the server does.
func ops(t testing.TB, body string) []PatchOp {
	t.Helper()
	var req struct {
		Operations []struct {
			Op    string
			Path  string
			Value any
		}
	}
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	var out []PatchOp
	for _, o := range req.Operations {
		op := PatchOp{Op: o.Op, Value: o.Value}
		if o.Path != "" {
			p, err := filter.ParsePath([]byte(o.Path))
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", o.Path, err)
			}
			op.Path = &p
		}
		out = append(out, op)
	}
	return out
}

func parseFilter(t testing.TB, s string) filter.Expression {
	t.Helper()
	e, err := filter.ParseFilter([]byte(s))
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", s, err)
	}
	return e
}

// kindOf returns the Kind of an *Error, or -1 when err is nil or another error.
func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return -1
}

func ptr[T any](v T) *T { return &v }

var testDescribe = UserDescribe{Picklists: testPicklists, Zones: NewZoneMatcher(testPicklists["TimeZoneSidKey"], time.LoadLocation)}

var testPicklists = Picklists{
	"TimeZoneSidKey":    {"America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "Asia/Tokyo", "GMT"},
	"LocaleSidKey":      {"en_US", "en_GB", "de_DE", "fr_FR"},
	"LanguageLocaleKey": {"en_US", "de", "fr", "ja"},
	"EmailEncodingKey":  {"UTF-8", "ISO-8859-1"},
}
