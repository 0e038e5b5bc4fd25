package rest

import "strings"

// Salesforce id prefixes of the objects the backend touches.
const (
	PrefixUser         = "005"
	PrefixPermSet      = "0PS"
	PrefixPermSetGroup = "0PG"
	PrefixProfile      = "00e"
)

// CanonicalID returns the 18-character form of a 15- or 18-character Salesforce id with the
// given key prefix (one of several when more are given), or false when s is not such an id.
// Random ids that IdPs probe with are "not found", never "bad request".
func CanonicalID(s string, prefixes ...string) (string, bool) {
	if len(s) != 15 && len(s) != 18 {
		return "", false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", false
		}
	}
	var id string
	if len(s) == 15 {
		id = s + caseSafeSuffix(s)
	} else {
		// An 18-character id's suffix encodes the case of the first 15 characters, so a
		// case-folded id (IdPs and spreadsheets lower-case them) is still the same record. A
		// suffix that does not belong to the id names no record: answering for "the record with
		// the same first 15 characters" would read, change or delete another one.
		base, ok := restoreCase(s)
		if !ok || !strings.EqualFold(caseSafeSuffix(base), s[15:]) {
			return "", false
		}
		if head := s[:15]; head != base && head != strings.ToLower(head) && head != strings.ToUpper(head) {
			return "", false
		}
		id = base + caseSafeSuffix(base)
	}
	if len(prefixes) == 0 {
		return id, true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(id, p) {
			return id, true
		}
	}
	return "", false
}

// caseSafeAlphabet maps the five upper-case flags of a 5-character chunk to one suffix character.
const caseSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// caseSafeSuffix returns the 3-character suffix that makes a 15-character id case-insensitive.
func caseSafeSuffix(id15 string) string {
	suffix := make([]byte, 3)
	for chunk := range 3 {
		flags := 0
		for i := range 5 {
			if c := id15[chunk*5+i]; c >= 'A' && c <= 'Z' {
				flags |= 1 << i
			}
		}
		suffix[chunk] = caseSafeAlphabet[flags]
	}
	return string(suffix)
}

// restoreCase returns the first 15 characters of an 18-character id with the letter case its
// suffix encodes; false when the suffix holds a character outside the alphabet.
func restoreCase(id18 string) (string, bool) {
	out := []byte(strings.ToLower(id18[:15]))
	for chunk := range 3 {
		flags := strings.IndexByte(caseSafeAlphabet, strings.ToUpper(id18[15+chunk : 16+chunk])[0])
		if flags < 0 {
			return "", false
		}
		for i := range 5 {
			if flags&(1<<i) != 0 {
				c := out[chunk*5+i]
				if c >= 'a' && c <= 'z' {
					out[chunk*5+i] = c - 'a' + 'A'
				} else {
					return "", false // a digit cannot be upper case: not a suffix Salesforce makes
				}
			}
		}
	}
	return string(out), true
}

// SameID compares two Salesforce ids, 15 or 18 characters.
func SameID(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return a == b
	}
	return a[:15] == b[:15]
}
