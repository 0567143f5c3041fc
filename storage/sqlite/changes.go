package sqlite

import (
	"context"
	"fmt"

	"github.com/stamp-mail/stamp/storage"
)

// HighestModSeq returns the user's current MODSEQ.
func (s *Store) HighestModSeq(ctx context.Context, userID int64) (uint64, error) {
	var m uint64
	if err := s.r.QueryRowContext(ctx, `SELECT modseq FROM users WHERE id = ?`, userID).Scan(&m); err != nil {
		return 0, fmt.Errorf("sqlite: highest modseq of %d: %w", userID, notFound(err))
	}
	return m, nil
}

// ChangesSince returns up to limit (default 1000) change log entries with
// MODSEQ above modseq, oldest first.
func (s *Store) ChangesSince(ctx context.Context, userID int64, modseq uint64, limit int) ([]storage.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, `SELECT modseq, mailbox_id, message_id, uid, kind FROM changes
		WHERE user_id = ? AND modseq > ? ORDER BY modseq LIMIT ?`, userID, modseq, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes since: %w", err)
	}
	defer rows.Close()
	out := []storage.Change{}
	for rows.Next() {
		var c storage.Change
		var kind string
		if err := rows.Scan(&c.ModSeq, &c.MailboxID, &c.MessageID, &c.UID, &kind); err != nil {
			return nil, fmt.Errorf("sqlite: changes since: %w", err)
		}
		c.Kind = storage.ChangeKind(kind)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: changes since: %w", err)
	}
	return out, nil
}
