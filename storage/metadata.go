package storage

import (
	"context"
	"errors"
	"strings"
)

// METADATA (RFC 5464): annotations on the server and on mailboxes. Entry
// names are stored lower case (names compare without case, section 3.2)
// and start with /private/ or /shared/. A user's server entries and its
// mailboxes' entries, private and shared alike, belong to that user (a
// Stamp mailbox has one owner, so "shared" means "seen by whoever may see
// the mailbox"); the server's /shared entries belong to user 0 and are the
// same for everyone.

// Errors of SetMetadata.
var (
	// ErrMetadataTooMany: the user would hold more entries than allowed ([METADATA TOOMANY]).
	ErrMetadataTooMany = errors.New("too many metadata entries")
	// ErrMetadataTooLarge: a value is larger than allowed ([METADATA MAXSIZE n]).
	ErrMetadataTooLarge = errors.New("metadata value too large")
)

// MetadataEntry is one entry; a nil Value in SetMetadata removes it.
type MetadataEntry struct {
	Name  string
	Value []byte
}

// MetadataLimits bound what SetMetadata accepts.
type MetadataLimits struct {
	MaxValue   int // bytes per value
	MaxEntries int // entries per owner (user), all scopes together
}

// Metadata stores METADATA entries.
type Metadata interface {
	// GetMetadata returns the owner's entries of a mailbox (mailboxID 0: the
	// server) named in names, and with depth 1 their children, with depth
	// -1 (infinity) all their descendants (RFC 5464 section 4.2.2), sorted
	// by name. Owner 0 holds the server's shared entries. ErrNotFound for a
	// mailbox the owner does not have.
	GetMetadata(ctx context.Context, owner, mailboxID int64, names []string, depth int) ([]MetadataEntry, error)
	// SetMetadata sets and removes entries in one transaction: all of them
	// or, on any error, none (RFC 5464 section 4.3).
	SetMetadata(ctx context.Context, owner, mailboxID int64, entries []MetadataEntry, lim MetadataLimits) error
}

// ValidMetadataName reports whether name is an entry name of RFC 5464
// section 3.2 that may be stored: "/private/" or "/shared/" and at least
// one more component, no empty component, no trailing slash, no "*" or "%"
// (list wildcards) and only printable ASCII.
func ValidMetadataName(name string) bool {
	n := strings.ToLower(name)
	if !strings.HasPrefix(n, "/private/") && !strings.HasPrefix(n, "/shared/") {
		return false
	}
	if strings.HasSuffix(n, "/") || strings.Contains(n, "//") || strings.ContainsAny(n, "*%") {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] <= ' ' || n[i] >= 0x7f {
			return false
		}
	}
	return len(strings.Split(n, "/")) >= 3
}

// MetadataWithin reports whether entry is name or, by depth, below it.
func MetadataWithin(entry, name string, depth int) bool {
	if entry == name {
		return true
	}
	if depth == 0 || !strings.HasPrefix(entry, name+"/") {
		return false
	}
	return depth < 0 || !strings.Contains(entry[len(name)+1:], "/")
}
