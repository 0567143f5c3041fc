package web

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// Page sizes of listings.
const (
	defaultPageSize = 50
	maxPageSize     = 200
	maxBulkIDs      = 1000
)

// addressJSON is a mailbox address.
type addressJSON struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

func toAddrs(as []core.Address) []addressJSON {
	out := make([]addressJSON, 0, len(as))
	for _, a := range as {
		out = append(out, addressJSON{Name: a.Name, Address: a.Address})
	}
	return out
}

// summaryJSON is the message summary shared by listings, search, threads and events.
type summaryJSON struct {
	ID             int64         `json:"id"`
	ThreadID       int64         `json:"thread_id"`
	FolderID       int64         `json:"folder_id"`
	From           []addressJSON `json:"from"`
	To             []addressJSON `json:"to"`
	Cc             []addressJSON `json:"cc,omitempty"`
	Subject        string        `json:"subject"`
	Snippet        string        `json:"snippet"`
	Date           time.Time     `json:"date"`
	ReceivedAt     time.Time     `json:"received_at"`
	Size           int64         `json:"size"`
	Flags          []string      `json:"flags"`
	Seen           bool          `json:"seen"`
	Flagged        bool          `json:"flagged"`
	HasAttachments bool          `json:"has_attachments"`
}

func toSummary(m core.Message) summaryJSON {
	flags := m.Flags
	if flags == nil {
		flags = []string{}
	}
	date := m.Date
	if date.IsZero() {
		date = m.InternalDate
	}
	return summaryJSON{
		ID: m.ID, ThreadID: m.ThreadID, FolderID: m.MailboxID,
		From: toAddrs(m.From), To: toAddrs(m.To), Cc: toAddrs(m.Cc),
		Subject: m.Subject, Snippet: m.Snippet, Date: date.UTC(), ReceivedAt: m.InternalDate.UTC(),
		Size: m.Size, Flags: flags,
		Seen:           slices.Contains(m.Flags, storage.FlagSeen),
		Flagged:        slices.Contains(m.Flags, storage.FlagFlagged),
		HasAttachments: m.HasAttachments,
	}
}

func toSummaries(ms []core.Message) []summaryJSON {
	out := make([]summaryJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, toSummary(m))
	}
	return out
}

// encodeCursor makes the opaque listing cursor from the last message of a
// page: its internal date and id, the listing's sort key.
func encodeCursor(m core.Message) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", m.InternalDate.UnixNano(), m.ID))
}

func decodeCursor(c string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, badRequest("The cursor is not one this API returned: use next_cursor as given.")
	}
	ns, id, ok := strings.Cut(string(b), ".")
	n, err1 := strconv.ParseInt(ns, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || i <= 0 {
		return time.Time{}, 0, badRequest("The cursor is not one this API returned: use next_cursor as given.")
	}
	return time.Unix(0, n).UTC(), i, nil
}

// queryLimit parses ?limit= within [1, max]; def when absent.
func queryLimit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, invalid("limit must be between 1 and %d", max)
	}
	return n, nil
}

// queryBool parses an optional boolean query parameter.
func queryBool(r *http.Request, name string) (*bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, invalid("%s must be true or false", name)
	}
	return &b, nil
}

// folderPage reads a folder listing's request: the folder id from the
// path, ?limit=, ?unread= and ?cursor=. The query asks for one item more
// than limit, so that nextPage can tell whether there is a next page.
func folderPage(r *http.Request) (folder int64, limit int, q core.ListQuery, err error) {
	if folder, err = pathID(r, "id"); err != nil {
		return
	}
	if limit, err = queryLimit(r, defaultPageSize, maxPageSize); err != nil {
		return
	}
	if q.Unread, err = queryBool(r, "unread"); err != nil {
		return
	}
	q.Limit = limit + 1
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.BeforeDate, q.BeforeID, err = decodeCursor(c)
	}
	return
}

// nextPage cuts items to limit and returns the cursor of the next page
// (nil on the last), made from the last item kept.
func nextPage[T any](items []T, limit int, last func(T) storage.Message) ([]T, *string) {
	if len(items) <= limit {
		return items, nil
	}
	items = items[:limit]
	c := encodeCursor(last(items[len(items)-1]))
	return items, &c
}

func (s *Server) handleListMessages(w http.ResponseWriter, r *http.Request) {
	folder, limit, q, err := folderPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.svc.ListMessages(r.Context(), userFrom(r).ID, folder, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, next := nextPage(ms, limit, func(m storage.Message) storage.Message { return m })
	mb, err := s.svc.GetMailbox(r.Context(), userFrom(r).ID, folder)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total := mb.Total
	if q.Unread != nil && *q.Unread {
		total = mb.Unread
	} else if q.Unread != nil {
		total = mb.Total - mb.Unread
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": toSummaries(ms), "next_cursor": next,
		"total": total, "folder_total": mb.Total, "folder_unread": mb.Unread})
}

// attachmentJSON describes an attachment; ID is its MIME part path.
type attachmentJSON struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	// Inline marks a part the HTML body shows through a cid: reference
	// (RFC 2392): the webmail does not list it among the attachments.
	Inline bool `json:"inline"`
}

// messageJSON is a message with its headers and displayable bodies.
type messageJSON struct {
	summaryJSON
	MessageID     string           `json:"message_id"`
	ReplyTo       []addressJSON    `json:"reply_to"`
	InReplyTo     []string         `json:"in_reply_to"`
	References    []string         `json:"references"`
	Text          string           `json:"text"`
	HTML          string           `json:"html"`
	RemoteContent bool             `json:"remote_content"` // the HTML referred to remote resources
	Attachments   []attachmentJSON `json:"attachments"`
	Spam          *spamJSON        `json:"spam"` // null for mail never judged (web/spam.go)
}

// loadMessage returns the {id} message of the request's user. The id of a
// draft's first save keeps naming the draft after later saves replaced it
// (see handleReplaceDraft).
func (s *Server) loadMessage(r *http.Request) (core.Message, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return core.Message{}, err
	}
	uid := userFrom(r).ID
	m, err := s.svc.GetMessage(r.Context(), uid, id)
	if isNotFound(err) {
		if cur, aerr := s.svc.DraftAlias(r.Context(), uid, id); aerr == nil {
			return s.svc.GetMessage(r.Context(), uid, cur)
		}
	}
	return m, err
}

// loadRaw returns the message named by the path's {id} and its bytes.
func (s *Server) loadRaw(r *http.Request) (core.Message, []byte, error) {
	m, err := s.loadMessage(r)
	if err != nil {
		return m, nil, err
	}
	raw, err := s.svc.ReadMessage(r.Context(), m)
	return m, raw, err
}

func (s *Server) handleGetMessage(w http.ResponseWriter, r *http.Request) {
	m, raw, err := s.loadRaw(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeMessage(w, r, m, raw)
}

// writeMessage answers with the full JSON of message m whose bytes are raw.
func (s *Server) writeMessage(w http.ResponseWriter, r *http.Request, m core.Message, raw []byte) {
	atts, err := s.svc.Attachments(r.Context(), m.UserID, m.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := message.Parse(raw)
	out := messageJSON{
		summaryJSON: toSummary(m),
		MessageID:   p.MessageID,
		InReplyTo:   nonNil(p.InReplyTo),
		References:  nonNil(p.References),
		Text:        p.Text,
		Attachments: make([]attachmentJSON, 0, len(atts)),
		Spam:        spamOf(raw, m),
	}
	for _, a := range p.ReplyTo {
		out.ReplyTo = append(out.ReplyTo, addressJSON{Name: a.Name, Address: a.Address})
	}
	if out.ReplyTo == nil {
		out.ReplyTo = []addressJSON{}
	}
	inline := inlineParts(p)
	for _, a := range atts {
		out.Attachments = append(out.Attachments, attachmentJSON{ID: a.Part, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, Inline: inline[a.Part]})
	}
	if p.HTML != "" {
		remote := r.URL.Query().Get("remote") == "1"
		out.HTML, out.RemoteContent = Sanitize(p.HTML, SanitizeOptions{
			AllowRemote: remote,
			CIDURL:      cidResolver(p.Root, m.ID),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// cidResolver maps "cid:" references of inline parts (RFC 2392) to the API
// URL of that part.
func cidResolver(root *message.Part, id int64) func(cid string) string {
	parts := map[string]string{}
	var walk func(p *message.Part)
	walk = func(p *message.Part) {
		if p == nil {
			return
		}
		if p.ContentID != "" && p.Path != "" {
			parts[strings.ToLower(p.ContentID)] = p.Path
		}
		for _, c := range p.Children {
			walk(c)
		}
	}
	walk(root)
	return func(cid string) string {
		cid, _ = url.PathUnescape(cid)
		if path, ok := parts[strings.ToLower(strings.Trim(cid, "<>"))]; ok {
			return fmt.Sprintf("/v1/messages/%d/attachments/%s", id, path)
		}
		return ""
	}
}

func (s *Server) handleRaw(w http.ResponseWriter, r *http.Request) {
	m, err := s.loadMessage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, err := s.svc.OpenMessage(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	// Big messages take long on slow links: allow a minute per 10 MiB on top of the default.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout + time.Duration(m.Size/(10<<20))*time.Minute))
	h := w.Header()
	h.Set("Content-Type", "message/rfc822")
	h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	h.Set("Content-Disposition", contentDisposition("attachment", fmt.Sprintf("message-%d.eml", m.ID)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		s.reqLog(r).Warn("streaming raw message failed", "message_id", m.ID, "err", err)
	}
}

// contentDisposition builds the header value with an ASCII fallback
// filename and the exact UTF-8 name in filename* (RFC 6266 section 4.3, RFC 8187).
func contentDisposition(kind, name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	if name == "" {
		name = "attachment"
	}
	ascii := strings.Map(func(r rune) rune {
		if r > 0x7e || r == '"' || r == '%' {
			return '_'
		}
		return r
	}, name)
	return mime.FormatMediaType(kind, map[string]string{"filename": ascii}) + "; filename*=UTF-8''" + rfc8187(name)
}

// rfc8187 percent-encodes s as an RFC 8187 ext-value (attr-char kept).
func rfc8187(s string) string {
	const attrChar = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attrChar, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func (s *Server) handleAttachment(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	part := chi.URLParam(r, "attachment_id")
	a, data, err := s.svc.AttachmentContent(r.Context(), userFrom(r).ID, id, part)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ct := a.ContentType
	if mt, params, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		ct = "application/octet-stream"
	} else {
		ct = mime.FormatMediaType(mt, params)
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", contentDisposition("attachment", a.Filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

type patchRequest struct {
	Seen     *bool  `json:"seen"`
	Flagged  *bool  `json:"flagged"`
	FolderID *int64 `json:"folder_id"`
}

func (s *Server) handlePatchMessage(w http.ResponseWriter, r *http.Request) {
	m, err := s.loadMessage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req patchRequest
	if err := decodeJSON(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, uid := r.Context(), m.UserID
	for _, f := range []struct {
		on   *bool
		flag string
	}{{req.Seen, storage.FlagSeen}, {req.Flagged, storage.FlagFlagged}} {
		if f.on == nil {
			continue
		}
		op := core.FlagsRemove
		if *f.on {
			op = core.FlagsAdd
		}
		if _, err := s.svc.UpdateFlags(ctx, uid, m.MailboxID, []int64{m.ID}, op, []string{f.flag}); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	id := m.ID
	if req.FolderID != nil && *req.FolderID != m.MailboxID {
		moved, err := s.svc.Move(ctx, uid, m.MailboxID, []int64{m.ID}, *req.FolderID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(moved) == 1 {
			id = moved[0].ID
		}
	}
	m, err = s.svc.GetMessage(ctx, uid, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSummary(m))
}

func (s *Server) handleDeleteMessage(w http.ResponseWriter, r *http.Request) {
	m, err := s.loadMessage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.deleteMessages(r, m.MailboxID, []int64{m.ID}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteMessages moves messages of one folder to Trash, or expunges them
// when the folder is Trash (or the user has none).
func (s *Server) deleteMessages(r *http.Request, folder int64, ids []int64) error {
	ctx, uid := r.Context(), userFrom(r).ID
	trash, err := s.svc.GetMailboxByRole(ctx, uid, storage.RoleTrash)
	if err != nil && !isNotFound(err) {
		return err
	}
	if err == nil && trash.ID != folder {
		_, err = s.svc.Move(ctx, uid, folder, ids, trash.ID)
		return err
	}
	_, err = s.svc.Expunge(ctx, uid, folder, ids)
	return err
}

func isNotFound(err error) bool {
	ae, _ := toAPIError(err)
	return ae.Code == codeNotFound
}

type bulkRequest struct {
	IDs      []int64 `json:"ids"`
	Action   string  `json:"action"`
	FolderID int64   `json:"folder_id"`
}

// handleBulk applies one action to many messages. Messages are grouped by
// their folder (core operations work within one mailbox); ids that are not
// the user's are reported in "not_found" and otherwise ignored.
func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) {
	var req bulkRequest
	if err := decodeJSON(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(req.IDs) == 0 || len(req.IDs) > maxBulkIDs {
		s.fail(w, r, invalid("ids must hold 1 to %d message ids", maxBulkIDs))
		return
	}
	ctx, uid := r.Context(), userFrom(r).ID
	switch req.Action {
	case "read", "unread", "flag", "unflag", "delete":
	case "move":
		if _, err := s.svc.GetMailbox(ctx, uid, req.FolderID); err != nil {
			s.fail(w, r, err)
			return
		}
	default:
		s.fail(w, r, invalid("unknown action %q", req.Action))
		return
	}
	byFolder := map[int64][]int64{}
	var folders []int64
	notFound := []int64{}
	for _, id := range req.IDs {
		m, err := s.svc.GetMessage(ctx, uid, id)
		if isNotFound(err) {
			notFound = append(notFound, id)
			continue
		} else if err != nil {
			s.fail(w, r, err)
			return
		}
		if _, ok := byFolder[m.MailboxID]; !ok {
			folders = append(folders, m.MailboxID)
		}
		byFolder[m.MailboxID] = append(byFolder[m.MailboxID], id)
	}
	for _, folder := range folders {
		ids := byFolder[folder]
		var err error
		switch req.Action {
		case "read":
			_, err = s.svc.UpdateFlags(ctx, uid, folder, ids, core.FlagsAdd, []string{storage.FlagSeen})
		case "unread":
			_, err = s.svc.UpdateFlags(ctx, uid, folder, ids, core.FlagsRemove, []string{storage.FlagSeen})
		case "flag":
			_, err = s.svc.UpdateFlags(ctx, uid, folder, ids, core.FlagsAdd, []string{storage.FlagFlagged})
		case "unflag":
			_, err = s.svc.UpdateFlags(ctx, uid, folder, ids, core.FlagsRemove, []string{storage.FlagFlagged})
		case "move":
			if folder != req.FolderID {
				_, err = s.svc.Move(ctx, uid, folder, ids, req.FolderID)
			}
		case "delete":
			err = s.deleteMessages(r, folder, ids)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"done": len(req.IDs) - len(notFound), "not_found": notFound})
}

func (s *Server) handleThread(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.svc.Thread(r.Context(), userFrom(r).ID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "messages": toSummaries(ms)})
}

// inlineParts returns the paths of the parts the HTML body refers to by Content-ID.
func inlineParts(p *message.Parsed) map[string]bool { return message.InlineParts(p) }
