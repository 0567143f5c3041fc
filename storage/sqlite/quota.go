package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// Usage returns a user's quota setting and the sums of its mailbox counters.
func (s *Store) Usage(ctx context.Context, userID int64) (storage.Usage, error) {
	var u storage.Usage
	err := s.r.QueryRowContext(ctx, `SELECT u.quota_bytes,
		(SELECT coalesce(sum(size), 0) FROM mailboxes WHERE user_id = u.id),
		(SELECT coalesce(sum(total), 0) FROM mailboxes WHERE user_id = u.id)
		FROM users u WHERE u.id = ?`, userID).Scan(&u.Quota, &u.Bytes, &u.Messages)
	if err != nil {
		return u, fmt.Errorf("sqlite: usage of %d: %w", userID, notFound(err))
	}
	return u, nil
}

// SetQuota sets a user's quota in bytes (storage.QuotaDefault: the default).
func (s *Store) SetQuota(ctx context.Context, userID, bytes int64) error {
	if bytes < storage.QuotaDefault {
		return fmt.Errorf("sqlite: set quota %d: %w", bytes, storage.ErrInvalid)
	}
	return s.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE users SET quota_bytes = ? WHERE id = ?`, bytes, userID)
		if err != nil {
			return fmt.Errorf("sqlite: set quota: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: set quota of %d: %w", userID, storage.ErrNotFound)
		}
		return nil
	})
}

// MessagesSize sums the sizes of the given messages of a mailbox.
func (s *Store) MessagesSize(ctx context.Context, userID, mailboxID int64, ids []int64) (int64, error) {
	var total int64
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := []any{userID, mailboxID}
		for _, id := range chunk {
			args = append(args, id)
		}
		var n int64
		q := `SELECT coalesce(sum(size), 0) FROM messages WHERE user_id = ? AND mailbox_id = ? AND id IN (` +
			strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + `)`
		if err := s.r.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("sqlite: messages size: %w", err)
		}
		total += n
	}
	return total, nil
}
