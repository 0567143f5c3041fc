package smtp

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// pregreet notices a client that sends before the server's greeting: RFC
// 5321 section 4.3.1 has the client wait for the 220 reply, and mail
// software does; spam software that pipelines blindly does not (Postfix's
// postscreen calls this the pregreet test). Just before the greeting is
// written, the connection is read without waiting (or up to
// Options.PregreetWait); bytes that were there are kept and served to the
// first reads, and the session's envelope says EarlyTalker.
type pregreet struct {
	watch   bool // check on the first write (plain-text MX connections)
	checked bool
	early   atomic.Bool
	pending []byte
}

// read serves bytes read during the check; 0 when there are none.
func (p *pregreet) read(b []byte) int {
	if len(p.pending) == 0 {
		return 0
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n
}

// pregreetProbe is how much a talking-first client may have sent that is kept.
const pregreetProbe = 4096

// Write checks for early talk before the first write (the greeting).
func (c *trackedConn) Write(b []byte) (int, error) {
	if p := &c.pregreet; p.watch && !p.checked {
		p.checked = true
		// A deadline already past fails the read before looking at what
		// arrived, so even "no wait" waits a millisecond.
		wait := max(c.s.opts.PregreetWait, time.Millisecond)
		c.Conn.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, pregreetProbe)
		n, err := c.Conn.Read(buf)
		c.Conn.SetReadDeadline(time.Time{})
		if n > 0 {
			p.pending = buf[:n]
			p.early.Store(true)
		}
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, err // the client is gone
		}
	}
	return c.Conn.Write(b)
}

// earlyTalker reports whether the client talked before the greeting.
func (c *trackedConn) earlyTalker() bool { return c.pregreet.early.Load() }
