package server

import "strings"

// The filter rewrite (catalogue entry in scimlib.go): the SCIM library (filter-parser v2 under
// github.com/elimity-com/scim, the version in go.mod) refuses a value path followed by a
// sub-attribute, `emails[type eq "work"].value eq "x"`, with 400 invalidFilter (upstream #150);
// Entra sends exactly that. Shown by TestFilterRewriteReachesBackend and TestRewriteFilter.

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
