package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// SetupError means the suite could not start: the URL serves no SCIM, or the token is rejected.
// Its message is meant to be shown as it is.
type SetupError struct {
	msg string
}

func (e *SetupError) Error() string { return e.msg }

func setupErrorf(format string, args ...any) *SetupError {
	return &SetupError{fmt.Sprintf(format, args...)}
}

// preflight asks /ServiceProviderConfig and /Users once each before any check, so a wrong URL or a
// wrong token ends the run with one plain sentence instead of a hundred failures. RFC 7644 §4 lets
// a server answer /ServiceProviderConfig without authentication, so the token is also tried on
// /Users.
func (s *suite) preflight(ctx context.Context) error {
	c := &C{ctx: ctx, s: s, name: "suite/setup"}
	where := s.base.String()
	r, err := s.send(c, request{method: http.MethodGet, path: "/ServiceProviderConfig"})
	if err != nil {
		return setupErrorf("cannot reach %s: %v", where, err)
	}
	switch {
	case r.status == http.StatusUnauthorized || r.status == http.StatusForbidden:
		return setupErrorf("the token was rejected: GET %s/ServiceProviderConfig answered %d", where, r.status)
	case r.status != http.StatusOK:
		return setupErrorf("no SCIM service at this URL: GET %s/ServiceProviderConfig answered %d (the URL must be the SCIM base, e.g. https://host/scim/v2)", where, r.status)
	case !looksLikeServiceProviderConfig(r.obj):
		return setupErrorf("no SCIM service at this URL: GET %s/ServiceProviderConfig did not return a SCIM ServiceProviderConfig (RFC 7643 §5)", where)
	}
	r, err = s.send(c, request{method: http.MethodGet, path: "/Users",
		query: url.Values{"filter": {fmt.Sprintf("userName eq %q", s.prefix+"preflight@example.com")}, "count": {"1"}}})
	if err != nil {
		return setupErrorf("cannot reach %s: %v", where, err)
	}
	if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
		return setupErrorf("the token was rejected: GET %s/Users answered %d", where, r.status)
	}
	return nil
}

// looksLikeServiceProviderConfig accepts a JSON object that names the ServiceProviderConfig schema
// or carries its required feature objects; whether it is complete is the business of
// RFC7643-5/service-provider-config.
func looksLikeServiceProviderConfig(obj map[string]any) bool {
	if obj == nil {
		return false
	}
	if containsFold(obj["schemas"], spcURN) {
		return true
	}
	_, patch := lookupKey(obj, "patch").(map[string]any)
	_, filter := lookupKey(obj, "filter").(map[string]any)
	return patch && filter
}
