package server

import (
	"net/http"
	"strings"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// RFC 7644 §3.14 conditional requests. The bridge issues weak entity tags only (W/"…"), so tags are
// compared weakly (RFC 7232 §2.3.2): "abc" and W/"abc" are the same version.

// entityTags splits an If-Match or If-None-Match header into its tags, each in weak form; "*"
// stays "*". Commas inside quoted tags do not split.
func entityTags(values []string) []string {
	var out []string
	for _, v := range values {
		inQuote := false
		from := 0
		for i := 0; i <= len(v); i++ {
			if i < len(v) && v[i] == '"' {
				inQuote = !inQuote
			}
			if i < len(v) && (v[i] != ',' || inQuote) {
				continue
			}
			if tag := weakTag(strings.TrimSpace(v[from:i])); tag != "" {
				out = append(out, tag)
			}
			from = i + 1
		}
	}
	return out
}

func weakTag(t string) string {
	switch {
	case t == "", t == "*", strings.HasPrefix(t, "W/"):
		return t
	case strings.HasPrefix(t, "w/"):
		return "W/" + t[2:]
	}
	return "W/" + t
}

// ifMatch turns the request's If-Match header, which the SCIM library ignores (scimlib.go, entry
// 22), into what the backend compares with the resource's version: "" when absent or "*" (any
// version; a missing resource stays a 404), the one tag given, or, for a list, the tag that names
// the current version (the first one when none does, which the backend then refuses with 412).
func (h *resourceHandler) ifMatch(r *http.Request, id string) (string, error) {
	tags := entityTags(r.Header.Values("If-Match"))
	for _, t := range tags {
		if t == "*" {
			return "", nil
		}
	}
	switch len(tags) {
	case 0:
		return "", nil
	case 1:
		return tags[0], nil
	}
	cur, err := h.backend.get(r.Context(), id, scimschema.ReadOptions{Attributes: []string{"id"}})
	if err != nil {
		return "", err
	}
	for _, t := range tags {
		if t == cur.Version {
			return t, nil
		}
	}
	return tags[0], nil
}

// notModified reports whether the request's If-None-Match names version (or is "*").
func notModified(r *http.Request, version string) bool {
	if version == "" {
		return false
	}
	for _, t := range entityTags(r.Header.Values("If-None-Match")) {
		if t == "*" || t == weakTag(version) {
			return true
		}
	}
	return false
}
