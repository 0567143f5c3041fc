package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// What the IMAP extensions of RFC 7162 (CONDSTORE, QRESYNC), RFC 8474
// (OBJECTID) and RFC 9051 SEARCH need from the service, kept apart from the
// protocol engine so it can call them.

// HeaderTerm is one SEARCH HEADER key of a SearchQuery (name, substring).
type HeaderTerm = storage.HeaderTerm

// ChangeRetention is how long the change log keeps entries, expunged UIDs
// included, so QRESYNC (RFC 7162 section 3.2.5) can answer VANISHED
// (EARLIER) exactly for clients that synchronised within it. Older
// entries are pruned and the user's floor raised (see storage.ChangeLog).
const ChangeRetention = 30 * 24 * time.Hour

// SearchUIDs returns the UIDs (ascending) of the messages of q.MailboxID
// matching q: IMAP SEARCH with substring BODY/TEXT/HEADER, SENT* and
// internal-date days, MODSEQ, flags (Unread) and the rest of SearchQuery.
func (s *Service) SearchUIDs(ctx context.Context, userID int64, q SearchQuery) ([]uint32, error) {
	return s.store.SearchUIDs(ctx, userID, q)
}

// UpdateFlagsUnchangedSince is UpdateFlags for STORE (UNCHANGEDSINCE n)
// (RFC 7162 section 3.1.3): messages whose MODSEQ is above unchangedSince
// are not touched and come back in failed (ids, input order: the MODIFIED
// response code); the changed ones are published as UpdateFlags does.
func (s *Service) UpdateFlagsUnchangedSince(ctx context.Context, userID, mailboxID int64, ids []int64, op FlagOp, flags []string,
	unchangedSince uint64) (changed []Message, failed []int64, err error) {
	ms, failed, err := s.store.UpdateFlagsUnchangedSince(ctx, userID, mailboxID, ids, op, flags, unchangedSince)
	if err != nil {
		return nil, nil, err
	}
	evs := make([]Event, 0, len(ms))
	for _, m := range ms {
		evs = append(evs, Event{UserID: userID, MailboxID: mailboxID, Kind: EventFlags, MessageID: m.ID, UID: m.UID, ModSeq: m.ModSeq, Flags: m.Flags})
	}
	s.publish(ctx, evs...)
	return ms, failed, nil
}

// ChangedSince returns the messages of a mailbox whose MODSEQ is above
// modseq, in UID order (FETCH (CHANGEDSINCE n), SELECT (QRESYNC ...)).
func (s *Service) ChangedSince(ctx context.Context, userID, mailboxID int64, modseq uint64) ([]Message, error) {
	return s.store.ChangedSince(ctx, userID, mailboxID, modseq)
}

// VanishedSince returns the UIDs expunged from (or moved out of) a mailbox
// after modseq, ascending (VANISHED (EARLIER), UID FETCH ... (VANISHED)).
// complete is false when modseq is older than the retained log: the caller
// then reports the known UIDs that no longer exist instead.
func (s *Service) VanishedSince(ctx context.Context, userID, mailboxID int64, modseq uint64) (uids []uint32, complete bool, err error) {
	return s.store.VanishedSince(ctx, userID, mailboxID, modseq)
}

// MailboxHighestModSeq returns a mailbox's HIGHESTMODSEQ (RFC 7162 section 3.1.2):
// the highest MODSEQ of any change to it, expunges included.
func (s *Service) MailboxHighestModSeq(ctx context.Context, userID, mailboxID int64) (uint64, error) {
	mb, err := s.store.GetMailbox(ctx, userID, mailboxID)
	if err != nil {
		return 0, err
	}
	return mb.HighestModSeq, nil
}

// PruneChanges removes change log entries older than ChangeRetention
// before now; the collector calls it, so do tests.
func (s *Service) PruneChanges(ctx context.Context, now time.Time) (int64, error) {
	return s.store.PruneChanges(ctx, now.Add(-ChangeRetention))
}

// OBJECTID (RFC 8474): ids are the store's own, which are global sequences,
// so they are unique on the server and never reused. A message keeps its id
// and thread on MOVE (storage moves the row), so EMAILID and THREADID are
// stable across MOVE; a COPY is a new message with a new EMAILID and the
// same THREADID. A mailbox keeps its id across RENAME.

// EmailID is a message's EMAILID: "M" and its id in base 36.
func EmailID(m Message) string { return "M" + strconv.FormatInt(m.ID, 36) }

// ThreadID is a message's THREADID: "T" and its thread id in base 36.
func ThreadID(m Message) string { return "T" + strconv.FormatInt(m.ThreadID, 36) }

// MailboxObjectID is a mailbox's MAILBOXID: "F" and its id in base 36.
func MailboxObjectID(mb Mailbox) string { return "F" + strconv.FormatInt(mb.ID, 36) }

// ParseObjectID reads an id made by EmailID ('M'), ThreadID ('T') or
// MailboxObjectID ('F'), for SEARCH EMAILID/THREADID; ErrInvalid otherwise.
func ParseObjectID(kind byte, s string) (int64, error) {
	if len(s) < 2 || s[0] != kind || strings.ContainsAny(s[1:], "+-") {
		return 0, fmt.Errorf("%w: object id %q", ErrInvalid, s)
	}
	n, err := strconv.ParseInt(s[1:], 36, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 36) != s[1:] {
		return 0, fmt.Errorf("%w: object id %q", ErrInvalid, s)
	}
	return n, nil
}

// pruneChangesDaily runs PruneChanges when the last run (last) is a day
// old, returning the time of the last run.
func (s *Service) pruneChangesDaily(ctx context.Context, last time.Time) time.Time {
	now := time.Now()
	if now.Sub(last) < 24*time.Hour {
		return last
	}
	n, err := s.PruneChanges(ctx, now)
	if err != nil {
		s.log.Warn("change log pruning failed", "err", err)
		return last
	}
	if n > 0 {
		s.log.Info("change log pruned", "entries", n, "retention", ChangeRetention)
	}
	return now
}
