package web

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// composeAttachment is an attachment of a JSON composition (data in base64).
type composeAttachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"` // encoding/json decodes standard base64
}

// composeRequest is the body of POST /v1/messages and the drafts endpoints.
type composeRequest struct {
	From        string              `json:"from"` // one of GET /v1/identities; default the user's address
	To          []string            `json:"to"`
	Cc          []string            `json:"cc"`
	Bcc         []string            `json:"bcc"`
	Subject     string              `json:"subject"`
	Text        string              `json:"text"`
	HTML        string              `json:"html"`
	InReplyTo   int64               `json:"in_reply_to"` // API id of the message answered
	Attachments []composeAttachment `json:"attachments"`
}

// readCompose reads a composition sent as JSON or multipart/form-data.
func (s *Server) readCompose(w http.ResponseWriter, r *http.Request) (composeRequest, error) {
	var req composeRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		return req, s.readMultipart(w, r, &req)
	}
	// base64 grows data by a third; leave room for the rest of the JSON.
	limit := s.opts.MaxUploadBytes/3*4 + maxJSONBody
	return req, decodeJSON(w, r, &req, limit)
}

// readMultipart fills req from form fields (to, cc, bcc may repeat or hold
// comma-separated lists) and file parts (each file is an attachment).
func (s *Server) readMultipart(w http.ResponseWriter, r *http.Request, req *composeRequest) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxUploadBytes+maxJSONBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("malformed multipart body: %v", err)
	}
	var total int64
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return badRequest("malformed multipart body: %v", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return badRequest("malformed multipart body: %v", err)
		}
		total += int64(len(data))
		if total > s.opts.MaxUploadBytes {
			return core.ErrTooBig
		}
		if p.FileName() != "" {
			req.Attachments = append(req.Attachments, composeAttachment{Filename: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
			continue
		}
		v := string(data)
		switch p.FormName() {
		case "from":
			req.From = v
		case "to":
			req.To = append(req.To, v)
		case "cc":
			req.Cc = append(req.Cc, v)
		case "bcc":
			req.Bcc = append(req.Bcc, v)
		case "subject":
			req.Subject = v
		case "text":
			req.Text = v
		case "html":
			req.HTML = v
		case "in_reply_to":
			if v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return invalid("in_reply_to must be a message id")
				}
				req.InReplyTo = n
			}
		}
	}
	return nil
}

// parseRecipients parses entries that are addresses, "Name <a@b>" or lists of them.
func parseRecipients(field string, in []string) ([]message.Address, error) {
	var out []message.Address
	for _, v := range in {
		as, err := message.ParseAddressList(v)
		if err != nil {
			return nil, invalid("%s: %s is not a valid email address (write name@example.com or Name <name@example.com>).",
				fieldLabel(field), badElement(v))
		}
		out = append(out, as...)
	}
	return out, nil
}

// fieldLabel is how people name a recipient field.
func fieldLabel(field string) string {
	switch field {
	case "to":
		return "To"
	case "cc":
		return "Cc"
	case "bcc":
		return "Bcc"
	}
	return field
}

// badElement returns, quoted, the first element of an address list that
// does not parse (the whole value when the split does not tell).
func badElement(v string) string {
	for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		if strings.TrimSpace(e) == "" {
			continue
		}
		if _, err := message.ParseAddressList(e); err != nil {
			return strconv.Quote(strings.TrimSpace(truncate(e, 80)))
		}
	}
	return strconv.Quote(truncate(strings.TrimSpace(v), 80))
}

// compose builds the RFC 5322 message of a request for user u.
func (s *Server) compose(r *http.Request, u core.User, req composeRequest) ([]byte, []string, error) {
	size := int64(len(req.Text) + len(req.HTML) + len(req.Subject))
	for _, a := range req.Attachments {
		size += int64(len(a.Data))
	}
	if size > s.opts.MaxUploadBytes {
		return nil, nil, core.ErrTooBig
	}
	to, err := parseRecipients("to", req.To)
	if err != nil {
		return nil, nil, err
	}
	cc, err := parseRecipients("cc", req.Cc)
	if err != nil {
		return nil, nil, err
	}
	bcc, err := parseRecipients("bcc", req.Bcc)
	if err != nil {
		return nil, nil, err
	}
	from := u.Address
	if req.From != "" {
		if from, err = message.ParseAddress(req.From); err != nil {
			return nil, nil, invalid("from: %v", err)
		}
		if ok, err := s.svc.CanSendAs(r.Context(), u, from); err != nil {
			return nil, nil, err
		} else if !ok {
			return nil, nil, core.ErrSenderNotAllowed
		}
	}
	fromAddr := message.Address{Address: from}
	if st, err := s.settingsOf(r, u.ID); err == nil && from == u.Address {
		fromAddr.Name = st.DisplayName // the name set in the webmail's settings
	}
	c := message.Composition{
		From: fromAddr, To: to, Cc: cc, Bcc: bcc,
		Subject: req.Subject, Text: req.Text, HTML: req.HTML,
	}
	if req.InReplyTo != 0 {
		orig, err := s.svc.GetMessage(r.Context(), u.ID, req.InReplyTo)
		if err != nil {
			return nil, nil, err
		}
		head, err := s.svc.ReadHeader(r.Context(), orig)
		if err != nil {
			return nil, nil, err
		}
		p := message.Parse(head)
		if p.MessageID != "" {
			// RFC 5322 section 3.6.4: References are the parent's References
			// (or In-Reply-To) followed by the parent's Message-ID.
			refs := p.References
			if len(refs) == 0 {
				refs = p.InReplyTo
			}
			c.InReplyTo = p.MessageID
			c.References = append(append([]string{}, refs...), p.MessageID)
		}
	}
	for _, a := range req.Attachments {
		c.Attachments = append(c.Attachments, message.ComposeAttachment{Filename: a.Filename, ContentType: a.ContentType, Data: a.Data})
	}
	raw, err := message.Compose(c, s.opts.Hostname)
	if err != nil {
		return nil, nil, err
	}

	var rcpts []string
	for _, list := range [][]message.Address{to, cc, bcc} {
		for _, a := range list {
			rcpts = append(rcpts, a.Address)
		}
	}
	return raw, rcpts, nil
}

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	req, err := s.readCompose(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	u := userFrom(r)
	raw, rcpts, err := s.compose(r, u, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(rcpts) == 0 {
		s.fail(w, r, invalid("at least one recipient is required"))
		return
	}
	from := u.Address
	if req.From != "" {
		from, _ = message.ParseAddress(req.From) // compose checked it
	}
	env := core.Envelope{MailFrom: from, Recipients: rcpts, RemoteIP: net.ParseIP(clientIP(r)),
		Helo: "webmail", TLS: r.TLS != nil || s.opts.Secure, AuthUser: u.Address, Proto: "HTTP", ReceivedAt: time.Now()}
	if env.TLS {
		env.Proto = "HTTPS"
	}
	res, err := s.svc.Submit(r.Context(), u, env, raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": res.SentID, "queue_id": res.QueueID, "local": res.Local, "remote": res.Remote})
}

// saveDraft composes req and appends it to the Drafts folder with \Draft and \Seen.
func (s *Server) saveDraft(r *http.Request, req composeRequest) (core.Message, error) {
	u := userFrom(r)
	raw, _, err := s.compose(r, u, req)
	if err != nil {
		return core.Message{}, err
	}
	drafts, err := s.svc.GetMailboxByRole(r.Context(), u.ID, storage.RoleDrafts)
	if err != nil {
		return core.Message{}, err
	}
	return s.svc.Append(r.Context(), u.ID, drafts.ID, []string{storage.FlagDraft, storage.FlagSeen}, time.Now(), raw)
}

func (s *Server) handleCreateDraft(w http.ResponseWriter, r *http.Request) {
	req, err := s.readCompose(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.saveDraft(r, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": m.ID, "thread_id": m.ThreadID, "folder_id": m.MailboxID})
}

// handleReplaceDraft appends the new version, then expunges the old one
// (IMAP clients replace drafts the same way). The id in the path keeps
// naming the draft: it is answered as "id" (with the new version's id as
// "message_id"), and later saves, reads and deletes through it reach the
// current version, so two devices editing one draft never get a 404.
func (s *Server) handleReplaceDraft(w http.ResponseWriter, r *http.Request) {
	old, err := s.loadMessage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	drafts, err := s.svc.GetMailboxByRole(r.Context(), old.UserID, storage.RoleDrafts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if old.MailboxID != drafts.ID {
		s.fail(w, r, invalid("message %d is not a draft", old.ID))
		return
	}
	req, err := s.readCompose(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.saveDraft(r, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	alias, _ := pathID(r, "id")
	if err := s.svc.SetDraftAlias(r.Context(), old.UserID, alias, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.svc.Expunge(r.Context(), old.UserID, old.MailboxID, []int64{old.ID}); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": alias, "message_id": m.ID, "thread_id": m.ThreadID, "folder_id": m.MailboxID})
}
