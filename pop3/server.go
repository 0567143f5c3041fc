// Package pop3 is Stamp's POP3 frontend: a small POP3 server that serves each
// user's INBOX through core.Service.
//
// It implements:
//   - RFC 1939 (POP3): USER, PASS, STAT, LIST, RETR, DELE, NOOP, RSET, QUIT,
//     TOP, UIDL; the AUTHORIZATION, TRANSACTION and UPDATE states.
//   - RFC 2449 (POP3 extension mechanism): CAPA, response codes, the 255-octet
//     command line limit, PIPELINING.
//   - RFC 2595 section 4 (STLS).
//   - RFC 3206 (SYS and AUTH response codes).
//   - RFC 5034 (SASL AUTH) with the PLAIN mechanism of RFC 4616.
//
// A session sees a snapshot of the INBOX taken at login: messages in UID
// order, numbered 1..n for the whole session. Messages are sent with CRLF
// line endings and dot-stuffing; stored bare LFs become CRLF, and the sizes
// reported by STAT and LIST are computed by the same conversion, so they
// equal the octets RETR delivers (after the client removes the stuffing).
// Deletions are applied only on QUIT (the UPDATE state, RFC 1939 section 6);
// a dropped connection deletes nothing. One POP3 session per user is allowed
// at a time (RFC 1939 section 4's exclusive-access lock, reported with
// [IN-USE]): on this node, and on every node when the store is PostgreSQL
// (an advisory lock, maildrop.go). Deletions expunge by message id, so an
// IMAP client of the same user can at worst see a message disappear.
package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// Timeouts. RFC 1939 section 3: the inactivity autologout timer must be at
// least 10 minutes.
const (
	// idleTimeout bounds the wait for the client's next command (RFC 1939 section 3 floor: 10 minutes).
	idleTimeout = 10 * time.Minute
	// writeTimeout bounds each write to the client; a client that reads
	// nothing for this long is as inactive as an idle one (RFC 1939 section 3).
	writeTimeout = 10 * time.Minute
	// handshakeTimeout bounds a TLS handshake (implicit TLS or STLS). No RFC
	// sets a floor; one minute is ample for any real client.
	handshakeTimeout = time.Minute
	// shutdownNoticeTimeout bounds the -ERR written to sessions at shutdown.
	shutdownNoticeTimeout = 5 * time.Second
)

// ErrServerClosed is returned by Serve after Shutdown or Close. It wraps
// net.ErrClosed.
var ErrServerClosed = fmt.Errorf("pop3: server closed: %w", net.ErrClosed)

// Options configure a Server.
type Options struct {
	// Core is the mail service (required).
	Core *core.Service
	// Logger receives connection logs; nil discards them.
	Logger *slog.Logger
	// Hostname is announced in the greeting; default the service's hostname.
	Hostname string
	// TLSConfig enables STLS when set (and ImplicitTLS is false).
	TLSConfig *tls.Config
	// ImplicitTLS says the listener given to Serve already speaks TLS (port 995).
	ImplicitTLS bool
	// AllowInsecureAuth permits USER/PASS and AUTH before TLS, but only from
	// loopback addresses.
	AllowInsecureAuth bool
	// MaxConnections bounds concurrent sessions; 0 means no limit. Connections
	// over the limit get -ERR [SYS/TEMP] and are closed.
	MaxConnections int
}

// Server is a POP3 server. Create it with New and run it with Serve.
type Server struct {
	opts   Options
	core   *core.Service
	log    *slog.Logger
	sizes  *sizeCache
	nextID atomic.Uint64
	idle   time.Duration // idleTimeout; tests shorten it before Serve

	// shutting is set by Shutdown and Close; sessions read it before each command.
	shutting atomic.Bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	locked    map[int64]bool // users with a session in TRANSACTION state on this server
	wg        sync.WaitGroup // one per session goroutine
}

// New returns a server; opts.Core is required.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Hostname == "" && opts.Core != nil {
		opts.Hostname = opts.Core.Config().Hostname
	}
	return &Server{
		opts:      opts,
		core:      opts.Core,
		log:       opts.Logger.With("proto", "pop3"),
		sizes:     newSizeCache(sizeCacheEntries),
		idle:      idleTimeout,
		listeners: map[net.Listener]struct{}{},
		sessions:  map[*session]struct{}{},
		locked:    map[int64]bool{},
	}
}

// Serve accepts connections on ln until Shutdown or Close, then returns
// ErrServerClosed. Serve may be called for several listeners.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Temporary accept failure (e.g. out of file descriptors): back off as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !s.startSession(c) {
			continue
		}
	}
}

// startSession registers and starts a session for c; it refuses c when the
// server is shutting down or full.
func (s *Server) startSession(c net.Conn) bool {
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		c.Close()
		return false
	}
	if s.opts.MaxConnections > 0 && len(s.sessions) >= s.opts.MaxConnections {
		s.mu.Unlock()
		s.log.Warn("connection refused: too many connections", "remote", c.RemoteAddr().String())
		go refuse(c, "-ERR [SYS/TEMP] too many connections, try again later\r\n")
		return false
	}
	id := s.nextID.Add(1)
	sess := newSession(s, c, id)
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go s.run(sess)
	return true
}

// refuse writes a last reply to a connection that gets no session and closes it.
func refuse(c net.Conn, line string) {
	c.SetWriteDeadline(time.Now().Add(shutdownNoticeTimeout))
	c.Write([]byte(line)) //nolint:errcheck // best effort before closing
	c.Close()
}

// run serves one session and recovers a panic at the connection boundary.
func (s *Server) run(sess *session) {
	done := s.core.Metrics().SessionStarted("pop3")
	defer func() {
		if r := recover(); r != nil {
			sess.log.Error("panic in session", "panic", r, "stack", string(debug.Stack()))
		}
		sess.close()
		s.mu.Lock()
		delete(s.sessions, sess)
		if sess.user.ID != 0 && sess.holdsLock {
			delete(s.locked, sess.user.ID)
		}
		s.mu.Unlock()
		done()
		s.wg.Done()
	}()
	sess.serve()
}

// lockUser takes the per-user maildrop lock (RFC 1939 section 4); false if
// another session of the user holds it.
func (s *Server) lockUser(userID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked[userID] {
		return false
	}
	s.locked[userID] = true
	return true
}

// unlockUser releases the per-user maildrop lock.
func (s *Server) unlockUser(userID int64) {
	s.mu.Lock()
	delete(s.locked, userID)
	s.mu.Unlock()
}

// Shutdown stops accepting connections, tells every open session
// "-ERR [SYS/TEMP] server shutting down" at its next command boundary (a
// session waiting for a command is told at once; one sending a message
// finishes it first), waits for the sessions to end until ctx is done, and
// then closes the remaining connections. Sessions that did not QUIT delete
// nothing.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutting.Store(true)
	s.mu.Lock()
	for ln := range s.listeners {
		ln.Close()
	}
	for sess := range s.sessions {
		sess.interrupt()
	}
	s.mu.Unlock()

	idle := make(chan struct{})
	go func() { s.wg.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		s.Close()
		<-idle
		return ctx.Err()
	}
}

// Close stops accepting connections and closes every open connection at
// once, without notice. Sessions that did not QUIT delete nothing.
func (s *Server) Close() error {
	s.shutting.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for ln := range s.listeners {
		if e := ln.Close(); e != nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
	}
	for sess := range s.sessions {
		sess.conn().Close()
	}
	return err
}
