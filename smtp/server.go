// Package smtp is Stamp's SMTP frontend: the inbound MX listener (port 25)
// and the message submission listeners (ports 587 and 465). It is a thin
// adapter: it implements go-smtp's Backend and Session by calling
// core.Service, which owns delivery, submission and authentication.
//
// RFCs implemented here (with go-smtp doing the wire protocol):
//   - RFC 5321 SMTP (timeouts of section 4.5.3.2, relay rules of section 3.6)
//   - RFC 6409 message submission (AUTH required before MAIL on 587/465)
//   - RFC 3207 STARTTLS, RFC 8314 implicit TLS for submission (port 465)
//   - RFC 4954 AUTH with SASL PLAIN (RFC 4616) and LOGIN
//   - RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 2920 PIPELINING,
//     RFC 2034/3463 enhanced status codes, RFC 6531 SMTPUTF8
//   - RFC 3848 "with" keywords in the Received field (ESMTP, ESMTPS, ESMTPSA)
//   - RFC 3461 DSN parameters (RET, ENVID, NOTIFY, ORCPT), kept with queued mail
//   - RFC 8689 REQUIRETLS (after TLS only), kept with queued mail
//
// AUTH is offered only in the submission role: on the MX port every client
// is an unauthenticated stranger limited to local recipients.
//
// Shape: every listener follows New / Serve / Shutdown / Close. Connection
// limits (MaxConnections, MaxConnectionsPerIP, the cluster-wide per-IP
// RatePerMinute) are enforced at accept, before
// go-smtp sees the connection, by a listener wrapper; each accepted
// connection is tracked so that Shutdown can tell idle sessions 421 and let
// a session that is receiving or committing DATA finish first. (The 421 is
// go-smtp's idle-timeout reply, "421 4.4.2": Shutdown makes pending command
// reads time out.)
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/listener"
)

// Timeouts. RFC 5321 section 4.5.3.2 sets the floors.
const (
	// commandTimeout bounds the wait for the next command; RFC 5321 section
	// 4.5.3.2.7 says a server SHOULD wait at least 5 minutes.
	commandTimeout = 5 * time.Minute
	// dataReadTimeout bounds each read of the DATA block; RFC 5321 section
	// 4.5.3.2.5 gives the client 3 minutes per block, the server waits 5.
	dataReadTimeout = 5 * time.Minute
	// writeTimeout bounds each reply write; RFC 5321 has no server-side
	// figure, we use the client's shortest command timeout (section
	// 4.5.3.2.3, 2 minutes for the DATA initiation).
	writeTimeout = 2 * time.Minute
	// refuseTimeout bounds the 421 written to a connection refused at accept.
	refuseTimeout = 10 * time.Second
)

// Defaults of Options.
const (
	// DefaultMaxConnections is the connection limit when Options.MaxConnections is 0.
	DefaultMaxConnections = 1000
	// DefaultMaxConnectionsPerIP is the per-IP limit when Options.MaxConnectionsPerIP is 0.
	DefaultMaxConnectionsPerIP = 20
)

// Options configure a Server.
type Options struct {
	// Core is the mail service. Required.
	Core *core.Service
	// Logger receives connection and error logs; nil discards them.
	Logger *slog.Logger
	// Hostname is announced in the greeting; default core's hostname.
	Hostname string
	// TLSConfig enables STARTTLS (and is required with ImplicitTLS).
	TLSConfig *tls.Config
	// ImplicitTLS says the listener given to Serve is already a TLS listener (port 465).
	ImplicitTLS bool
	// AllowInsecureAuth allows AUTH before TLS, but only from loopback addresses.
	AllowInsecureAuth bool
	// Submission selects the submission role (587/465: AUTH required before
	// MAIL, any recipient); false is the MX role (25: no AUTH, local recipients only).
	Submission bool
	// MaxMessageBytes bounds a message; default core's MaxMessageBytes.
	MaxMessageBytes int64
	// MaxConnections bounds open connections; default DefaultMaxConnections.
	MaxConnections int
	// MaxConnectionsPerIP bounds open connections from one remote IP;
	// default DefaultMaxConnectionsPerIP.
	MaxConnectionsPerIP int
	// MaxRecipients bounds RCPT per transaction; default core's MaxRecipients.
	MaxRecipients int
	// RatePerMinute bounds new connections plus messages per remote IP per
	// minute, counted across every node sharing the database
	// (core.AllowRate); 0 means no limit.
	RatePerMinute int
	// PregreetWait is how long the MX role waits, before its greeting, for
	// a client that talks first (RFC 5321 section 4.3.1; the spam score
	// counts it, see pregreet.go). 0 checks only what already arrived.
	PregreetWait time.Duration
}

// Server is an SMTP listener (MX or submission).
type Server struct {
	opts  Options
	svc   *core.Service
	log   *slog.Logger
	proto string // "smtp" or "submission": metrics and logs
	gs    *gosmtp.Server
	ids   atomic.Uint64

	draining atomic.Bool // set by Shutdown and Close

	// limit holds the global and per-IP caps (core/listener's Limiter,
	// shared with IMAP and POP3: IPv6 clients count per /64).
	limit *listener.Limiter

	// mu guards conns.
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

// New returns a server; call Serve to accept connections.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := opts.Core.Config()
	if opts.Hostname == "" {
		opts.Hostname = cfg.Hostname
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = cfg.MaxMessageBytes
	}
	if opts.MaxRecipients <= 0 {
		opts.MaxRecipients = cfg.MaxRecipients
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.MaxConnectionsPerIP <= 0 {
		opts.MaxConnectionsPerIP = DefaultMaxConnectionsPerIP
	}
	s := &Server{
		opts:  opts,
		svc:   opts.Core,
		proto: "smtp",
		conns: map[*trackedConn]struct{}{},
		limit: listener.NewLimiter(opts.MaxConnections, opts.MaxConnectionsPerIP),
	}
	if opts.Submission {
		s.proto = "submission"
	}
	s.log = opts.Logger.With("proto", s.proto)

	gs := gosmtp.NewServer(backend{s})
	gs.Domain = opts.Hostname
	gs.TLSConfig = opts.TLSConfig
	gs.MaxMessageBytes = opts.MaxMessageBytes
	gs.MaxRecipients = opts.MaxRecipients
	// Lines of any length up to the message size are taken and stored as
	// received (RFC 5322 section 2.1.1's 998 is a SHOULD for senders; mail
	// from senders that do not fold must not bounce). go-smtp's limit also
	// bounds command lines, so they too are bounded by the message size.
	// Outbound delivery folds lines where the protocol requires it.
	gs.MaxLineLength = int(opts.MaxMessageBytes) + 1024
	// The session decides (see session.authAllowed): TLS, or loopback when
	// AllowInsecureAuth. go-smtp only advertises AUTH when the session
	// returns mechanisms.
	gs.AllowInsecureAuth = true
	gs.ReadTimeout = commandTimeout
	gs.WriteTimeout = writeTimeout
	gs.EnableSMTPUTF8 = true
	// RFC 3461 DSN: RET, ENVID, NOTIFY and ORCPT are honoured in the
	// bounces and delay notices of mail we queue (core.DSNParams).
	gs.EnableDSN = true
	// RFC 8689 REQUIRETLS, advertised by go-smtp after STARTTLS only: such
	// mail is relayed only over verified TLS (smtp/outbound).
	gs.EnableREQUIRETLS = true
	gs.ErrorLog = errorLog{s.log}
	s.gs = gs
	return s
}

// Serve accepts connections on ln until Shutdown or Close; it then returns
// nil. With ImplicitTLS, ln must be a TLS listener and Options.TLSConfig set.
func (s *Server) Serve(ln net.Listener) error {
	if s.opts.ImplicitTLS && s.opts.TLSConfig == nil {
		return errors.New("smtp: ImplicitTLS requires Options.TLSConfig")
	}
	return s.gs.Serve(newListener(ln, s))
}

// Shutdown stops accepting, answers 421 to every session waiting for a
// command, lets sessions that are receiving or committing a message finish,
// and waits for all connections to end until ctx is done; then it
// force-closes what is left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	done := make(chan error, 1)
	go func() { done <- s.gs.Shutdown(context.Background()) }()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		s.kickIdle()
		select {
		case err := <-done:
			if errors.Is(err, gosmtp.ErrServerClosed) {
				err = nil
			}
			return err
		case <-ctx.Done():
			s.closeAll()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	s.draining.Store(true)
	err := s.gs.Close()
	s.closeAll()
	if errors.Is(err, gosmtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// kickIdle wakes every session blocked reading a command: its read fails
// with a timeout, go-smtp answers "421 4.4.2" and closes the connection.
// Sessions inside DATA are left alone.
func (s *Server) kickIdle() {
	s.mu.Lock()
	cs := make([]*trackedConn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.kick()
	}
}

func (s *Server) closeAll() {
	s.mu.Lock()
	cs := make([]*trackedConn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// admitListener enforces the connection limits and tracks accepted connections.
// One goroutine accepts; each new connection is admitted (or refused with
// 421) in a goroutine of its own, because the shared rate counter may need
// a database round trip and one slow client must not hold up the accept
// loop. Accept hands go-smtp the admitted connections.
type admitListener struct {
	net.Listener
	s *Server

	startOnce sync.Once
	closeOnce sync.Once
	ready     chan net.Conn
	errc      chan error
	done      chan struct{}
}

func newListener(ln net.Listener, s *Server) *admitListener {
	return &admitListener{Listener: ln, s: s, ready: make(chan net.Conn), errc: make(chan error, 1), done: make(chan struct{})}
}

// Accept returns the next admitted connection; refused ones get a 421 and
// are closed without reaching go-smtp.
func (l *admitListener) Accept() (net.Conn, error) {
	l.startOnce.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.ready:
		return c, nil
	case err := <-l.errc:
		l.errc <- err // every later Accept fails the same way
		return nil, err
	}
}

// Close stops accepting; connections admitted but not yet handed over are closed.
func (l *admitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *admitListener) acceptLoop() {
	var tempDelay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// A temporary failure (out of file descriptors...): back off as net/http does.
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(tempDelay):
					continue
				case <-l.done:
				}
			}
			l.errc <- err
			return
		}
		tempDelay = 0
		go l.admit(c)
	}
}

// admit applies the limits to c and hands it to Accept, or refuses it.
func (l *admitListener) admit(c net.Conn) {
	s := l.s
	ip := remoteIP(c.RemoteAddr())
	raw := c
	tc, isTLS := c.(*tls.Conn)
	if isTLS {
		raw = tc.NetConn()
	}
	// The shared rate counts connection attempts, refused ones included.
	if ip != nil && !s.svc.AllowRate(context.Background(), "smtp:"+ip.String(), s.opts.RatePerMinute, time.Minute) {
		s.refuse(c, ip, "Too many connections from your address, try again later")
		return
	}
	t, reason := s.track(raw, ip)
	if t == nil {
		s.refuse(c, ip, reason)
		return
	}
	t.pregreet.watch = !isTLS && !s.opts.Submission
	var out net.Conn = t
	if isTLS {
		// Re-wrap so go-smtp still sees a *tls.Conn (it checks the type for
		// implicit TLS) while reads go through the tracked conn. The
		// handshake has not started yet: tls.Listener defers it.
		out = tls.Server(t, s.opts.TLSConfig)
	}
	select {
	case l.ready <- out:
	case <-l.done:
		out.Close()
	}
}

// refuse answers 421 4.7.0 (RFC 5321 section 3.8: a server may refuse with
// 421 at greeting time) and closes c.
func (s *Server) refuse(c net.Conn, ip net.IP, reason string) {
	defer c.Close()
	s.log.Info("connection refused", "remote", ip.String(), "reason", reason)
	c.SetDeadline(time.Now().Add(refuseTimeout))
	fmt.Fprintf(c, "421 4.7.0 %s %s\r\n", s.opts.Hostname, reason)
}

// track admits c if the server is not draining and both the global cap
// and the per-IP cap have room, and counts it in the same critical
// section, so that neither cap can be exceeded by connections admitted at
// once. It returns nil and the reason otherwise.
func (s *Server) track(c net.Conn, ip net.IP) (*trackedConn, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return nil, "Service shutting down"
	}
	release, r := s.limit.Acquire(c.RemoteAddr())
	switch r {
	case listener.Admitted:
	case listener.TooManyFromIP:
		return nil, "Too many connections from your address, try again later"
	default:
		return nil, "Too many connections, try again later"
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &trackedConn{Conn: c, s: s, id: s.ids.Add(1), ip: ip, ctx: ctx, cancel: cancel, release: release,
		endSession: s.svc.Metrics().SessionStarted(s.proto)}
	s.conns[t] = struct{}{}
	return t, ""
}

// trackedConn is an accepted connection: it carries the connection's
// context (cancelled on close) and its id for logs, and refuses reads of
// new commands while the server drains.
type trackedConn struct {
	net.Conn
	s          *Server
	id         uint64
	ip         net.IP
	ctx        context.Context
	cancel     context.CancelFunc
	endSession func()
	once       sync.Once
	release    func() // frees the slot in Server.limit

	// busyMu orders setBusy against kick, so a kick never lands on a
	// session that has just entered DATA.
	busyMu sync.Mutex
	busy   atomic.Bool // inside DATA

	pregreet pregreet // pregreet.go
}

// errDraining is returned by reads of a draining server: a timeout, so that
// go-smtp answers 421 and closes the connection.
type errDraining struct{}

func (errDraining) Error() string   { return "smtp: server shutting down" }
func (errDraining) Timeout() bool   { return true }
func (errDraining) Temporary() bool { return true }

// Read fails with a timeout once the server drains, except inside DATA.
func (c *trackedConn) Read(b []byte) (int, error) {
	if c.s.draining.Load() && !c.busy.Load() {
		return 0, errDraining{}
	}
	if n := c.pregreet.read(b); n > 0 {
		return n, nil
	}
	return c.Conn.Read(b)
}

// setBusy marks the connection as receiving DATA (Shutdown waits for it) or not.
func (c *trackedConn) setBusy(b bool) {
	c.busyMu.Lock()
	defer c.busyMu.Unlock()
	c.busy.Store(b)
	if b {
		// Undo a deadline kick may have set just before.
		c.Conn.SetReadDeadline(time.Now().Add(dataReadTimeout))
	}
}

// kick makes a pending read of a command fail now (see kickIdle).
func (c *trackedConn) kick() {
	c.busyMu.Lock()
	defer c.busyMu.Unlock()
	if !c.busy.Load() {
		c.Conn.SetReadDeadline(time.Unix(1, 0))
	}
}

// Close closes the connection and releases its slot.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		if c.release != nil {
			c.release()
		}
		c.cancel()
		c.endSession()
	})
	return c.Conn.Close()
}

func remoteIP(a net.Addr) net.IP {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP
	case nil:
		return nil
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return nil
	}
	return net.ParseIP(host)
}

// errorLog adapts go-smtp's logger (unexpected errors, recovered panics with
// their stack) to slog.
type errorLog struct{ log *slog.Logger }

// Printf logs a go-smtp error.
func (e errorLog) Printf(format string, v ...any) {
	e.log.Warn("smtp server error", "err", fmt.Sprintf(format, v...))
}

// Println logs a go-smtp error.
func (e errorLog) Println(v ...any) {
	e.log.Warn("smtp server error", "err", fmt.Sprint(v...))
}
