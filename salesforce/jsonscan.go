package salesforce

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonScan reads a JSON text that json.Valid accepted (see users_decode.go), front to back, each byte once (a skipped
// value is scanned for its end only). Errors mean a shape other than the one the caller expects.
type jsonScan struct {
	d string
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.d) && (s.d[s.i] == ' ' || s.d[s.i] == '\t' || s.d[s.i] == '\n' || s.d[s.i] == '\r') {
		s.i++
	}
}

// peek is the next byte that is not white space (0 at the end).
func (s *jsonScan) peek() byte {
	s.space()
	if s.i >= len(s.d) {
		return 0
	}
	return s.d[s.i]
}

// object reads an object, calling fn with s at each member's value; fn must read or skip it.
func (s *jsonScan) object(fn func(key string) error) error {
	if s.peek() != '{' {
		return errMalformedRow
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		key, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return errMalformedRow
		}
		s.i++
		if err := fn(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errMalformedRow
		}
	}
}

// array reads an array (or null), calling fn with s at each element; fn must read or skip it.
func (s *jsonScan) array(fn func() error) error {
	if s.null() {
		return nil
	}
	if s.peek() != '[' {
		return errMalformedRow
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errMalformedRow
		}
	}
}

// null reads a null if one is next.
func (s *jsonScan) null() bool {
	if s.peek() == 'n' && strings.HasPrefix(s.d[s.i:], "null") {
		s.i += 4
		return true
	}
	return false
}

// raw skips the next value and returns its text.
func (s *jsonScan) raw() (string, error) {
	s.space()
	start := s.i
	if err := s.skip(); err != nil {
		return "", err
	}
	return s.d[start:s.i], nil
}

// skip moves past the next value.
func (s *jsonScan) skip() error {
	s.space()
	depth := 0
	for j := s.i; j < len(s.d); j++ {
		switch c := s.d[j]; c {
		case '"':
			end := stringEnd(s.d, j)
			if end < 0 {
				return errMalformedRow
			}
			if depth == 0 {
				s.i = end
				return nil
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				s.i = j + 1
				return nil
			}
			if depth < 0 {
				return errMalformedRow
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				s.i = j
				return nil
			}
		}
	}
	if depth != 0 || s.i == len(s.d) {
		return errMalformedRow
	}
	s.i = len(s.d)
	return nil
}

// stringEnd is the index after the closing quote of the JSON string opening at d[i] (-1 when
// unterminated).
func stringEnd(d string, i int) int {
	for j := i + 1; j < len(d); {
		k := strings.IndexByte(d[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		backslashes := 0
		for b := j - 1; b > i && d[b] == '\\'; b-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j + 1
		}
		j++
	}
	return -1
}

// str reads a string or null ("").
func (s *jsonScan) str() (string, error) {
	if s.null() {
		return "", nil
	}
	if s.peek() != '"' {
		return "", errMalformedRow
	}
	end := stringEnd(s.d, s.i)
	if end < 0 {
		return "", errMalformedRow
	}
	raw := s.d[s.i:end]
	s.i = end
	// Fast path: a string without escapes is its own text. Invalid UTF-8 takes encoding/json's
	// path, which replaces it with U+FFFD as the generic decoding does (FuzzUserRowDecode).
	if strings.IndexByte(raw, '\\') < 0 && utf8.ValidString(raw) {
		return raw[1 : len(raw)-1], nil
	}
	var v string
	err := json.Unmarshal([]byte(raw), &v)
	return v, err
}

// boolean reads true, false or null (false).
func (s *jsonScan) boolean() (bool, error) {
	v, err := s.scalar()
	if b, ok := v.(bool); ok || v == nil {
		return b, err
	}
	return false, errMalformedRow
}

// scalar reads one value as encoding/json decodes it into any.
func (s *jsonScan) scalar() (any, error) {
	switch s.peek() {
	case '"':
		return s.str()
	case 'n':
		if s.null() {
			return nil, nil
		}
	case 't':
		if strings.HasPrefix(s.d[s.i:], "true") {
			s.i += 4
			return true, nil
		}
	case 'f':
		if strings.HasPrefix(s.d[s.i:], "false") {
			s.i += 5
			return false, nil
		}
	}
	raw, err := s.raw()
	if err != nil {
		return nil, err
	}
	if f, err := strconv.ParseFloat(raw, 64); err == nil {
		return f, nil
	}
	var v any
	err = json.Unmarshal([]byte(raw), &v)
	return v, err
}
