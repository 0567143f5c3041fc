package postgres

import (
	"context"
	"fmt"

	"github.com/stamp-mail/stamp/storage"
)

// Usage returns a user's quota setting and the sums of its mailbox counters.
func (s *Store) Usage(ctx context.Context, userID int64) (storage.Usage, error) {
	var u storage.Usage
	err := s.pool.QueryRow(ctx, `SELECT u.quota_bytes,
		(SELECT coalesce(sum(size), 0)::bigint FROM mailboxes WHERE user_id = $1),
		(SELECT coalesce(sum(total), 0)::bigint FROM mailboxes WHERE user_id = $1)
		FROM users u WHERE u.id = $1`, userID).Scan(&u.Quota, &u.Bytes, &u.Messages)
	if err != nil {
		return u, mapErr("usage", notFound(err, "user %d", userID))
	}
	return u, nil
}

// SetQuota sets a user's quota in bytes (storage.QuotaDefault: the default).
func (s *Store) SetQuota(ctx context.Context, userID, bytes int64) error {
	if bytes < storage.QuotaDefault {
		return fmt.Errorf("postgres: set quota %d: %w", bytes, storage.ErrInvalid)
	}
	ct, err := s.pool.Exec(ctx, `UPDATE users SET quota_bytes = $2 WHERE id = $1`, userID, bytes)
	if err != nil {
		return mapErr("set quota", err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("postgres: set quota of %d: %w", userID, storage.ErrNotFound)
	}
	return nil
}

// MessagesSize sums the sizes of the given messages of a mailbox.
func (s *Store) MessagesSize(ctx context.Context, userID, mailboxID int64, ids []int64) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(size), 0)::bigint FROM messages
		WHERE user_id = $1 AND mailbox_id = $2 AND id = ANY($3)`, userID, mailboxID, nonNil(ids)).Scan(&n)
	return n, mapErr("messages size", err)
}
