package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// ClaimRecent implements storage.IMAPState; the write transaction
// serializes concurrent claims.
func (s *Store) ClaimRecent(ctx context.Context, userID, mailboxID int64, high uint32) (uint32, error) {
	var prev uint32
	err := s.write(ctx, func(w *wtx) error {
		var mark int64
		err := w.queryRow(`SELECT mark FROM recent_marks WHERE user_id = ? AND mailbox_id = ?`, userID, mailboxID).Scan(&mark)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		prev = uint32(mark)
		if high <= prev {
			return nil
		}
		_, err = w.exec(`INSERT INTO recent_marks(user_id, mailbox_id, mark) VALUES (?, ?, ?)
			ON CONFLICT (user_id, mailbox_id) DO UPDATE SET mark = excluded.mark`, userID, mailboxID, int64(high))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: claim recent %d: %w", mailboxID, err)
	}
	return prev, nil
}

// RecentMark implements storage.IMAPState.
func (s *Store) RecentMark(ctx context.Context, userID, mailboxID int64) (uint32, error) {
	var mark int64
	err := s.r.QueryRowContext(ctx, `SELECT mark FROM recent_marks WHERE user_id = ? AND mailbox_id = ?`, userID, mailboxID).Scan(&mark)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: recent mark %d: %w", mailboxID, err)
	}
	return uint32(mark), nil
}

// NameSubscriptions implements storage.IMAPState.
func (s *Store) NameSubscriptions(ctx context.Context, userID int64) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM name_subscriptions WHERE user_id = ? ORDER BY name`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: name subscriptions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: name subscriptions: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// SetNameSubscription implements storage.IMAPState.
func (s *Store) SetNameSubscription(ctx context.Context, userID int64, name string, on bool) error {
	n, err := normMailboxName(name)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(w *wtx) error {
		if on {
			_, err := w.exec(`INSERT OR IGNORE INTO name_subscriptions(user_id, name) VALUES (?, ?)`, userID, n)
			return err
		}
		_, err := w.exec(`DELETE FROM name_subscriptions WHERE user_id = ? AND name = ?`, userID, n)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set name subscription: %w", err)
	}
	return nil
}

// MailboxView implements storage.IMAPState.
func (s *Store) MailboxView(ctx context.Context, userID, mailboxID int64, first uint32) ([]storage.ViewRow, error) {
	if err := s.checkMailbox(ctx, userID, mailboxID); err != nil {
		return nil, fmt.Errorf("sqlite: mailbox view: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, uid, modseq, flags, internal_date, size FROM messages
		WHERE user_id = ? AND mailbox_id = ? AND uid >= ? ORDER BY uid`, userID, mailboxID, first)
	if err != nil {
		return nil, fmt.Errorf("sqlite: mailbox view: %w", err)
	}
	defer rows.Close()
	out := []storage.ViewRow{}
	var flags string
	var prev string
	var prevFlags []string
	for rows.Next() {
		var r storage.ViewRow
		var idate int64
		if err := rows.Scan(&r.ID, &r.UID, &r.ModSeq, &flags, &idate, &r.Size); err != nil {
			return nil, fmt.Errorf("sqlite: mailbox view: %w", err)
		}
		if flags != prev || prevFlags == nil {
			prev, prevFlags = flags, decodeFlags(flags)
		}
		r.Flags = prevFlags // shared between rows with the same flags: read-only
		r.InternalDate = fromTS(idate)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: mailbox view: %w", err)
	}
	return out, nil
}

// AddKeywords implements storage.IMAPState.
func (s *Store) AddKeywords(ctx context.Context, userID, mailboxID int64, keywords []string) error {
	kws := storage.KeywordsOf(keywords)
	if len(kws) == 0 {
		return nil
	}
	err := s.write(ctx, func(w *wtx) error {
		for _, k := range kws {
			if _, err := w.exec(`INSERT INTO mailbox_keywords(user_id, mailbox_id, lname, name) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, userID, mailboxID, strings.ToLower(k), k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add keywords %d: %w", mailboxID, err)
	}
	return nil
}

// Keywords implements storage.IMAPState.
func (s *Store) Keywords(ctx context.Context, userID, mailboxID int64) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM mailbox_keywords WHERE user_id = ? AND mailbox_id = ? ORDER BY lname`, userID, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keywords %d: %w", mailboxID, err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: keywords %d: %w", mailboxID, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keywords %d: %w", mailboxID, err)
	}
	return out, nil
}
