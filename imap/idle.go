package imap

import (
	"errors"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// idleTimeout bounds one IDLE: RFC 2177 section 3 asks clients to re-issue
// IDLE at least every 29 minutes, and RFC 9051 section 5.4 sets the 30
// minute autologout floor.
const idleTimeout = authIdleTimeout

// cmdIdle: RFC 2177. Changes of the selected mailbox are pushed as core
// events arrive, until the client sends DONE.
func cmdIdle(s *session, c *command, p *parser) error {
	if p.end(); p.err != nil {
		return p.err
	}
	s.w.lock()
	s.w.raw("+ idling\r\n")
	s.w.flush()
	s.w.unlock()
	done := make(chan error, 1)
	go func() {
		s.conn.SetReadDeadline(time.Now().Add(idleTimeout))
		line, err := s.r.readLine(nil)
		if err == nil && !strings.EqualFold(strings.TrimSpace(string(line)), "DONE") {
			err = errBadDone
		}
		done <- err
	}()
	flushed := func() error {
		s.w.lock()
		defer s.w.unlock()
		return s.w.flush()
	}
	var sub <-chan core.Event
	if s.sel != nil {
		sub = s.sel.sub.C
		if err := s.sync(updates{s}, true, false); err != nil {
			s.conn.SetReadDeadline(time.Now())
			<-done
			return err
		}
		flushed()
	}
	t := time.NewTicker(idleResync)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			switch {
			case err == nil:
				return nil
			case errors.Is(err, errBadDone):
				return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Expected DONE"}
			case s.stop.Err() != nil:
				s.bye("Server shutting down")
			default:
				var ne interface{ Timeout() bool }
				if errors.As(err, &ne) && ne.Timeout() {
					s.bye("Autologout; idle for too long")
				}
			}
			s.logout = true
			return nil
		case <-s.stop.Done():
			s.conn.SetReadDeadline(time.Now())
		case ev := <-sub:
			if ev.MailboxID != s.sel.mb.ID && ev.Kind != core.EventMailbox {
				continue
			}
			if err := s.sync(updates{s}, true, true); err != nil {
				s.conn.SetReadDeadline(time.Now())
				<-done
				return err
			}
			if flushed() != nil {
				s.conn.SetReadDeadline(time.Now())
				<-done
				return nil
			}
		case <-t.C:
			if s.sel != nil {
				if err := s.sync(updates{s}, true, true); err != nil {
					s.conn.SetReadDeadline(time.Now())
					<-done
					return err
				}
				flushed()
			}
		}
	}
}

var errBadDone = errors.New("expected DONE")
