// Package compress is IMAP COMPRESS=DEFLATE (RFC 4978) as a net.Conn
// wrapper: once the server has answered "OK" to COMPRESS DEFLATE, the
// engine replaces its connection with New(conn, buffered) and goes on
// reading commands and writing responses through it.
//
// Both directions are raw DEFLATE (RFC 1951: no zlib or gzip header, RFC
// 4978 section 3). Every Write is compressed and ended with a sync flush
// (an empty stored block), so everything written so far reaches the peer
// whole: an interactive stream never waits for more output to decode what
// it has (RFC 4978 section 4 asks for this flushing). The engine keeps its
// own buffered writer above the Conn, so one flush of that writer is one
// deflate flush. Reads inflate what the peer sent, returning as soon as a
// flush point makes bytes available.
//
// Implementation: output goes through github.com/klauspost/compress's
// flate writer at BestSpeed (IMAP responses are small and latency matters
// more than ratio; it holds about half the memory of the standard
// library's writer, figures in TestMemory). Input is decoded by this
// package's own inflater (inflate.go): both compress/flate readers, the
// standard library's and klauspost's, keep a block's data until more
// input arrives, so a client flushing with Z_PARTIAL_FLUSH (as RFC 4978
// allows) would wait forever for the answer to a command the server never
// sees. The tests run python3's zlib as the peer over TCP with both
// Z_SYNC_FLUSH and Z_PARTIAL_FLUSH, and fuzz the inflater against
// compress/flate's output.
package compress

import (
	"bytes"
	"github.com/klauspost/compress/flate"
	"io"
	"net"
	"sync"
)

// Level is the compression level of the server's output.
const Level = flate.BestSpeed

// Conn is a net.Conn whose bytes are DEFLATE-compressed on the wire.
type Conn struct {
	net.Conn

	r io.ReadCloser // inflater over the connection

	// wmu serializes writers: each Write is one compressed, flushed run.
	wmu sync.Mutex
	w   *flate.Writer
}

// New wraps c. buffered holds bytes the caller already read from c past
// the COMPRESS command (its read buffer's leftover): they are the start of
// the compressed stream and are inflated first.
func New(c net.Conn, buffered []byte) *Conn {
	var src io.Reader = c
	if len(buffered) > 0 {
		src = io.MultiReader(bytes.NewReader(bytes.Clone(buffered)), c)
	}
	w, _ := flate.NewWriter(c, Level) // Level is valid: no error
	return &Conn{Conn: c, r: newInflateReader(src), w: w}
}

// Read inflates bytes sent by the peer.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.ErrUnexpectedEOF && n == 0 {
		// The peer closed inside a block: to the engine it is a closed connection.
		err = io.EOF
	}
	return n, err
}

// Write compresses p and flushes it to the peer (a sync flush), so p
// arrives whole before Write returns.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	if err := c.w.Flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the connection. It sends no final block: an IMAP session
// ends with the connection (RFC 4978 section 4).
func (c *Conn) Close() error {
	c.r.Close()
	return c.Conn.Close()
}

var _ net.Conn = (*Conn)(nil)
