package storage

import (
	"context"
	"errors"
	"time"
)

// ErrScriptActive is returned when deleting the active Sieve script
// (RFC 5804 section 2.10: the active script cannot be deleted).
var ErrScriptActive = errors.New("script is active")

// Routing is the part of the store behind mail routing: aliases (and the
// domain catch-all, the alias "@domain"), each domain's admin address (who
// gets postmaster@ and abuse@), users' Sieve scripts and the memory of
// vacation replies (RFC 5230 section 4.2).
type Routing interface {
	// PutAlias creates or replaces an alias (address lower case, or
	// "@domain" for a catch-all) with at least one target.
	PutAlias(ctx context.Context, a Alias) error
	// GetAlias returns an alias by address; ErrNotFound if absent.
	GetAlias(ctx context.Context, address string) (Alias, error)
	// ListAliases returns the aliases of a domain ("" for every domain) sorted by address.
	ListAliases(ctx context.Context, domain string) ([]Alias, error)
	// AliasesOwnedBy returns the aliases whose Owners include owner, sorted.
	AliasesOwnedBy(ctx context.Context, owner string) ([]Alias, error)
	// DeleteAlias removes an alias; ErrNotFound if absent.
	DeleteAlias(ctx context.Context, address string) error

	// SetDomainAdmin sets the address that receives a domain's postmaster@
	// and abuse@ mail ("" resets to the default); ErrNotFound for an unknown domain.
	SetDomainAdmin(ctx context.Context, domain, admin string) error
	// DomainAdmin returns a domain's admin address, "" when none is set;
	// ErrNotFound for an unknown domain.
	DomainAdmin(ctx context.Context, domain string) (string, error)

	// PutSieveScript creates or replaces a user's script by name; an
	// existing script keeps its active state.
	PutSieveScript(ctx context.Context, userID int64, name, script string) error
	// GetSieveScript returns one script; ErrNotFound if absent.
	GetSieveScript(ctx context.Context, userID int64, name string) (SieveScript, error)
	// ListSieveScripts returns a user's scripts sorted by name.
	ListSieveScripts(ctx context.Context, userID int64) ([]SieveScript, error)
	// DeleteSieveScript removes a script; ErrScriptActive for the active one, ErrNotFound if absent.
	DeleteSieveScript(ctx context.Context, userID int64, name string) error
	// RenameSieveScript renames a script; ErrNotFound, or ErrExists if newName is taken.
	RenameSieveScript(ctx context.Context, userID int64, oldName, newName string) error
	// SetActiveSieveScript makes name the only active script ("" deactivates all); ErrNotFound if absent.
	SetActiveSieveScript(ctx context.Context, userID int64, name string) error
	// ActiveSieveScript returns the user's active script; ErrNotFound when none is.
	ActiveSieveScript(ctx context.Context, userID int64) (SieveScript, error)

	// NoteVacationReply records that the user answers sender for the
	// vacation action identified by handle until the given time, and says
	// whether a reply is due: false when an earlier record for the same
	// (user, handle, sender) has not expired at now. Check and record are
	// one atomic step, so concurrent deliveries send one reply.
	NoteVacationReply(ctx context.Context, userID int64, handle, sender string, now, until time.Time) (bool, error)
}

// Alias maps an address (or "@domain", the domain's catch-all) to targets:
// local users or external addresses. Owners are the local users allowed to
// send as the alias.
type Alias struct {
	Address   string
	Targets   []string
	Owners    []string
	CreatedAt time.Time
}

// SieveScript is a user's Sieve script (RFC 5228) as stored.
type SieveScript struct {
	UserID    int64
	Name      string
	Script    string
	Active    bool
	UpdatedAt time.Time
}
