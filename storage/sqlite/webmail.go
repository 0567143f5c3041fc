package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// GetUserSettings returns the user's settings document, or nil when none was saved.
func (s *Store) GetUserSettings(ctx context.Context, userID int64) ([]byte, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM user_settings WHERE user_id = ?`, userID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get settings of %d: %w", userID, err)
	}
	return data, nil
}

// PutUserSettings replaces the user's settings document.
func (s *Store) PutUserSettings(ctx context.Context, userID int64, data []byte) error {
	err := s.write(ctx, func(w *wtx) error {
		var one int
		if err := w.queryRow(`SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := w.exec(`INSERT INTO user_settings (user_id, data, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
			userID, data, ts(w.now))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put settings of %d: %w", userID, err)
	}
	return nil
}

// ListUserSessions returns the user's sessions unexpired at now, newest first.
func (s *Store) ListUserSessions(ctx context.Context, userID int64, now time.Time) ([]storage.Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT token_hash, user_id, created_at, expires_at, user_agent, ip FROM sessions
		WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, token_hash`, userID, ts(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sessions of %d: %w", userID, err)
	}
	defer rows.Close()
	out := []storage.Session{}
	for rows.Next() {
		var sess storage.Session
		var c, e int64
		if err := rows.Scan(&sess.TokenHash, &sess.UserID, &c, &e, &sess.UserAgent, &sess.IP); err != nil {
			return nil, fmt.Errorf("sqlite: list sessions of %d: %w", userID, err)
		}
		sess.CreatedAt, sess.ExpiresAt = fromTS(c), fromTS(e)
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list sessions of %d: %w", userID, err)
	}
	return out, nil
}

// SetSessionClient records a session's User-Agent and address.
func (s *Store) SetSessionClient(ctx context.Context, userID int64, tokenHash, userAgent, ip string) error {
	err := s.write(ctx, func(w *wtx) error {
		return w.execOne(`UPDATE sessions SET user_agent = ?, ip = ? WHERE user_id = ? AND token_hash = ?`, userAgent, ip, userID, tokenHash)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set session client of %d: %w", userID, err)
	}
	return nil
}

// ClearHasAttachments sets has_attachments false on the user's messages of ids.
func (s *Store) ClearHasAttachments(ctx context.Context, userID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(w *wtx) error {
		for _, id := range ids {
			if _, err := w.exec(`UPDATE messages SET has_attachments = 0 WHERE user_id = ? AND id = ?`, userID, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: clear has_attachments of %d: %w", userID, err)
	}
	return nil
}

// DeleteUserSession removes one of the user's sessions; ErrNotFound if it has none with that hash.
func (s *Store) DeleteUserSession(ctx context.Context, userID int64, tokenHash string) error {
	err := s.write(ctx, func(w *wtx) error {
		return w.execOne(`DELETE FROM sessions WHERE user_id = ? AND token_hash = ?`, userID, tokenHash)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete session of %d: %w", userID, err)
	}
	return nil
}

// SetDraftAlias makes alias name messageID.
func (s *Store) SetDraftAlias(ctx context.Context, userID, alias, messageID int64) error {
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO draft_aliases (user_id, alias, message_id) VALUES (?, ?, ?)
			ON CONFLICT (user_id, alias) DO UPDATE SET message_id = excluded.message_id`, userID, alias, messageID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set draft alias %d of %d: %w", alias, userID, err)
	}
	return nil
}

// DraftAlias returns the message an alias names; ErrNotFound if none.
func (s *Store) DraftAlias(ctx context.Context, userID, alias int64) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT message_id FROM draft_aliases WHERE user_id = ? AND alias = ?`, userID, alias).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("sqlite: draft alias %d of %d: %w", alias, userID, notFound(err))
	}
	return id, nil
}
