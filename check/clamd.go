package check

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

const (
	// clamdDialTimeout bounds connecting to clamd.
	clamdDialTimeout = 5 * time.Second
	// clamdScanTimeout bounds one INSTREAM scan, from the first byte sent to
	// the reply (clamd's own default ReadTimeout is 120s; a scan holding an
	// SMTP DATA reply must end well before RFC 5321 section 4.5.3.2.6's 10
	// minutes).
	clamdScanTimeout = 60 * time.Second
	// clamdChunk is the INSTREAM chunk size.
	clamdChunk = 64 << 10
)

// ErrClamd is wrapped by scan errors: clamd unreachable or not answering sensibly.
var ErrClamd = errors.New("check: clamd")

// scan sends raw to clamd with INSTREAM and returns the signature name
// when it is infected, "" when clean.
func (j *Judge) scan(ctx context.Context, raw []byte) (string, error) {
	network, addr := "tcp", j.cfg.Clamd
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", p
	}
	dctx, cancel := context.WithTimeout(ctx, clamdDialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, network, addr)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrClamd, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(clamdScanTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	w := bufio.NewWriterSize(conn, clamdChunk+4)
	w.WriteString("zINSTREAM\x00")
	var lenBuf [4]byte
	for rest := raw; len(rest) > 0; {
		n := min(len(rest), clamdChunk)
		binary.BigEndian.PutUint32(lenBuf[:], uint32(n))
		w.Write(lenBuf[:])
		w.Write(rest[:n])
		rest = rest[n:]
	}
	w.Write([]byte{0, 0, 0, 0})
	if err := w.Flush(); err != nil {
		return "", fmt.Errorf("%w: send: %v", ErrClamd, err)
	}
	reply, err := bufio.NewReader(io.LimitReader(conn, 4096)).ReadBytes(0)
	if err != nil && len(reply) == 0 {
		return "", fmt.Errorf("%w: reply: %v", ErrClamd, err)
	}
	s := string(bytes.TrimRight(reply, "\x00\r\n"))
	s = strings.TrimPrefix(s, "stream: ")
	switch {
	case s == "OK":
		return "", nil
	case strings.HasSuffix(s, " FOUND"):
		return strings.TrimSuffix(s, " FOUND"), nil
	default:
		return "", fmt.Errorf("%w: unexpected reply %q", ErrClamd, s)
	}
}
