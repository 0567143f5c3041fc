// Package sieve is a Sieve mail filtering language (RFC 5228) parser and
// interpreter, written for Stamp.
//
// Implemented: the base language (RFC 5228) with fileinto, envelope and
// encoded-character, plus the extensions fileinto :create (RFC 5490
// mailbox), reject and ereject (RFC 5429), copy (RFC 3894), imap4flags
// (RFC 5232), body (RFC 5173), variables (RFC 5229), subaddress
// (RFC 5233), relational (RFC 5231), date (RFC 5260), regex
// (draft-ietf-sieve-regex, Go RE2 syntax, so matching stays linear) and
// vacation (RFC 5230).
//
// Parse turns a script into a *Script or an *Error that names the line
// and column. Run evaluates a script against a message and returns the
// actions to take; it is bounded by Limits (steps, actions, redirects,
// variable sizes and the context's deadline), so a hostile script cannot
// hold up delivery: when a limit is hit Run returns ErrLimit and the
// caller keeps the message (RFC 5228 section 2.10.6).
package sieve

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// MaxScriptSize bounds the script text Parse accepts.
const MaxScriptSize = 1 << 20

// maxNesting bounds block and test nesting, so that parsing stays within a
// small stack.
const maxNesting = 64

// Error is a syntax or validation error at a position of the script.
type Error struct {
	Line, Column int
	Msg          string
}

// Error implements error as "line L, column C: message".
func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Pos is a position in the script.
type Pos struct{ Line, Column int }

func (p Pos) errorf(format string, a ...any) *Error {
	return &Error{Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, a...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tTag
	tNumber
	tString
	tLBracket
	tRBracket
	tLParen
	tRParen
	tLBrace
	tRBrace
	tComma
	tSemicolon
)

var tokNames = map[tokKind]string{
	tEOF: "end of script", tIdent: "identifier", tTag: "tag", tNumber: "number", tString: "string",
	tLBracket: `"["`, tRBracket: `"]"`, tLParen: `"("`, tRParen: `")"`, tLBrace: `"{"`, tRBrace: `"}"`,
	tComma: `","`, tSemicolon: `";"`,
}

type token struct {
	kind tokKind
	text string // identifier (lower case), tag without ':', string value
	num  int64
	pos  Pos
}

func (t token) describe() string {
	switch t.kind {
	case tIdent:
		return "identifier " + strconv.Quote(t.text)
	case tTag:
		return "tag :" + t.text
	case tString:
		return "string"
	case tNumber:
		return "number"
	}
	return tokNames[t.kind]
}

// lexer splits a script into tokens (RFC 5228 section 8.1).
type lexer struct {
	src  string
	i    int
	line int
	col  int
}

func (l *lexer) pos() Pos { return Pos{l.line, l.col} }

func (l *lexer) advance(n int) {
	for k := 0; k < n && l.i < len(l.src); k++ {
		if l.src[l.i] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.i++
	}
}

func (l *lexer) next() (token, error) {
	for {
		for l.i < len(l.src) && strings.IndexByte(" \t\r\n", l.src[l.i]) >= 0 {
			l.advance(1)
		}
		if l.i >= len(l.src) {
			return token{kind: tEOF, pos: l.pos()}, nil
		}
		if l.src[l.i] == '#' {
			for l.i < len(l.src) && l.src[l.i] != '\n' {
				l.advance(1)
			}
			continue
		}
		if strings.HasPrefix(l.src[l.i:], "/*") {
			p := l.pos()
			end := strings.Index(l.src[l.i+2:], "*/")
			if end < 0 {
				return token{}, p.errorf("unterminated comment")
			}
			l.advance(end + 4)
			continue
		}
		break
	}
	p := l.pos()
	c := l.src[l.i]
	if k := singleToken(c); k != tEOF {
		l.advance(1)
		return token{kind: k, pos: p}, nil
	}
	switch {
	case c == '"':
		return l.quoted(p)
	case c == ':':
		l.advance(1)
		id := l.ident()
		if id == "" {
			return token{}, p.errorf("expected a tag name after ':'")
		}
		return token{kind: tTag, text: strings.ToLower(id), pos: p}, nil
	case c >= '0' && c <= '9':
		j := l.i
		for j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(l.src[l.i:j], 10, 64)
		if err != nil || n > 1<<40 {
			return token{}, p.errorf("number too large")
		}
		l.advance(j - l.i)
		if l.i < len(l.src) {
			// Quantifiers (RFC 5228 section 2.4.1).
			switch l.src[l.i] {
			case 'k', 'K':
				n <<= 10
				l.advance(1)
			case 'm', 'M':
				n <<= 20
				l.advance(1)
			case 'g', 'G':
				n <<= 30
				l.advance(1)
			}
		}
		return token{kind: tNumber, num: n, pos: p}, nil
	case isIdentStart(c):
		id := l.ident()
		if strings.EqualFold(id, "text") && l.i < len(l.src) && l.src[l.i] == ':' {
			l.advance(1)
			return l.multiline(p)
		}
		return token{kind: tIdent, text: strings.ToLower(id), pos: p}, nil
	}
	return token{}, p.errorf("unexpected character %q", c)
}

// singleToken returns the kind of a one-character token, tEOF for others.
func singleToken(c byte) tokKind {
	switch c {
	case '[':
		return tLBracket
	case ']':
		return tRBracket
	case '(':
		return tLParen
	case ')':
		return tRParen
	case '{':
		return tLBrace
	case '}':
		return tRBrace
	case ',':
		return tComma
	case ';':
		return tSemicolon
	}
	return tEOF
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (l *lexer) ident() string {
	j := l.i
	for j < len(l.src) && (isIdentStart(l.src[j]) || j > l.i && l.src[j] >= '0' && l.src[j] <= '9') {
		j++
	}
	s := l.src[l.i:j]
	l.advance(j - l.i)
	return s
}

// quoted reads a quoted string: backslash escapes any character (RFC 5228 section 2.4.2).
func (l *lexer) quoted(p Pos) (token, error) {
	l.advance(1)
	var b strings.Builder
	for {
		if l.i >= len(l.src) {
			return token{}, p.errorf("unterminated string")
		}
		c := l.src[l.i]
		switch c {
		case '"':
			l.advance(1)
			return token{kind: tString, text: b.String(), pos: p}, nil
		case '\\':
			if l.i+1 >= len(l.src) {
				return token{}, p.errorf("unterminated string")
			}
			b.WriteByte(l.src[l.i+1])
			l.advance(2)
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

// multiline reads "text:" ... "." (RFC 5228 section 2.4.2), with dot-unstuffing.
func (l *lexer) multiline(p Pos) (token, error) {
	// Rest of the "text:" line: whitespace and an optional comment.
	for l.i < len(l.src) && (l.src[l.i] == ' ' || l.src[l.i] == '\t') {
		l.advance(1)
	}
	if l.i < len(l.src) && l.src[l.i] == '#' {
		for l.i < len(l.src) && l.src[l.i] != '\n' {
			l.advance(1)
		}
	}
	if l.i < len(l.src) && l.src[l.i] == '\r' {
		l.advance(1)
	}
	if l.i >= len(l.src) || l.src[l.i] != '\n' {
		return token{}, l.pos().errorf("expected end of line after text:")
	}
	l.advance(1)
	var b strings.Builder
	for {
		if l.i >= len(l.src) {
			return token{}, p.errorf("unterminated multi-line string (want a line with a single \".\")")
		}
		end := strings.IndexByte(l.src[l.i:], '\n')
		var line string
		if end < 0 {
			line = l.src[l.i:]
			end = len(line)
		} else {
			line = l.src[l.i : l.i+end]
		}
		trimmed := strings.TrimSuffix(line, "\r")
		l.advance(end + 1)
		if trimmed == "." {
			return token{kind: tString, text: b.String(), pos: p}, nil
		}
		if strings.HasPrefix(trimmed, "..") {
			trimmed = trimmed[1:]
		}
		b.WriteString(trimmed)
		b.WriteString("\r\n")
	}
}

// Arg is one argument of a command or test: a tag, a number or a string list
// (a single string is a list of one, with List false).
type Arg struct {
	Pos     Pos
	Tag     string
	Num     int64
	IsNum   bool
	Strings []string
	List    bool
}

func (a Arg) isTag() bool     { return a.Tag != "" }
func (a Arg) isStrings() bool { return !a.IsNum && a.Tag == "" }

// Test is a test with its arguments and nested tests (anyof, allof, not).
type Test struct {
	Pos   Pos
	Name  string
	Args  []Arg
	Tests []*Test

	sorted *args // set by validation
}

// Command is a command with its arguments, test (if, elsif) and block.
type Command struct {
	Pos   Pos
	Name  string
	Args  []Arg
	Test  *Test
	Block []*Command

	sorted *args // set by validation
}

// Script is a parsed and validated Sieve script.
type Script struct {
	Commands   []*Command
	Extensions map[string]bool // from require
	nodes      int
	patterns   sync.Map     // pattern cache key -> *regexp.Regexp (nil value: does not compile)
	cached     atomic.Int64 // entries stored in patterns
}

type parser struct {
	lx    *lexer
	tok   token
	nodes int
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) expect(k tokKind) (token, error) {
	t := p.tok
	if t.kind != k {
		return t, t.pos.errorf("expected %s, found %s", tokNames[k], t.describe())
	}
	return t, p.advance()
}

// Parse parses and validates a script.
func Parse(src string) (*Script, error) {
	if len(src) > MaxScriptSize {
		return nil, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("script larger than %d bytes", MaxScriptSize)}
	}
	p := &parser{lx: &lexer{src: src, line: 1, col: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	cmds, err := p.commands(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.tok.pos.errorf("unexpected %s", p.tok.describe())
	}
	s := &Script{Commands: cmds, Extensions: map[string]bool{}, nodes: p.nodes}
	if err := validate(s); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) commands(depth int) ([]*Command, error) {
	var out []*Command
	for p.tok.kind == tIdent {
		c, err := p.command(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (p *parser) command(depth int) (*Command, error) {
	if depth > maxNesting {
		return nil, p.tok.pos.errorf("blocks nested too deeply")
	}
	p.nodes++
	c := &Command{Pos: p.tok.pos, Name: p.tok.text}
	if err := p.advance(); err != nil {
		return nil, err
	}
	args, err := p.arguments()
	if err != nil {
		return nil, err
	}
	c.Args = args
	if p.tok.kind == tIdent {
		t, err := p.test(depth + 1)
		if err != nil {
			return nil, err
		}
		c.Test = t
	}
	switch p.tok.kind {
	case tSemicolon:
		return c, p.advance()
	case tLBrace:
		if err := p.advance(); err != nil {
			return nil, err
		}
		blk, err := p.commands(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRBrace); err != nil {
			return nil, err
		}
		c.Block = blk
		if c.Block == nil {
			c.Block = []*Command{}
		}
		return c, nil
	}
	return nil, p.tok.pos.errorf("expected \";\" or \"{\" after %s, found %s", c.Name, p.tok.describe())
}

func (p *parser) arguments() ([]Arg, error) {
	var args []Arg
	for {
		t := p.tok
		switch t.kind {
		case tTag:
			args = append(args, Arg{Pos: t.pos, Tag: t.text})
		case tNumber:
			args = append(args, Arg{Pos: t.pos, Num: t.num, IsNum: true})
		case tString:
			args = append(args, Arg{Pos: t.pos, Strings: []string{t.text}})
		case tLBracket:
			list, err := p.stringList()
			if err != nil {
				return nil, err
			}
			args = append(args, Arg{Pos: t.pos, Strings: list, List: true})
			continue
		default:
			return args, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
}

func (p *parser) stringList() ([]string, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	list := []string{}
	for {
		t, err := p.expect(tString)
		if err != nil {
			return nil, err
		}
		list = append(list, t.text)
		if p.tok.kind == tRBracket {
			return list, p.advance()
		}
		if _, err := p.expect(tComma); err != nil {
			return nil, p.tok.pos.errorf("expected \",\" or \"]\" in string list, found %s", p.tok.describe())
		}
	}
}

func (p *parser) test(depth int) (*Test, error) {
	if depth > maxNesting {
		return nil, p.tok.pos.errorf("tests nested too deeply")
	}
	p.nodes++
	t, err := p.expect(tIdent)
	if err != nil {
		return nil, t.pos.errorf("expected a test, found %s", t.describe())
	}
	tt := &Test{Pos: t.pos, Name: t.text}
	if tt.Args, err = p.arguments(); err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		for {
			sub, err := p.test(depth + 1)
			if err != nil {
				return nil, err
			}
			tt.Tests = append(tt.Tests, sub)
			if p.tok.kind == tRParen {
				return tt, p.advance()
			}
			if _, err := p.expect(tComma); err != nil {
				return nil, p.tok.pos.errorf("expected \",\" or \")\" in test list, found %s", p.tok.describe())
			}
		}
	case tIdent:
		// "not" takes a single test without parentheses.
		sub, err := p.test(depth + 1)
		if err != nil {
			return nil, err
		}
		tt.Tests = []*Test{sub}
	}
	return tt, nil
}
