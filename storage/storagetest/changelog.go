package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// testChangeLog covers CONDSTORE/QRESYNC: UNCHANGEDSINCE, the changes and
// the vanished UIDs of one mailbox since a MODSEQ, and pruning with a floor.
func testChangeLog(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "cl@example.com")
	arch, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleArchive)
	if err != nil {
		t.Fatal(err)
	}
	m1, m2, m3, m4 := newMsg(u.ID, inbox.ID), newMsg(u.ID, inbox.ID), newMsg(u.ID, inbox.ID), newMsg(u.ID, inbox.ID)
	deliver(t, s, m1, m2, m3, m4)
	base := m4.ModSeq
	ch, err := s.UpdateFlags(ctx, u.ID, inbox.ID, []int64{m1.ID}, storage.FlagsAdd, []string{storage.FlagSeen})
	if err != nil || len(ch) != 1 {
		t.Fatalf("UpdateFlags: %v, %v", ch, err)
	}
	// STORE (UNCHANGEDSINCE m2's MODSEQ): m1 changed since and fails, m2 is updated.
	changed, failed, err := s.UpdateFlagsUnchangedSince(ctx, u.ID, inbox.ID, []int64{m1.ID, m2.ID, 999999}, storage.FlagsAdd,
		[]string{storage.FlagFlagged}, m2.ModSeq)
	if err != nil || !slices.Equal(failed, []int64{m1.ID}) || len(changed) != 1 || changed[0].ID != m2.ID {
		t.Errorf("UNCHANGEDSINCE: changed %v, failed %v, %v; want m2 changed, m1 failed", ids(changed), failed, err)
	}
	if got, _ := s.GetMessage(ctx, u.ID, m1.ID); slices.Contains(got.Flags, storage.FlagFlagged) {
		t.Errorf("failed message was changed: flags %v", got.Flags)
	}
	if _, failed, _ := s.UpdateFlagsUnchangedSince(ctx, u.ID, inbox.ID, []int64{m3.ID}, storage.FlagsAdd, []string{"k"}, 0); !slices.Equal(failed, []int64{m3.ID}) {
		t.Errorf("UNCHANGEDSINCE 0: failed %v, want [m3]", failed)
	}
	// Expunge m3, move m4 away.
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m3.ID}); err != nil {
		t.Fatal(err)
	}
	mv, err := s.Move(ctx, u.ID, inbox.ID, []int64{m4.ID}, arch.ID)
	if err != nil || len(mv) != 1 {
		t.Fatal(err)
	}
	got, err := s.ChangedSince(ctx, u.ID, inbox.ID, base)
	if err != nil || !slices.Equal(ids(got), []int64{m1.ID, m2.ID}) {
		t.Errorf("ChangedSince(%d): got %v, %v, want m1 m2", base, ids(got), err)
	}
	van, complete, err := s.VanishedSince(ctx, u.ID, inbox.ID, base)
	if err != nil || !complete || !slices.Equal(van, []uint32{m3.UID, m4.UID}) {
		t.Errorf("VanishedSince(%d): got %v complete %v, %v, want [%d %d] complete", base, van, complete, err, m3.UID, m4.UID)
	}
	if van, _, _ := s.VanishedSince(ctx, u.ID, arch.ID, 0); len(van) != 0 {
		t.Errorf("VanishedSince(archive): got %v, want none", van)
	}
	mb, _ := s.GetMailbox(ctx, u.ID, inbox.ID)
	if mb.HighestModSeq <= base {
		t.Errorf("HIGHESTMODSEQ %d after expunge, want above %d", mb.HighestModSeq, base)
	}
	if van, _, _ := s.VanishedSince(ctx, u.ID, inbox.ID, mb.HighestModSeq); len(van) != 0 {
		t.Errorf("VanishedSince(HIGHESTMODSEQ): got %v, want none", van)
	}
	// OBJECTID (RFC 8474): MOVE keeps the message's id and thread.
	moved, err := s.GetMessage(ctx, u.ID, m4.ID)
	if err != nil || mv[0].ID != m4.ID || moved.MailboxID != arch.ID || moved.ThreadID != m4.ThreadID || moved.UID != mv[0].NewUID {
		t.Errorf("moved message: got %+v (%v), result %+v; want id %d and thread %d kept in mailbox %d", moved, err, mv[0], m4.ID, m4.ThreadID, arch.ID)
	}
	// Pruning: nothing is older than an hour ago; everything is older than in an hour.
	if n, err := s.PruneChanges(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneChanges(an hour ago): got %d, %v, want 0", n, err)
	}
	high, _ := s.HighestModSeq(ctx, u.ID)
	if n, err := s.PruneChanges(ctx, time.Now().Add(time.Hour)); err != nil || n == 0 {
		t.Errorf("PruneChanges(in an hour): got %d, %v, want some", n, err)
	}
	if f, err := s.ChangeFloor(ctx, u.ID); err != nil || f != high {
		t.Errorf("ChangeFloor: got %d, %v, want %d", f, err, high)
	}
	if _, complete, _ := s.VanishedSince(ctx, u.ID, inbox.ID, base); complete {
		t.Errorf("VanishedSince below the floor: complete, want incomplete")
	}
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m2.ID}); err != nil {
		t.Fatal(err)
	}
	van, complete, err = s.VanishedSince(ctx, u.ID, inbox.ID, high)
	if err != nil || !complete || !slices.Equal(van, []uint32{m2.UID}) {
		t.Errorf("VanishedSince(floor) after a new expunge: got %v complete %v, %v, want [%d] complete", van, complete, err, m2.UID)
	}
	if cs, _ := s.ChangesSince(ctx, u.ID, 0, 0); len(cs) != 1 {
		t.Errorf("ChangesSince(0) after pruning: got %d entries, want 1", len(cs))
	}
}
