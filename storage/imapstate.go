package storage

import (
	"context"
	"time"
)

// IMAPState is state only IMAP needs, kept in the database so that every
// node of a cluster shares it.
type IMAPState interface {
	// ClaimRecent raises the mailbox's \Recent mark to high and returns the
	// mark before (RFC 3501 section 2.3.2: a message is \Recent for one
	// session only, across the cluster). Concurrent claims are serialized:
	// each UID above the old mark is claimed by exactly one caller.
	ClaimRecent(ctx context.Context, userID, mailboxID int64, high uint32) (prev uint32, err error)
	// RecentMark returns the mailbox's \Recent mark (0 if none).
	RecentMark(ctx context.Context, userID, mailboxID int64) (uint32, error)
	// NameSubscriptions lists the user's subscriptions to names that are
	// not (or no longer) mailboxes (RFC 9051 section 6.3.7), sorted.
	NameSubscriptions(ctx context.Context, userID int64) ([]string, error)
	// SetNameSubscription adds or removes such a subscription.
	SetNameSubscription(ctx context.Context, userID int64, name string, on bool) error
	// MailboxView returns the per-message state IMAP keeps for a selected
	// mailbox, UID first and up, in UID order: the few columns of
	// MessagesByUID a view needs, so that selecting a large folder is cheap.
	// ErrNotFound when the mailbox is not the user's.
	MailboxView(ctx context.Context, userID, mailboxID int64, first uint32) ([]ViewRow, error)
	// AddKeywords records keywords (flags without a backslash) as defined
	// in a mailbox, whether or not a message has them now, as Dovecot
	// keeps them: FLAGS (RFC 9051 section 7.3.5) lists them in every
	// session. Known ones (case-insensitively) are left as they are.
	AddKeywords(ctx context.Context, userID, mailboxID int64, keywords []string) error
	// Keywords returns the keywords AddKeywords recorded for a mailbox.
	Keywords(ctx context.Context, userID, mailboxID int64) ([]string, error)
}

// ViewRow is one message as MailboxView returns it.
type ViewRow struct {
	ID           int64
	UID          uint32
	ModSeq       uint64
	Flags        []string // sorted, as in Message
	InternalDate time.Time
	Size         int64
}
