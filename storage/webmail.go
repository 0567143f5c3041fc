package storage

import (
	"context"
	"time"
)

// WebmailStore holds what the webmail keeps per user besides mail: its
// settings (an opaque JSON document the web frontend validates), the list
// of the user's API sessions, and draft aliases (a draft keeps the id it
// was first saved under while each save stores a new message).
type WebmailStore interface {
	// GetUserSettings returns the user's settings document, or nil when
	// none was saved.
	GetUserSettings(ctx context.Context, userID int64) ([]byte, error)
	// PutUserSettings replaces the user's settings document; ErrNotFound if
	// the user does not exist.
	PutUserSettings(ctx context.Context, userID int64, data []byte) error
	// ListUserSessions returns the user's sessions unexpired at now, newest first.
	ListUserSessions(ctx context.Context, userID int64, now time.Time) ([]Session, error)
	// DeleteUserSession removes one of the user's sessions; ErrNotFound if
	// the user has no session with that token hash.
	DeleteUserSession(ctx context.Context, userID int64, tokenHash string) error
	// SetDraftAlias makes alias (the id a draft was first saved under) name
	// messageID, the draft's current version.
	SetDraftAlias(ctx context.Context, userID, alias, messageID int64) error
	// SetSessionClient records the client of one of the user's sessions
	// (its User-Agent and address); ErrNotFound if there is no such session.
	SetSessionClient(ctx context.Context, userID int64, tokenHash, userAgent, ip string) error
	// ClearHasAttachments sets HasAttachments false on those of ids that
	// are the user's messages (the repair of flags stored before cid:
	// images stopped counting as attachments); other ids are ignored.
	ClearHasAttachments(ctx context.Context, userID int64, ids []int64) error
	// DraftAlias returns the message an alias names; ErrNotFound if none.
	DraftAlias(ctx context.Context, userID, alias int64) (int64, error)
}
