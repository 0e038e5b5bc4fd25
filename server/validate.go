package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Checks the SCIM library does not make: it decodes only the first JSON value of a body (so data
// after it would be ignored), drops attributes under extension schemas it does not know (so a
// misspelt or foreign extension would be lost without a word), and answers unparsable paging
// numbers without a scimType.

// resourceSchemas are the schema URIs a resource body may declare, by endpoint.
var resourceSchemas = map[string][]string{
	"Users":  {scimschema.UserSchemaURN, scimschema.EnterpriseUserURN, scimschema.SalesforceUserURN},
	"Groups": {scimschema.GroupSchemaURN},
}

// checkBody refuses a body with data after its JSON document, and a POST or PUT resource that names
// a schema, or holds an extension object, the resource type does not have.
func checkBody(method, path string, body []byte) *scimschema.Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil // the SCIM library reports the missing body
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil // the SCIM library reports the syntax error
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return scimschema.Errorf(scimschema.KindInvalidSyntax, "the request body holds data after its JSON document")
	}
	if method != http.MethodPost && method != http.MethodPut {
		return nil
	}
	endpoint, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	known, ok := resourceSchemas[endpoint]
	obj, isObj := doc.(map[string]any)
	if !ok || !isObj {
		return nil
	}
	isKnown := func(urn string) bool {
		for _, k := range known {
			if strings.EqualFold(k, urn) {
				return true
			}
		}
		return false
	}
	if err := checkRequired(endpoint, obj); err != nil {
		return err
	}
	for key, v := range obj {
		switch {
		case strings.EqualFold(key, "schemas"):
			list, _ := v.([]any)
			for _, s := range list {
				if urn, _ := s.(string); urn != "" && !isKnown(urn) {
					return scimschema.Errorf(scimschema.KindInvalidValue, "schemas: names a schema that %s does not have (they are %s)", endpoint, strings.Join(known, ", "))
				}
			}
		case strings.HasPrefix(strings.ToLower(key), "urn:") && !isKnown(key):
			return scimschema.Errorf(scimschema.KindInvalidValue, "the body holds an extension that %s does not have (its schemas are %s)", endpoint, strings.Join(known, ", "))
		}
	}
	return nil
}

// checkPaging refuses startIndex and count values that are not whole numbers (RFC 7644 §3.4.2.4;
// negative ones are allowed and clamped by the SCIM library).
func checkPaging(q url.Values) *scimschema.Error {
	for _, name := range []string{"startIndex", "count"} {
		if v, ok := q[name]; ok && len(v) > 0 {
			if _, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 32); err != nil {
				return scimschema.Errorf(scimschema.KindInvalidValue, "%s must be a whole number", name)
			}
		}
	}
	return nil
}

// requiredAttributes are the attributes a POST or PUT body must hold, per endpoint (RFC 7643 §4:
// userName and displayName are required). The SCIM library refuses a body without them with a
// generic "a required value was missing" that names nothing; this names the attribute.
var requiredAttributes = map[string][]string{"Users": {"schemas", "userName"}, "Groups": {"schemas", "displayName"}}

// checkRequired refuses a resource body that lacks a required attribute or gives it as something
// other than a non-empty string (schemas: a list), naming the attribute.
func checkRequired(endpoint string, obj map[string]any) *scimschema.Error {
	for _, name := range requiredAttributes[endpoint] {
		_, v := lookup(obj, name)
		if name == "schemas" {
			if list, ok := v.([]any); !ok || len(list) == 0 {
				return scimschema.Errorf(scimschema.KindInvalidValue, "schemas is required: list the resource's schema URNs (%s)", strings.Join(resourceSchemas[endpoint], ", "))
			}
			continue
		}
		switch s, isString := v.(string); {
		case v == nil:
			return scimschema.Errorf(scimschema.KindInvalidValue, "%s is required", name)
		case !isString:
			return scimschema.Errorf(scimschema.KindInvalidValue, "%s must be a string", name)
		case strings.TrimSpace(s) == "":
			return scimschema.Errorf(scimschema.KindInvalidValue, "%s is required and must not be empty", name)
		}
	}
	return nil
}
