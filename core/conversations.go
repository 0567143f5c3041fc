package core

import (
	"context"
	"slices"

	"github.com/stamp-mail/stamp/storage"
)

// conversationScan is how many messages ListConversations reads from the
// mailbox per step while it gathers a page of conversations.
const conversationScan = 200

// Conversation is one row of a mailbox listed by conversation: a thread
// with at least one message in the mailbox.
type Conversation struct {
	// Latest is the thread's newest message in the mailbox that matches
	// the query; it is the row's sort key (and the page cursor).
	Latest Message
	// Messages are the thread's messages a reader sees, oldest first: all
	// of them but those in Trash and Junk (unless the mailbox is one of
	// these, then only the mailbox's own).
	Messages []Message
	// InMailbox are the ids of the thread's messages in the mailbox,
	// oldest first, and Unseen the ones of them without \Seen.
	InMailbox []int64
	Unseen    []int64
}

// ListConversations pages a mailbox by conversation, newest first: one
// row per thread, ordered by the thread's newest message in the mailbox
// (q.Unread narrows to threads with unread messages there, ordered by the
// newest unread one). q.BeforeDate/q.BeforeID are the Latest of the last
// row of the previous page; a thread listed there is not listed again.
func (s *Service) ListConversations(ctx context.Context, userID, mailboxID int64, q ListQuery) ([]Conversation, error) {
	mb, err := s.store.GetMailbox(ctx, userID, mailboxID)
	if err != nil {
		return nil, err
	}
	// Trash and Junk are left out of other mailboxes' conversations.
	// In Trash and Junk a conversation is the mailbox's own messages only.
	hidden := map[int64]bool{}
	ownOnly := mb.Role == storage.RoleTrash || mb.Role == storage.RoleJunk
	if !ownOnly {
		for _, role := range []string{storage.RoleTrash, storage.RoleJunk} {
			if h, err := s.store.GetMailboxByRole(ctx, userID, role); err == nil {
				hidden[h.ID] = true
			}
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	var out []Conversation
	done := map[int64]bool{}
	scan := q
	scan.Limit = max(conversationScan, limit)
	for len(out) < limit {
		ms, err := s.store.ListMessages(ctx, userID, mailboxID, scan)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if done[m.ThreadID] {
				continue
			}
			done[m.ThreadID] = true
			thread, err := s.store.ListThread(ctx, userID, m.ThreadID)
			if err != nil {
				return nil, err
			}
			c, ok := conversationOf(m, thread, mailboxID, hidden, ownOnly, q.Unread)
			if !ok {
				continue // listed on an earlier page
			}
			out = append(out, c)
			if len(out) == limit {
				break
			}
		}
		if len(ms) < scan.Limit {
			break
		}
		last := ms[len(ms)-1]
		scan.BeforeDate, scan.BeforeID = last.InternalDate, last.ID
	}
	return out, nil
}

// conversationOf builds the row of m's thread; ok is false when the thread
// has a matching message in the mailbox newer than m (m's thread then
// belongs to an earlier page).
func conversationOf(m Message, thread []Message, mailboxID int64, hidden map[int64]bool, ownOnly bool, unread *bool) (Conversation, bool) {
	c := Conversation{Latest: m}
	for _, t := range thread {
		if t.MailboxID == mailboxID {
			c.InMailbox = append(c.InMailbox, t.ID)
			seen := slices.Contains(t.Flags, storage.FlagSeen)
			if !seen {
				c.Unseen = append(c.Unseen, t.ID)
			}
			if (unread == nil || *unread == !seen) && newer(t, m) {
				return Conversation{}, false
			}
		}
		if t.MailboxID == mailboxID || (!ownOnly && !hidden[t.MailboxID]) {
			c.Messages = append(c.Messages, t)
		}
	}
	if len(c.Messages) == 0 {
		c.Messages = []Message{m}
	}
	return c, true
}

// newer reports whether a sorts after b in a mailbox listing (internal
// date, then id).
func newer(a, b Message) bool {
	if !a.InternalDate.Equal(b.InternalDate) {
		return a.InternalDate.After(b.InternalDate)
	}
	return a.ID > b.ID
}
