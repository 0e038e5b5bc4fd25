package emulator

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// soqlOptions are the limits of the strict profile; the zero value has none.
type soqlOptions struct {
	// MaxInValues refuses an IN or NOT IN list with more values (MALFORMED_QUERY); 0 = no limit.
	MaxInValues int
	// ChildBatch pages child subqueries: a parent row with more children gets the first
	// ChildBatch of them, "done":false and the nextRecordsUrl ChildCursor returns for the rest.
	// ChildCursor receives the parent row's index in the result and every child record.
	ChildBatch  int
	ChildCursor func(parentRow int, records []*soqlRecord) string
}

// runQuery parses and runs q against src. apiVersion (e.g. "66.0") goes into attributes.url
// ("/services/data/v66.0/sobjects/User/005…"). Errors are *soqlError.
func runQuery(src soqlSource, q string, apiVersion string, opts soqlOptions) (*soqlResult, error) {
	e, p, err := compileQuery(src, q, apiVersion, opts)
	if err != nil {
		return nil, err
	}
	return e.run(p), nil
}

// compileQuery lexes, parses, checks and compiles q: everything runQuery and soqlColumns share
// before a query's rows (or its columns) are produced. Errors are *soqlError.
func compileQuery(src soqlSource, q string, apiVersion string, opts soqlOptions) (*soqlEngine, *soqlPlan, error) {
	if strings.TrimSpace(q) == "" {
		return nil, nil, &soqlError{Code: "MALFORMED_QUERY", Message: "SOQL statements cannot be empty or null"}
	}
	toks, err := lexSOQL(q)
	if err != nil {
		return nil, nil, err
	}
	parsed, err := parseSOQL(q, toks)
	if err != nil {
		return nil, nil, err
	}
	if opts.MaxInValues > 0 {
		if err := soqlCheckInLists(q, toks, parsed, opts.MaxInValues); err != nil {
			return nil, nil, err
		}
	}
	e := &soqlEngine{src: src, q: q, toks: toks, urlPrefix: "/services/data/v" + apiVersion + "/sobjects/",
		childBatch: opts.ChildBatch, childCursor: opts.ChildCursor}
	if err := e.checkSemiJoins(parsed); err != nil {
		return nil, nil, err
	}
	p, err := e.compile(parsed, nil)
	if err != nil {
		return nil, nil, err
	}
	return e, p, nil
}

// queryError builds an error the way Salesforce words SOQL errors: a newline, the part of the
// offending line around the error (two words either side), a caret under the error, then
// "ERROR at Row:R:Column:C" and the text. toks may be nil (lexer errors), then the whole line is
// echoed.
func soqlQueryError(q string, toks []soqlToken, code string, pos int, text string) *soqlError {
	pos = min(max(pos, 0), len(q))
	lineStart := strings.LastIndexByte(q[:pos], '\n') + 1
	lineEnd := len(q)
	if i := strings.IndexByte(q[pos:], '\n'); i >= 0 {
		lineEnd = pos + i
	}
	lineNo := strings.Count(q[:lineStart], "\n") + 1
	col := utf8.RuneCountInString(q[lineStart:pos]) + 1

	from, to := lineStart, lineEnd
	if toks != nil {
		from, to = soqlEchoWindow(toks, pos, lineStart, lineEnd)
	}
	caret := strings.Repeat(" ", utf8.RuneCountInString(q[from:pos])) + "^"
	msg := "\n" + strings.TrimRight(q[from:to], "\r") + "\n" + caret + "\nERROR at Row:" + strconv.Itoa(lineNo) +
		":Column:" + strconv.Itoa(col) + "\n" + text
	return &soqlError{Code: code, Message: msg}
}

// echoWindow returns the byte range of the line [lineStart, lineEnd) that Salesforce echoes: from
// the second word before the error to the end of the second word after it (punctuation does not
// count as a word).
func soqlEchoWindow(toks []soqlToken, pos, lineStart, lineEnd int) (int, int) {
	at := len(toks) - 1
	for i, t := range toks {
		if t.pos >= pos {
			at = i
			break
		}
	}
	isWord := func(t soqlToken) bool {
		return t.kind != tkLParen && t.kind != tkRParen && t.kind != tkComma && t.kind != tkOp && t.kind != tkEOF
	}
	from := pos
	for i, words := at-1, 0; i >= 0 && toks[i].pos >= lineStart && words < 2; i-- {
		from = toks[i].pos
		if isWord(toks[i]) {
			words++
		}
	}
	to := max(pos, toks[at].end)
	for i, words := at+1, 0; i < len(toks) && toks[i].kind != tkEOF && toks[i].end <= lineEnd && words < 2; i++ {
		to = toks[i].end
		if isWord(toks[i]) {
			words++
		}
	}
	return min(from, pos), min(max(to, pos), lineEnd)
}

// soqlIDAlphabet encodes, per 5-character block of a 15-character id, which characters are upper
// case; the three resulting characters make the 18-character case-safe id.
const soqlIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// id18 returns the 18-character form of a 15-character id; other inputs are returned unchanged.
func soqlId18(id string) string {
	if len(id) != 15 {
		return id
	}
	var suffix [3]byte
	for block := range 3 {
		bits := 0
		for j := range 5 {
			if c := id[block*5+j]; c >= 'A' && c <= 'Z' {
				bits |= 1 << j
			}
		}
		suffix[block] = soqlIDAlphabet[bits]
	}
	return id + string(suffix[:])
}

// idKey returns the case-correct 15-character form of a 15- or 18-character id, used to compare
// ids: an 18-character id is case-insensitive because its suffix restores the case of the first
// 15. ok is false when s is not an id.
func soqlIdKey(s string) (key string, ok bool) {
	if len(s) != 15 && len(s) != 18 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if !soqlIsDigit(s[i]) && !(s[i]|0x20 >= 'a' && s[i]|0x20 <= 'z') {
			return "", false
		}
	}
	if len(s) == 15 {
		return s, true
	}
	var b [15]byte
	copy(b[:], s[:15])
	for block := range 3 {
		c := s[15+block]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		bits := strings.IndexByte(soqlIDAlphabet, c)
		if bits < 0 {
			return s[:15], true
		}
		for j := range 5 {
			k := block*5 + j
			if soqlIsDigit(b[k]) {
				continue
			}
			if bits&(1<<j) != 0 {
				b[k] &^= 0x20
			} else {
				b[k] |= 0x20
			}
		}
	}
	return string(b[:]), true
}

// soqlCheckInLists refuses a query with an IN list longer than max values. The SOQL limits page
// states "Maximum number of junction IDs: 500 per query"; whether that is this limit is not
// certain, so only the strict profile applies it (docs/salesforce-behaviour.md).
func soqlCheckInLists(q string, toks []soqlToken, parsed *soqlQuery, max int) error {
	var walk func(n soqlCondNode) error
	var walkQuery func(sq *soqlQuery) error
	walk = func(n soqlCondNode) error {
		switch n := n.(type) {
		case *soqlBoolNode:
			for _, t := range n.terms {
				if err := walk(t); err != nil {
					return err
				}
			}
		case *soqlNotNode:
			return walk(n.term)
		case *soqlCmpNode:
			if len(n.values) > max {
				return soqlQueryError(q, toks, "MALFORMED_QUERY", n.pos,
					"The IN list has "+strconv.Itoa(len(n.values))+" values; a query takes at most "+strconv.Itoa(max)+".")
			}
			if n.sub != nil {
				return walkQuery(n.sub)
			}
		}
		return nil
	}
	walkQuery = func(sq *soqlQuery) error {
		for _, item := range sq.items {
			if item.sub != nil {
				if err := walkQuery(item.sub); err != nil {
					return err
				}
			}
		}
		if sq.where != nil {
			return walk(sq.where)
		}
		return nil
	}
	return walkQuery(parsed)
}
