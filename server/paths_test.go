package server

import "testing"

func TestCanonicalSCIMPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/scim/v2/users":                  "/scim/v2/Users",
		"/scim/v2/Users/":                 "/scim/v2/Users",
		"/scim/v2/USERS/005abc/":          "/scim/v2/Users/005abc",
		"/scim/v2/groups/0PSabc":          "/scim/v2/Groups/0PSabc",
		"/scim/v2/users/.search":          "/scim/v2/Users/.search",
		"/scim/v2/serviceproviderconfig/": "/scim/v2/ServiceProviderConfig",
		"/scim/v2/schemas/urn:x":          "/scim/v2/Schemas/urn:x",
		"/scim/v2/Users/005aBc":           "/scim/v2/Users/005aBc", // ids keep their case
		"/scim/v2/nonsense/":              "/scim/v2/nonsense",
		"/scim/v2/":                       "/scim/v2/",
	} {
		if got, ok := canonicalSCIMPath(in); !ok || got != want {
			t.Errorf("canonicalSCIMPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := canonicalSCIMPath("/healthz/"); ok {
		t.Errorf("canonicalSCIMPath(/healthz/) rewrote a path outside the SCIM base")
	}
}
