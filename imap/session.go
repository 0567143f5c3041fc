package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// Timeouts (STYLE.md rule 11).
const (
	// authIdleTimeout bounds the wait for a command once logged in: RFC 9051
	// section 5.4 requires the autologout timer to be at least 30 minutes.
	authIdleTimeout = 31 * time.Minute
	// unauthIdleTimeout bounds the wait for each command before login; RFC
	// 9051 section 5.4 lets an unauthenticated connection be shorter.
	unauthIdleTimeout = 60 * time.Second
	// loginWindow is how long a connection may stay unauthenticated in all,
	// so that NOOPs cannot hold a slot forever (issue 16).
	loginWindow = 5 * time.Minute
	// lineTimeout bounds each line and literal chunk within a command, and a
	// SASL response. No RFC sets a floor.
	lineTimeout = 2 * time.Minute
	// handshakeTimeout bounds a TLS handshake (STARTTLS or implicit TLS).
	handshakeTimeout = time.Minute
	// pipelineDepth is how many commands the reader parses ahead of the one
	// running (RFC 9051 section 5.5).
	pipelineDepth = 4
)

// state is the connection state (RFC 9051 section 3).
type state int

const (
	stateNotAuth state = 1 << iota
	stateAuth
	stateSelected
)

// session is one IMAP connection: a reader goroutine that parses commands
// ahead (pipelining) and the command goroutine that runs them in order and
// owns all the state below.
type session struct {
	srv    *Server
	conn   net.Conn
	ctx    context.Context // canceled when the connection ends
	cancel context.CancelFunc
	stop   context.Context // canceled when the server shuts down
	remote string
	log    *slog.Logger
	start  time.Time

	r *cmdReader
	w *respWriter

	tls        bool
	authed     atomic.Bool
	user       core.User // ID 0 before login
	sel        *selected // nil unless a mailbox is selected
	rev2       bool      // ENABLE IMAP4rev2
	utf8       bool      // ENABLE UTF8=ACCEPT (or IMAP4rev2)
	cs         syncExt   // CONDSTORE/QRESYNC state (condstore.go)
	compressed bool      // COMPRESS DEFLATE is on (cmd_compress.go)
	logout     bool
	badCmds    int
	resume     chan struct{} // lets the reader go on after a barrier command
	// recorded: keywords this session recorded in mailboxes it did not
	// have selected (recordKeywords), by mailbox ID and lower-case name;
	// a mailbox's keyword list only grows, so they need not be again.
	recorded map[int64]map[string]bool
}

// maxBadCommands ends a connection after this many BAD answers in a row.
const maxBadCommands = 20

func (s *session) state() state {
	switch {
	case s.sel != nil:
		return stateSelected
	case s.user.ID != 0:
		return stateAuth
	}
	return stateNotAuth
}

// serve runs the connection until LOGOUT, an error, a timeout or shutdown.
func (s *session) serve() {
	defer func() {
		s.cancel()
		if s.sel != nil {
			s.sel.close()
			s.sel = nil
		}
	}()
	if s.srv.opts.ImplicitTLS {
		tc, ok := s.conn.(*tls.Conn)
		if ok {
			tc.SetDeadline(time.Now().Add(handshakeTimeout))
			if err := tc.HandshakeContext(s.ctx); err != nil {
				s.log.Debug("TLS handshake failed", "err", err)
				return
			}
			tc.SetDeadline(time.Time{})
		}
		s.tls = true
	}
	s.w.lock()
	s.w.raw("* OK [CAPABILITY ")
	s.writeCaps()
	s.w.raw("] Stamp IMAP4rev2 server ready\r\n")
	s.w.flush()
	s.w.unlock()

	cmds := make(chan *command, pipelineDepth)
	var readErr error
	go func() {
		defer close(cmds)
		readErr = s.readLoop(cmds)
	}()
	raw := s.conn
	unwake := context.AfterFunc(s.stop, func() { raw.SetReadDeadline(time.Now()) })
	defer unwake()

	for {
		var c *command
		select {
		case c = <-cmds:
		case <-s.stop.Done():
			s.bye("Server shutting down")
			return
		}
		if c == nil {
			var ne net.Error
			switch {
			case s.stop.Err() != nil:
				s.bye("Server shutting down")
			case errors.As(readErr, &ne) && ne.Timeout():
				s.bye("Autologout; idle for too long")
			case readErr != nil && !errors.Is(readErr, net.ErrClosed) && !isEOF(readErr):
				s.log.Debug("read failed", "err", readErr)
				s.bye("Protocol error: " + shortErr(readErr))
			}
			return
		}
		s.run(c)
		if s.logout || s.w.failed() != nil {
			return
		}
		if s.badCmds >= maxBadCommands {
			s.bye("Too many invalid commands")
			return
		}
	}
}

func isEOF(err error) bool {
	return err != nil && (err.Error() == "EOF" || strings.Contains(err.Error(), "connection reset"))
}

func shortErr(err error) string {
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, msg)
}

// readLoop parses commands ahead of the one running. After a command that
// takes over the connection (STARTTLS, AUTHENTICATE, IDLE, LOGOUT) it waits
// for the command goroutine before reading on.
func (s *session) readLoop(cmds chan<- *command) error {
	for {
		if s.stop.Err() != nil {
			return context.Canceled
		}
		s.conn.SetReadDeadline(s.idleDeadline())
		c, err := s.r.read()
		if err != nil {
			return err
		}
		select {
		case cmds <- c:
		case <-s.ctx.Done():
			return nil
		}
		if barrier(c) {
			select {
			case <-s.resume:
			case <-s.ctx.Done():
				return nil
			}
		}
	}
}

// idleDeadline is when the wait for the next command ends.
func (s *session) idleDeadline() time.Time {
	if s.authed.Load() {
		return time.Now().Add(authIdleTimeout)
	}
	return minTime(time.Now().Add(unauthIdleTimeout), s.start.Add(loginWindow))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// barrier reports whether the reader must not read past c: the command
// reads from the connection itself or changes what the bytes mean.
func barrier(c *command) bool {
	if c.bad != "" || c.answered {
		return false
	}
	switch c.name {
	case "STARTTLS", "AUTHENTICATE", "IDLE", "LOGOUT", "COMPRESS":
		return true
	}
	return false
}

// bye says BYE and flushes.
func (s *session) bye(text string) {
	s.w.lock()
	defer s.w.unlock()
	s.w.status("*", imap.StatusResponseTypeBye, "", text)
	s.w.flush()
}

// untagged writes one untagged line "* text".
func (s *session) untagged(text string) {
	s.w.lock()
	s.w.raw("* ")
	s.w.raw(text)
	s.w.crlf()
	s.w.unlock()
}

// handler runs a command with its arguments.
type handler func(s *session, c *command, p *parser) error

// cmdSpec says in which states a command may run and how.
type cmdSpec struct {
	states state
	run    handler
	// noExpunge: EXPUNGE responses must not be sent after this command
	// (RFC 9051 section 7.5: FETCH, STORE, SEARCH, not their UID forms).
	noExpunge bool
	// fresh: the command built the view it leaves selected (SELECT,
	// EXAMINE), so no poll follows it: what arrived meanwhile is told
	// with the next command, not as a second EXISTS inside the SELECT
	// response, which clients (imaptest's QRESYNC checks among them)
	// take for the first.
	fresh bool
}

const anyState = stateNotAuth | stateAuth | stateSelected
const authStates = stateAuth | stateSelected

// commands is the command table (RFC 9051 section 6 and the extensions).
var commands = map[string]cmdSpec{
	"CAPABILITY":   {states: anyState, run: cmdCapability},
	"NOOP":         {states: anyState, run: cmdNoop},
	"LOGOUT":       {states: anyState, run: cmdLogout},
	"ID":           {states: anyState, run: cmdID},
	"STARTTLS":     {states: stateNotAuth, run: cmdStartTLS},
	"LOGIN":        {states: stateNotAuth, run: cmdLogin},
	"AUTHENTICATE": {states: stateNotAuth, run: cmdAuthenticate},
	"ENABLE":       {states: authStates, run: cmdEnable},
	"NAMESPACE":    {states: authStates, run: cmdNamespace},
	"SELECT":       {states: authStates, run: cmdSelect, fresh: true},
	"EXAMINE":      {states: authStates, run: cmdSelect, fresh: true},
	"CREATE":       {states: authStates, run: cmdCreate},
	"DELETE":       {states: authStates, run: cmdDelete},
	"RENAME":       {states: authStates, run: cmdRename},
	"SUBSCRIBE":    {states: authStates, run: cmdSubscribe},
	"UNSUBSCRIBE":  {states: authStates, run: cmdSubscribe},
	"LIST":         {states: authStates, run: cmdList},
	"LSUB":         {states: authStates, run: cmdList},
	"STATUS":       {states: authStates, run: cmdStatus},
	"APPEND":       {states: authStates, run: cmdAppend},
	"IDLE":         {states: authStates, run: cmdIdle},
	"CHECK":        {states: stateSelected, run: cmdNoop},
	"CLOSE":        {states: stateSelected, run: cmdClose},
	"UNSELECT":     {states: stateSelected, run: cmdClose},
	"EXPUNGE":      {states: stateSelected, run: cmdExpunge},
	"UID EXPUNGE":  {states: stateSelected, run: cmdExpunge},
	"SEARCH":       {states: stateSelected, run: cmdSearch, noExpunge: true},
	"UID SEARCH":   {states: stateSelected, run: cmdSearch},
	"FETCH":        {states: stateSelected, run: cmdFetch, noExpunge: true},
	"UID FETCH":    {states: stateSelected, run: cmdFetch},
	"STORE":        {states: stateSelected, run: cmdStore, noExpunge: true},
	"UID STORE":    {states: stateSelected, run: cmdStore},
	"COPY":         {states: stateSelected, run: cmdCopy},
	"UID COPY":     {states: stateSelected, run: cmdCopy},
	"MOVE":         {states: stateSelected, run: cmdMove},
	"UID MOVE":     {states: stateSelected, run: cmdMove},
	"GETQUOTAROOT": {states: authStates, run: cmdGetQuotaRoot},
	"GETQUOTA":     {states: authStates, run: cmdGetQuota},
	"SETQUOTA":     {states: authStates, run: cmdSetQuota},
	"GETMETADATA":  {states: authStates, run: cmdGetMetadata},
	"SETMETADATA":  {states: authStates, run: cmdSetMetadata},
	"COMPRESS":     {states: authStates, run: cmdCompress},
	"SORT":         {states: stateSelected, run: cmdSort, noExpunge: true},
	"UID SORT":     {states: stateSelected, run: cmdSort},
	"THREAD":       {states: stateSelected, run: cmdThread, noExpunge: true},
	"UID THREAD":   {states: stateSelected, run: cmdThread},
}

// run executes one command and writes its tagged response.
func (s *session) run(c *command) {
	defer s.release(c)
	if c.answered {
		s.w.lock()
		s.w.flush()
		s.w.unlock()
		return
	}
	if c.bad != "" {
		s.badCmds++
		s.tagged(c.tag, &imap.Error{Type: imap.StatusResponseTypeBad, Text: c.bad})
		return
	}
	spec, ok := commands[c.name]
	if !ok {
		s.badCmds++
		s.tagged(c.tag, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Unknown command"})
		return
	}
	if spec.states&s.state() == 0 {
		s.badCmds++
		text := "Command not allowed in this state"
		switch {
		case s.state() == stateNotAuth:
			text = "Log in first"
		case spec.states == stateSelected:
			text = "No mailbox selected"
		case spec.states == stateNotAuth:
			text = "Already logged in"
		}
		s.tagged(c.tag, &imap.Error{Type: imap.StatusResponseTypeBad, Text: text})
		return
	}
	p := newParser(c.args)
	p.utf8 = s.utf8
	err := spec.run(s, c, p)
	if s.w.failed() != nil || s.logout || err == errAlreadyAnswered {
		return
	}
	var ba badArgs
	if errors.As(err, &ba) {
		s.badCmds++
	} else {
		s.badCmds = 0
	}
	if s.sel != nil && !spec.fresh && !errors.As(err, &ba) {
		if perr := s.poll(!spec.noExpunge); perr != nil && err == nil {
			err = perr
		}
	}
	s.tagged(c.tag, err)
}

// release lets the reader go on after a barrier command.
func (s *session) release(c *command) {
	if barrier(c) && !s.logout {
		select {
		case s.resume <- struct{}{}:
		case <-s.ctx.Done():
		}
	}
}

// tagged writes the tagged completion of a command: OK for nil, else the
// error mapped to its response (errors.go).
func (s *session) tagged(tag string, err error) {
	ie := s.toIMAP(err)
	s.w.lock()
	defer s.w.unlock()
	if ie == nil {
		s.w.status(tag, imap.StatusResponseTypeOK, "", "Completed")
	} else {
		s.w.status(tag, ie.Type, ie.Code, ie.Text)
	}
	s.w.flush()
}

// okCode returns a tagged OK carrying a response code.
func okCode(code imap.ResponseCode, text string) error {
	return &imap.Error{Type: imap.StatusResponseTypeOK, Code: code, Text: text}
}

// loginAllowed reports whether passwords may be accepted on this
// connection: after TLS, or from loopback in development mode.
func (s *session) loginAllowed() bool {
	return s.tls || (s.srv.opts.AllowInsecureAuth && isLoopback(s.conn.RemoteAddr()))
}

func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// switchTLS replaces the connection with a TLS server connection.
func (s *session) switchTLS(tc *tls.Conn) {
	s.conn = tc
	s.r.conn = tc
	s.r.br = bufio.NewReaderSize(tc, 4096)
	s.w.reset(tc)
	s.tls = true
}
