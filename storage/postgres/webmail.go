package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// GetUserSettings returns the user's settings document, or nil when none was saved.
func (s *Store) GetUserSettings(ctx context.Context, userID int64) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM user_settings WHERE user_id = $1`, userID).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return data, mapErr("get settings", err)
}

// PutUserSettings replaces the user's settings document.
func (s *Store) PutUserSettings(ctx context.Context, userID int64, data []byte) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO user_settings (user_id, data, updated_at)
		SELECT id, $2, now() FROM users WHERE id = $1
		ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`, userID, data)
	if err != nil {
		return mapErr("put settings", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: put settings: user %d: %w", userID, storage.ErrNotFound)
	}
	return nil
}

// ListUserSessions returns the user's sessions unexpired at now, newest first.
func (s *Store) ListUserSessions(ctx context.Context, userID int64, now time.Time) ([]storage.Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT token_hash, user_id, created_at, expires_at, user_agent, ip FROM sessions
		WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, token_hash`, userID, now)
	if err != nil {
		return nil, mapErr("list sessions", err)
	}
	out := []storage.Session{}
	var sess storage.Session
	_, err = pgx.ForEachRow(rows, []any{&sess.TokenHash, &sess.UserID, &sess.CreatedAt, &sess.ExpiresAt, &sess.UserAgent, &sess.IP}, func() error {
		c := sess
		c.CreatedAt, c.ExpiresAt = utc(c.CreatedAt), utc(c.ExpiresAt)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, mapErr("list sessions", err)
	}
	return out, nil
}

// SetSessionClient records a session's User-Agent and address.
func (s *Store) SetSessionClient(ctx context.Context, userID int64, tokenHash, userAgent, ip string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE sessions SET user_agent = $3, ip = $4 WHERE user_id = $1 AND token_hash = $2`, userID, tokenHash, userAgent, ip)
	if err != nil {
		return mapErr("set session client", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: set session client of user %d: %w", userID, storage.ErrNotFound)
	}
	return nil
}

// ClearHasAttachments sets has_attachments false on the user's messages of ids.
func (s *Store) ClearHasAttachments(ctx context.Context, userID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `UPDATE messages SET has_attachments = false WHERE user_id = $1 AND id = ANY($2)`, userID, ids); err != nil {
		return mapErr("clear has_attachments", err)
	}
	return nil
}

// DeleteUserSession removes one of the user's sessions; ErrNotFound if it has none with that hash.
func (s *Store) DeleteUserSession(ctx context.Context, userID int64, tokenHash string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash = $2`, userID, tokenHash)
	if err != nil {
		return mapErr("delete session", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete session of user %d: %w", userID, storage.ErrNotFound)
	}
	return nil
}

// SetDraftAlias makes alias name messageID.
func (s *Store) SetDraftAlias(ctx context.Context, userID, alias, messageID int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO draft_aliases (user_id, alias, message_id) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, alias) DO UPDATE SET message_id = excluded.message_id`, userID, alias, messageID)
	return mapErr("set draft alias", err)
}

// DraftAlias returns the message an alias names; ErrNotFound if none.
func (s *Store) DraftAlias(ctx context.Context, userID, alias int64) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT message_id FROM draft_aliases WHERE user_id = $1 AND alias = $2`, userID, alias).Scan(&id)
	return id, mapErr("draft alias", err)
}
