package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// ClaimRecent implements storage.IMAPState; the row lock serializes
// concurrent claims across nodes.
func (s *Store) ClaimRecent(ctx context.Context, userID, mailboxID int64, high uint32) (uint32, error) {
	var prev int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO recent_marks (user_id, mailbox_id, mark) VALUES ($1, $2, 0)
			ON CONFLICT (user_id, mailbox_id) DO NOTHING`, userID, mailboxID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT mark FROM recent_marks WHERE user_id = $1 AND mailbox_id = $2 FOR UPDATE`,
			userID, mailboxID).Scan(&prev); err != nil {
			return err
		}
		if int64(high) <= prev {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE recent_marks SET mark = $3 WHERE user_id = $1 AND mailbox_id = $2`, userID, mailboxID, int64(high))
		return err
	})
	if err != nil {
		return 0, mapErr("claim recent", err)
	}
	return uint32(prev), nil
}

// RecentMark implements storage.IMAPState.
func (s *Store) RecentMark(ctx context.Context, userID, mailboxID int64) (uint32, error) {
	var mark int64
	err := s.pool.QueryRow(ctx, `SELECT mark FROM recent_marks WHERE user_id = $1 AND mailbox_id = $2`, userID, mailboxID).Scan(&mark)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, mapErr("recent mark", err)
	}
	return uint32(mark), nil
}

// NameSubscriptions implements storage.IMAPState.
func (s *Store) NameSubscriptions(ctx context.Context, userID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT name FROM name_subscriptions WHERE user_id = $1 ORDER BY name COLLATE "C"`, userID)
	if err != nil {
		return nil, mapErr("name subscriptions", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, mapErr("name subscriptions", err)
}

// SetNameSubscription implements storage.IMAPState.
func (s *Store) SetNameSubscription(ctx context.Context, userID int64, name string, on bool) error {
	var err error
	if on {
		_, err = s.pool.Exec(ctx, `INSERT INTO name_subscriptions (user_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, userID, normName(name))
	} else {
		_, err = s.pool.Exec(ctx, `DELETE FROM name_subscriptions WHERE user_id = $1 AND name = $2`, userID, normName(name))
	}
	return mapErr("set name subscription", err)
}

// MailboxView implements storage.IMAPState.
func (s *Store) MailboxView(ctx context.Context, userID, mailboxID int64, first uint32) ([]storage.ViewRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, uid, modseq, flags, internal_date, size FROM messages
		WHERE user_id = $1 AND mailbox_id = $2 AND uid >= $3 ORDER BY uid`, userID, mailboxID, int64(first))
	if err != nil {
		return nil, mapErr("mailbox view", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.ViewRow, error) {
		var v storage.ViewRow
		var uid, modseq int64
		err := r.Scan(&v.ID, &uid, &modseq, &v.Flags, &v.InternalDate, &v.Size)
		v.UID, v.ModSeq, v.InternalDate = uint32(uid), uint64(modseq), utc(v.InternalDate)
		if v.Flags == nil {
			v.Flags = []string{}
		}
		return v, err
	})
	if err != nil {
		return nil, mapErr("mailbox view", err)
	}
	if len(out) == 0 {
		if err := s.mailboxExists(ctx, s.pool, userID, mailboxID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AddKeywords implements storage.IMAPState.
func (s *Store) AddKeywords(ctx context.Context, userID, mailboxID int64, keywords []string) error {
	kws := storage.KeywordsOf(keywords)
	if len(kws) == 0 {
		return nil
	}
	lnames := make([]string, len(kws))
	for i, k := range kws {
		lnames[i] = strings.ToLower(k)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO mailbox_keywords (user_id, mailbox_id, lname, name)
		SELECT $1, $2, l, n FROM unnest($3::text[], $4::text[]) AS k(l, n) ON CONFLICT DO NOTHING`,
		userID, mailboxID, lnames, kws)
	if err != nil {
		return fmt.Errorf("postgres: add keywords %d: %w", mailboxID, err)
	}
	return nil
}

// Keywords implements storage.IMAPState.
func (s *Store) Keywords(ctx context.Context, userID, mailboxID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT name FROM mailbox_keywords WHERE user_id = $1 AND mailbox_id = $2 ORDER BY lname`, userID, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("postgres: keywords %d: %w", mailboxID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: keywords %d: %w", mailboxID, err)
	}
	return out, nil
}
