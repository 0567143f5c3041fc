package managesieve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The wire layer (RFC 5804 section 4): a command is a line of atoms,
// quoted strings and literals ({n+} or {n} followed by CRLF and n octets,
// after which the line goes on); responses are OK, NO and BYE with an
// optional response code and a human-readable string.

// maxLineBytes bounds one command line (without literals).
const maxLineBytes = 8 << 10

// maxLiteral bounds a literal: a script plus room.
const maxLiteral = 1 << 20

// errSyntax is a command the parser cannot read; it is answered NO.
var errSyntax = errors.New("syntax error")

// token is one element of a command: an atom or a string.
type token struct {
	atom   bool
	number bool
	value  string
}

// reader reads commands from a client.
type reader struct {
	br *bufio.Reader
}

// readLine reads up to CRLF (or LF), bounded by maxLineBytes.
func (r *reader) readLine() (string, error) {
	var b []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > maxLineBytes {
			// Drain the rest of the line so the session can answer.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.br.ReadSlice('\n')
			}
			return "", fmt.Errorf("%w: line too long", errSyntax)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// readCommand reads one command: its tokens, literals included.
func (r *reader) readCommand() ([]token, error) {
	line, err := r.readLine()
	if err != nil {
		return nil, err
	}
	var toks []token
	for {
		line = strings.TrimLeft(line, " ")
		if line == "" {
			return toks, nil
		}
		switch c := line[0]; {
		case c == '"':
			s, rest, err := unquote(line)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{value: s})
			line = rest
		case c == '{':
			end := strings.IndexByte(line, '}')
			if end < 0 || end != len(line)-1 {
				return nil, fmt.Errorf("%w: a literal must end the line", errSyntax)
			}
			spec := strings.TrimSuffix(line[1:end], "+")
			n, err := strconv.Atoi(spec)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: bad literal length", errSyntax)
			}
			if n > maxLiteral {
				return nil, errTooBig
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r.br, buf); err != nil {
				return nil, err
			}
			toks = append(toks, token{value: string(buf)})
			if line, err = r.readLine(); err != nil {
				return nil, err
			}
		default:
			end := strings.IndexAny(line, " \"{")
			if end < 0 {
				end = len(line)
			}
			a := line[:end]
			_, nerr := strconv.ParseUint(a, 10, 32)
			toks = append(toks, token{atom: true, number: nerr == nil, value: a})
			line = line[end:]
		}
	}
}

// errTooBig is a literal over maxLiteral.
var errTooBig = errors.New("literal too big")

// unquote reads a quoted string at the start of s (RFC 5804 section 4:
// backslash quotes '"' and '\').
func unquote(s string) (string, string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", "", fmt.Errorf("%w: bad escape in quoted string", errSyntax)
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", fmt.Errorf("%w: unterminated quoted string", errSyntax)
}

// quote returns s as a quoted string (with '"' and '\' escaped), or a
// literal when it holds line breaks or is long (RFC 5804 section 4).
func quote(s string) string {
	if len(s) < 1024 && !strings.ContainsAny(s, "\r\n\x00") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return "{" + strconv.Itoa(len(s)) + "}\r\n" + s
}

// response formats "OK|NO|BYE [(CODE)] [text]".
func response(kind, code, text string) string {
	var b strings.Builder
	b.WriteString(kind)
	if code != "" {
		b.WriteString(" (" + code + ")")
	}
	if text != "" {
		b.WriteString(" " + quote(text))
	}
	b.WriteString("\r\n")
	return b.String()
}
