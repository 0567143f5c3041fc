package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// conversationJSON is one row of a folder listed by conversation: the
// summary of the thread's newest message in the folder, with the thread's
// size, the ids of its messages in the folder (what a bulk action on the
// row applies to) and which of them are unread.
type conversationJSON struct {
	summaryJSON
	Conversation conversationInfo `json:"conversation"`
}

type conversationInfo struct {
	// Count is how many messages the conversation view shows (the thread
	// without its messages in Trash and Junk).
	Count int `json:"count"`
	// MessageIDs are the thread's messages in this folder, oldest first.
	MessageIDs []int64 `json:"message_ids"`
	// UnreadIDs are those of MessageIDs without \Seen.
	UnreadIDs []int64 `json:"unread_ids"`
	// Participants are the senders of the conversation, oldest first, each once.
	Participants []addressJSON `json:"participants"`
}

func toConversation(c core.Conversation) conversationJSON {
	out := conversationJSON{summaryJSON: toSummary(c.Latest), Conversation: conversationInfo{
		Count: len(c.Messages), MessageIDs: c.InMailbox, UnreadIDs: c.Unseen, Participants: []addressJSON{},
	}}
	if out.Conversation.MessageIDs == nil {
		out.Conversation.MessageIDs = []int64{}
	}
	if out.Conversation.UnreadIDs == nil {
		out.Conversation.UnreadIDs = []int64{}
	}
	seen := map[string]bool{}
	for _, m := range c.Messages {
		for _, a := range m.From {
			k := strings.ToLower(a.Address)
			if seen[k] {
				continue
			}
			seen[k] = true
			out.Conversation.Participants = append(out.Conversation.Participants, addressJSON{Name: a.Name, Address: a.Address})
		}
	}
	// A row is unread while any of its messages in the folder is.
	out.Seen = len(c.Unseen) == 0
	for _, m := range c.Messages {
		out.HasAttachments = out.HasAttachments || m.HasAttachments
		if m.MailboxID == c.Latest.MailboxID && slices.Contains(m.Flags, storage.FlagFlagged) {
			out.Flagged = true
		}
	}
	return out
}

// handleListConversations pages a folder by conversation, newest first:
// GET /v1/folders/{id}/conversations?limit=&cursor=&unread=.
func (s *Server) handleListConversations(w http.ResponseWriter, r *http.Request) {
	folder, limit, q, err := folderPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := s.svc.ListConversations(r.Context(), userFrom(r).ID, folder, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, next := nextPage(cs, limit, func(c core.Conversation) storage.Message { return c.Latest })
	mb, err := s.svc.GetMailbox(r.Context(), userFrom(r).ID, folder)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]conversationJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, toConversation(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": out, "next_cursor": next,
		"folder_total": mb.Total, "folder_unread": mb.Unread})
}
