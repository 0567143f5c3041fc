// Package listener is the accept loop shared by Stamp's own protocol servers
// (IMAP, POP3): one loop per net.Listener, an exact global connection cap, a
// per-IP cap, and shutdown tracking.
//
// Life cycle (STYLE.md rule 1): New, Serve(ln) (any number of listeners),
// Shutdown(ctx) stops accepting, cancels every session's context so that the
// protocol says its last words (IMAP BYE, POP3 -ERR) at the next command
// boundary, waits for the sessions to end, and force-closes what is left when
// ctx is done; Close force-closes at once.
//
// Limiter is the same admission logic on its own, for servers whose library
// runs the accept loop (go-smtp): LimitListener wraps a net.Listener with it.
package listener

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// refuseWriteTimeout bounds writing the refusal line to a connection over a
// cap. No RFC sets a floor for it; a one-line write either fits in the socket
// buffer or the client is not reading.
const refuseWriteTimeout = 5 * time.Second

// Reason says why a connection was refused.
type Reason int

const (
	// Admitted means the connection was not refused.
	Admitted Reason = iota
	// TooMany means the global cap was reached.
	TooMany
	// TooManyFromIP means the per-IP cap was reached for the client's address.
	TooManyFromIP
	// ShuttingDown means the server is shutting down.
	ShuttingDown
)

// String names the reason for logs.
func (r Reason) String() string {
	switch r {
	case Admitted:
		return "admitted"
	case TooMany:
		return "too many connections"
	case TooManyFromIP:
		return "too many connections from this address"
	case ShuttingDown:
		return "shutting down"
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// ErrServerClosed is returned by Serve after Shutdown or Close. It wraps
// net.ErrClosed.
var ErrServerClosed = fmt.Errorf("listener: server closed: %w", net.ErrClosed)

// Limiter admits connections under a global cap and a per-IP cap. The zero
// value of a cap means no limit. It is safe for concurrent use.
type Limiter struct {
	max, perIP int

	mu    sync.Mutex
	total int
	byIP  map[string]int
}

// NewLimiter returns a limiter; 0 for either cap means unlimited.
func NewLimiter(max, perIP int) *Limiter {
	return &Limiter{max: max, perIP: perIP, byIP: map[string]int{}}
}

// Acquire admits one connection from addr, or says why not. On Admitted the
// caller must call the returned release exactly once when the connection
// ends; release is safe to call more than once.
func (l *Limiter) Acquire(addr net.Addr) (release func(), r Reason) {
	ip := hostOf(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.total >= l.max {
		return nil, TooMany
	}
	if l.perIP > 0 && ip != "" && l.byIP[ip] >= l.perIP {
		return nil, TooManyFromIP
	}
	l.total++
	if ip != "" {
		l.byIP[ip]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if ip != "" {
				if l.byIP[ip]--; l.byIP[ip] <= 0 {
					delete(l.byIP, ip)
				}
			}
		})
	}, Admitted
}

// Count returns the connections currently admitted.
func (l *Limiter) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// hostOf returns the IP of addr as text ("" when it has none, e.g. a pipe).
// IPv6 addresses are grouped by their /64, since one host usually holds a
// whole /64.
func hostOf(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String()
	}
	return ip.String()
}

// Options configure a Server.
type Options struct {
	// Name tags log lines and errors ("imap", "pop3").
	Name string
	// Logger receives accept errors and refusals; nil discards them.
	Logger *slog.Logger
	// MaxConnections is the exact global cap; 0 means unlimited.
	MaxConnections int
	// MaxPerIP caps connections from one IP address; 0 means unlimited.
	MaxPerIP int
	// Handle serves one connection and returns when it is done; the
	// connection is closed after it returns. ctx is canceled when Shutdown
	// begins (or Close is called): the session should then say goodbye at
	// its next command boundary and return.
	Handle func(ctx context.Context, c net.Conn)
	// Refuse writes the protocol's refusal line for a connection over a cap;
	// it runs in its own goroutine with a write deadline set, and the
	// connection is closed after it. Nil refuses silently.
	Refuse func(c net.Conn, r Reason)
}

// Server runs accept loops and tracks their connections. Create it with New.
type Server struct {
	opts Options
	log  *slog.Logger
	lim  *Limiter

	// ctx is canceled when shutdown begins; every session context derives from it.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup // one per running Handle
}

// New returns a server; opts.Handle is required.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts:      opts,
		log:       opts.Logger,
		lim:       NewLimiter(opts.MaxConnections, opts.MaxPerIP),
		ctx:       ctx,
		cancel:    cancel,
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
	}
}

// Count returns the number of open connections.
func (s *Server) Count() int { return s.lim.Count() }

// Serve accepts connections on ln until Shutdown or Close and then returns
// ErrServerClosed; other accept errors are returned as they are, after
// temporary ones have been retried with back-off. ln is closed on return.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
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
		ln.Close()
	}()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if temporary(err) {
				// Out of file descriptors and the like: back off as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("%s: accept: %w", s.opts.Name, err)
		}
		backoff = 0
		s.start(c)
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// start admits c and runs its handler, or refuses it.
func (s *Server) start(c net.Conn) {
	release, r := s.lim.Acquire(c.RemoteAddr())
	s.mu.Lock()
	if r == Admitted && s.closing {
		release()
		r = ShuttingDown
	}
	if r != Admitted {
		s.mu.Unlock()
		s.log.Warn("connection refused", "remote", c.RemoteAddr().String(), "reason", r.String())
		go s.refuse(c, r)
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in session", "remote", c.RemoteAddr().String(), "panic", p, "stack", string(debug.Stack()))
			}
			c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			release()
			s.wg.Done()
		}()
		s.opts.Handle(s.ctx, c)
	}()
}

func (s *Server) refuse(c net.Conn, r Reason) {
	defer c.Close()
	if s.opts.Refuse != nil {
		c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
		s.opts.Refuse(c, r)
	}
}

// Shutdown stops accepting, cancels the sessions' context so they say
// goodbye, and waits for them to end. When ctx is done first it closes the
// remaining connections, waits for their handlers and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.closeConns()
		<-done
		return ctx.Err()
	}
}

// Close stops accepting and closes every connection at once, without notice.
func (s *Server) Close() error {
	s.stopAccepting()
	s.closeConns()
	return nil
}

func (s *Server) stopAccepting() {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	s.cancel()
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// temporary reports accept errors worth retrying: timeouts, and running
// out of file descriptors or aborted handshakes (as net/http retries).
func temporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// LimitListener wraps ln so that Accept only returns connections lim admits;
// the others get refuse (in a goroutine, with a write deadline) and are
// closed. Closing an accepted connection releases its place. It is for
// servers whose library owns the accept loop (go-smtp).
func LimitListener(ln net.Listener, lim *Limiter, refuse func(net.Conn, Reason)) net.Listener {
	return &limitListener{Listener: ln, lim: lim, refuse: refuse}
}

type limitListener struct {
	net.Listener
	lim    *Limiter
	refuse func(net.Conn, Reason)
}

// Accept implements net.Listener.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, r := l.lim.Acquire(c.RemoteAddr())
		if r == Admitted {
			return &limitConn{Conn: c, release: release}, nil
		}
		go func() {
			defer c.Close()
			if l.refuse != nil {
				c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
				l.refuse(c, r)
			}
		}()
	}
}

type limitConn struct {
	net.Conn
	release func()
}

// Close implements net.Conn and releases the connection's place.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
