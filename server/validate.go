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
