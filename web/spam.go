package web

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/core"
)

// spamJSON is a message's spam verdict as the API shows it (contract 3):
// the score, the threshold from which mail is junk, whether it went to
// Junk, and every signal with its points and why.
type spamJSON struct {
	Score     float64        `json:"score"`
	Threshold float64        `json:"threshold"`
	Junk      bool           `json:"junk"`
	Signals   []check.Signal `json:"signals"`
}

// spamOf reads the X-Stamp-Spam field of a stored message; nil when the
// message was never judged.
func spamOf(raw []byte, m core.Message) *spamJSON {
	if m.HeaderSize > 0 && m.HeaderSize <= int64(len(raw)) {
		raw = raw[:m.HeaderSize]
	}
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	v := h.Get("X-Stamp-Spam")
	if v == "" {
		return nil
	}
	uv, ok := check.ParseSpamHeader(v)
	if !ok {
		return nil
	}
	return &spamJSON{Score: uv.Score, Threshold: uv.Threshold, Junk: uv.Junk, Signals: uv.Signals}
}

// handleMarkSpam is POST /v1/messages/{id}/spam {"spam": true|false}: the
// "Spam" and "Not spam" buttons. Spam moves the message to Junk and trains
// the filter; not spam moves it to INBOX, trains the filter and allows the
// sender. The answer is the message as GET /v1/messages/{id} shows it.
func (s *Server) handleMarkSpam(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body struct {
		Spam *bool `json:"spam"`
	}
	if err := decodeJSON(w, r, &body, 1<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Spam == nil {
		s.fail(w, r, invalid(`"spam" (true or false) is required`))
		return
	}
	m, err := s.svc.MarkSpam(r.Context(), userFrom(r).ID, id, *body.Spam)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	raw, err := s.svc.ReadMessage(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeMessage(w, r, m, raw)
}

// handleGetSpamLists is GET /v1/spam/lists: the user's allow and block lists.
func (s *Server) handleGetSpamLists(w http.ResponseWriter, r *http.Request) {
	l, err := s.svc.SpamLists(r.Context(), userFrom(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// handlePutSpamLists is PUT /v1/spam/lists: replace both lists; the answer
// is the lists as stored (normalized, sorted).
func (s *Server) handlePutSpamLists(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Allow *[]string `json:"allow"`
		Block *[]string `json:"block"`
	}
	if err := decodeJSON(w, r, &body, 1<<20); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Allow == nil || body.Block == nil {
		s.fail(w, r, invalid(`"allow" and "block" (lists of addresses or @domains) are required`))
		return
	}
	uid := userFrom(r).ID
	if err := s.svc.SetSpamLists(r.Context(), uid, core.SpamLists{Allow: *body.Allow, Block: *body.Block}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.handleGetSpamLists(w, r)
}
