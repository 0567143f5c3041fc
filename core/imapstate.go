package core

import (
	"context"

	"github.com/stamp-mail/stamp/storage"
)

// ClaimRecent raises a mailbox's \Recent mark to high and returns the mark
// before: the UIDs in between are \Recent for the caller's session only,
// across every node (RFC 3501 section 2.3.2).
func (s *Service) ClaimRecent(ctx context.Context, userID, mailboxID int64, high uint32) (uint32, error) {
	return s.store.ClaimRecent(ctx, userID, mailboxID, high)
}

// RecentMark returns a mailbox's \Recent mark without claiming.
func (s *Service) RecentMark(ctx context.Context, userID, mailboxID int64) (uint32, error) {
	return s.store.RecentMark(ctx, userID, mailboxID)
}

// NameSubscriptions lists subscriptions to names that are not mailboxes
// (RFC 9051 section 6.3.7: SUBSCRIBE needs no mailbox, DELETE keeps it).
func (s *Service) NameSubscriptions(ctx context.Context, userID int64) ([]string, error) {
	return s.store.NameSubscriptions(ctx, userID)
}

// SetNameSubscription adds or removes a subscription to a name that is not
// a mailbox.
func (s *Service) SetNameSubscription(ctx context.Context, userID int64, name string, on bool) error {
	return s.store.SetNameSubscription(ctx, userID, name, on)
}

// ViewRow is one message of a mailbox view: what IMAP keeps per message.
type ViewRow = storage.ViewRow

// MailboxView returns the view rows of a mailbox from UID first up.
func (s *Service) MailboxView(ctx context.Context, userID, mailboxID int64, first uint32) ([]ViewRow, error) {
	return s.store.MailboxView(ctx, userID, mailboxID, first)
}

// AddKeywords records keywords as defined in a mailbox, whether or not a
// message has them now, so that FLAGS lists them in every session (RFC
// 9051 section 7.3.5).
func (s *Service) AddKeywords(ctx context.Context, userID, mailboxID int64, keywords []string) error {
	kws := storage.KeywordsOf(keywords)
	if len(kws) == 0 {
		return nil
	}
	if err := s.store.AddKeywords(ctx, userID, mailboxID, kws); err != nil {
		return err
	}
	s.publish(ctx, Event{UserID: userID, MailboxID: mailboxID, Kind: EventKeywords})
	return nil
}

// Keywords returns the keywords defined in a mailbox.
func (s *Service) Keywords(ctx context.Context, userID, mailboxID int64) ([]string, error) {
	return s.store.Keywords(ctx, userID, mailboxID)
}
