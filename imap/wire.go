package imap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Wire limits. RFC 9051 section 4 sets no line length limit; RFC 7162
// section 4 recommends accepting lines of at least 8192 octets.
const (
	// maxLine bounds one line of a command (between literals).
	maxLine = 64 << 10
	// maxDiscard is how much of an overlong line is skipped before the
	// connection is closed instead of answered.
	maxDiscard = 1 << 20
	// maxLiteral bounds a literal in any command but APPEND (RFC 7888
	// section 4 lets the server choose; LOGIN, SEARCH and ID fit easily).
	maxLiteral = 64 << 10
	// maxCommand bounds a whole command outside APPEND literals.
	maxCommand = 256 << 10
	// maxLiteralMinus is the LITERAL- bound on non-synchronizing literals
	// (RFC 7888 section 5); we advertise LITERAL+, which lifts it.
	maxLiteralMinus = 4096
)

var (
	errLineTooLong = errors.New("line too long")
	errFlood       = errors.New("line too long to skip")
)

// command is one complete command as read from the wire: its tag, its name
// (upper case, "UID FETCH" for UID commands) and its arguments with any
// literals inline in their {n}CRLF form, so the parser needs no I/O.
type command struct {
	tag  string
	name string
	args []byte

	// bad, when set, is the BAD text to answer instead of running it.
	bad string
	// answered means the reader already answered the command (a refused
	// synchronizing literal): nothing is left to do.
	answered bool
}

// cmdReader reads commands; it owns the buffered reader of the connection.
type cmdReader struct {
	br   *bufio.Reader
	conn net.Conn
	// cont sends a continuation request ("+ ...") for a synchronizing literal.
	cont func(text string) error
	// refuse answers a command whose synchronizing literal is refused.
	refuse func(tag, resp string) error
	// appendLimit bounds APPEND literals.
	appendLimit int64
	// lineTimeout bounds the reading of each line and literal chunk after
	// the first line of a command.
	lineTimeout time.Duration
}

// deadline extends the read deadline by lineTimeout.
func (r *cmdReader) deadline() {
	if r.conn != nil {
		r.conn.SetReadDeadline(time.Now().Add(r.lineTimeout))
	}
}

// readLine reads one line (CRLF or LF) into dst, without the line ending.
func (r *cmdReader) readLine(dst []byte) ([]byte, error) {
	start := len(dst)
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(dst)-start+len(chunk) > maxLine {
			if err == nil || errors.Is(err, bufio.ErrBufferFull) {
				if derr := r.discardLine(int64(len(chunk))); derr != nil {
					return dst, derr
				}
			}
			return dst, errLineTooLong
		}
		dst = append(dst, chunk...)
		if err == nil {
			dst = dst[:len(dst)-1]
			if len(dst) > start && dst[len(dst)-1] == '\r' {
				dst = dst[:len(dst)-1]
			}
			return dst, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return dst, err
		}
	}
}

// discardLine skips the rest of an overlong line (up to maxDiscard).
func (r *cmdReader) discardLine(done int64) error {
	for done < maxDiscard {
		chunk, err := r.br.ReadSlice('\n')
		done += int64(len(chunk))
		if err == nil {
			return nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
	return errFlood
}

// literalAt reports whether line ends with a literal announcement:
// "{n}", "{n+}" or "~{n}" (RFC 3516 literal8). It returns the size, whether
// it is non-synchronizing and where the announcement starts.
func literalAt(line []byte) (n int64, nonSync bool, at int, ok bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false, 0, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false, 0, false
	}
	digits := line[open+1 : len(line)-1]
	if len(digits) > 0 && digits[len(digits)-1] == '+' {
		nonSync = true
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return 0, false, 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false, 0, false
		}
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		return 0, false, 0, false
	}
	return n, nonSync, open, true
}

// read reads the next command. An I/O error ends the connection; a
// malformed command comes back with bad set.
func (r *cmdReader) read() (*command, error) {
	line, err := r.readLine(nil)
	if errors.Is(err, errLineTooLong) {
		tag := "*"
		if sp := bytes.IndexByte(line, ' '); sp > 0 && validTag(line[:sp]) {
			tag = string(line[:sp])
		}
		return &command{tag: tag, bad: "Command line too long"}, nil
	}
	if err != nil {
		return nil, err
	}
	c := &command{}
	// tag SP name [SP args]
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		if len(line) == 0 {
			return &command{tag: "*", bad: "Empty command line"}, nil
		}
		return &command{tag: "*", bad: "Missing command"}, nil
	}
	tag := line[:sp]
	if !validTag(tag) {
		return &command{tag: "*", bad: "Invalid tag"}, nil
	}
	c.tag = string(tag)
	rest := line[sp+1:]
	name, rest := cutAtom(rest)
	c.name = string(bytes.ToUpper(name))
	if c.name == "UID" && len(rest) > 0 {
		sub, r2 := cutAtom(rest)
		c.name = "UID " + string(bytes.ToUpper(sub))
		rest = r2
	}
	if c.name == "" {
		c.bad = "Missing command"
	}
	limit := int64(maxLiteral)
	if c.name == "APPEND" {
		limit = r.appendLimit
	}
	args := append([]byte(nil), rest...)
	total := int64(len(args))
	for {
		n, nonSync, at, ok := literalAt(args)
		if !ok {
			break
		}
		if n > limit || total+n > limit+maxCommand {
			if nonSync {
				// The client sends the bytes anyway: skip them if that is
				// cheap, else give up on the connection.
				if n > maxDiscard+limit {
					return nil, fmt.Errorf("non-synchronizing literal of %d bytes over the limit", n)
				}
				r.deadline()
				if _, err := io.CopyN(io.Discard, r.br, n); err != nil {
					return nil, err
				}
				if _, err := r.readLine(nil); err != nil && !errors.Is(err, errLineTooLong) {
					return nil, err
				}
				if c.name == "APPEND" {
					return &command{tag: c.tag, name: c.name, bad: "", answered: true}, r.refuse(c.tag, "NO [TOOBIG] Literal too large")
				}
				if resp, ok := literalRefusal(c.name); ok {
					return &command{tag: c.tag, name: c.name, answered: true}, r.refuse(c.tag, resp)
				}
				return &command{tag: c.tag, bad: "Literal too large"}, nil
			}
			// RFC 7888 section 4: refuse a synchronizing literal with a
			// tagged response; the client then sends no literal.
			resp := "BAD Literal too large"
			if c.name == "APPEND" {
				resp = "NO [TOOBIG] Message too large"
			} else if r, ok := literalRefusal(c.name); ok {
				resp = r
			}
			return &command{tag: c.tag, name: c.name, answered: true}, r.refuse(c.tag, resp)
		}
		// Normalise the announcement to "{n}" so the parser sees one form.
		args = append(args[:at], []byte("{"+strconv.FormatInt(n, 10)+"}\r\n")...)
		if !nonSync {
			if err := r.cont("Ready for literal data"); err != nil {
				return nil, err
			}
		}
		start := len(args)
		args = append(args, make([]byte, n)...)
		for off := int64(0); off < n; {
			r.deadline()
			m, err := r.br.Read(args[start+int(off):])
			off += int64(m)
			if err != nil && off < n {
				return nil, err
			}
		}
		total += n
		r.deadline()
		more, err := r.readLine(args)
		if errors.Is(err, errLineTooLong) {
			return &command{tag: c.tag, bad: "Command line too long"}, nil
		}
		if err != nil {
			return nil, err
		}
		total += int64(len(more) - len(args))
		args = more
		if total > limit+maxCommand {
			return &command{tag: c.tag, bad: "Command too long"}, nil
		}
	}
	c.args = args
	return c, nil
}

// validTag reports whether t is a valid tag: ASTRING-CHARs except "+"
// (RFC 9051 section 9).
func validTag(t []byte) bool {
	for _, ch := range t {
		if ch == '+' || !isAStringChar(ch) {
			return false
		}
	}
	return len(t) > 0
}

// cutAtom splits an atom off the front of b and skips one following SP.
func cutAtom(b []byte) (atom, rest []byte) {
	i := 0
	for i < len(b) && isAtomChar(b[i]) {
		i++
	}
	atom, rest = b[:i], b[i:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return atom, rest
}

// isAtomChar: any CHAR except atom-specials (RFC 9051 section 9).
func isAtomChar(c byte) bool {
	if c <= 0x1f || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// isAStringChar: ATOM-CHAR or resp-specials ("]").
func isAStringChar(c byte) bool { return isAtomChar(c) || c == ']' }

// isListChar: ATOM-CHAR or list-wildcards or resp-specials.
func isListChar(c byte) bool { return isAStringChar(c) || c == '%' || c == '*' }
