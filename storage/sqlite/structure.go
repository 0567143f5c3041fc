package sqlite

import (
	"context"
	"fmt"

	"github.com/stamp-mail/stamp/storage"
)

// nilBlob stores an empty structure as NULL (none).
func nilBlob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// MessageStructures implements storage.Structures.
func (s *Store) MessageStructures(ctx context.Context, userID, mailboxID int64, first, last uint32) ([]storage.StructureRow, error) {
	hi := int64(last)
	if last == 0 {
		hi = 1 << 40
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, uid, structure FROM messages
		WHERE user_id = ? AND mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`, userID, mailboxID, first, hi)
	if err != nil {
		return nil, fmt.Errorf("sqlite: message structures: %w", err)
	}
	defer rows.Close()
	out := []storage.StructureRow{}
	for rows.Next() {
		var r storage.StructureRow
		if err := rows.Scan(&r.ID, &r.UID, &r.Data); err != nil {
			return nil, fmt.Errorf("sqlite: message structures: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: message structures: %w", err)
	}
	return out, nil
}

// SetStructures implements storage.Structures.
func (s *Store) SetStructures(ctx context.Context, userID int64, rows []storage.StructureRow) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.write(ctx, func(w *wtx) error {
		for _, r := range rows {
			if _, err := w.exec(`UPDATE messages SET structure = ? WHERE user_id = ? AND id = ?`,
				nilBlob(r.Data), userID, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: set structures: %w", err)
	}
	return nil
}

// MissingStructures implements storage.Structures. It walks the primary
// key from the cursor, so each page costs the rows it passes.
func (s *Store) MissingStructures(ctx context.Context, afterUser, afterID int64, limit int) ([]storage.Message, error) {
	msgs, err := queryMessages(ctx, s.r, `SELECT `+msgCols+` FROM messages m
		WHERE (m.user_id, m.id) > (?, ?) AND m.structure IS NULL ORDER BY m.user_id, m.id LIMIT ?`,
		afterUser, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: missing structures: %w", err)
	}
	return msgs, nil
}
