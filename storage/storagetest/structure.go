package storagetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

var structureCases = []testCase{
	{"StructuresStoredAndCopied", testStructuresStored},
	{"StructuresBackfill", testStructuresBackfill},
}

func withStructure(b []byte) msgOpt { return func(m *storage.NewMessage) { m.Structure = b } }

// structData reads a mailbox's structures by UID.
func structData(t *testing.T, s storage.Store, userID, mailboxID int64, first, last uint32) map[uint32][]byte {
	t.Helper()
	rows, err := s.MessageStructures(t.Context(), userID, mailboxID, first, last)
	if err != nil {
		t.Fatalf("MessageStructures: %v", err)
	}
	out := map[uint32][]byte{}
	for i, r := range rows {
		if i > 0 && r.UID <= rows[i-1].UID {
			t.Fatalf("MessageStructures not in UID order: %+v", rows)
		}
		out[r.UID] = r.Data
	}
	return out
}

// testStructuresStored: what Deliver stores comes back by UID range, NULL
// stays absent, Copy carries the structure to the new message, Move keeps
// it, another user sees nothing.
func testStructuresStored(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u, inbox := newUser(t, s, "struct@example.test")
	a, b := []byte{1, 2, 3, 0, 255}, bytes.Repeat([]byte("x"), 5000)
	m1, m2, m3 := newMsg(u.ID, inbox.ID, withStructure(a)), newMsg(u.ID, inbox.ID), newMsg(u.ID, inbox.ID, withStructure(b))
	deliver(t, s, m1, m2, m3)
	got := structData(t, s, u.ID, inbox.ID, 1, 0)
	if len(got) != 3 || !bytes.Equal(got[m1.UID], a) || got[m2.UID] != nil || !bytes.Equal(got[m3.UID], b) {
		t.Fatalf("after Deliver: got %v", got)
	}
	if got := structData(t, s, u.ID, inbox.ID, m2.UID, m3.UID); len(got) != 2 || got[m1.UID] != nil {
		t.Fatalf("UID range %d:%d: got %d rows", m2.UID, m3.UID, len(got))
	}
	arch, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleArchive)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := s.Copy(ctx, u.ID, inbox.ID, []int64{m1.ID, m3.ID}, arch.ID)
	if err != nil || len(copied) != 2 {
		t.Fatalf("Copy: %v, %v", copied, err)
	}
	got = structData(t, s, u.ID, arch.ID, 1, 0)
	if !bytes.Equal(got[copied[0].NewUID], a) || !bytes.Equal(got[copied[1].NewUID], b) {
		t.Fatalf("Copy did not carry the structures: %v", got)
	}
	trash, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleTrash)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := s.Move(ctx, u.ID, inbox.ID, []int64{m3.ID}, trash.ID)
	if err != nil || len(moved) != 1 {
		t.Fatalf("Move: %v, %v", moved, err)
	}
	if got := structData(t, s, u.ID, trash.ID, 1, 0); !bytes.Equal(got[moved[0].NewUID], b) {
		t.Fatalf("Move lost the structure: %v", got)
	}
	other, _ := newUser(t, s, "struct2@example.test")
	if got := structData(t, s, other.ID, inbox.ID, 1, 0); len(got) != 0 {
		t.Fatalf("another user's mailbox: got %d rows", len(got))
	}
	// SetStructures under another user's id changes nothing.
	if err := s.SetStructures(ctx, other.ID, []storage.StructureRow{{ID: m2.ID, Data: []byte("evil")}}); err != nil {
		t.Fatal(err)
	}
	if got := structData(t, s, u.ID, inbox.ID, 1, 0); got[m2.UID] != nil {
		t.Fatalf("SetStructures crossed users: %q", got[m2.UID])
	}
}

// testStructuresBackfill: MissingStructures pages through every user's
// messages without a structure, in (user, id) order from a cursor;
// SetStructures fills them and skips ids that are gone.
func testStructuresBackfill(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u1, in1 := newUser(t, s, "bf1@example.test")
	u2, in2 := newUser(t, s, "bf2@example.test")
	var want []*storage.NewMessage
	for range 3 {
		m := newMsg(u1.ID, in1.ID)
		deliver(t, s, m, newMsg(u1.ID, in1.ID, withStructure([]byte("done"))))
		want = append(want, m)
	}
	gone := want[0]
	m := newMsg(u2.ID, in2.ID)
	deliver(t, s, m)
	want = append(want, m)
	if u2.ID < u1.ID {
		want = append(want[3:], want[:3]...)
	}
	var seen []int64
	var au, aid int64
	for {
		page, err := s.MissingStructures(ctx, au, aid, 2)
		if err != nil {
			t.Fatalf("MissingStructures: %v", err)
		}
		if len(page) > 2 {
			t.Fatalf("limit 2: got %d", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			if len(p.Segments) == 0 || p.Size == 0 {
				t.Fatalf("a backfill row without its segments: %+v", p)
			}
			seen = append(seen, p.ID)
			au, aid = p.UserID, p.ID
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("MissingStructures: got ids %v, want %d messages", seen, len(want))
	}
	for i, m := range want {
		if seen[i] != m.ID {
			t.Fatalf("MissingStructures order: got %v, want (user, id) order of %d messages", seen, len(want))
		}
	}
	if _, _, err := s.Expunge(ctx, u1.ID, in1.ID, []int64{gone.ID}); err != nil {
		t.Fatal(err)
	}
	for _, m := range want {
		if err := s.SetStructures(ctx, m.UserID, []storage.StructureRow{{ID: m.ID, Data: []byte("filled")}}); err != nil {
			t.Fatalf("SetStructures: %v", err)
		}
	}
	if page, err := s.MissingStructures(ctx, 0, 0, 10); err != nil || len(page) != 0 {
		t.Fatalf("after SetStructures: %d still missing, %v", len(page), err)
	}
	if got := structData(t, s, u2.ID, in2.ID, 1, 0); !bytes.Equal(got[m.UID], []byte("filled")) {
		t.Fatalf("filled structure: got %q", got[m.UID])
	}
}
