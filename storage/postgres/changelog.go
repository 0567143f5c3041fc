package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// UpdateFlagsUnchangedSince is STORE (UNCHANGEDSINCE n) (RFC 7162 section 3.1.3).
func (s *Store) UpdateFlagsUnchangedSince(ctx context.Context, userID, mailboxID int64, ids []int64, op storage.FlagOp,
	flags []string, unchangedSince uint64) ([]storage.Message, []int64, error) {
	if unchangedSince == 0 {
		// UNCHANGEDSINCE 0 fails every message (no MODSEQ is 0 or below).
		if err := s.mailboxExists(ctx, s.pool, userID, mailboxID); err != nil {
			return nil, nil, fmt.Errorf("postgres: update flags: %w", err)
		}
		rows, err := s.pool.Query(ctx, `SELECT t.id FROM unnest($3::bigint[]) WITH ORDINALITY AS t(id, o)
			WHERE EXISTS (SELECT 1 FROM messages m WHERE m.user_id = $1 AND m.mailbox_id = $2 AND m.id = t.id) ORDER BY t.o`,
			userID, mailboxID, nonNil(ids))
		if err != nil {
			return nil, nil, mapErr("update flags", err)
		}
		failed, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		return []storage.Message{}, nonNil(failed), mapErr("update flags", err)
	}
	out, failed, err := s.updateFlags(ctx, userID, mailboxID, ids, op, flags, unchangedSince)
	return out, nonNil(failed), err
}

// ChangedSince returns the messages of a mailbox with MODSEQ above modseq, by UID.
func (s *Store) ChangedSince(ctx context.Context, userID, mailboxID int64, modseq uint64) ([]storage.Message, error) {
	if err := s.mailboxExists(ctx, s.pool, userID, mailboxID); err != nil {
		return nil, mapErr("changed since", err)
	}
	rows, err := s.pool.Query(ctx, "SELECT "+msgCols+` FROM messages m
		WHERE m.user_id = $1 AND m.mailbox_id = $2 AND m.modseq > $3 ORDER BY m.uid`, userID, mailboxID, int64(modseq))
	out, err := collectMessages(rows, err)
	return out, mapErr("changed since", err)
}

// VanishedSince returns the UIDs expunged from a mailbox after modseq.
func (s *Store) VanishedSince(ctx context.Context, userID, mailboxID int64, modseq uint64) ([]uint32, bool, error) {
	if err := s.mailboxExists(ctx, s.pool, userID, mailboxID); err != nil {
		return nil, false, mapErr("vanished since", err)
	}
	floor, err := s.ChangeFloor(ctx, userID)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT uid FROM changes
		WHERE user_id = $1 AND modseq > $2 AND mailbox_id = $3 AND kind = 'expunge' ORDER BY uid`,
		userID, int64(modseq), mailboxID)
	if err != nil {
		return nil, false, mapErr("vanished since", err)
	}
	uids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (uint32, error) {
		var u int64
		err := r.Scan(&u)
		return uint32(u), err
	})
	if err != nil {
		return nil, false, mapErr("vanished since", err)
	}
	return append([]uint32{}, uids...), modseq >= floor, nil
}

// ChangeFloor returns the highest MODSEQ pruned from the user's log.
func (s *Store) ChangeFloor(ctx context.Context, userID int64) (uint64, error) {
	var f int64
	err := s.pool.QueryRow(ctx, "SELECT changes_floor FROM users WHERE id = $1", userID).Scan(&f)
	return uint64(f), mapErr("change floor", notFound(err, "user %d", userID))
}

// PruneChanges deletes log entries written before before, user by user,
// each in its own transaction holding the user's row lock: entries are in
// MODSEQ order and written in time order, so the cut is the first entry at
// or after before.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT id FROM users ORDER BY id")
	if err != nil {
		return 0, mapErr("prune changes", err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, mapErr("prune changes", err)
	}
	var total int64
	for _, uid := range users {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if err := lockUser(ctx, tx, uid); err != nil {
				return err
			}
			var floor *int64
			if err := tx.QueryRow(ctx, `SELECT max(modseq) FROM changes WHERE user_id = $1 AND modseq <
				coalesce((SELECT modseq FROM changes WHERE user_id = $1 AND at >= $2 ORDER BY modseq LIMIT 1), 9223372036854775807)`,
				uid, before).Scan(&floor); err != nil || floor == nil {
				return err
			}
			ct, err := tx.Exec(ctx, "DELETE FROM changes WHERE user_id = $1 AND modseq <= $2", uid, *floor)
			if err != nil {
				return err
			}
			total += ct.RowsAffected()
			_, err = tx.Exec(ctx, "UPDATE users SET changes_floor = greatest(changes_floor, $2) WHERE id = $1", uid, *floor)
			return err
		})
		if err != nil {
			return total, mapErr("prune changes", err)
		}
	}
	return total, nil
}
