package storage

import (
	"context"
	"strings"
	"time"
)

// SORT and THREAD (RFC 5256) read, for every message of a mailbox, the
// stored subject, Date header and Message-ID of its row and a few keys
// that the rows do not hold in the form the RFC needs: the first From, To
// and Cc address as IMAP's ENVELOPE parses them (a group's name, a comment
// as display name, a bare local part) and the parent ids of THREAD=
// REFERENCES. The IMAP engine computes those keys once per message from
// its header section and stores them here (table sort_keys, keyed by the
// message id, which never changes for a message and is never reused), so
// later SORTs and THREADs read them with the rows instead of the headers.

// SortKeys are the stored SORT/THREAD keys of one message.
type SortKeys struct {
	MessageID int64
	FromName  string // display name of the first From address, decoded
	FromAddr  string // its addr-spec (or group name / bare local part)
	ToName    string
	ToAddr    string
	CcAddr    string
	Parents   []string // References ids, or the first In-Reply-To id; no brackets
}

// SortRow is one message of a mailbox as SORT and THREAD read it.
type SortRow struct {
	ID           int64
	UID          uint32
	Subject      string    // decoded
	Date         time.Time // Date header, zero if absent
	MessageIDHdr string
	Keys         *SortKeys // nil until PutSortKeys stored them
}

// SortKeyStore stores SORT/THREAD keys.
type SortKeyStore interface {
	// SortRows returns the mailbox's messages in UID order with their
	// stored keys. ErrNotFound for a mailbox the user does not have.
	SortRows(ctx context.Context, userID, mailboxID int64) ([]SortRow, error)
	// SortRowsAfter is SortRows for the messages with UID above after
	// (a cache of a mailbox's rows reads only its new messages).
	SortRowsAfter(ctx context.Context, userID, mailboxID int64, after uint32) ([]SortRow, error)
	// PutSortKeys stores (or replaces) keys of the user's messages, and
	// drops the keys of the user's messages that no longer exist.
	PutSortKeys(ctx context.Context, userID int64, keys []SortKeys) error
}

// JoinParents encodes parent ids for a text column (one per line).
func JoinParents(ids []string) string {
	out := make([]byte, 0, 64)
	for i, id := range ids {
		if i > 0 {
			out = append(out, '\n')
		}
		for j := 0; j < len(id); j++ {
			c := id[j]
			if c == '\n' || c == '\r' {
				c = ' '
			}
			out = append(out, c)
		}
	}
	return string(out)
}

// SplitParents decodes JoinParents.
func SplitParents(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
