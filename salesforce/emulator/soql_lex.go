package emulator

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind classifies a SOQL token.
type soqlTokKind int

const (
	tkEOF      soqlTokKind = iota
	tkIdent                // keyword, field name or dotted path such as "Assignee.Profile.Name"
	tkString               // 'quoted'; str holds the decoded value
	tkNumber               // 12, -3, 4.5
	tkDate                 // 2024-01-31
	tkDateTime             // 2024-01-31T10:00:00Z, 2024-01-31T10:00:00.000+02:00
	tkLParen
	tkRParen
	tkComma
	tkOp // = != <> < > <= >=
)

// token is one lexeme; pos and end are byte offsets into the query.
type soqlToken struct {
	kind     soqlTokKind
	pos, end int
	text     string // raw source text
	str      string // decoded value of a string literal (LIKE escapes \% \_ resolved to % _)
}

// lexSOQL splits q into tokens ending with tkEOF. Errors are *soqlError with the query echo.
func lexSOQL(q string) ([]soqlToken, error) {
	var toks []soqlToken
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case soqlIsIdentStart(c):
			j := i + 1
			for j < len(q) {
				if soqlIsIdentPart(q[j]) {
					j++
				} else if q[j] == '.' && j+1 < len(q) && soqlIsIdentStart(q[j+1]) {
					j += 2
				} else {
					break
				}
			}
			toks = append(toks, soqlToken{kind: tkIdent, pos: i, end: j, text: q[i:j]})
			i = j
		case c == '\'':
			t, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = t.end
		case soqlIsDigit(c) || ((c == '-' || c == '+') && i+1 < len(q) && soqlIsDigit(q[i+1])):
			t := lexNumberOrDate(q, i)
			toks = append(toks, t)
			i = t.end
		case c == '(':
			toks = append(toks, soqlToken{kind: tkLParen, pos: i, end: i + 1, text: "("})
			i++
		case c == ')':
			toks = append(toks, soqlToken{kind: tkRParen, pos: i, end: i + 1, text: ")"})
			i++
		case c == ',':
			toks = append(toks, soqlToken{kind: tkComma, pos: i, end: i + 1, text: ","})
			i++
		case c == '=':
			toks = append(toks, soqlToken{kind: tkOp, pos: i, end: i + 1, text: "="})
			i++
		case c == '!' && i+1 < len(q) && q[i+1] == '=':
			toks = append(toks, soqlToken{kind: tkOp, pos: i, end: i + 2, text: "!="})
			i += 2
		case c == '<' || c == '>':
			j := i + 1
			if j < len(q) && (q[j] == '=' || (c == '<' && q[j] == '>')) {
				j++
			}
			toks = append(toks, soqlToken{kind: tkOp, pos: i, end: j, text: q[i:j]})
			i = j
		default:
			_, size := utf8.DecodeRuneInString(q[i:])
			return nil, soqlQueryError(q, nil, "MALFORMED_QUERY", i, "unexpected token: '"+q[i:i+size]+"'")
		}
	}
	toks = append(toks, soqlToken{kind: tkEOF, pos: len(q), end: len(q), text: "<EOF>"})
	return toks, nil
}

func soqlIsIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func soqlIsIdentPart(c byte) bool  { return soqlIsIdentStart(c) || soqlIsDigit(c) }
func soqlIsDigit(c byte) bool      { return c >= '0' && c <= '9' }

// lexString reads the quoted literal starting at q[start] == '\”. SOQL escapes are \' \" \\ \n \r
// \t \b \f \uXXXX and, meaningful in LIKE patterns, \% and \_; any other backslash sequence is an
// error, as in Salesforce.
func lexString(q string, start int) (soqlToken, error) {
	var b strings.Builder
	i := start + 1
	for i < len(q) {
		c := q[i]
		switch c {
		case '\'':
			return soqlToken{kind: tkString, pos: start, end: i + 1, text: q[start : i+1], str: b.String()}, nil
		case '\\':
			if i+1 >= len(q) {
				break
			}
			e := q[i+1]
			switch e {
			case '\'', '"', '\\', '%', '_':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'u':
				if i+6 > len(q) {
					return soqlToken{}, soqlBadEscape(q, start, i, i+2)
				}
				r, err := strconv.ParseUint(q[i+2:i+6], 16, 32)
				if err != nil {
					return soqlToken{}, soqlBadEscape(q, start, i, i+6)
				}
				b.WriteRune(rune(r))
				i += 6
				continue
			default:
				return soqlToken{}, soqlBadEscape(q, start, i, i+2)
			}
			i += 2
			continue
		default:
			b.WriteByte(c)
		}
		i++
	}
	return soqlToken{}, soqlQueryError(q, nil, "MALFORMED_QUERY", start,
		"Invalid string literal '"+q[start+1:]+"'. Missing closing quote character.")
}

func soqlBadEscape(q string, start, at, end int) error {
	end = min(end, len(q))
	stop := strings.IndexByte(q[end:], '\'')
	lit := q[start+1:]
	if stop >= 0 {
		lit = q[start+1 : end+stop]
	}
	return soqlQueryError(q, nil, "MALFORMED_QUERY", start,
		"Invalid string literal '"+lit+"'. Illegal character sequence '"+q[at:end]+"' in string literal.")
}

// lexNumberOrDate reads a number, a date (YYYY-MM-DD) or a date-time literal. Validation of the
// date parts happens when the literal is bound to a field.
func lexNumberOrDate(q string, start int) soqlToken {
	if d := dateLiteralEnd(q, start); d > 0 {
		end := d
		kind := tkDate
		if end < len(q) && q[end] == 'T' {
			if e := timeLiteralEnd(q, end+1); e > 0 {
				end, kind = e, tkDateTime
			}
		}
		return soqlToken{kind: kind, pos: start, end: end, text: q[start:end]}
	}
	i := start
	if q[i] == '-' || q[i] == '+' {
		i++
	}
	for i < len(q) && soqlIsDigit(q[i]) {
		i++
	}
	if i+1 < len(q) && q[i] == '.' && soqlIsDigit(q[i+1]) {
		i++
		for i < len(q) && soqlIsDigit(q[i]) {
			i++
		}
	}
	return soqlToken{kind: tkNumber, pos: start, end: i, text: q[start:i]}
}

// digitsAt reports whether q[i:i+n] are all digits.
func soqlDigitsAt(q string, i, n int) bool {
	if i+n > len(q) {
		return false
	}
	for k := i; k < i+n; k++ {
		if !soqlIsDigit(q[k]) {
			return false
		}
	}
	return true
}

// dateLiteralEnd returns the end of a YYYY-MM-DD literal at i, or 0.
func dateLiteralEnd(q string, i int) int {
	if soqlDigitsAt(q, i, 4) && i+10 <= len(q) && q[i+4] == '-' && soqlDigitsAt(q, i+5, 2) && q[i+7] == '-' && soqlDigitsAt(q, i+8, 2) {
		if i+10 < len(q) && soqlIsIdentPart(q[i+10]) && q[i+10] != 'T' {
			return 0
		}
		return i + 10
	}
	return 0
}

// timeLiteralEnd returns the end of hh:mm:ss[.fff](Z|±hh:mm) at i, or 0.
func timeLiteralEnd(q string, i int) int {
	if !(soqlDigitsAt(q, i, 2) && i+8 <= len(q) && q[i+2] == ':' && soqlDigitsAt(q, i+3, 2) && q[i+5] == ':' && soqlDigitsAt(q, i+6, 2)) {
		return 0
	}
	j := i + 8
	if j+1 < len(q) && q[j] == '.' && soqlIsDigit(q[j+1]) {
		j++
		for j < len(q) && soqlIsDigit(q[j]) {
			j++
		}
	}
	switch {
	case j < len(q) && q[j] == 'Z':
		return j + 1
	case j < len(q) && (q[j] == '+' || q[j] == '-') && soqlDigitsAt(q, j+1, 2) && j+6 <= len(q) && q[j+3] == ':' && soqlDigitsAt(q, j+4, 2):
		return j + 6
	}
	return 0
}
