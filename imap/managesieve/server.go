// Package managesieve is Stamp's ManageSieve server (RFC 5804), through
// which Thunderbird's Sieve add-on, Roundcube's managesieve plugin and
// sieve-connect edit users' Sieve scripts (RFC 5228, interpreted by
// core/sieve).
//
// Implemented: CAPABILITY, STARTTLS (RFC 5804 section 2.2), AUTHENTICATE
// PLAIN (RFC 4616, with or without an initial response), LOGOUT, NOOP,
// HAVESPACE, PUTSCRIPT, LISTSCRIPTS, SETACTIVE, GETSCRIPT, DELETESCRIPT,
// RENAMESCRIPT and CHECKSCRIPT. The rules for authentication are IMAP's:
// none before TLS, unless Options.AllowInsecureAuth is set and the client
// is on a loopback address. The wire layer (wire.go) is apart from the
// command handlers (auth.go, scripts.go); core errors become NO responses
// with RFC 5804 response codes in errors.go.
package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/listener"
)

// commandReadTimeout bounds the wait for the next command. RFC 5804 sets
// no floor; it follows IMAP's autologout timer (RFC 9051 section 5.4, at
// least 30 minutes) since clients keep ManageSieve connections open the
// same way.
const commandReadTimeout = 30 * time.Minute

// writeTimeout bounds one response write.
const writeTimeout = time.Minute

// maxBadCommands is how many unknown or malformed commands end a session.
const maxBadCommands = 20

// Options configure a Server.
type Options struct {
	// Core is the mail service; required.
	Core *core.Service
	// Logger receives connection logs; nil discards them.
	Logger *slog.Logger
	// Hostname names this server in logs and the greeting.
	Hostname string
	// TLSConfig enables STARTTLS when not nil.
	TLSConfig *tls.Config
	// AllowInsecureAuth allows AUTHENTICATE before TLS from loopback addresses only.
	AllowInsecureAuth bool
	// MaxConnections bounds open connections; 0 means unlimited.
	MaxConnections int
}

// Server is a ManageSieve server. Create it with New.
type Server struct {
	opts   Options
	log    *slog.Logger
	ln     *listener.Server
	nextID atomic.Uint64
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = listener.ErrServerClosed

// New returns a server.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger}
	s.ln = listener.New(listener.Options{
		Name: "managesieve", Logger: opts.Logger, MaxConnections: opts.MaxConnections,
		Handle: s.handle,
		Refuse: func(c net.Conn, r listener.Reason) {
			io.WriteString(c, response("BYE", "TRYLATER", "Too many connections, try again later"))
		},
	})
	return s
}

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error { return s.ln.Serve(ln) }

// Shutdown stops accepting, says BYE to sessions at their next command
// boundary and waits for them (force-closing when ctx ends).
func (s *Server) Shutdown(ctx context.Context) error { return s.ln.Shutdown(ctx) }

// Close closes the listeners and every connection at once.
func (s *Server) Close() error { return s.ln.Close() }

// session is one connection's state.
type session struct {
	srv    *Server
	ctx    context.Context
	conn   net.Conn
	r      *reader
	w      *bufio.Writer
	log    *slog.Logger
	tls    bool
	remote string
	user   *core.User
	bad    int
}

func (s *Server) handle(ctx context.Context, c net.Conn) {
	id := s.nextID.Add(1)
	remote := c.RemoteAddr().String()
	sess := &session{srv: s, ctx: ctx, conn: c, log: s.log.With("proto", "managesieve", "conn", id, "remote", remote), remote: remote}
	sess.setConn(c)
	// Shutdown cancels ctx: wake a blocked read so the session can say BYE.
	stop := context.AfterFunc(ctx, func() { sess.conn.SetReadDeadline(time.Now()) })
	defer stop()
	sess.serve()
}

func (sess *session) setConn(c net.Conn) {
	sess.conn = c
	sess.r = &reader{br: bufio.NewReaderSize(c, 4096)}
	sess.w = bufio.NewWriter(c)
}

// insecureOK says whether authentication may happen on this connection.
func (sess *session) authAllowed() bool {
	if sess.tls {
		return true
	}
	if !sess.srv.opts.AllowInsecureAuth {
		return false
	}
	host, _, _ := net.SplitHostPort(sess.remote)
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (sess *session) send(s string) error {
	sess.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := sess.w.WriteString(s); err != nil {
		return err
	}
	return sess.w.Flush()
}

func (sess *session) ok(text string) error       { return sess.send(response("OK", "", text)) }
func (sess *session) no(code, text string) error { return sess.send(response("NO", code, text)) }

// capabilities returns the capability lines (RFC 5804 section 1.7).
func (sess *session) capabilities() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\"IMPLEMENTATION\" \"Stamp\"\r\n")
	if sess.authAllowed() {
		b.WriteString("\"SASL\" \"PLAIN\"\r\n")
	} else {
		b.WriteString("\"SASL\" \"\"\r\n")
	}
	fmt.Fprintf(&b, "\"SIEVE\" %s\r\n", quote(core.SieveExtensions()))
	if sess.srv.opts.TLSConfig != nil && !sess.tls {
		b.WriteString("\"STARTTLS\"\r\n")
	}
	b.WriteString("\"MAXREDIRECTS\" \"4\"\r\n")
	if sess.user != nil {
		fmt.Fprintf(&b, "\"OWNER\" %s\r\n", quote(sess.user.Address))
	}
	b.WriteString("\"VERSION\" \"1.0\"\r\n")
	return b.String()
}

func (sess *session) serve() {
	defer func() {
		if p := recover(); p != nil {
			sess.log.Error("panic in session", "panic", p)
		}
	}()
	if sess.send(sess.capabilities()+response("OK", "", "Stamp ManageSieve ready")) != nil {
		return
	}
	for {
		sess.conn.SetReadDeadline(time.Now().Add(commandReadTimeout))
		// Shutdown is looked for after arming the deadline: a wake-up
		// (handle's AfterFunc) that came before it would be overwritten.
		// A read the wake-up interrupted comes back here too.
		if sess.ctx.Err() != nil {
			sess.send(response("BYE", "", "Server shutting down"))
			return
		}
		toks, err := sess.r.readCommand()
		if sess.ctx.Err() != nil {
			continue // the check above says BYE
		}
		if err != nil {
			switch {
			case errors.Is(err, errSyntax), errors.Is(err, errTooBig):
				sess.bad++
				if sess.bad > maxBadCommands {
					sess.send(response("BYE", "", "Too many bad commands"))
					return
				}
				if sess.no("", err.Error()) != nil {
					return
				}
				continue
			case errors.Is(err, io.EOF):
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				sess.send(response("BYE", "", "Autologout: idle for too long"))
			}
			return
		}
		if len(toks) == 0 {
			continue
		}
		done, err := sess.dispatch(toks)
		if err != nil || done {
			return
		}
	}
}

// dispatch runs one command; done ends the session.
func (sess *session) dispatch(toks []token) (bool, error) {
	if !toks[0].atom {
		return false, sess.bump("Command expected")
	}
	name := strings.ToUpper(toks[0].value)
	args := toks[1:]
	switch name {
	case "CAPABILITY":
		return false, sess.send(sess.capabilities() + response("OK", "", "Capability completed"))
	case "NOOP":
		if len(args) == 1 && !args[0].atom {
			return false, sess.send(response("OK", "TAG "+quote(args[0].value), "Done"))
		}
		return false, sess.ok("Done")
	case "LOGOUT":
		sess.ok("Logout completed")
		return true, nil
	case "STARTTLS":
		return false, sess.startTLS()
	case "AUTHENTICATE":
		return false, sess.authenticate(args)
	}
	if sess.user == nil {
		switch name {
		case "HAVESPACE", "PUTSCRIPT", "LISTSCRIPTS", "SETACTIVE", "GETSCRIPT", "DELETESCRIPT", "RENAMESCRIPT", "CHECKSCRIPT":
			return false, sess.no("", "Authenticate first")
		}
		return false, sess.bump("Unknown command " + toks[0].value)
	}
	switch name {
	case "HAVESPACE":
		return false, sess.haveSpace(args)
	case "PUTSCRIPT":
		return false, sess.putScript(args)
	case "CHECKSCRIPT":
		return false, sess.checkScript(args)
	case "LISTSCRIPTS":
		return false, sess.listScripts(args)
	case "SETACTIVE":
		return false, sess.setActive(args)
	case "GETSCRIPT":
		return false, sess.getScript(args)
	case "DELETESCRIPT":
		return false, sess.deleteScript(args)
	case "RENAMESCRIPT":
		return false, sess.renameScript(args)
	}
	return false, sess.bump("Unknown command " + toks[0].value)
}

func (sess *session) bump(text string) error {
	sess.bad++
	if sess.bad > maxBadCommands {
		sess.send(response("BYE", "", "Too many bad commands"))
		return errors.New("too many bad commands")
	}
	return sess.no("", text)
}

// strings checks that args are n strings and returns them.
func stringArgs(args []token, n int) ([]string, bool) {
	if len(args) != n {
		return nil, false
	}
	out := make([]string, n)
	for i, a := range args {
		if a.atom {
			return nil, false
		}
		out[i] = a.value
	}
	return out, true
}
