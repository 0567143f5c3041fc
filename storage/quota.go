package storage

import "context"

// QuotaDefault is the quota setting of a user who follows the server's
// default (core.Config.QuotaBytes, config limits.quota_bytes).
const QuotaDefault = -1

// Usage is a user's storage quota setting and what its mailboxes hold.
type Usage struct {
	Quota    int64 // bytes; QuotaDefault: the server default; 0: unlimited
	Bytes    int64 // sum of message sizes over the user's mailboxes
	Messages int64 // number of messages over the user's mailboxes
}

// Quotas reads and sets per-user quotas (RFC 9208 STORAGE and MESSAGE).
// Usage is the sum of the mailbox counters (total, size) that every
// delivery, append, copy, move, expunge and mailbox deletion updates in its
// own transaction, so it is exact at every commit.
type Quotas interface {
	// Usage returns a user's quota setting and usage; ErrNotFound for no user.
	Usage(ctx context.Context, userID int64) (Usage, error)
	// SetQuota sets a user's quota in bytes (QuotaDefault or 0 allowed).
	SetQuota(ctx context.Context, userID, bytes int64) error
	// MessagesSize returns the summed size of the messages of a mailbox with
	// these ids (others are ignored), for the quota check of a copy.
	MessagesSize(ctx context.Context, userID, mailboxID int64, ids []int64) (int64, error)
}
