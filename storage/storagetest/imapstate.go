package storagetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

var imapStateCases = []testCase{
	{"ClaimRecentOnce", testClaimRecentOnce},
	{"NameSubscriptions", testNameSubscriptions},
	{"MailboxView", testMailboxView},
	{"MailboxKeywords", testMailboxKeywords},
}

// testMailboxKeywords: AddKeywords keeps the first spelling of each
// keyword, ignores system flags, and is per user and mailbox.
func testMailboxKeywords(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u, inbox := newUser(t, s, "kw@example.test")
	if got, err := s.Keywords(ctx, u.ID, inbox.ID); err != nil || len(got) != 0 {
		t.Fatalf("Keywords of a new mailbox: got %q, %v; want none", got, err)
	}
	for _, kws := range [][]string{{"$Label2", storage.FlagSeen, "Work"}, {"$label2", "$Forwarded"}, nil} {
		if err := s.AddKeywords(ctx, u.ID, inbox.ID, kws); err != nil {
			t.Fatalf("AddKeywords(%q): %v", kws, err)
		}
	}
	want := []string{"$Forwarded", "$Label2", "Work"}
	if got, err := s.Keywords(ctx, u.ID, inbox.ID); err != nil || !slices.Equal(got, want) {
		t.Errorf("Keywords: got %q, %v; want %q", got, err, want)
	}
	other, otherInbox := newUser(t, s, "kw2@example.test")
	if got, _ := s.Keywords(ctx, other.ID, inbox.ID); len(got) != 0 {
		t.Errorf("another user with this mailbox id: got %q, want none", got)
	}
	if got, _ := s.Keywords(ctx, u.ID, otherInbox.ID); len(got) != 0 {
		t.Errorf("another mailbox id: got %q, want none", got)
	}
	tmp, err := s.CreateMailbox(ctx, u.ID, "Tmp", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddKeywords(ctx, u.ID, tmp.ID, []string{"Gone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteMailbox(ctx, u.ID, tmp.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Keywords(ctx, u.ID, tmp.ID); err != nil || len(got) != 0 {
		t.Errorf("Keywords of a deleted mailbox: got %q, %v; want none", got, err)
	}
}

// testMailboxView: the view rows agree with MessagesByUID, from a UID up.
func testMailboxView(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u, inbox := newUser(t, s, "view@example.test")
	msgs := []*storage.NewMessage{newMsg(u.ID, inbox.ID, withFlags(storage.FlagSeen)), newMsg(u.ID, inbox.ID), newMsg(u.ID, inbox.ID, withFlags("$x", storage.FlagSeen))}
	deliver(t, s, msgs...)
	full, err := s.MessagesByUID(ctx, u.ID, inbox.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.MailboxView(ctx, u.ID, inbox.ID, 1)
	if err != nil || len(rows) != len(full) {
		t.Fatalf("MailboxView: got %d rows, %v; want %d", len(rows), err, len(full))
	}
	for i, r := range rows {
		m := full[i]
		if r.ID != m.ID || r.UID != m.UID || r.ModSeq != m.ModSeq || !slices.Equal(r.Flags, m.Flags) || !r.InternalDate.Equal(m.InternalDate) || r.Size != m.Size {
			t.Errorf("row %d: got %+v, want the fields of %+v", i, r, m)
		}
	}
	if rows, _ := s.MailboxView(ctx, u.ID, inbox.ID, full[1].UID); len(rows) != 2 || rows[0].UID != full[1].UID {
		t.Errorf("from UID %d: got %+v, want the last two", full[1].UID, rows)
	}
	other, _ := newUser(t, s, "view2@example.test")
	if _, err := s.MailboxView(ctx, other.ID, inbox.ID, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another user's mailbox: got %v, want ErrNotFound", err)
	}
}

// testClaimRecentOnce: concurrent claims hand each UID to exactly one caller.
func testClaimRecentOnce(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u, inbox := newUser(t, s, "recent@example.test")
	if m, err := s.RecentMark(ctx, u.ID, inbox.ID); err != nil || m != 0 {
		t.Fatalf("RecentMark of a new mailbox: got %d, %v; want 0", m, err)
	}
	var mu sync.Mutex
	claimed := map[uint32]int{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			high := uint32(10 + i*5)
			prev, err := s.ClaimRecent(ctx, u.ID, inbox.ID, high)
			if err != nil {
				t.Errorf("ClaimRecent(%d): %v", high, err)
				return
			}
			mu.Lock()
			for uid := prev + 1; uid <= high; uid++ {
				claimed[uid]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for uid := uint32(1); uid <= 45; uid++ {
		if claimed[uid] != 1 {
			t.Errorf("UID %d claimed %d times, want once", uid, claimed[uid])
		}
	}
	if prev, err := s.ClaimRecent(ctx, u.ID, inbox.ID, 20); err != nil || prev != 45 {
		t.Errorf("ClaimRecent below the mark: got %d, %v; want 45", prev, err)
	}
	if m, _ := s.RecentMark(ctx, u.ID, inbox.ID); m != 45 {
		t.Errorf("RecentMark: got %d, want 45", m)
	}
	other, _ := newUser(t, s, "other@example.test")
	if m, _ := s.RecentMark(ctx, other.ID, inbox.ID); m != 0 {
		t.Errorf("another user's mark: got %d, want 0", m)
	}
}

func testNameSubscriptions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	u, _ := newUser(t, s, "subs@example.test")
	v, _ := newUser(t, s, "subs2@example.test")
	for _, n := range []string{"b/c", "a", "b/c"} {
		if err := s.SetNameSubscription(ctx, u.ID, n, true); err != nil {
			t.Fatalf("SetNameSubscription(%q): %v", n, err)
		}
	}
	got, err := s.NameSubscriptions(ctx, u.ID)
	if err != nil || !slices.Equal(got, []string{"a", "b/c"}) {
		t.Fatalf("NameSubscriptions: got %q, %v; want [a b/c]", got, err)
	}
	if err := s.SetNameSubscription(ctx, u.ID, "a", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.NameSubscriptions(ctx, u.ID); !slices.Equal(got, []string{"b/c"}) {
		t.Errorf("after removing a: got %q, want [b/c]", got)
	}
	if got, _ := s.NameSubscriptions(ctx, v.ID); len(got) != 0 {
		t.Errorf("another user's subscriptions: got %q, want none", got)
	}
}
