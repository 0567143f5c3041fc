package imap

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
)

// writeTimeout bounds each write to the client. RFC 9051 sets no floor for
// server writes; a client that reads nothing for this long is gone.
const writeTimeout = 5 * time.Minute

// deadlineWriter writes to a connection with writeTimeout per write.
type deadlineWriter struct{ c net.Conn }

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	return d.c.Write(p)
}

// respWriter encodes responses onto the connection. The session's command
// goroutine and its reader (continuation requests) share it: each response
// is written between lock and unlock, so lines never interleave. Encoding
// methods assume the lock is held; the first write error sticks and ends
// the session.
type respWriter struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	err  error
	utf8 bool // mailbox names and strings may be UTF-8 (UTF8=ACCEPT / IMAP4rev2)
}

func newRespWriter(c net.Conn) *respWriter {
	return &respWriter{bw: bufio.NewWriterSize(deadlineWriter{c}, 4096)}
}

// newBufWriter buffers writes to w.
func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriter(w) }

// failed returns the sticky write error (taking the lock).
func (w *respWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *respWriter) lock()   { w.mu.Lock() }
func (w *respWriter) unlock() { w.mu.Unlock() }

// reset points the writer at a new connection (after STARTTLS).
func (w *respWriter) reset(c net.Conn) {
	w.lock()
	defer w.unlock()
	w.bw.Reset(deadlineWriter{c})
}

func (w *respWriter) raw(s string) {
	if w.err == nil {
		_, w.err = w.bw.WriteString(s)
	}
}

func (w *respWriter) bytes(b []byte) {
	if w.err == nil {
		_, w.err = w.bw.Write(b)
	}
}

func (w *respWriter) byte1(c byte) {
	if w.err == nil {
		w.err = w.bw.WriteByte(c)
	}
}

func (w *respWriter) sp()   { w.byte1(' ') }
func (w *respWriter) crlf() { w.raw("\r\n") }

func (w *respWriter) num(n uint32) {
	var buf [12]byte
	w.bytes(strconv.AppendUint(buf[:0], uint64(n), 10))
}

func (w *respWriter) num64(n uint64) {
	var buf [24]byte
	w.bytes(strconv.AppendUint(buf[:0], n, 10))
}

// flush sends what is buffered.
func (w *respWriter) flush() error {
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	return w.err
}

// quotable reports whether s can go in a quoted string: no CR, LF, NUL and
// no 8-bit unless UTF-8 is allowed (and valid), and not too long.
func (w *respWriter) quotable(s string) bool {
	if len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
		if c >= 0x80 && !w.utf8 {
			return false
		}
	}
	return !w.utf8 || utf8.ValidString(s)
}

// str writes s as a quoted string, or a literal when it cannot be quoted.
func (w *respWriter) str(s string) {
	if !w.quotable(s) {
		w.literal(int64(len(s)))
		w.raw(s)
		return
	}
	w.byte1('"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			w.raw(s[start:i])
			w.byte1('\\')
			start = i
		}
	}
	w.raw(s[start:])
	w.byte1('"')
}

// nstr writes NIL for an empty string, else a string.
func (w *respWriter) nstr(s string) {
	if s == "" {
		w.raw("NIL")
		return
	}
	w.str(s)
}

// literal writes a literal announcement; the caller writes n bytes next.
func (w *respWriter) literal(n int64) {
	w.byte1('{')
	w.num64(uint64(n))
	w.raw("}\r\n")
}

// mailbox writes a mailbox name: modified UTF-7 unless UTF-8 is on.
func (w *respWriter) mailbox(name string) {
	if !w.utf8 {
		name = encodeMUTF7(name)
	}
	w.atomOrString(name)
}

// atomOrString writes s as an atom when it can be one (not empty, not
// NIL, atom characters only), else as a string.
func (w *respWriter) atomOrString(s string) {
	atom := s != "" && !strings.EqualFold(s, "NIL")
	for i := 0; i < len(s) && atom; i++ {
		atom = isAtomChar(s[i])
	}
	if atom {
		w.raw(s)
		return
	}
	w.str(s)
}

// flagList writes a parenthesised flag list.
func (w *respWriter) flagList(fs []imap.Flag) {
	w.byte1('(')
	for i, f := range fs {
		if i > 0 {
			w.sp()
		}
		w.raw(string(f))
	}
	w.byte1(')')
}

// status writes "tag TYPE [CODE] text" CRLF.
func (w *respWriter) status(tag string, typ imap.StatusResponseType, code imap.ResponseCode, text string) {
	w.raw(tag)
	w.sp()
	w.raw(string(typ))
	w.sp()
	if code != "" {
		w.byte1('[')
		w.raw(string(code))
		w.raw("] ")
	}
	if text == "" {
		text = string(typ)
	}
	w.raw(text)
	w.crlf()
}

// copyLiteral writes a literal of n bytes read from r.
func (w *respWriter) copyLiteral(n int64, r io.Reader) error {
	w.literal(n)
	if w.err != nil {
		return w.err
	}
	m, err := io.CopyN(w.bw, r, n)
	if err != nil && w.err == nil {
		if m < n {
			w.err = err
		}
	}
	return w.err
}
