package emulator

import "strings"

// Salesforce ids are 15 case-sensitive characters (3-character key prefix + 12) plus, in their
// 18-character case-safe form, a 3-character suffix that encodes which of the first 15 are upper case.
// The emulator always answers with 18-character ids and accepts either form as input.

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const idSuffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// makeID builds the 18-character id number n of the given key prefix.
func makeID(prefix string, n int) string {
	var tail [6]byte
	for i := len(tail) - 1; i >= 0; i-- {
		tail[i] = base62[n%62]
		n /= 62
	}
	id15 := prefix + "5g0000" + string(tail[:])
	return id15 + idSuffix(id15)
}

// idSuffix computes the case-safe suffix of a 15-character id.
func idSuffix(id15 string) string {
	var b [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		v := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				v |= 1 << i
			}
		}
		b[chunk] = idSuffixAlphabet[v]
	}
	return string(b[:])
}

// normalizeID turns a 15- or 18-character id into its 18-character form. It reports false when s
// is not a well-formed id (wrong length, non-alphanumeric characters, or a suffix that does not
// match the first 15 characters).
func normalizeID(s string) (string, bool) {
	if len(s) != 15 && len(s) != 18 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return "", false
		}
	}
	suffix := idSuffix(s[:15])
	if len(s) == 18 && !strings.EqualFold(s[15:], suffix) {
		return "", false
	}
	return s[:15] + suffix, true
}
