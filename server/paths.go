package server

import (
	"net/http"
	"strings"
)

// endpointNames are the SCIM endpoints under scimPrefix, in their canonical spelling.
var endpointNames = []string{"Users", "Groups", "ServiceProviderConfig", "Schemas", "ResourceTypes", "Bulk", "Me"}

// canonicalPath lets resource endpoints match case-insensitively and with an optional trailing
// slash (`/users`, `/Users/`, `/GROUPS/{id}/`), as Microsoft's SCIM validator and some IdPs send
// them: the endpoint segment is rewritten to its canonical spelling and one trailing slash is
// dropped before routing. Resource ids and everything after them are left as sent.
func canonicalPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := canonicalSCIMPath(r.URL.Path); ok && p != r.URL.Path {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = p, ""
			r2.RequestURI = p
			if r.URL.RawQuery != "" {
				r2.RequestURI += "?" + r.URL.RawQuery
			}
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalSCIMPath returns p with its endpoint segment canonically spelled and without a
// trailing slash; ok is false when p is not under scimPrefix.
func canonicalSCIMPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, scimPrefix+"/")
	if !ok {
		return p, false
	}
	if trimmed := strings.TrimSuffix(rest, "/"); trimmed != "" {
		rest = trimmed
	}
	first, tail, hasTail := strings.Cut(rest, "/")
	for _, name := range endpointNames {
		if strings.EqualFold(first, name) {
			first = name
			break
		}
	}
	out := scimPrefix + "/" + first
	if hasTail {
		out += "/" + tail
	}
	return out, true
}
