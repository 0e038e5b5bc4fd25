package scimschema

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// checkedAttributes are the core attributes whose text must be visible text: a userName, an email,
// a name that holds a control character, a direction override or an invisible character is hard
// data gone wrong (a copy-paste from a document, a broken export), never a person's name.
var checkedAttributes = map[string]bool{"userName": true, "emails": true, "name": true, "displayName": true, "nickName": true}

// refusedCharacter returns the first character of s a person's name or address never holds:
// C0 and C1 control characters, bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), zero-width characters (U+200B, U+2060, U+FEFF, U+180E) and U+FFFD, the mark of
// a failed decoding. The zero-width joiners U+200C and U+200D are accepted between two letters of
// a name (Persian and Indic scripts need them) and refused elsewhere.
func refusedCharacter(s string, name bool) (rune, bool) {
	runes := []rune(s)
	for i, r := range runes {
		switch {
		case r < 0x20, r >= 0x7f && r <= 0x9f:
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		case r == 0x200b, r == 0x2060, r == 0xfeff, r == 0x180e, r == 0xfffd:
		case r == 0x200c || r == 0x200d:
			if name && i > 0 && i < len(runes)-1 && isNameRune(runes[i-1]) && isNameRune(runes[i+1]) {
				continue
			}
		default:
			continue
		}
		return r, true
	}
	return 0, false
}

func isNameRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsMark(r) }

// checkCharacters refuses a value of a checked attribute that holds a refused character, naming
// the attribute (path is its SCIM path, e.g. "name.givenName"). Strings inside objects and lists
// are checked under their sub-attribute's path.
func checkCharacters(path string, v any) error {
	switch v := v.(type) {
	case string:
		top, _, _ := strings.Cut(path, ".")
		if r, bad := refusedCharacter(v, top == "name" || top == "displayName" || top == "nickName"); bad {
			return Errorf(KindInvalidValue, "%s contains a character that is invisible, controls the terminal or changes the text direction (U+%04X); remove it", path, r)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := checkCharacters(subPath(path, k), v[k]); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range v {
			if err := checkCharacters(path, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func subPath(path, sub string) string {
	if strings.Contains(path, ".") {
		return path
	}
	return fmt.Sprintf("%s.%s", path, sub)
}

// checkResourceCharacters checks the checked attributes of a full representation.
func checkResourceCharacters(attrs map[string]any) error {
	names := make([]string, 0, len(checkedAttributes))
	for a := range checkedAttributes {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		if v, ok := get(attrs, a); ok {
			if err := checkCharacters(a, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckText refuses a single text value of the attribute at path (e.g. a group's displayName)
// that holds a character refusedCharacter names, with the same 400 as a user's attributes.
func CheckText(path, s string) error {
	return checkCharacters(path, s)
}
