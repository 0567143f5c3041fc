package storagetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var queueCases = []testCase{
	{"QueueRoundTrip", testQueueRoundTrip},
	{"QueueClaimExclusive", testQueueClaim},
}

func testQueueRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, _ := newUser(t, s, "a@example.com")
	now := time.Now()
	seg := segment("queued message bytes")
	q := &storage.QueueItem{UserID: u.ID, Sender: "a@example.com", Recipients: []string{"x@r.example", "y@r.example"},
		Segments: []storage.Segment{seg}, Size: seg.Size, NextAttemptAt: now.Add(-time.Second)}
	bounce := &storage.QueueItem{Sender: "", Recipients: []string{"z@r.example"}, NextAttemptAt: now.Add(time.Hour)}
	if err := s.Deliver(ctx, &storage.Batch{Queue: []*storage.QueueItem{q, bounce}}); err != nil {
		t.Fatal(err)
	}
	if q.ID == 0 || bounce.ID == 0 || q.ID == bounce.ID {
		t.Fatalf("queue ids: got %d and %d, want distinct non-zero", q.ID, bounce.ID)
	}
	got, err := s.GetQueueItem(ctx, q.ID)
	if err != nil || got.State != storage.QueueQueued || !slices.Equal(got.Recipients, q.Recipients) ||
		!slices.Equal(got.Segments, q.Segments) || got.Sender != q.Sender || got.UserID != u.ID || got.CreatedAt.IsZero() {
		t.Errorf("GetQueueItem: got %+v, %v, want the delivered item queued", got, err)
	}
	claimed, err := s.ClaimQueue(ctx, now, 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].ID != q.ID {
		t.Fatalf("ClaimQueue: got %+v, %v, want the due item only", claimed, err)
	}
	if d := claimed[0].NextAttemptAt.Sub(now.Add(time.Minute)).Abs(); d > time.Millisecond {
		t.Errorf("claimed NextAttemptAt: got %v, want now+lease", claimed[0].NextAttemptAt)
	}
	if again, _ := s.ClaimQueue(ctx, now.Add(30*time.Second), 10, time.Minute); len(again) != 0 {
		t.Errorf("ClaimQueue within lease: got %d items, want 0", len(again))
	}
	if again, _ := s.ClaimQueue(ctx, now.Add(2*time.Minute), 10, time.Minute); len(again) != 1 {
		t.Errorf("ClaimQueue after lease expiry: got %d items, want 1", len(again))
	}
	item := claimed[0]
	item.State, item.Attempts, item.LastError = storage.QueueDelivered, 1, "451 try later"
	item.Results = map[string]string{"x@r.example": "ok", "y@r.example": "5xx 550 no such user"}
	if err := s.UpdateQueue(ctx, item); err != nil {
		t.Fatalf("UpdateQueue: %v", err)
	}
	got, _ = s.GetQueueItem(ctx, q.ID)
	if got.State != storage.QueueDelivered || got.Attempts != 1 || got.LastError != item.LastError || !maps.Equal(got.Results, item.Results) {
		t.Errorf("after UpdateQueue: got %+v, want %+v", got, item)
	}
	if again, _ := s.ClaimQueue(ctx, now.Add(time.Hour*2), 10, time.Minute); len(again) != 1 || again[0].ID != bounce.ID {
		t.Errorf("ClaimQueue later: got %+v, want the bounce only (delivered items are not claimed)", again)
	}
	if err := s.UpdateQueue(ctx, storage.QueueItem{ID: 1 << 40, State: storage.QueueFailed}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateQueue(unknown): got %v, want ErrNotFound", err)
	}
	list, _ := s.ListQueue(ctx)
	if len(list) != 2 || list[0].ID != q.ID || list[1].ID != bounce.ID {
		t.Errorf("ListQueue: got %d items, want both by id", len(list))
	}
	freed, err := s.DeleteQueueItem(ctx, q.ID)
	if err != nil || !slices.Equal(freed, []string{seg.Hash}) {
		t.Errorf("DeleteQueueItem: got %v, %v, want the message blob freed", freed, err)
	}
	if _, err := s.GetQueueItem(ctx, q.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetQueueItem(deleted): got %v, want ErrNotFound", err)
	}
}

func testQueueClaim(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := time.Now()
	const items = 40
	b := &storage.Batch{}
	for i := 0; i < items; i++ {
		b.Queue = append(b.Queue, &storage.QueueItem{Sender: "s@example.com",
			Recipients: []string{fmt.Sprintf("r%d@remote.example", i)}, NextAttemptAt: now.Add(-time.Duration(i) * time.Second)})
	}
	if err := s.Deliver(ctx, b); err != nil {
		t.Fatal(err)
	}
	const workers = 6
	var mu sync.Mutex
	got := map[int64]int{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := s.ClaimQueue(ctx, now, 3, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if len(c) == 0 {
					return
				}
				mu.Lock()
				for _, q := range c {
					got[q.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimQueue: %v", err)
	}
	if len(got) != items {
		t.Errorf("claimed %d distinct items, want %d", len(got), items)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("item %d claimed %d times, want once", id, n)
		}
	}
}
