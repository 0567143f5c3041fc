package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// Limits.
const (
	// maxCommandLine is the longest command line, CRLF included (RFC 2449 section 4).
	maxCommandLine = 255
	// maxSASLLine bounds a SASL continuation response (RFC 5034 section 4
	// sets no limit; PLAIN credentials fit easily).
	maxSASLLine = 8 << 10
	// maxDiscard is how much of an overlong line is skipped before the
	// connection is dropped as a flood.
	maxDiscard = 64 << 10
	// maxBadCommands closes a session after this many unknown, malformed or
	// out-of-state commands.
	maxBadCommands = 10
	// maxAuthFailures closes a session after this many failed logins.
	maxAuthFailures = 3
)

// state is a POP3 session state (RFC 1939 section 3).
type state int

const (
	stateAuthorization state = iota
	stateTransaction
	stateUpdate
)

var (
	errLineTooLong  = errors.New("line too long")
	errLineFlood    = errors.New("line flood")
	errShuttingDown = errors.New("server shutting down")
)

// session is one POP3 connection.
type session struct {
	srv    *Server
	id     uint64
	remote string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	r *bufio.Reader
	w *bufio.Writer

	state     state
	tls       bool
	userName  string // from USER, waiting for PASS
	user      core.User
	holdsLock bool
	dropLock  func() // releases the cluster-wide maildrop lock (maildrop.go)
	drop      *maildrop
	bad       int
	authFails int
	wtimeout  time.Duration // per-write deadline; shortened for the last words

	// mu guards c against interrupt and conn, which run on other goroutines.
	mu sync.Mutex
	c  net.Conn
}

func newSession(srv *Server, c net.Conn, id uint64) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		srv:    srv,
		id:     id,
		remote: c.RemoteAddr().String(),
		ctx:    ctx,
		cancel: cancel,
		c:      c,

		wtimeout: writeTimeout,
	}
	s.log = srv.log.With("conn", id, "remote", s.remote)
	s.r = bufio.NewReaderSize(c, 4096)
	s.w = bufio.NewWriterSize(deadlineWriter{s}, 32<<10)
	return s
}

// conn returns the current connection (plain or TLS).
func (s *session) conn() net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

// interrupt wakes a session blocked reading a command so it notices the
// shutdown; a session busy elsewhere notices it before its next read.
func (s *session) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.SetReadDeadline(time.Now())
}

func (s *session) close() {
	s.cancel()
	s.conn().Close()
}

// deadlineWriter writes to the session's connection with writeTimeout per write.
type deadlineWriter struct{ s *session }

func (d deadlineWriter) Write(p []byte) (int, error) {
	c := d.s.conn()
	c.SetWriteDeadline(time.Now().Add(d.s.wtimeout))
	return c.Write(p)
}

// serve runs the session until QUIT, a fatal error or shutdown.
func (s *session) serve() {
	s.log.Debug("connection opened")
	if s.srv.opts.ImplicitTLS {
		if tc, ok := s.conn().(*tls.Conn); ok {
			if err := s.handshake(tc); err != nil {
				s.log.Info("TLS handshake failed", "err", err)
				return
			}
		}
		s.tls = true
	}
	// RFC 1939 section 4: the greeting. APOP is not offered, so no timestamp.
	s.reply("+OK %s POP3 server ready", s.srv.opts.Hostname)
	if s.flush() != nil {
		return
	}
	for {
		line, err := s.readLine(maxCommandLine)
		switch {
		case errors.Is(err, errLineTooLong):
			s.bad++
			s.reply("-ERR command line too long (RFC 2449: 255 octets at most)")
		case err != nil:
			s.endRead(err)
			return
		default:
			cmd, perr := parseCommand(line)
			if perr != nil {
				s.bad++
				s.reply("-ERR malformed command")
			} else if quit := s.dispatch(cmd); quit {
				s.flush()
				return
			}
		}
		if s.bad >= maxBadCommands {
			s.reply("-ERR too many bad commands, closing connection")
			s.flush()
			s.log.Info("closing: too many bad commands")
			return
		}
		if s.authFails >= maxAuthFailures {
			s.reply("-ERR [AUTH] too many failed logins, closing connection")
			s.flush()
			return
		}
		// PIPELINING (RFC 2449 section 6.6): answer a batch of pipelined
		// commands with one write.
		if s.r.Buffered() == 0 {
			if err := s.flush(); err != nil {
				s.log.Debug("write failed", "err", err)
				return
			}
		}
	}
}

// endRead handles the read error that ends a session: shutdown, idle
// timeout or the client going away. Nothing is deleted (RFC 1939 section 6).
func (s *session) endRead(err error) {
	switch {
	case errors.Is(err, errShuttingDown) || s.srv.shutting.Load():
		s.replyNow(shutdownNoticeTimeout, "-ERR [SYS/TEMP] server shutting down, try again later")
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.log.Info("autologout after idle timeout")
		s.replyNow(shutdownNoticeTimeout, "-ERR autologout: idle for too long")
	case errors.Is(err, errLineFlood):
		s.log.Info("closing: overlong line flood")
		s.replyNow(shutdownNoticeTimeout, "-ERR command line too long, closing connection")
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
		s.log.Debug("connection closed by client")
	default:
		s.log.Debug("read failed", "err", err)
	}
}

// armRead sets the idle deadline before a read, unless the server is shutting down.
func (s *session) armRead() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv.shutting.Load() {
		return errShuttingDown
	}
	return s.c.SetReadDeadline(time.Now().Add(s.srv.idle))
}

// readLine reads one line of at most limit octets including its line ending
// and returns it without the CRLF (a bare LF is accepted too). A longer line
// is skipped and reported as errLineTooLong; past maxDiscard, errLineFlood.
func (s *session) readLine(limit int) ([]byte, error) {
	if err := s.armRead(); err != nil {
		return nil, err
	}
	var line []byte
	discarded := 0
	for {
		chunk, err := s.r.ReadSlice('\n')
		if discarded == 0 && len(line)+len(chunk) <= limit {
			line = append(line, chunk...)
		} else {
			discarded += len(line) + len(chunk)
			line = line[:0]
			if discarded > maxDiscard {
				return nil, errLineFlood
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if discarded > 0 {
		return nil, errLineTooLong
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// reply buffers one response line; CRLF is appended.
func (s *session) reply(format string, args ...any) {
	fmt.Fprintf(s.w, format, args...)
	s.w.WriteString("\r\n")
}

// replyNow writes a last line with a short deadline, ignoring errors.
func (s *session) replyNow(timeout time.Duration, line string) {
	s.wtimeout = timeout
	s.w.WriteString(line + "\r\n")
	s.w.Flush()
}

func (s *session) flush() error { return s.w.Flush() }

// handshake runs a TLS handshake bounded by handshakeTimeout.
func (s *session) handshake(tc *tls.Conn) error {
	ctx, cancel := context.WithTimeout(s.ctx, handshakeTimeout)
	defer cancel()
	return tc.HandshakeContext(ctx)
}

// dispatch runs one command and reports whether the session ends.
func (s *session) dispatch(cmd command) (quit bool) {
	if cmd.name == "CAPA" {
		s.capa()
		return false
	}
	if cmd.name == "QUIT" {
		return s.quit()
	}
	switch s.state {
	case stateAuthorization:
		switch cmd.name {
		case "USER":
			s.userCmd(cmd)
		case "PASS":
			s.pass(cmd)
		case "AUTH":
			s.auth(cmd)
		case "STLS":
			return s.stls(cmd)
		case "APOP":
			s.reply("-ERR APOP is not supported; use USER/PASS or AUTH PLAIN")
		default:
			return s.badCommand(cmd)
		}
	case stateTransaction:
		switch cmd.name {
		case "STAT":
			s.stat(cmd)
		case "LIST":
			s.list(cmd)
		case "UIDL":
			s.uidl(cmd)
		case "RETR":
			return s.retr(cmd)
		case "TOP":
			return s.top(cmd)
		case "DELE":
			s.dele(cmd)
		case "RSET":
			s.rset(cmd)
		case "NOOP":
			s.noop(cmd)
		default:
			return s.badCommand(cmd)
		}
	}
	return false
}

// known says whether name is a command of some state, to tell "wrong state" from "unknown".
func known(name string) bool {
	switch name {
	case "USER", "PASS", "AUTH", "STLS", "APOP", "CAPA", "QUIT",
		"STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP":
		return true
	}
	return false
}

func (s *session) badCommand(cmd command) bool {
	s.bad++
	if known(cmd.name) {
		s.reply("-ERR %s is not valid in this state", cmd.name)
	} else {
		s.reply("-ERR unknown command")
	}
	return false
}
