package server

import (
	"encoding/json"
	"net/http"
)

// serviceProviderConfig serves our own RFC 7643 §5 document: the SCIM library's hard-codes sort,
// etag and bulk as unsupported, all of which the bridge supports.
func (s *server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	type supported struct {
		Supported bool `json:"supported"`
	}
	doc := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"patch":   supported{true},
		"bulk": map[string]any{
			"supported":      true,
			"maxOperations":  maxBulkOperations,
			"maxPayloadSize": s.cfg.MaxBodyBytes,
		},
		"filter": map[string]any{
			"supported":  true,
			"maxResults": s.cfg.MaxResults,
		},
		"changePassword": supported{false},
		"sort":           supported{true},
		"etag":           supported{true},
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication with a bearer token configured in scim-bridge (auth.tokens)",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     s.scimBase(r) + "/ServiceProviderConfig",
		},
	}
	w.Header().Set("Content-Type", scimContentType)
	_ = json.NewEncoder(w).Encode(doc)
}
