package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// This file rewrites what IdPs send into what the SCIM library accepts, before it sees the request
// (see /work/shared/reference/idp-clients.md).

// readBody reads the whole (size-limited) request body. Over the limit it answers 413 and returns
// false. Bodies are read here, not by the SCIM library, because the library swallows read errors
// and would answer 400 for an oversized body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Body == nil {
		return nil, true
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			tooLargeWhileReading(w, r, tooLarge)
			return nil, false
		}
		writeError(w, r, &scimschema.Error{Kind: scimschema.KindInvalidSyntax, Detail: "the request body could not be read", Err: err})
		return nil, false
	}
	return body, true
}

// withBody returns a shallow copy of r whose body is b.
func withBody(r *http.Request, b []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.ContentLength = int64(len(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return r2
}

var enterpriseManagerPath = scimschema.EnterpriseUserURN + ":manager"

// normalizeBody rewrites /Users bodies in which Entra sends the enterprise manager as a bare id
// string: {"manager": "<id>"} becomes {"manager": {"value": "<id>"}} in POST and PUT bodies, in
// PATCH values whose path is the manager, and in path-less PATCH values (nested under the
// enterprise URN or as a URN-prefixed key). Other bodies are returned unchanged, byte for byte.
func normalizeBody(method, path string, body []byte) []byte {
	if path != "/Users" && !strings.HasPrefix(path, "/Users/") {
		return body
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return body // the SCIM library reports the syntax error
	}
	changed := false
	switch method {
	case http.MethodPost, http.MethodPut:
		changed = wrapManagerIn(doc)
	case http.MethodPatch:
		changed = nullReplacesRemove(doc)
		for _, op := range listValue(doc, "Operations") {
			opMap, ok := op.(map[string]any)
			if !ok {
				continue
			}
			valueKey, value := lookup(opMap, "value")
			_, path := lookup(opMap, "path")
			pathStr, _ := path.(string)
			switch {
			case strings.EqualFold(strings.TrimSpace(pathStr), enterpriseManagerPath):
				if wrapped, ok := wrapManager(value); ok {
					opMap[valueKey] = wrapped
					changed = true
				}
			case pathStr == "":
				if m, ok := value.(map[string]any); ok && wrapManagerIn(m) {
					changed = true
				}
			}
		}
	}
	if !changed {
		return body
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return out
}

// nullReplacesRemove turns a PATCH replace to null into a remove: "the null value" and an
// unassigned attribute are the same state (RFC 7643 §2.5), and the SCIM library refuses a null
// value with a generic 400. {"op":"replace","path":"title","value":null} becomes
// {"op":"remove","path":"title"}; in a path-less replace each top-level key whose value is null
// leaves the value object and becomes a remove of that path, after the replace.
func nullReplacesRemove(doc map[string]any) bool {
	opsKey, opsValue := lookup(doc, "Operations")
	ops, ok := opsValue.([]any)
	if !ok {
		return false
	}
	changed := false
	out := make([]any, 0, len(ops))
	for _, op := range ops {
		opMap, ok := op.(map[string]any)
		if !ok {
			out = append(out, op)
			continue
		}
		opKey, name := lookup(opMap, "op")
		valueKey, value := lookup(opMap, "value")
		_, hasValue := opMap[valueKey]
		_, path := lookup(opMap, "path")
		pathStr, _ := path.(string)
		if s, _ := name.(string); !strings.EqualFold(s, "replace") || !hasValue {
			out = append(out, op)
			continue
		}
		switch v := value.(type) {
		case nil:
			if strings.TrimSpace(pathStr) == "" {
				out = append(out, op) // nothing names what to remove: the library's 400 stands
				continue
			}
			opMap[opKey] = "remove"
			delete(opMap, valueKey)
			changed = true
			out = append(out, opMap)
		case map[string]any:
			var removes []any
			if strings.TrimSpace(pathStr) == "" {
				for _, k := range sortedNullKeys(v) {
					delete(v, k)
					removes = append(removes, map[string]any{"op": "remove", "path": k})
				}
			}
			if len(removes) > 0 {
				changed = true
			}
			if len(v) > 0 || len(removes) == 0 {
				out = append(out, opMap)
			}
			out = append(out, removes...)
		default:
			out = append(out, op)
		}
	}
	if changed {
		doc[opsKey] = out
	}
	return changed
}

// sortedNullKeys are the keys of m whose value is null, sorted (the removes keep a stable order).
func sortedNullKeys(m map[string]any) []string {
	var keys []string
	for k, v := range m {
		if v == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// wrapManagerIn wraps a bare-string manager inside attrs, either under the enterprise extension key
// or as the URN-prefixed key itself.
func wrapManagerIn(attrs map[string]any) bool {
	changed := false
	for k, v := range attrs {
		switch {
		case strings.EqualFold(k, scimschema.EnterpriseUserURN):
			ext, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for ek, ev := range ext {
				if strings.EqualFold(ek, "manager") {
					if wrapped, ok := wrapManager(ev); ok {
						ext[ek] = wrapped
						changed = true
					}
				}
			}
		case strings.EqualFold(k, enterpriseManagerPath):
			if wrapped, ok := wrapManager(v); ok {
				attrs[k] = wrapped
				changed = true
			}
		}
	}
	return changed
}

func wrapManager(v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		return v, false
	}
	return map[string]any{"value": s}, true
}

// lookup finds key in m case-insensitively and returns the key as spelled in m.
func lookup(m map[string]any, key string) (string, any) {
	if v, ok := m[key]; ok {
		return key, v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return k, v
		}
	}
	return key, nil
}

func listValue(m map[string]any, key string) []any {
	_, v := lookup(m, key)
	list, _ := v.([]any)
	return list
}

// rewriteFilter turns each `attr[expr].sub OP value` (Entra, and RFC 7644 §3.10-style paths in
// filters) into the equivalent `attr[expr and sub OP value]`, which the SCIM library accepts; it
// rejects the former. The scan respects quoted strings with escapes, so brackets and keywords inside
// values are left alone. The filter grammar allows no parentheses inside brackets, so an expr with
// a top-level "or" is distributed: `(attr[a and sub OP value] or attr[b and sub OP value])`.
func rewriteFilter(f string) string {
	var out []byte
	for i := 0; i < len(f); {
		switch f[i] {
		case '"':
			end := stringEnd(f, i)
			out = append(out, f[i:end]...)
			i = end
		case '[':
			closeAt := closingBracket(f, i)
			if closeAt < 0 {
				out = append(out, f[i:]...)
				i = len(f)
				continue
			}
			cmp, next, ok := trailingComparison(f, closeAt+1)
			if !ok {
				out = append(out, f[i:closeAt+1]...)
				i = closeAt + 1
				continue
			}
			start := i
			for start > 0 && (isNameChar(f[start-1]) || f[start-1] == ':' || f[start-1] == '.') {
				start--
			}
			attr := f[start:i]
			out = out[:len(out)-len(attr)]
			terms := splitOr(f[i+1 : closeAt])
			parts := make([]string, len(terms))
			for k, term := range terms {
				parts[k] = attr + "[" + term + " and " + cmp + "]"
			}
			if len(parts) == 1 {
				out = append(out, parts[0]...)
			} else {
				out = append(out, "("+strings.Join(parts, " or ")+")"...)
			}
			i = next
		default:
			out = append(out, f[i])
			i++
		}
	}
	return string(out)
}

// splitOr splits f at the keyword "or" outside quoted strings and parentheses; terms are trimmed.
func splitOr(f string) []string {
	var terms []string
	depth, from := 0, 0
	for i := 0; i < len(f); {
		switch c := f[i]; {
		case c == '"':
			i = stringEnd(f, i)
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
		case isLetter(c):
			j := i
			for j < len(f) && isNameChar(f[j]) {
				j++
			}
			if depth == 0 && strings.EqualFold(f[i:j], "or") && i > 0 && j < len(f) {
				terms = append(terms, strings.TrimSpace(f[from:i]))
				from = j
			}
			i = j
			continue
		}
		i++
	}
	return append(terms, strings.TrimSpace(f[from:]))
}

// stringEnd returns the index just past the quoted string starting at f[i] == '"' (len(f) when it
// is unterminated).
func stringEnd(f string, i int) int {
	for j := i + 1; j < len(f); j++ {
		switch f[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(f)
}

// closingBracket returns the index of the ']' matching f[i] == '[', or -1.
func closingBracket(f string, i int) int {
	depth := 0
	for j := i; j < len(f); {
		switch f[j] {
		case '"':
			j = stringEnd(f, j)
			continue
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return j
			}
		}
		j++
	}
	return -1
}

// trailingComparison parses `.sub OP value` (or `.sub pr`) starting at f[p] and returns it as
// `sub OP value` with the index after it.
func trailingComparison(f string, p int) (string, int, bool) {
	if p >= len(f) || f[p] != '.' {
		return "", 0, false
	}
	i := p + 1
	for i < len(f) && isNameChar(f[i]) {
		i++
	}
	sub := f[p+1 : i]
	if sub == "" {
		return "", 0, false
	}
	j := skipSpaces(f, i)
	if j == i {
		return "", 0, false
	}
	k := j
	for k < len(f) && isLetter(f[k]) {
		k++
	}
	op := strings.ToLower(f[j:k])
	switch op {
	case "pr":
		if k < len(f) && f[k] != ' ' && f[k] != ')' {
			return "", 0, false
		}
		return sub + " pr", k, true
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
	default:
		return "", 0, false
	}
	v := skipSpaces(f, k)
	if v == k || v >= len(f) {
		return "", 0, false
	}
	end := v
	if f[v] == '"' {
		end = stringEnd(f, v)
	} else {
		for end < len(f) && f[end] != ' ' && f[end] != ')' && f[end] != ']' {
			end++
		}
	}
	if end == v {
		return "", 0, false
	}
	return sub + " " + f[j:k] + " " + f[v:end], end, true
}

func skipSpaces(f string, i int) int {
	for i < len(f) && f[i] == ' ' {
		i++
	}
	return i
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameChar(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$'
}

const searchRequestSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

// searchRequest is the body of POST /Users/.search and /Groups/.search (RFC 7644 §3.4.3).
type searchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
}

// search serves POST …/.search as the equivalent GET list request, so both share filter
// validation (the library's own .search validates without id, externalId and meta) and paging.
func (s *server) search(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var sr searchRequest
	if err := json.Unmarshal(body, &sr); err != nil {
		writeError(w, r, scimschema.Errorf(scimschema.KindInvalidSyntax, "the body is not a SCIM SearchRequest"))
		return
	}
	if len(sr.Schemas) > 0 && !containsFold(sr.Schemas, searchRequestSchema) {
		writeError(w, r, scimschema.Errorf(scimschema.KindInvalidValue, "schemas must be [%q]", searchRequestSchema))
		return
	}
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("filter", sr.Filter)
	set("attributes", strings.Join(sr.Attributes, ","))
	set("excludedAttributes", strings.Join(sr.ExcludedAttributes, ","))
	set("sortBy", sr.SortBy)
	set("sortOrder", sr.SortOrder)
	if sr.StartIndex != nil {
		q.Set("startIndex", strconv.Itoa(*sr.StartIndex))
	}
	if sr.Count != nil {
		q.Set("count", strconv.Itoa(*sr.Count))
	}
	list := r.Clone(r.Context())
	list.Method = http.MethodGet
	list.URL.Path = strings.TrimSuffix(r.URL.Path, "/.search")
	list.URL.RawPath = ""
	list.URL.RawQuery = q.Encode()
	list.Body = http.NoBody
	list.ContentLength = 0
	s.serveSCIM(w, list)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
