package core

import "github.com/stamp-mail/stamp/storage"

// Mailbox roles (RFC 6154 special-use), as frontends see them.
const (
	RoleNone    = storage.RoleNone
	RoleInbox   = storage.RoleInbox
	RoleSent    = storage.RoleSent
	RoleDrafts  = storage.RoleDrafts
	RoleJunk    = storage.RoleJunk
	RoleTrash   = storage.RoleTrash
	RoleArchive = storage.RoleArchive
)

// System flags (RFC 9051 section 2.3.2). Keywords are any other atom.
const (
	FlagSeen     = storage.FlagSeen
	FlagAnswered = storage.FlagAnswered
	FlagFlagged  = storage.FlagFlagged
	FlagDeleted  = storage.FlagDeleted
	FlagDraft    = storage.FlagDraft
)

// ChangeKind says what a change log entry records.
type ChangeKind = storage.ChangeKind

// Change log entry kinds.
const (
	ChangeNew     = storage.ChangeNew
	ChangeFlags   = storage.ChangeFlags
	ChangeExpunge = storage.ChangeExpunge
	ChangeMailbox = storage.ChangeMailbox
)
