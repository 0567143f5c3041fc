package storage

import (
	"context"
	"time"
)

// ChangeLog is what CONDSTORE and QRESYNC (RFC 7162) need beyond the
// per-message MODSEQ: conditional flag updates, the messages changed and
// the UIDs expunged in one mailbox since a MODSEQ, and the pruning of old
// log entries.
//
// Retention: every change log entry records when it was written; core
// prunes entries older than its retention (30 days by default) and raises
// the user's floor to the highest MODSEQ pruned. A client whose MODSEQ is
// at or above the floor gets exact answers; one below it (VanishedSince's
// complete is false) must be told about expunges another way: the engine
// reports as vanished the client's known UIDs (or 1:UIDNEXT-1) that no
// longer exist, which RFC 7162 section 3.2.5.2 allows.
type ChangeLog interface {
	// UpdateFlagsUnchangedSince is UpdateFlags for STORE (UNCHANGEDSINCE n)
	// (RFC 7162 section 3.1.3): messages whose MODSEQ is above
	// unchangedSince are left as they are and returned in failed (their ids,
	// in input order), the others are updated as UpdateFlags does.
	UpdateFlagsUnchangedSince(ctx context.Context, userID, mailboxID int64, ids []int64, op FlagOp, flags []string,
		unchangedSince uint64) (changed []Message, failed []int64, err error)
	// ChangedSince returns the messages of a mailbox whose MODSEQ is above
	// modseq, in UID order (FETCH CHANGEDSINCE, QRESYNC).
	ChangedSince(ctx context.Context, userID, mailboxID int64, modseq uint64) ([]Message, error)
	// VanishedSince returns the UIDs expunged from (or moved out of) a
	// mailbox by changes with MODSEQ above modseq, ascending and distinct.
	// complete is false when modseq is below the user's floor: entries it
	// would need were pruned.
	VanishedSince(ctx context.Context, userID, mailboxID int64, modseq uint64) (uids []uint32, complete bool, err error)
	// ChangeFloor returns the highest MODSEQ pruned from the user's log (0: none).
	ChangeFloor(ctx context.Context, userID int64) (uint64, error)
	// PruneChanges deletes, for every user, the change log entries written
	// before before, raising each user's floor; it returns how many went.
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
}
