package core

import (
	"context"

	"github.com/stamp-mail/stamp/storage"
)

// SORT and THREAD (RFC 5256) keys: the IMAP engine computes each message's
// keys once from its header and stores them (storage/sortkeys.go).

// SortRow is one message of a mailbox as SORT and THREAD read it.
type SortRow = storage.SortRow

// SortKeys are the stored SORT/THREAD keys of one message.
type SortKeys = storage.SortKeys

// SortRows returns a mailbox's messages in UID order with their stored
// keys (nil for messages whose keys are not stored yet).
func (s *Service) SortRows(ctx context.Context, userID, mailboxID int64) ([]SortRow, error) {
	return s.store.SortRows(ctx, userID, mailboxID)
}

// PutSortKeys stores keys of the user's messages.
func (s *Service) PutSortKeys(ctx context.Context, userID int64, keys []SortKeys) error {
	return s.store.PutSortKeys(ctx, userID, keys)
}
