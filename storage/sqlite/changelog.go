package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// UpdateFlagsUnchangedSince is STORE (UNCHANGEDSINCE n) (RFC 7162 section 3.1.3).
func (s *Store) UpdateFlagsUnchangedSince(ctx context.Context, userID, mailboxID int64, ids []int64, op storage.FlagOp,
	flags []string, unchangedSince uint64) ([]storage.Message, []int64, error) {
	// UNCHANGEDSINCE 0 fails every message (no MODSEQ is 0 or below).
	if unchangedSince == 0 {
		if err := s.checkMailbox(ctx, userID, mailboxID); err != nil {
			return nil, nil, fmt.Errorf("sqlite: update flags: %w", err)
		}
		return []storage.Message{}, s.existing(ctx, userID, mailboxID, ids), nil
	}
	out, failed, err := s.updateFlags(ctx, userID, mailboxID, ids, op, flags, unchangedSince)
	return out, nonNil(failed), err
}

// existing returns the ids of ids that are messages of the mailbox, in input order.
func (s *Store) existing(ctx context.Context, userID, mailboxID int64, ids []int64) []int64 {
	out := []int64{}
	for _, id := range ids {
		var one int
		if s.r.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE user_id = ? AND mailbox_id = ? AND id = ?`,
			userID, mailboxID, id).Scan(&one) == nil {
			out = append(out, id)
		}
	}
	return out
}

// ChangedSince returns the messages of a mailbox with MODSEQ above modseq, by UID.
func (s *Store) ChangedSince(ctx context.Context, userID, mailboxID int64, modseq uint64) ([]storage.Message, error) {
	if err := s.checkMailbox(ctx, userID, mailboxID); err != nil {
		return nil, fmt.Errorf("sqlite: changed since: %w", err)
	}
	msgs, err := queryMessages(ctx, s.r, `SELECT `+msgCols+` FROM messages m
		WHERE m.user_id = ? AND m.mailbox_id = ? AND m.modseq > ? ORDER BY m.uid`, userID, mailboxID, modseq)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changed since: %w", err)
	}
	return msgs, nil
}

// VanishedSince returns the UIDs expunged from a mailbox after modseq.
func (s *Store) VanishedSince(ctx context.Context, userID, mailboxID int64, modseq uint64) ([]uint32, bool, error) {
	if err := s.checkMailbox(ctx, userID, mailboxID); err != nil {
		return nil, false, fmt.Errorf("sqlite: vanished since: %w", err)
	}
	floor, err := s.ChangeFloor(ctx, userID)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT uid FROM changes
		WHERE user_id = ? AND modseq > ? AND mailbox_id = ? AND kind = ? ORDER BY uid`,
		userID, modseq, mailboxID, string(storage.ChangeExpunge))
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: vanished since: %w", err)
	}
	defer rows.Close()
	out := []uint32{}
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			return nil, false, fmt.Errorf("sqlite: vanished since: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("sqlite: vanished since: %w", err)
	}
	return out, modseq >= floor, nil
}

// ChangeFloor returns the highest MODSEQ pruned from the user's log.
func (s *Store) ChangeFloor(ctx context.Context, userID int64) (uint64, error) {
	var f uint64
	if err := s.r.QueryRowContext(ctx, `SELECT changes_floor FROM users WHERE id = ?`, userID).Scan(&f); err != nil {
		return 0, fmt.Errorf("sqlite: change floor of %d: %w", userID, notFound(err))
	}
	return f, nil
}

// PruneChanges deletes log entries written before before, user by user:
// entries are in MODSEQ order and written in time order, so each user's
// cut is the first entry at or after before.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	var users []int64
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM users ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune changes: %w", err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: prune changes: %w", err)
		}
		users = append(users, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: prune changes: %w", err)
	}
	var total int64
	for _, uid := range users {
		err := s.write(ctx, func(w *wtx) error {
			var floor sql.NullInt64 // max() of no rows is NULL
			err := w.queryRow(`SELECT max(modseq) FROM changes WHERE user_id = ? AND modseq <
				coalesce((SELECT modseq FROM changes WHERE user_id = ? AND at >= ? ORDER BY modseq LIMIT 1), 9223372036854775807)`,
				uid, uid, ts(before)).Scan(&floor)
			if err != nil || !floor.Valid {
				return err
			}
			res, err := w.exec(`DELETE FROM changes WHERE user_id = ? AND modseq <= ?`, uid, floor.Int64)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
			_, err = w.exec(`UPDATE users SET changes_floor = max(changes_floor, ?) WHERE id = ?`, floor.Int64, uid)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: prune changes of %d: %w", uid, err)
		}
	}
	return total, nil
}
