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
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/listener"
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
var ErrServerClosed = listener.ErrServerClosed

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
	// MaxConnectionsPerIP bounds concurrent sessions from one IP address (an
	// IPv6 /64); 0 means no limit.
	MaxConnectionsPerIP int
}

// Server is a POP3 server. Create it with New and run it with Serve.
type Server struct {
	opts   Options
	core   *core.Service
	log    *slog.Logger
	sizes  *sizeCache
	nextID atomic.Uint64
	idle   time.Duration // idleTimeout; tests shorten it before Serve
	ln     *listener.Server

	// shutting is set by Shutdown and Close; sessions read it before each command.
	shutting atomic.Bool

	mu     sync.Mutex
	locked map[int64]bool // users with a session in TRANSACTION state on this server
}

// New returns a server; opts.Core is required.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Hostname == "" && opts.Core != nil {
		opts.Hostname = opts.Core.Config().Hostname
	}
	s := &Server{
		opts:   opts,
		core:   opts.Core,
		log:    opts.Logger.With("proto", "pop3"),
		sizes:  newSizeCache(sizeCacheEntries),
		idle:   idleTimeout,
		locked: map[int64]bool{},
	}
	s.ln = listener.New(listener.Options{
		Name: "pop3", Logger: s.log,
		MaxConnections: opts.MaxConnections, MaxPerIP: opts.MaxConnectionsPerIP,
		Handle: s.handle,
		Refuse: func(c net.Conn, r listener.Reason) {
			// RFC 2449 section 8.1.2 / RFC 3206: SYS/TEMP for a transient refusal.
			fmt.Fprintf(c, "-ERR [SYS/TEMP] %s, try again later\r\n", r)
		},
	})
	return s
}

// Serve accepts connections on ln until Shutdown or Close, then returns
// ErrServerClosed. Serve may be called for several listeners.
func (s *Server) Serve(ln net.Listener) error { return s.ln.Serve(ln) }

// handle runs one session; the listener recovers panics and closes c.
func (s *Server) handle(ctx context.Context, c net.Conn) {
	done := s.core.Metrics().SessionStarted("pop3")
	sess := newSession(s, c, s.nextID.Add(1))
	stop := context.AfterFunc(ctx, func() {
		s.shutting.Store(true)
		sess.interrupt()
	})
	defer func() {
		stop()
		sess.close()
		if sess.user.ID != 0 && sess.holdsLock {
			s.unlockUser(sess.user.ID)
		}
		done()
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
	return s.ln.Shutdown(ctx)
}

// Close stops accepting connections and closes every open connection at
// once, without notice. Sessions that did not QUIT delete nothing.
func (s *Server) Close() error {
	s.shutting.Store(true)
	return s.ln.Close()
}
