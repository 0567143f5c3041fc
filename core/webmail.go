package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// sessionIDLen is how many hex digits of a token's SHA-256 name a session
// to its user: enough to be unique per user, useless to log in with.
const sessionIDLen = 16

// SessionInfo describes one of a user's API sessions. ID is a public
// handle (a prefix of the token's hash), never the token itself.
type SessionInfo struct {
	ID        string
	CreatedAt time.Time
	ExpiresAt time.Time
	Current   bool   // the session of the token the list was asked with
	UserAgent string // the User-Agent that signed in, "" if not recorded
	IP        string // the address it signed in from, "" if not recorded
}

// maxUserAgent bounds the User-Agent kept per session.
const maxUserAgent = 512

// NoteSessionClient records which client started the session of token:
// its User-Agent (bounded, valid UTF-8, no control characters) and address.
func (s *Service) NoteSessionClient(ctx context.Context, userID int64, token, userAgent, ip string) error {
	ua := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(userAgent, ""))
	for len(ua) > maxUserAgent {
		_, n := utf8.DecodeLastRuneInString(ua)
		ua = ua[:len(ua)-n]
	}
	if len(ip) > 64 {
		ip = ip[:64]
	}
	return s.store.SetSessionClient(ctx, userID, tokenHash(token), ua, ip)
}

// SessionID returns the public handle of a session token.
func SessionID(token string) string { return tokenHash(token)[:sessionIDLen] }

// UserSettings returns the user's webmail settings document, or nil when
// none was saved.
func (s *Service) UserSettings(ctx context.Context, userID int64) ([]byte, error) {
	return s.store.GetUserSettings(ctx, userID)
}

// SaveUserSettings replaces the user's webmail settings document.
func (s *Service) SaveUserSettings(ctx context.Context, userID int64, data []byte) error {
	return s.store.PutUserSettings(ctx, userID, data)
}

// Sessions lists the user's unexpired sessions, newest first, marking the
// one of token.
func (s *Service) Sessions(ctx context.Context, userID int64, token string) ([]SessionInfo, error) {
	list, err := s.store.ListUserSessions(ctx, userID, time.Now())
	if err != nil {
		return nil, err
	}
	cur := tokenHash(token)
	out := make([]SessionInfo, 0, len(list))
	for _, l := range list {
		out = append(out, SessionInfo{ID: l.TokenHash[:min(sessionIDLen, len(l.TokenHash))], CreatedAt: l.CreatedAt,
			ExpiresAt: l.ExpiresAt, Current: l.TokenHash == cur, UserAgent: l.UserAgent, IP: l.IP})
	}
	return out, nil
}

// EndSession ends the user's session with public handle id; ErrNotFound
// if the user has none.
func (s *Service) EndSession(ctx context.Context, userID int64, id string) error {
	list, err := s.store.ListUserSessions(ctx, userID, time.Now())
	if err != nil {
		return err
	}
	for _, l := range list {
		if len(id) == sessionIDLen && len(l.TokenHash) >= sessionIDLen && l.TokenHash[:sessionIDLen] == id {
			return s.store.DeleteUserSession(ctx, userID, l.TokenHash)
		}
	}
	return fmt.Errorf("session %q: %w", id, ErrNotFound)
}

// ChangePassword checks the user's current password (with the same
// slow-down as Authenticate, keyed by remote), sets the new one and ends
// every other session of the user, keeping the one of keepToken. It
// returns the public handles of the sessions it ended.
func (s *Service) ChangePassword(ctx context.Context, u User, current, next, keepToken, remote string) ([]string, error) {
	if len(next) < MinPasswordLength {
		return nil, fmt.Errorf("%w: the new password must have at least %d characters", ErrInvalid, MinPasswordLength)
	}
	if _, err := s.Authenticate(ctx, u.Address, current, remote); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), s.cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	if err := s.store.SetPassword(ctx, u.ID, string(hash)); err != nil {
		return nil, err
	}
	list, err := s.store.ListUserSessions(ctx, u.ID, time.Now())
	if err != nil {
		return nil, err
	}
	keep := tokenHash(keepToken)
	var ended []string
	for _, l := range list {
		if l.TokenHash == keep {
			continue
		}
		if err := s.store.DeleteUserSession(ctx, u.ID, l.TokenHash); err != nil && !errors.Is(err, ErrNotFound) {
			return ended, err
		}
		ended = append(ended, l.TokenHash[:min(sessionIDLen, len(l.TokenHash))])
	}
	s.log.Info("password changed", "user", u.Address, "sessions_ended", len(ended))
	return ended, nil
}

// DraftAlias returns the current message of a draft first saved as alias;
// ErrNotFound when alias names no replaced draft.
func (s *Service) DraftAlias(ctx context.Context, userID, alias int64) (int64, error) {
	return s.store.DraftAlias(ctx, userID, alias)
}

// SetDraftAlias records that the draft first saved as alias is now messageID.
func (s *Service) SetDraftAlias(ctx context.Context, userID, alias, messageID int64) error {
	return s.store.SetDraftAlias(ctx, userID, alias, messageID)
}
