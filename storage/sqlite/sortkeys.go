package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stamp-mail/stamp/storage"
)

// SortRows returns the mailbox's messages in UID order with their stored
// SORT/THREAD keys (storage/sortkeys.go).
func (s *Store) SortRows(ctx context.Context, userID, mailboxID int64) ([]storage.SortRow, error) {
	return s.SortRowsAfter(ctx, userID, mailboxID, 0)
}

// SortRowsAfter is SortRows for the messages with UID above after.
func (s *Store) SortRowsAfter(ctx context.Context, userID, mailboxID int64, after uint32) ([]storage.SortRow, error) {
	if err := s.checkMailbox(ctx, userID, mailboxID); err != nil {
		return nil, fmt.Errorf("sqlite: sort rows: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT m.id, m.uid, m.subject, m.date, m.msgid,
			k.message_id, k.from_name, k.from_addr, k.to_name, k.to_addr, k.cc_addr, k.parents
		FROM messages m LEFT JOIN sort_keys k ON k.user_id = m.user_id AND k.message_id = m.id
		WHERE m.user_id = ? AND m.mailbox_id = ? AND m.uid > ? ORDER BY m.uid`, userID, mailboxID, after)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sort rows: %w", err)
	}
	defer rows.Close()
	out := []storage.SortRow{}
	for rows.Next() {
		var r storage.SortRow
		var date int64
		var kid sql.NullInt64
		var fn, fa, tn, ta, ca, parents sql.NullString
		if err := rows.Scan(&r.ID, &r.UID, &r.Subject, &date, &r.MessageIDHdr, &kid, &fn, &fa, &tn, &ta, &ca, &parents); err != nil {
			return nil, fmt.Errorf("sqlite: sort rows: %w", err)
		}
		r.Date = fromTS(date)
		if kid.Valid {
			r.Keys = &storage.SortKeys{MessageID: kid.Int64, FromName: fn.String, FromAddr: fa.String,
				ToName: tn.String, ToAddr: ta.String, CcAddr: ca.String, Parents: storage.SplitParents(parents.String)}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: sort rows: %w", err)
	}
	return out, nil
}

// PutSortKeys stores keys and drops those of the user's vanished messages.
func (s *Store) PutSortKeys(ctx context.Context, userID int64, keys []storage.SortKeys) error {
	if len(keys) == 0 {
		return nil
	}
	err := s.write(ctx, func(w *wtx) error {
		for _, k := range keys {
			if _, err := w.exec(`INSERT OR REPLACE INTO sort_keys(user_id, message_id, from_name, from_addr, to_name, to_addr, cc_addr, parents)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, userID, k.MessageID, k.FromName, k.FromAddr, k.ToName, k.ToAddr, k.CcAddr,
				storage.JoinParents(k.Parents)); err != nil {
				return err
			}
		}
		_, err := w.exec(`DELETE FROM sort_keys WHERE user_id = ? AND NOT EXISTS
			(SELECT 1 FROM messages m WHERE m.user_id = sort_keys.user_id AND m.id = sort_keys.message_id)`, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put sort keys: %w", err)
	}
	return nil
}
