package imap

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/stamp-mail/stamp/core"
)

var (
	_ imapserver.SessionIMAP4rev2   = (*session)(nil)
	_ imapserver.SessionAppendLimit = (*session)(nil)
	_ imapserver.SessionNamespace   = (*session)(nil)
	_ imapserver.SessionMove        = (*session)(nil)
)

// session is one IMAP connection. imapserver calls its methods from the
// connection's goroutine, one command at a time (Idle runs in a goroutine of
// its own while the connection waits for DONE, and nothing else runs then).
type session struct {
	srv    *Server
	conn   *imapserver.Conn
	ctx    context.Context // canceled when the connection ends
	cancel context.CancelFunc
	remote string
	log    *slog.Logger
	done   func() // ends the session metric

	user core.User // ID 0 before login
	sel  *selected // nil unless a mailbox is selected

	// mu guards the shutdown handshake and the end of the session.
	mu      sync.Mutex
	busy    int  // commands in progress
	byeSent bool // Shutdown already said BYE
	closed  bool
	idling  sync.WaitGroup // imapserver may end the connection while Idle still runs
}

// enter marks a command in progress until the returned func runs, so that
// Shutdown waits for it before saying BYE.
func (s *session) enter() func() {
	s.mu.Lock()
	s.busy++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.busy--
		s.mu.Unlock()
	}
}

// tryBye reports whether Shutdown may say BYE now (once).
func (s *session) tryBye() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy > 0 || s.byeSent {
		return false
	}
	s.byeSent = true
	return true
}

// Close implements imapserver.Session; it runs when the connection ends.
func (s *session) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.idling.Wait()
	if s.sel != nil {
		s.sel.close()
		s.sel = nil
	}
	s.srv.removeSession(s)
	s.done()
	return nil
}

// Login implements imapserver.Session (LOGIN and AUTHENTICATE PLAIN).
// core slows repeated failures down.
func (s *session) Login(username, password string) error {
	defer s.enter()()
	u, err := s.srv.opts.Core.Authenticate(s.ctx, username, password, s.remote)
	if err != nil {
		return s.fail("login", err)
	}
	s.user = u
	s.log = s.log.With("user", u.Address)
	s.log.Debug("logged in")
	return nil
}

// Namespace implements imapserver.SessionNamespace (RFC 2342): one personal
// namespace with "/" as delimiter.
func (s *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{
		Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: core.MailboxDelimiter}},
	}, nil
}

// AppendLimit implements imapserver.SessionAppendLimit (RFC 7889).
func (s *session) AppendLimit() uint32 { return uint32(s.srv.opts.AppendLimit) }

// rev2 reports whether the client enabled IMAP4rev2 (no \Recent then).
func (s *session) rev2() bool { return s.conn.EnabledCaps().Has(imap.CapIMAP4rev2) }

// Poll implements imapserver.Session: after each command it reports what
// changed in the selected mailbox (EXPUNGE only when allowed).
func (s *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.sel == nil {
		return nil
	}
	return s.sync(w, allowExpunge, false)
}

// Idle implements imapserver.Session (RFC 2177): it pushes changes of the
// selected mailbox as core events arrive.
func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.idling.Add(1)
	s.mu.Unlock()
	defer s.idling.Done()
	if s.sel == nil {
		select {
		case <-stop:
		case <-s.ctx.Done():
		}
		return nil
	}
	if err := s.sync(w, true, false); err != nil {
		return err
	}
	t := time.NewTicker(idleResync)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-s.ctx.Done():
			return nil
		case ev := <-s.sel.sub.C:
			if ev.MailboxID != s.sel.mb.ID && ev.Kind != core.EventMailbox {
				continue
			}
			if err := s.sync(w, true, true); err != nil {
				return err
			}
		case <-t.C:
			if err := s.sync(w, true, true); err != nil {
				return err
			}
		}
	}
}
