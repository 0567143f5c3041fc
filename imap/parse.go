package imap

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
)

// maxDepth bounds parenthesis nesting in command arguments (search keys);
// deeper input is answered BAD, never recursed into.
const maxDepth = 100

// parser reads command arguments from a complete command (literals inline,
// see command). The first error sticks; methods then return zero values.
type parser struct {
	b     []byte
	pos   int
	err   error
	depth int
	utf8  bool // mailbox names are UTF-8 (UTF8=ACCEPT or IMAP4rev2 enabled)
	// badName is set when a mailbox name was not valid modified UTF-7.
	badName bool
}

func newParser(b []byte) *parser { return &parser{b: b} }

// badArgs is the error of a malformed command: answered BAD with its text.
type badArgs string

func (e badArgs) Error() string { return string(e) }

func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = badArgs(fmt.Sprintf(format, args...))
	}
}

func (p *parser) peek() byte {
	if p.err != nil || p.pos >= len(p.b) {
		return 0
	}
	return p.b[p.pos]
}

func (p *parser) atEnd() bool { return p.err == nil && p.pos >= len(p.b) }

// end requires the arguments to be used up.
func (p *parser) end() {
	if p.err == nil && p.pos < len(p.b) {
		p.fail("Unexpected text after arguments: %q", clip(p.b[p.pos:]))
	}
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// consume skips c if it is next.
func (p *parser) consume(c byte) bool {
	if p.peek() == c && p.err == nil && p.pos < len(p.b) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(c byte) {
	if !p.consume(c) && p.err == nil {
		if p.pos >= len(p.b) {
			p.fail("Missing %q", c)
		} else {
			p.fail("Expected %q at %q", c, clip(p.b[p.pos:]))
		}
	}
}

func (p *parser) sp() { p.expect(' ') }

// atom reads an atom (may be empty only on error).
func (p *parser) atom() string {
	if p.err != nil {
		return ""
	}
	start := p.pos
	for p.pos < len(p.b) && isAtomChar(p.b[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		p.fail("Expected an atom")
		return ""
	}
	return string(p.b[start:p.pos])
}

// flag reads a flag: an atom, or "\" atom (or "\*" where wildcard is true).
func (p *parser) flag(wildcard bool) string {
	if p.consume('\\') {
		if wildcard && p.consume('*') {
			return `\*`
		}
		return `\` + p.atom()
	}
	return p.atom()
}

// number reads a 32-bit number.
func (p *parser) number() uint32 {
	n := p.number64()
	if n > 1<<32-1 {
		p.fail("Number out of range")
		return 0
	}
	return uint32(n)
}

// number64 reads a 63-bit number.
func (p *parser) number64() uint64 {
	if p.err != nil {
		return 0
	}
	start := p.pos
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		p.fail("Expected a number")
		return 0
	}
	n, err := strconv.ParseUint(string(p.b[start:p.pos]), 10, 63)
	if err != nil {
		p.fail("Number out of range")
		return 0
	}
	return n
}

// literal reads "{n}CRLF" and n bytes (the reader normalised every
// announcement to that form). literal8 accepts a leading "~".
func (p *parser) literal(literal8 bool) ([]byte, bool) {
	if p.err != nil {
		return nil, false
	}
	bin := false
	if literal8 && p.consume('~') {
		bin = true
	}
	p.expect('{')
	n := p.number64()
	p.expect('}')
	p.expect('\r')
	p.expect('\n')
	if p.err != nil {
		return nil, false
	}
	if uint64(len(p.b)-p.pos) < n {
		p.fail("Truncated literal")
		return nil, false
	}
	b := p.b[p.pos : p.pos+int(n)]
	p.pos += int(n)
	return b, bin
}

// quoted reads a quoted string: UTF-8 allowed (RFC 9051), no CR, LF or NUL,
// only \" and \\ escaped.
func (p *parser) quoted() string {
	p.expect('"')
	var b []byte
	for p.err == nil {
		if p.pos >= len(p.b) {
			p.fail("Unterminated quoted string")
			return ""
		}
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '"':
			return string(b)
		case '\\':
			if p.pos >= len(p.b) || (p.b[p.pos] != '"' && p.b[p.pos] != '\\') {
				p.fail("Invalid escape in quoted string")
				return ""
			}
			b = append(b, p.b[p.pos])
			p.pos++
		case '\r', '\n', 0:
			p.fail("Invalid character in quoted string")
			return ""
		default:
			b = append(b, c)
		}
	}
	return ""
}

// str reads a string (quoted or literal).
func (p *parser) str() string {
	switch p.peek() {
	case '"':
		return p.quoted()
	case '{':
		b, _ := p.literal(false)
		return string(b)
	}
	p.fail("Expected a string")
	return ""
}

// astring reads an atom, a string, or (as a client may send) resp-specials.
func (p *parser) astring() string { return p.strOrRun(isAStringChar, "Expected a string") }

// strOrRun reads a string, or else a non-empty run of bytes for which ok
// holds (failing with msg when there is none).
func (p *parser) strOrRun(ok func(byte) bool, msg string) string {
	switch p.peek() {
	case '"', '{':
		return p.str()
	}
	if p.err != nil {
		return ""
	}
	start := p.pos
	for p.pos < len(p.b) && ok(p.b[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		p.fail("%s", msg)
		return ""
	}
	return string(p.b[start:p.pos])
}

// nstring reads NIL or a string; ok is false for NIL.
func (p *parser) nstring() (string, bool) {
	if p.peek() == 'N' || p.peek() == 'n' {
		save := p.pos
		if a := p.atom(); strings.EqualFold(a, "NIL") {
			return "", false
		}
		p.pos, p.err = save, nil
	}
	return p.str(), true
}

// listMailbox reads a LIST pattern: list-chars or a string.
func (p *parser) listMailbox() string { return p.strOrRun(isListChar, "Expected a mailbox pattern") }

// mailbox reads a mailbox name and decodes it to UTF-8: modified UTF-7
// (RFC 3501 section 5.1.3) unless UTF-8 names are on. NUL and other
// controls are refused.
func (p *parser) mailbox() string {
	raw := p.astring()
	if p.err != nil {
		return ""
	}
	return p.decodeName(raw)
}

func (p *parser) decodeName(raw string) string {
	if strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		p.fail("Invalid character in mailbox name")
		return ""
	}
	if !utf8.ValidString(raw) {
		p.fail("Mailbox name is not valid UTF-8")
		return ""
	}
	if strings.EqualFold(raw, "INBOX") {
		return "INBOX"
	}
	name, err := decodeMUTF7(raw)
	if err != nil {
		// Not modified UTF-7: in UTF-8 mode (RFC 9051) the name as it is;
		// otherwise a name no mailbox has (NO), which CREATE refuses.
		p.badName = !p.utf8
		return raw
	}
	return name
}

// list parses "(" item *(SP item) ")" calling item for each; empty lists
// are allowed when empty is true.
func (p *parser) list(empty bool, item func()) {
	p.expect('(')
	if p.err != nil {
		return
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		p.fail("Too deeply nested")
		return
	}
	if p.consume(')') {
		if !empty {
			p.fail("Empty list")
		}
		return
	}
	for p.err == nil {
		item()
		if p.consume(')') {
			return
		}
		p.sp()
	}
}

// flagList reads "(" flags ")".
func (p *parser) flagList() []imap.Flag {
	var fs []imap.Flag
	p.list(true, func() { fs = append(fs, imap.Flag(p.flag(false))) })
	return fs
}

// flags reads a flag list, or (STORE allows it) flags without parentheses.
func (p *parser) flags() []imap.Flag {
	if p.peek() == '(' {
		return p.flagList()
	}
	fs := []imap.Flag{imap.Flag(p.flag(false))}
	for p.consume(' ') {
		fs = append(fs, imap.Flag(p.flag(false)))
	}
	return fs
}

// numSet reads a sequence set (or "$", RFC 5182) as a SeqSet or UIDSet.
func (p *parser) numSet(uid bool) imap.NumSet {
	if p.consume('$') {
		// The saved result is kept by UID, whichever form refers to it.
		return imap.SearchRes()
	}
	var ranges [][2]uint32
	for p.err == nil {
		a := p.seqNum()
		b := a
		if p.consume(':') {
			b = p.seqNum()
		}
		ranges = append(ranges, [2]uint32{a, b})
		if !p.consume(',') {
			break
		}
	}
	if p.err != nil {
		return nil
	}
	if uid {
		var s imap.UIDSet
		for _, r := range ranges {
			s = append(s, imap.UIDRange{Start: imap.UID(r[0]), Stop: imap.UID(r[1])})
		}
		return s
	}
	var s imap.SeqSet
	for _, r := range ranges {
		s = append(s, imap.SeqRange{Start: r[0], Stop: r[1]})
	}
	return s
}

// seqNum reads a nz-number or "*" (0).
func (p *parser) seqNum() uint32 {
	if p.consume('*') {
		return 0
	}
	n := p.number()
	if n == 0 && p.err == nil {
		p.fail("Sequence numbers start at 1")
	}
	return n
}

// isSet reports whether the next argument looks like a sequence set.
func (p *parser) isSet() bool {
	c := p.peek()
	return c == '$' || c == '*' || (c >= '0' && c <= '9')
}

var months = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// date reads a date (RFC 9051: date-day "-" date-month "-" date-year,
// optionally quoted).
func (p *parser) date() time.Time {
	q := p.consume('"')
	d := int(p.number())
	p.expect('-')
	if p.err != nil {
		return time.Time{}
	}
	if p.pos+3 > len(p.b) {
		p.fail("Invalid date")
		return time.Time{}
	}
	mon := strings.ToLower(string(p.b[p.pos : p.pos+3]))
	p.pos += 3
	m := 0
	for i, name := range months {
		if name == mon {
			m = i + 1
		}
	}
	p.expect('-')
	y := int(p.number())
	if q {
		p.expect('"')
	}
	if p.err != nil {
		return time.Time{}
	}
	if m == 0 || d < 1 || d > 31 || y < 1 || y > 9999 {
		p.fail("Invalid date")
		return time.Time{}
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}

// dateTime reads a quoted date-time ("dd-Mon-yyyy hh:mm:ss +zzzz").
func (p *parser) dateTime() time.Time {
	s := p.quoted()
	if p.err != nil {
		return time.Time{}
	}
	t, err := time.Parse("_2-Jan-2006 15:04:05 -0700", s)
	if err != nil {
		if t, err = time.Parse("02-Jan-2006 15:04:05 -0700", s); err != nil {
			p.fail("Invalid date-time")
			return time.Time{}
		}
	}
	return t
}

// section reads a FETCH section spec after "[" up to and including "]":
// part numbers then HEADER, HEADER.FIELDS[.NOT] (list), TEXT or MIME.
func (p *parser) section() ([]int, imap.PartSpecifier, []string, bool) {
	var part []int
	var spec imap.PartSpecifier
	var fields []string
	not := false
	for p.err == nil && p.peek() >= '0' && p.peek() <= '9' {
		n := p.number()
		if n == 0 {
			p.fail("Section parts start at 1")
		}
		part = append(part, int(n))
		if !p.consume('.') {
			break
		}
	}
	if p.peek() != ']' && p.err == nil {
		start := p.pos
		for p.pos < len(p.b) && (isAtomChar(p.b[p.pos]) && p.b[p.pos] != '[') {
			p.pos++
		}
		word := strings.ToUpper(string(p.b[start:p.pos]))
		switch word {
		case "HEADER":
			spec = imap.PartSpecifierHeader
		case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
			spec = imap.PartSpecifierHeader
			not = word == "HEADER.FIELDS.NOT"
			p.sp()
			p.list(false, func() { fields = append(fields, p.astring()) })
		case "TEXT":
			spec = imap.PartSpecifierText
		case "MIME":
			if len(part) == 0 {
				p.fail("MIME needs a part number")
			}
			spec = imap.PartSpecifierMIME
		default:
			p.fail("Unknown section %q", word)
		}
		if fields == nil && word != "HEADER" && len(part) > 0 && spec == imap.PartSpecifierHeader && word == "" {
			p.fail("Invalid section")
		}
	}
	p.expect(']')
	return part, spec, fields, not
}

// failNow records a BAD error and returns it.
func (p *parser) failNow(text string) error {
	p.fail("%s", text)
	return p.err
}
