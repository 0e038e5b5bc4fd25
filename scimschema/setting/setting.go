// Package setting is the one shape a configuration problem takes: the key that is wrong and, in
// operator language, what is wrong with it and what to do.
//
// Each package that owns configuration (server, scimschema, salesforce, salesforce/rest) gives its
// Config a Validate method returning FieldErrors whose keys are relative to the package's own
// section ("api_version", "mapping[2].scim"); the package's constructor calls it, so a library
// user gets the same checks. cmd composes them: it puts the section in front of each key
// (salesforce.api_version), adds where the value came from (a line of the file, an environment
// variable) and reports every problem at once. A rule lives in exactly one Validate.
//
// It sits under scimschema, the neutral package every other one already shares, because the
// top-level layout is fixed (DESIGN.md "Layout"); it imports nothing of scimschema, so the REST
// client that uses it stays free of SCIM.
package setting

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one configuration key.
type FieldError struct {
	// Key is the dotted key relative to the validating package's section, with list indexes:
	// "url", "jwt.private_key_file", "mapping[2].scim".
	Key string
	// Problem says what is wrong and what to do. It never contains a secret.
	Problem string
}

func (e FieldError) Error() string { return e.Key + ": " + e.Problem }

// FieldErrors collects every problem of a configuration, in the order found.
type FieldErrors []FieldError

// Add records a problem with key.
func (es *FieldErrors) Add(key, format string, args ...any) {
	*es = append(*es, FieldError{Key: key, Problem: fmt.Sprintf(format, args...)})
}

// Error lists the problems one per line.
func (es FieldErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err is nil when there is no problem, else es: return cfg.Validate().Err() keeps a nil error nil.
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// In puts section in front of every key: FieldErrors{{"url", …}}.In("salesforce") has the key
// salesforce.url. An empty section leaves the keys as they are.
func (es FieldErrors) In(section string) FieldErrors {
	if section == "" || len(es) == 0 {
		return es
	}
	out := make(FieldErrors, len(es))
	for i, e := range es {
		out[i] = FieldError{Key: Join(section, e.Key), Problem: e.Problem}
	}
	return out
}

// Has reports whether a problem names key.
func (es FieldErrors) Has(key string) bool {
	for _, e := range es {
		if e.Key == key {
			return true
		}
	}
	return false
}

// Join joins a section and a key relative to it: Join("users", "mapping[0].scim") is
// users.mapping[0].scim, Join("users.mapping", "[0]") is users.mapping[0].
func Join(section, key string) string {
	switch {
	case section == "":
		return key
	case key == "":
		return section
	case strings.HasPrefix(key, "["):
		return section + key
	}
	return section + "." + key
}
