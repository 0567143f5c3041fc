package core

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// METADATA (RFC 5464). A user reads and writes its own server entries
// (/private/...) and its mailboxes' entries (/private/... and /shared/...);
// the server's /shared/... entries (such as /shared/comment and
// /shared/admin, section 3.2.1) are the same for every user, readable by
// all and set by the operator (SetServerMetadata): a user's SETMETADATA
// on them is ErrNotAllowed.

// MetadataEntry is one METADATA entry; a nil Value in SetMetadata removes it.
type MetadataEntry = storage.MetadataEntry

// Limits of SETMETADATA: the engine announces MetadataMaxValue as
// METADATA=MAXSIZE and answers [METADATA MAXSIZE n] / [METADATA TOOMANY].
const (
	MetadataMaxValue   = 64 << 10 // bytes per value
	MetadataMaxEntries = 1000     // entries per user, server and mailboxes together
)

// Errors of SetMetadata.
var (
	// ErrMetadataTooLarge: a value exceeds MetadataMaxValue ([METADATA MAXSIZE n]).
	ErrMetadataTooLarge = storage.ErrMetadataTooLarge
	// ErrMetadataTooMany: the user would hold more than MetadataMaxEntries ([METADATA TOOMANY]).
	ErrMetadataTooMany = storage.ErrMetadataTooMany
)

var metadataLimits = storage.MetadataLimits{MaxValue: MetadataMaxValue, MaxEntries: MetadataMaxEntries}

// ValidMetadataName reports whether name may be set (RFC 5464 section 3.2).
func ValidMetadataName(name string) bool { return storage.ValidMetadataName(name) }

// serverShared reports whether a server entry name is one of the server's
// shared entries (the /shared tree).
func serverShared(name string) bool {
	n := strings.ToLower(name)
	return n == "/shared" || strings.HasPrefix(n, "/shared/")
}

// GetMetadata returns the entries named (and, with depth 1 or -1 for
// infinity, their children or descendants) of the server (mailboxID 0) or
// of one of the user's mailboxes, sorted by name (GETMETADATA).
func (s *Service) GetMetadata(ctx context.Context, userID, mailboxID int64, names []string, depth int) ([]MetadataEntry, error) {
	if mailboxID != 0 {
		return s.store.GetMetadata(ctx, userID, mailboxID, names, depth)
	}
	var shared, private []string
	for _, n := range names {
		if serverShared(n) {
			shared = append(shared, n)
		} else {
			private = append(private, n)
		}
	}
	var out []MetadataEntry
	for _, q := range []struct {
		owner int64
		names []string
	}{{0, shared}, {userID, private}} {
		if len(q.names) == 0 {
			continue
		}
		es, err := s.store.GetMetadata(ctx, q.owner, 0, q.names, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	slices.SortFunc(out, func(a, b MetadataEntry) int { return strings.Compare(a.Name, b.Name) })
	return nonNilEntries(out), nil
}

// SetMetadata sets and removes entries of the server (mailboxID 0: the
// user's /private entries only) or of one of the user's mailboxes, all or
// none (SETMETADATA). Errors: ErrInvalid for a bad name,
// ErrMetadataTooLarge, ErrMetadataTooMany, ErrNotAllowed for the server's
// shared entries, ErrNotFound for a mailbox.
func (s *Service) SetMetadata(ctx context.Context, userID, mailboxID int64, entries []MetadataEntry) error {
	if mailboxID == 0 {
		for _, e := range entries {
			if serverShared(e.Name) {
				return fmt.Errorf("%w: %s is set by the server's operator", ErrNotAllowed, e.Name)
			}
		}
	}
	return s.store.SetMetadata(ctx, userID, mailboxID, entries, metadataLimits)
}

// SetServerMetadata sets the server's /shared entries, seen by every user.
func (s *Service) SetServerMetadata(ctx context.Context, entries []MetadataEntry) error {
	for _, e := range entries {
		if !serverShared(e.Name) {
			return fmt.Errorf("%w: server entry %s: want a /shared name", ErrInvalid, e.Name)
		}
	}
	return s.store.SetMetadata(ctx, 0, 0, entries, metadataLimits)
}

func nonNilEntries(es []MetadataEntry) []MetadataEntry {
	if es == nil {
		return []MetadataEntry{}
	}
	return es
}
