package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// WebSocket timeouts (RFC 6455 sets none; section 5.5.2 leaves the ping
// period to the endpoint).
const (
	// wsWriteTimeout bounds sending one event or ping; a client slower than
	// this is disconnected and resumes from its cursor.
	wsWriteTimeout = 10 * time.Second
	// maxEventsPerRead bounds change log entries read at once.
	maxEventsPerRead = 500
)

// statusSessionEnded closes a WebSocket whose session was logged out or
// ended (a private-use code, RFC 6455 section 7.4.2): the client should
// sign in again rather than reconnect.
const statusSessionEnded websocket.StatusCode = 4001

// Event types pushed to clients.
const (
	eventNew      = "message.new"
	eventFlags    = "message.flags"
	eventExpunged = "message.expunged"
	eventFolder   = "folder.changed"
)

// eventJSON is one pushed event. Cursor is the user's MODSEQ after the
// change: a client that reconnects with it receives what came later.
type eventJSON struct {
	Type      string       `json:"type"`
	Cursor    string       `json:"cursor"`
	MessageID int64        `json:"message_id,omitempty"`
	FolderID  int64        `json:"folder_id,omitempty"`
	UID       uint32       `json:"uid,omitempty"`
	Message   *summaryJSON `json:"message,omitempty"`
	Flags     []string     `json:"flags,omitempty"`
	Seen      *bool        `json:"seen,omitempty"`
	Flagged   *bool        `json:"flagged,omitempty"`
	Folder    *folderJSON  `json:"folder,omitempty"`
	Deleted   bool         `json:"deleted,omitempty"` // folder.changed: the folder is gone
}

func formatCursor(modseq uint64) string { return strconv.FormatUint(modseq, 10) }

// startCursor returns the ?cursor= value, or the user's current MODSEQ
// when absent (events after the request arrived).
func (s *Server) startCursor(r *http.Request) (uint64, error) {
	if v := r.URL.Query().Get("cursor"); v != "" {
		c, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, badRequest("The cursor must be a number returned by an earlier event.")
		}
		high, err := s.svc.HighestModSeq(r.Context(), userFrom(r).ID)
		if err != nil {
			return 0, err
		}
		if c > high {
			// A cursor from the future (another account, a restored
			// database) would silently skip the changes up to it.
			return 0, badRequest("The cursor is ahead of this account's changes: start again without a cursor.")
		}
		return c, nil
	}
	return s.svc.HighestModSeq(r.Context(), userFrom(r).ID)
}

// sessionToken returns the token that authenticated the request.
func sessionToken(r *http.Request) string {
	tok, _ := r.Context().Value(tokenKey).(string)
	return tok
}

// checkSession reports whether the request's session is still valid: a
// stream re-checks before sending, so a session ended on another node
// stops receiving events too.
func (s *Server) checkSession(ctx context.Context, r *http.Request) bool {
	_, err := s.svc.UserByToken(ctx, sessionToken(r))
	return err == nil
}

// readEvents turns the change log after cursor into events (at most
// maxEventsPerRead changes) and returns the new cursor. A folder.changed
// event with the folder's counts follows the changes of each folder touched.
func (s *Server) readEvents(ctx context.Context, userID int64, cursor uint64) ([]eventJSON, uint64, error) {
	changes, err := s.svc.ChangesSince(ctx, userID, cursor, maxEventsPerRead)
	if err != nil || len(changes) == 0 {
		return nil, cursor, err
	}
	var out []eventJSON
	var folders []int64
	for _, c := range changes {
		cursor = max(cursor, c.ModSeq)
		ev := eventJSON{Cursor: formatCursor(c.ModSeq), MessageID: c.MessageID, FolderID: c.MailboxID, UID: c.UID}
		if !slices.Contains(folders, c.MailboxID) {
			folders = append(folders, c.MailboxID)
		}
		switch c.Kind {
		case storage.ChangeNew, storage.ChangeFlags:
			ev.Type = eventNew
			if c.Kind == storage.ChangeFlags {
				ev.Type = eventFlags
			}
			m, err := s.svc.GetMessage(ctx, userID, c.MessageID)
			if isNotFound(err) || (err == nil && m.MailboxID != c.MailboxID) {
				break // gone since: a later change says so
			} else if err != nil {
				return nil, 0, err
			}
			sum := toSummary(m)
			if c.Kind == storage.ChangeNew {
				ev.Message = &sum
			} else {
				ev.Flags, ev.Seen, ev.Flagged = sum.Flags, &sum.Seen, &sum.Flagged
			}
		case storage.ChangeExpunge:
			ev.Type = eventExpunged
		case storage.ChangeMailbox:
			continue // reported by the folder.changed below
		default:
			continue
		}
		out = append(out, ev)
	}
	last := formatCursor(cursor)
	for _, id := range folders {
		ev := eventJSON{Type: eventFolder, Cursor: last, FolderID: id}
		mb, err := s.svc.GetMailbox(ctx, userID, id)
		switch {
		case err == nil:
			f := toFolder(mb)
			ev.Folder = &f
		case isNotFound(err):
			ev.Deleted = true
		default:
			return nil, 0, err
		}
		out = append(out, ev)
	}
	return out, cursor, nil
}

// drain empties a subscription's channel: one catch-up covers every wake-up.
func drain(sub *core.Subscription) {
	for {
		select {
		case <-sub.C:
		default:
			sub.Missed() // the change log has everything that was dropped
			return
		}
	}
}

// handlePoll answers at once when changes follow the cursor, otherwise waits
// for one (up to Options.PollWait) and answers {events, cursor}.
func (s *Server) handlePoll(w http.ResponseWriter, r *http.Request) {
	uid := userFrom(r).ID
	sub := s.svc.Subscribe(uid) // before reading the cursor, so nothing slips between
	defer sub.Close()
	cursor, err := s.startCursor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ended, release := s.streams.track(r.Context(), sessionToken(r))
	defer release()
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.opts.PollWait + writeTimeout))
	timer := time.NewTimer(s.opts.PollWait)
	defer timer.Stop()
	for {
		if ended.Err() != nil && r.Context().Err() == nil || !s.checkSession(r.Context(), r) {
			writeError(w, &apiError{Status: http.StatusUnauthorized, Code: codeUnauth, Message: "Your session has ended: sign in again."})
			return
		}
		evs, next, err := s.readEvents(r.Context(), uid, cursor)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cursor = next
		if len(evs) > 0 {
			writeJSON(w, http.StatusOK, map[string]any{"events": evs, "cursor": formatCursor(cursor)})
			return
		}
		select {
		case <-sub.C:
			drain(sub)
		case <-timer.C:
			writeJSON(w, http.StatusOK, map[string]any{"events": []eventJSON{}, "cursor": formatCursor(cursor)})
			return
		case <-s.done:
			writeJSON(w, http.StatusOK, map[string]any{"events": []eventJSON{}, "cursor": formatCursor(cursor)})
			return
		case <-ended.Done():
			if r.Context().Err() != nil {
				return
			}
		}
	}
}

// sameOrigin reports whether a browser's Origin header (if any) names the
// host the request was sent to: other sites may not open event streams
// with the user's cookies (cross-site WebSocket hijacking).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// handleEvents upgrades to a WebSocket and pushes events as text messages
// holding one JSON event each, from ?cursor= or from now. It pings every
// Options.PingInterval and ends with close code 1001 at shutdown.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		writeError(w, &apiError{Status: http.StatusForbidden, Code: codeNotAllowed, Message: "cross-origin event streams are not allowed"})
		return
	}
	u := userFrom(r)
	sub := s.svc.Subscribe(u.ID)
	defer sub.Close()
	cursor, err := s.startCursor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The stream outlives the server's request timeouts.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, nil) // also refuses foreign origins
	if err != nil {
		s.reqLog(r).Info("websocket upgrade failed", "err", err)
		return
	}
	defer c.CloseNow()
	done := s.svc.Metrics().SessionStarted("websocket")
	defer done()
	log := s.reqLog(r).With("proto", "websocket")
	ctx := c.CloseRead(context.WithoutCancel(r.Context())) // clients send nothing; this answers pings and closes
	ended, release := s.streams.track(ctx, sessionToken(r))
	defer release()

	send := func() bool {
		if !s.checkSession(ctx, r) {
			c.Close(statusSessionEnded, "session ended")
			return false
		}
		for {
			evs, next, err := s.readEvents(ctx, u.ID, cursor)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("reading events failed", "err", err)
					c.Close(websocket.StatusInternalError, "internal error")
				}
				return false
			}
			for _, ev := range evs {
				b, _ := json.Marshal(ev)
				wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
				err := c.Write(wctx, websocket.MessageText, b)
				cancel()
				if err != nil {
					return false
				}
			}
			if next == cursor {
				return true
			}
			cursor = next
		}
	}
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	for {
		if !send() {
			return
		}
		select {
		case <-sub.C:
			drain(sub)
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		case <-s.done:
			c.Close(websocket.StatusGoingAway, "server shutting down")
			return
		case <-ended.Done():
			if ctx.Err() == nil {
				c.Close(statusSessionEnded, "session ended")
			}
			return
		}
	}
}
