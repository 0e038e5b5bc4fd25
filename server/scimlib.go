package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/elimity-com/scim"
	"github.com/rs/zerolog"
)

// The workarounds of the SCIM library, github.com/elimity-com/scim at the version pinned in go.mod
// (v0.0.0-20260728105928-2641426a1539), in the scimlib*.go files; three sit where they are used and
// say so (readBody in bodylimit.go, GetAll's slice in handlers.go, ifMatch in etag.go). Each entry
// names the library behaviour (as described in the project's reference on the library,
// elimity-scim.md), the code that corrects it, and the test that fails without it. When the library
// is fixed, delete the code and keep the test.
//
// Before the library sees the request (scimlib_request.go, correctRequest):
//
//  1. It reads the body itself and answers a read error with 400: an oversized body would be a 400,
//     not a 413. correctRequest reads it first (readBody, bodylimit.go).
//     TestBodyTooLarge/chunked_body,_detected_while_reading.
//  2. It decodes only the first JSON value of a body (a json.Decoder), ignoring data after it.
//     checkBody. TestBodiesAndParametersTheLibraryDoesNotCheck ("data after …").
//  3. It accepts schemas the resource type lacks and drops attributes under extension schemas it
//     does not know, without a word. checkBody. TestBodiesAndParametersTheLibraryDoesNotCheck
//     ("unknown schema declared", "unknown extension object", "group schema on a user").
//  4. It refuses a body without a required attribute with "a required value was missing", naming
//     none. checkRequired. TestMissingRequiredAttributesAreNamed.
//  5. It answers a startIndex or count that is not a whole number without a scimType.
//     checkPaging. TestBodiesAndParametersTheLibraryDoesNotCheck ("count not a number", …).
//  6. It refuses Entra's enterprise manager sent as a bare id string (the schema's manager is
//     complex). normalizeBody. TestEntraDialect/manager_as_a_bare_string_in_POST and …_in_PATCH,
//     TestEntraDialect/path-less_replace_with_URN-prefixed_manager.
//  7. It refuses a PATCH replace whose value is null with a generic 400. nullReplacesRemove.
//     TestEntraDialect/replace_to_null_removes and the two path-less cases after it.
//  8. It refuses a value path followed by a sub-attribute, emails[type eq "work"].value eq "x"
//     (400 invalidFilter; upstream #150), which Entra sends. rewriteFilter (scimlib_filter.go).
//     TestFilterRewriteReachesBackend; TestRewriteFilter for the rewrite itself.
//  9. It evaluates a filter on /Schemas and /ResourceTypes in memory: "Resources": null (Entra
//     rejects nulls) and a panic on type mismatches. correctFilter drops it (RFC 7644 §4 allows).
//     TestDiscoveryIgnoresFilters.
//  10. Its POST …/.search needs a Search method besides GetAll (without one it answers 501), and
//     validates the filter without the common attributes (id, externalId, meta). search serves
//     .search as the equivalent GET. TestSearch.
//  11. It ignores sortBy and sortOrder. sortOf, called by GetAll. TestListQuery.
//
// What a resource handler hands the library and what the library writes (scimlib_response.go):
//
//  12. It rewrites a handler's 429 and 503, and any status it deems inapplicable to the method, to
//     500 without Retry-After, and shows a raw error's text as "detail" (errors.CheckScimError).
//     handlerError notes the seam error, correctingWriter writes it instead. TestLimitedAndUnavailable,
//     TestErrorKinds; TestInternalErrorHidesCauseAndLogsIt (for the raw text, handlerError's
//     conversion and correctingWriter each suffice).
//  13. It writes the requested count as itemsPerPage. noteItemsPerPage, correctingWriter
//     (setTopLevel). TestItemsPerPageCountsReturnedResources; TestSetTopLevel.
//  14. It builds meta.location from the id in the request path, not the resource's canonical id.
//     noteCanonicalID, correctingWriter.canonicalLocation. TestLocationUsesTheCanonicalID.
//  15. It ignores If-None-Match. noteNotModified, correctingWriter (304). TestIfNoneMatch.
//  16. It ignores attributes and excludedAttributes. projection.resource.
//     TestCreateReadProjection.
//  17. It echoes the write-only password. projection.resource. TestCreateReadProjection.
//  18. It writes a nil Page.Resources as "Resources": null. GetAll (handlers.go) always passes a
//     slice. TestListQuery (zero hits).
//
// Around the library (this file):
//
//  19. Its base URL is fixed per instance (WithBaseURL); ours depends on the request (PublicURL,
//     Host, X-Forwarded-*). serveWithLibrary makes an instance per request. TestLocations.
//  20. It routes on paths without our /scim/v2 prefix, and under chi that prefix is not stripped.
//     serveWithLibrary (http.StripPrefix). Every request test, e.g. TestCreateReadProjection.
//  21. Its /ServiceProviderConfig hard-codes sort, etag and bulk as unsupported.
//     serviceProviderConfig. TestDiscovery.
//  22. It ignores If-Match. resourceHandler.ifMatch (etag.go) reads it; the conditional-request
//     rules themselves (weak comparison, lists of tags) are ours. TestConditionalRequests.
//
// Library behaviours that need no workaround because our own code stands in front of the library
// (listed so that none is added): wrong methods answer 404, not 405 (the routes in server.go answer
// 405 with Allow first: TestMethodNotAllowed); /Bulk is 404 (bulk.go implements RFC 7644 §3.7);
// /Me is a bare 501 (notImplemented says why); there is no body-size limit (limitBody,
// bodylimit.go); endpoint names are case-sensitive (canonicalPath, paths.go, serves our router);
// Entra's string booleans need the process-wide schema.SetAllowStringValues(true), which cmd sets
// at start-up.

// serveSCIM serves a request with the SCIM library, corrected before (correctRequest) and after
// (correctingWriter).
func (s *server) serveSCIM(w http.ResponseWriter, r *http.Request) {
	r, ok := correctRequest(w, r)
	if !ok {
		return
	}
	s.serveWithLibrary(w, r)
}

// serveWithLibrary serves r with the SCIM library through a correctingWriter. The library's base URL
// is fixed per instance and ours depends on the request (Host, X-Forwarded-*), so an instance is
// made per request: that is a copy of a small struct, the resource types and schemas are built once
// in New.
func (s *server) serveWithLibrary(w http.ResponseWriter, r *http.Request) {
	fixes := &corrections{}
	r = r.WithContext(withCorrections(r.Context(), fixes))
	lib, err := scim.NewServer(
		&scim.ServerArgs{ServiceProviderConfig: s.libraryConfig(), ResourceTypes: s.resourceTypes},
		scim.WithBaseURL(s.scimBase(r)),
		scim.WithLogger(libraryLogger{zerolog.Ctx(r.Context())}),
	)
	if err != nil {
		writeError(w, r, fmt.Errorf("building the SCIM library server: %w", err))
		return
	}
	http.StripPrefix(scimPrefix, lib).ServeHTTP(&correctingWriter{ResponseWriter: w, fixes: fixes}, r)
}

// serviceProviderConfig serves our own RFC 7643 §5 document (entry 21): the SCIM library's
// hard-codes sort, etag and bulk as unsupported, all of which the bridge supports.
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
