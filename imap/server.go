// Package imap is Stamp's IMAP frontend: a thin adapter that implements the
// session interfaces of github.com/emersion/go-imap/v2/imapserver by calling
// core.Service, never storage directly.
//
// Implemented: IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) with IDLE
// (RFC 2177), UIDPLUS (RFC 4315), MOVE (RFC 6851), SPECIAL-USE and
// CREATE-SPECIAL-USE (RFC 6154), NAMESPACE (RFC 2342), LITERAL+ (RFC 7888),
// ENABLE (RFC 5161), UNSELECT (RFC 3691), ESEARCH (RFC 4731), SEARCHRES
// (RFC 5182), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), STATUS=SIZE
// (RFC 8438), CHILDREN (RFC 3348), BINARY (RFC 3516), APPENDLIMIT (RFC 7889)
// and SASL-IR (RFC 4959), STARTTLS (RFC 9051 section 6.2.1) and AUTHENTICATE
// PLAIN (RFC 4616). CONDSTORE, QRESYNC, ID and COMPRESS are not advertised.
//
// Behaviour worth knowing:
//
//   - Mailbox names use "/" as hierarchy delimiter (core.MailboxDelimiter).
//   - SEARCH BODY and TEXT go through core's full-text index (svc.Search
//     restricted to the selected mailbox), which matches whole words, not
//     arbitrary substrings as RFC 9051 section 6.4.4 describes; BODY
//     searches the body only (SearchQuery.BodyOnly), TEXT the subject,
//     addresses and body. A BODY/TEXT string without any letter or digit
//     matches every message. FROM, TO,
//     CC, SUBJECT match substrings of the stored metadata; other HEADER keys
//     read the header section only. No SEARCH ever scans message bodies.
//   - \Recent (IMAP4rev1 only) is tracked in process: per mailbox, the
//     highest UID already announced as recent to some session. A message is
//     recent for the first session of this process that selects the mailbox
//     (or learns about the message) after it arrived. With several nodes each
//     node keeps its own mark, so a message can be recent once per node, and a
//     restart makes the messages of a mailbox recent again for its first
//     selection. RFC 9051 dropped \Recent, so this approximation is accepted.
//   - A selected session learns about changes from core events (a wake-up)
//     and then catches up from the change log by MODSEQ, so changes made by
//     other sessions, the API, deliveries and other nodes all show up on the
//     next command, NOOP or during IDLE.
//   - Network timeouts for commands and IDLE are those of imapserver's conn.go
//     (30 s per command line, 35 min idle: RFC 9051 section 5.4 requires at
//     least 30 min); this package adds the ones listed below.
//   - Authentication before TLS is refused (LOGINDISABLED) unless
//     Options.AllowInsecureAuth is set and the client is on a loopback address.
package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/stamp-mail/stamp/core"
)

// byeWriteTimeout bounds writing the BYE sent to connections refused for being
// over MaxConnections or closed by Shutdown. RFC 9051 section 5.4 sets no floor
// for server writes; one command-line timeout (imapserver's 30 s) is ample for
// a one-line reply.
const byeWriteTimeout = 30 * time.Second

// shutdownPollInterval is how often Shutdown retries sending BYE to sessions
// that were in the middle of a command.
const shutdownPollInterval = 50 * time.Millisecond

// Options configure a Server.
type Options struct {
	// Core is the mail service; required.
	Core *core.Service
	// Logger receives connection logs; nil discards them.
	Logger *slog.Logger
	// Hostname names this server in logs.
	Hostname string
	// TLSConfig enables STARTTLS when not nil.
	TLSConfig *tls.Config
	// ImplicitTLS says the listener passed to Serve is already TLS (port 993).
	ImplicitTLS bool
	// AllowInsecureAuth allows LOGIN and AUTHENTICATE before TLS, but only
	// from loopback addresses.
	AllowInsecureAuth bool
	// MaxConnections bounds open connections; 0 means unlimited.
	MaxConnections int
	// MaxConnectionsPerIP bounds open connections from one IP address; 0
	// means unlimited.
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
	recent *recentTracker
	bs     *structCache

	// strict refuses authentication before TLS; loopback allows it (used for
	// loopback clients when AllowInsecureAuth is set).
	strict   *imapserver.Server
	loopback *imapserver.Server

	mu        sync.Mutex
	listeners map[net.Listener]*dispatch
	sessions  map[*session]struct{}
	closing   bool
	nextID    uint64
	wg        sync.WaitGroup // library Serve goroutines
}

// capabilities lists what we advertise. imapserver adds LOGINDISABLED,
// STARTTLS, AUTH=PLAIN, SASL-IR, LITERAL-, IDLE, UNSELECT, ENABLE, APPENDLIMIT
// as the state allows.
func capabilities() imap.CapSet {
	return imap.CapSet{
		imap.CapIMAP4rev1:        {},
		imap.CapIMAP4rev2:        {},
		imap.CapNamespace:        {},
		imap.CapUIDPlus:          {},
		imap.CapESearch:          {},
		imap.CapSearchRes:        {},
		imap.CapListExtended:     {},
		imap.CapListStatus:       {},
		imap.CapMove:             {},
		imap.CapStatusSize:       {},
		imap.CapBinary:           {},
		imap.CapChildren:         {},
		imap.CapSpecialUse:       {},
		imap.CapCreateSpecialUse: {},
		imap.CapLiteralPlus:      {},
		imap.CapAppendLimit:      {},
		imap.CapSASLIR:           {},
		imap.CapEnable:           {},
		imap.CapIdle:             {},
		imap.CapUnselect:         {},
	}
}

// New returns a server; call Serve to accept connections.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Hostname == "" {
		opts.Hostname = "localhost"
	}
	if opts.AppendLimit <= 0 && opts.Core != nil {
		opts.AppendLimit = opts.Core.Config().MaxMessageBytes
	}
	if opts.AppendLimit > 1<<32-1 {
		opts.AppendLimit = 1<<32 - 1
	}
	s := &Server{
		opts:      opts,
		log:       opts.Logger.With("proto", "imap"),
		recent:    newRecentTracker(),
		bs:        newStructCache(structCacheEntries),
		listeners: map[net.Listener]*dispatch{},
		sessions:  map[*session]struct{}{},
	}
	mk := func(insecure bool) *imapserver.Server {
		o := &imapserver.Options{
			NewSession:   s.newSession,
			Caps:         capabilities(),
			Logger:       libLogger{s.log},
			TLSConfig:    opts.TLSConfig,
			InsecureAuth: insecure,
		}
		if opts.Debug != nil {
			o.DebugWriter = opts.Debug
		}
		return imapserver.New(o)
	}
	s.strict = mk(false)
	s.loopback = mk(opts.AllowInsecureAuth)
	return s
}

// libLogger adapts imapserver's Printf logger to slog.
type libLogger struct{ log *slog.Logger }

// Printf implements imapserver.Logger.
func (l libLogger) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	switch {
	case strings.HasPrefix(msg, "panic"):
		l.log.Error("imap library", "msg", msg)
	case strings.Contains(msg, "failed to read command"), strings.Contains(msg, "i/o timeout"):
		l.log.Debug("imap library", "msg", msg)
	default:
		l.log.Warn("imap library", "msg", msg)
	}
}

// dispatch hands accepted connections to one of the two library servers.
type dispatch struct {
	ln       net.Listener
	strict   *chanListener
	loopback *chanListener
}

// chanListener is a net.Listener fed by Serve's accept loop.
type chanListener struct {
	addr net.Addr
	c    chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, c: make(chan net.Conn), done: make(chan struct{})}
}

// Accept implements net.Listener.
func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *chanListener) Addr() net.Addr { return l.addr }

func (l *chanListener) deliver(c net.Conn) bool {
	select {
	case l.c <- c:
		return true
	case <-l.done:
		return false
	}
}

// Serve accepts connections on ln until Shutdown or Close; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	d := &dispatch{ln: ln, strict: newChanListener(ln.Addr()), loopback: newChanListener(ln.Addr())}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.listeners[ln] = d
	s.wg.Add(2)
	s.mu.Unlock()
	go func() { defer s.wg.Done(); s.strict.Serve(d.strict) }()
	go func() { defer s.wg.Done(); s.loopback.Serve(d.loopback) }()
	defer func() {
		d.strict.Close()
		d.loopback.Close()
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed, retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("imap: accept: %w", err)
		}
		delay = 0
		if max := s.opts.MaxConnections; max > 0 && s.count() >= max {
			s.log.Warn("too many connections", "remote", c.RemoteAddr().String())
			c.SetWriteDeadline(time.Now().Add(byeWriteTimeout))
			c.Write([]byte("* BYE [UNAVAILABLE] Too many connections, try again later\r\n"))
			c.Close()
			continue
		}
		target := d.strict
		if s.opts.AllowInsecureAuth && isLoopback(c.RemoteAddr()) {
			target = d.loopback
		}
		if !target.deliver(c) {
			c.Close()
			return nil
		}
	}
}

func (s *Server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Shutdown stops accepting connections, says BYE to every session as soon as
// it is between commands (or idling), waits for them to end until ctx is done,
// and then closes whatever is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()

	t := time.NewTicker(shutdownPollInterval)
	defer t.Stop()
	for {
		s.mu.Lock()
		n := len(s.sessions)
		var idle []*session
		for ss := range s.sessions {
			if ss.tryBye() {
				idle = append(idle, ss)
			}
		}
		s.mu.Unlock()
		for _, ss := range idle {
			ss.conn.Bye("Server shutting down")
		}
		if n == 0 {
			s.stopLibs()
			return nil
		}
		select {
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	var conns []net.Conn
	for ss := range s.sessions {
		conns = append(conns, ss.conn.NetConn())
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	s.stopLibs()
	return nil
}

func (s *Server) stopLibs() {
	s.mu.Lock()
	for _, d := range s.listeners {
		d.strict.Close()
		d.loopback.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// newSession is imapserver's session factory, called for each connection.
func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, nil, &imap.Error{Type: imap.StatusResponseTypeBye, Text: "Server shutting down"}
	}
	s.nextID++
	id := s.nextID
	ctx, cancel := context.WithCancel(context.Background())
	remote := c.NetConn().RemoteAddr().String()
	ss := &session{
		srv:    s,
		conn:   c,
		ctx:    ctx,
		cancel: cancel,
		remote: remote,
		log:    s.log.With("conn", id, "remote", remote),
		done:   s.opts.Core.Metrics().SessionStarted("imap"),
	}
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	return ss, nil, nil
}

func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
}
