// Package imap is Stamp's IMAP server: its own engine (wire reader and
// writer, session state machine, one file per command family) over
// core.Service, never storage directly. go-imap's imap package supplies the
// vocabulary types; its imapclient is the client in tests.
//
// Implemented: IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) with IDLE
// (RFC 2177), UIDPLUS (RFC 4315), MOVE (RFC 6851), SPECIAL-USE and
// CREATE-SPECIAL-USE (RFC 6154), NAMESPACE (RFC 2342), LITERAL+ (RFC 7888),
// ENABLE (RFC 5161), UNSELECT (RFC 3691), ESEARCH (RFC 4731), SEARCHRES
// (RFC 5182), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), STATUS=SIZE
// (RFC 8438), CHILDREN (RFC 3348), BINARY (RFC 3516), APPENDLIMIT (RFC 7889)
// and SASL-IR (RFC 4959), STARTTLS (RFC 9051 section 6.2.1) and AUTHENTICATE
// PLAIN (RFC 4616). ID (RFC 2971), UTF8=ACCEPT (RFC 6855), LITERAL- (RFC 7888) and
// LOGINDISABLED. CONDSTORE, QRESYNC and COMPRESS are not advertised.
//
// Commands are pipelined (RFC 9051 section 5.5): a reader goroutine per
// connection parses the next commands while one runs; they run and are
// answered in order.
//
// Behaviour worth knowing:
//
//   - Mailbox names use "/" as hierarchy delimiter (core.MailboxDelimiter).
//   - SEARCH BODY and TEXT are case-insensitive substring matches (RFC 9051
//     section 6.4.4) over the decoded text of the body parts (and, for TEXT,
//     the decoded header), found by reading the messages: a bounded scan
//     until storage offers a substring index. FROM/TO/CC/BCC match the
//     decoded field or the parsed addresses; SUBJECT the stored decoded
//     subject; other HEADER keys the decoded header. Flags, internal dates,
//     sizes, UIDs and sequence numbers are answered from the view.
//   - SENTBEFORE/SENTON/SENTSINCE use the Date header's own calendar date,
//     BEFORE/ON/SINCE the internal date (UTC).
//   - \Recent (IMAP4rev1 only) is claimed in storage: per mailbox, the
//     highest UID already announced as recent to some session anywhere in
//     the cluster (core.ClaimRecent, atomic). EXAMINE only peeks.
//   - New folders made by CREATE are not subscribed; DELETE keeps the
//     subscription (LIST (SUBSCRIBED) shows it \NonExistent).
//   - ENVELOPE and BODYSTRUCTURE are rendered once per message content and
//     cached (bounded LRU keyed by blob hashes); MIME nesting is walked to
//     a depth of 100 at most.
//   - A selected session learns about changes from core events (a wake-up)
//     and then catches up from the change log by MODSEQ, so changes made by
//     other sessions, the API, deliveries and other nodes all show up on the
//     next command, NOOP or during IDLE.
//   - Timeouts are the constants in session.go: 31 min idle once logged in
//     (RFC 9051 section 5.4 requires at least 30 min), 60 s per command and
//     5 min in all before login.
//   - Authentication before TLS is refused (LOGINDISABLED) unless
//     Options.AllowInsecureAuth is set and the client is on a loopback address.
package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/listener"
)

// Options configure a Server.
type Options struct {
	// Core is the mail service; required.
	Core *core.Service
	// Logger receives connection logs; nil discards them.
	Logger *slog.Logger
	// Hostname names this server in logs.
	Hostname string
	// Version is announced in the ID response (RFC 2971); default "dev".
	Version string
	// TLSConfig enables STARTTLS when not nil.
	TLSConfig *tls.Config
	// ImplicitTLS says the listener passed to Serve is already TLS (port 993).
	ImplicitTLS bool
	// AllowInsecureAuth allows LOGIN and AUTHENTICATE before TLS, but only
	// from loopback addresses.
	AllowInsecureAuth bool
	// MaxConnections bounds open connections; 0 means unlimited.
	MaxConnections int
	// MaxConnectionsPerIP bounds open connections from one IP address (an
	// IPv6 /64); 0 means unlimited.
	MaxConnectionsPerIP int
	// AppendLimit bounds APPEND literals in bytes; 0 means core's MaxMessageBytes.
	AppendLimit int64
	// Debug, when set, receives the raw protocol trace (including passwords:
	// opt-in, for development only).
	Debug interface{ Write([]byte) (int, error) }
}

// Server is an IMAP server. Create it with New.
type Server struct {
	opts   Options
	log    *slog.Logger
	ln     *listener.Server
	nextID atomic.Uint64

	views *viewCache // last views of selected mailboxes (viewcache.go)
	sorts *sortCache // SORT/THREAD rows of sorted mailboxes (sortcache.go)

	mu       sync.Mutex
	sessions map[*session]struct{}
}

// New returns a server; call Serve to accept connections.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.AppendLimit <= 0 && opts.Core != nil {
		opts.AppendLimit = opts.Core.Config().MaxMessageBytes
	}
	if opts.AppendLimit > 1<<32-1 {
		opts.AppendLimit = 1<<32 - 1
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger.With("proto", "imap"),
		sessions: map[*session]struct{}{},
		views:    newViewCache(viewCacheBytes),
		sorts:    newSortCache(sortCacheBytes),
	}
	s.ln = listener.New(listener.Options{
		Name: "imap", Logger: s.log,
		MaxConnections: opts.MaxConnections, MaxPerIP: opts.MaxConnectionsPerIP,
		Handle: s.handle,
		Refuse: func(c net.Conn, r listener.Reason) {
			c.Write([]byte("* BYE [UNAVAILABLE] " + r.String() + ", try again later\r\n"))
		},
	})
	return s
}

// Serve accepts connections on ln until Shutdown or Close; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	err := s.ln.Serve(ln)
	if errors.Is(err, listener.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, says BYE to every session as soon as
// it is between commands (or idling), waits for them to end until ctx is done,
// and then closes whatever is left.
func (s *Server) Shutdown(ctx context.Context) error { return s.ln.Shutdown(ctx) }

// Close closes the listeners and every connection at once.
func (s *Server) Close() error { return s.ln.Close() }

func (s *Server) count() int { return s.ln.Count() }

// handle runs one connection (the listener recovers panics and closes c).
func (s *Server) handle(stop context.Context, c net.Conn) {
	if s.opts.Debug != nil {
		c = traceConn{Conn: c, w: s.opts.Debug}
	}
	id := s.nextID.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	remote := c.RemoteAddr().String()
	ss := &session{
		srv:    s,
		conn:   c,
		ctx:    ctx,
		cancel: cancel,
		stop:   stop,
		remote: remote,
		log:    s.log.With("conn", id, "remote", remote),
		start:  time.Now(),
		w:      newRespWriter(c),
		resume: make(chan struct{}),
	}
	ss.r = newCmdReader(ss, c)
	done := s.opts.Core.Metrics().SessionStarted("imap")
	defer done()
	ss.serve()
}

// traceConn copies both directions to a debug writer.
type traceConn struct {
	net.Conn
	w interface{ Write([]byte) (int, error) }
}

func (t traceConn) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.w.Write(append([]byte("C: "), p[:n]...))
	}
	return n, err
}

func (t traceConn) Write(p []byte) (int, error) {
	t.w.Write(append([]byte("S: "), p...))
	return t.Conn.Write(p)
}
