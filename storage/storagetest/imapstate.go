package storagetest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

var imapStateCases = []testCase{
	{"ClaimRecentOnce", testClaimRecentOnce},
	{"NameSubscriptions", testNameSubscriptions},
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
