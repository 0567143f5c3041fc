package pop3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/stamp-mail/stamp/core"
)

// retr is RETR msg (RFC 1939 section 5). It streams the message and marks
// it \Seen. It reports whether the session must end (the message could not
// be read after "+OK" was sent).
func (s *session) retr(cmd command) (quit bool) {
	if len(cmd.args) != 1 {
		s.bad++
		s.reply("-ERR usage: RETR msg")
		return false
	}
	i, ok := s.msgArg(cmd.args[0])
	if !ok {
		return false
	}
	size, err := s.size(i)
	if err != nil {
		s.replyErr(err)
		return false
	}
	m := s.drop.msgs[i]
	if quit := s.send(m, fmt.Sprintf("+OK %d octets", size), -1); quit {
		return true
	}
	if !slices.Contains(m.Flags, core.FlagSeen) {
		if _, err := s.srv.core.UpdateFlags(s.ctx, s.user.ID, s.drop.mailbox.ID, []int64{m.ID}, core.FlagsAdd, []string{core.FlagSeen}); err != nil {
			// The message went out; a missing \Seen is not worth failing the command.
			s.log.Warn("marking message seen failed", "uid", m.UID, "err", err)
		} else {
			s.drop.msgs[i].Flags = append(slices.Clone(m.Flags), core.FlagSeen)
		}
	}
	return false
}

// top is TOP msg n (RFC 1939 section 7): the header, the blank line and the
// first n lines of the body. It does not mark the message \Seen.
func (s *session) top(cmd command) (quit bool) {
	if len(cmd.args) != 2 {
		s.bad++
		s.reply("-ERR usage: TOP msg n")
		return false
	}
	i, ok := s.msgArg(cmd.args[0])
	if !ok {
		return false
	}
	n, err := parseNumber(cmd.args[1])
	if err != nil {
		s.reply("-ERR invalid line count")
		return false
	}
	return s.send(s.drop.msgs[i], "+OK top of message follows", n)
}

// send writes status, the message converted for the wire (at most
// bodyLines body lines when bodyLines >= 0) and the terminating ".".
func (s *session) send(m core.Message, status string, bodyLines int) (quit bool) {
	rc, err := s.srv.core.OpenMessage(s.ctx, m)
	if err != nil {
		s.replyErr(err)
		return false
	}
	defer rc.Close()
	s.reply("%s", status)
	cv := newConverter(s.w, true, bodyLines)
	if err := cv.copyFrom(rc); err != nil {
		// "+OK" is out and part of the message may be too: the only honest
		// way to fail now is to drop the connection (nothing is deleted).
		s.log.Error("reading message failed during RETR/TOP", "uid", m.UID, "err", err)
		return true
	}
	cv.finish()
	s.reply(".")
	return false
}

var (
	crlf = []byte("\r\n")
	dot  = []byte(".")
)

// converter turns stored message bytes into their POP3 wire form (RFC 1939
// section 3): every line ends in CRLF (a bare LF becomes CRLF, a CR before
// LF is kept once), an unterminated last line gets a CRLF, and with
// stuffing on, a line beginning with "." gets another "." in front. A lone
// CR that is not followed by LF is passed through. n counts the octets of
// the converted message without the stuffing dots, which is the size
// STAT/LIST report and the client receives after removing them.
type converter struct {
	w         io.Writer
	stuff     bool
	bodyLimit int // body lines to send after the header; -1: all

	n         int64
	bol       bool // at the beginning of a line
	lineLen   int  // octets of the current line sent so far
	cr        bool // a CR was held back: it may precede a LF
	inBody    bool // the blank line ending the header was sent
	bodyLines int
	done      bool // bodyLimit reached; the rest is skipped
	werr      error
}

func newConverter(w io.Writer, stuff bool, bodyLimit int) *converter {
	return &converter{w: w, stuff: stuff, bodyLimit: bodyLimit, bol: true}
}

func (c *converter) emit(p []byte) {
	if c.werr == nil && len(p) > 0 {
		_, c.werr = c.w.Write(p)
	}
	c.n += int64(len(p))
}

// write converts one chunk; chunks may split lines anywhere.
func (c *converter) write(p []byte) {
	for len(p) > 0 && !c.done {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if len(seg) > 0 {
			if c.cr { // the held CR was not before a LF: a bare CR, kept
				c.emit([]byte{'\r'})
				c.cr = false
				c.lineLen++
			}
			if c.bol && c.stuff && seg[0] == '.' {
				if c.werr == nil {
					_, c.werr = c.w.Write(dot) // stuffing: not counted
				}
			}
			c.bol = false
			if seg[len(seg)-1] == '\r' {
				seg = seg[:len(seg)-1]
				c.cr = true
			}
			c.emit(seg)
			c.lineLen += len(seg)
		}
		if i < 0 {
			return
		}
		c.endLine()
		p = p[i+1:]
	}
}

// endLine writes CRLF for a LF in the input and tracks the header/body split.
func (c *converter) endLine() {
	empty := c.lineLen == 0 // nothing but an optional CR since the last line ending
	c.cr = false
	c.lineLen = 0
	c.emit(crlf)
	c.bol = true
	if !c.inBody {
		if empty {
			c.inBody = true
		}
	} else {
		c.bodyLines++
	}
	if c.bodyLimit >= 0 && c.inBody && c.bodyLines >= c.bodyLimit {
		c.done = true
	}
}

// copyFrom converts everything r yields.
func (c *converter) copyFrom(r io.Reader) error {
	buf := make([]byte, 32<<10)
	for !c.done {
		n, err := r.Read(buf)
		c.write(buf[:n])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// finish terminates an unterminated last line (dropping a trailing CR) and
// returns the converted size.
func (c *converter) finish() int64 {
	if !c.done && !c.bol {
		c.cr = false
		c.emit(crlf)
		c.bol = true
	}
	c.cr = false
	return c.n
}
