package scimschema

import "strings"

// knownURNs are the schema URNs a projection path may be prefixed with, longest first so that the
// enterprise and Salesforce extension URNs win over the core User URN they share a prefix with.
func knownURNs() []string {
	return []string{SalesforceUserURN, EnterpriseUserURN, UserSchemaURN, GroupSchemaURN}
}

// projPath is an attribute path of a projection: an optional extension URN, the attribute and
// an optional sub-attribute. urn is "" for core attributes (also when the path carried the core
// User or Group URN). attr is "" when the path names a whole extension.
type projPath struct {
	urn, attr, sub string
}

// parseProjPath splits "name.givenName", "urn:…:User:userName" or "urn:…:enterprise:2.0:User:manager.value".
func parseProjPath(p string) projPath {
	p = strings.TrimSpace(p)
	var urn string
	if len(p) > 4 && strings.EqualFold(p[:4], "urn:") {
		matched := false
		for _, u := range knownURNs() {
			if len(p) >= len(u) && strings.EqualFold(p[:len(u)], u) && (len(p) == len(u) || p[len(u)] == ':') {
				urn, p, matched = u, strings.TrimPrefix(p[len(u):], ":"), true
				break
			}
		}
		if !matched {
			// An unknown URN: the attribute follows its last colon.
			i := strings.LastIndex(p, ":")
			urn, p = p[:i], p[i+1:]
		}
	}
	if strings.EqualFold(urn, UserSchemaURN) || strings.EqualFold(urn, GroupSchemaURN) {
		urn = ""
	}
	attr, sub, _ := strings.Cut(p, ".")
	return projPath{urn: urn, attr: attr, sub: sub}
}

// Project applies an RFC 7644 §3.9 projection to a resource's attributes (never id, schemas or meta,
// which the server adds and always returns). With attributes given, only those are kept; otherwise
// excluded ones are dropped. Paths may name sub-attributes ("name.givenName", "emails.value") and
// may be URN-prefixed; names match case-insensitively. attrs is not modified.
func Project(attrs map[string]any, attributes, excluded []string) map[string]any {
	if len(attributes) > 0 {
		out := map[string]any{}
		for _, raw := range attributes {
			keep(out, attrs, parseProjPath(raw))
		}
		prune(out)
		return out
	}
	out := copyMap(attrs)
	for _, raw := range excluded {
		drop(out, parseProjPath(raw))
	}
	return out
}

// Requested reports whether the top-level attribute name (e.g. "groups", "members", "externalId",
// or a URN-prefixed extension attribute such as "urn:…:salesforce:2.0:User:permissionSets")
// survives the projection. A path naming only a sub-attribute of it ("groups.display") keeps it;
// excluding only a sub-attribute does not drop it.
func Requested(name string, attributes, excluded []string) bool {
	target := parseProjPath(name)
	if len(attributes) > 0 {
		for _, raw := range attributes {
			p := parseProjPath(raw)
			if !strings.EqualFold(p.urn, target.urn) {
				continue
			}
			if p.attr == "" || strings.EqualFold(p.attr, target.attr) {
				return true
			}
		}
		return false
	}
	for _, raw := range excluded {
		p := parseProjPath(raw)
		if !strings.EqualFold(p.urn, target.urn) {
			continue
		}
		if p.attr == "" || (strings.EqualFold(p.attr, target.attr) && p.sub == "") {
			return false
		}
	}
	return true
}

// lookupKey finds key in m case-insensitively and returns the key as stored.
func lookupKey(m map[string]any, key string) (string, bool) {
	if _, ok := m[key]; ok {
		return key, true
	}
	for k := range m {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// keep copies the part of src that p names into dst.
func keep(dst, src map[string]any, p projPath) {
	if p.urn != "" {
		ek, ok := lookupKey(src, p.urn)
		if !ok {
			return
		}
		ext, ok := src[ek].(map[string]any)
		if !ok {
			return
		}
		if p.attr == "" {
			dst[ek] = copyMap(ext)
			return
		}
		sub, _ := dst[ek].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
		}
		keep(sub, ext, projPath{attr: p.attr, sub: p.sub})
		if len(sub) > 0 {
			dst[ek] = sub
		}
		return
	}
	k, ok := lookupKey(src, p.attr)
	if !ok {
		return
	}
	if p.sub == "" {
		dst[k] = copyValue(src[k])
		return
	}
	switch v := src[k].(type) {
	case map[string]any:
		sk, ok := lookupKey(v, p.sub)
		if !ok {
			return
		}
		m, _ := dst[k].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m[sk] = copyValue(v[sk])
		dst[k] = m
	case []any:
		prev, _ := dst[k].([]any)
		var out []any
		for i, e := range v {
			em, ok := e.(map[string]any)
			if !ok {
				continue
			}
			var target map[string]any
			if i < len(prev) {
				target, _ = prev[i].(map[string]any)
			}
			if target == nil {
				target = map[string]any{}
			}
			if sk, ok := lookupKey(em, p.sub); ok {
				target[sk] = copyValue(em[sk])
			}
			out = append(out, target)
		}
		if len(out) > 0 {
			dst[k] = out
		}
	}
}

// drop removes the part of m that p names.
func drop(m map[string]any, p projPath) {
	if p.urn != "" {
		ek, ok := lookupKey(m, p.urn)
		if !ok {
			return
		}
		if p.attr == "" {
			delete(m, ek)
			return
		}
		ext, ok := m[ek].(map[string]any)
		if !ok {
			return
		}
		drop(ext, projPath{attr: p.attr, sub: p.sub})
		if len(ext) == 0 {
			delete(m, ek)
		}
		return
	}
	k, ok := lookupKey(m, p.attr)
	if !ok {
		return
	}
	if p.sub == "" {
		delete(m, k)
		return
	}
	switch v := m[k].(type) {
	case map[string]any:
		if sk, ok := lookupKey(v, p.sub); ok {
			delete(v, sk)
		}
		if len(v) == 0 {
			delete(m, k)
		}
	case []any:
		var out []any
		for _, e := range v {
			em, ok := e.(map[string]any)
			if !ok {
				continue
			}
			if sk, ok := lookupKey(em, p.sub); ok {
				delete(em, sk)
			}
			if len(em) > 0 {
				out = append(out, em)
			}
		}
		if len(out) == 0 {
			delete(m, k)
		} else {
			m[k] = out
		}
	}
}

// prune removes the empty elements and lists that keep leaves behind when a multi-valued
// attribute's elements lack the requested sub-attribute.
func prune(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			prune(v)
			if len(v) == 0 {
				delete(m, k)
			}
		case []any:
			var out []any
			for _, e := range v {
				if em, ok := e.(map[string]any); ok && len(em) == 0 {
					continue
				}
				out = append(out, e)
			}
			if len(out) == 0 {
				delete(m, k)
			} else {
				m[k] = out
			}
		}
	}
}

// copyMap deep-copies the maps and slices of a decoded JSON object so that projecting never
// changes the caller's value.
func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	default:
		return v
	}
}
