package storagetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var throttleCases = []testCase{
	{"Throttles", testThrottles},
	{"ThrottlesConcurrent", testThrottlesConcurrent},
	{"ThrottlesConcurrentDelete", testThrottlesConcurrentDelete},
}

func incr(t storage.Throttle) storage.Throttle { t.Count++; return t }

func testThrottles(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	got, err := s.UpdateThrottle(ctx, "k", now, time.Minute, func(cur storage.Throttle) storage.Throttle {
		if cur != (storage.Throttle{}) {
			t.Errorf("absent key: fn got %+v, want the zero Throttle", cur)
		}
		return storage.Throttle{Count: 1, Next: now.Add(time.Second)}
	})
	if err != nil || got.Count != 1 {
		t.Fatalf("UpdateThrottle: got %+v, %v, want count 1", got, err)
	}
	var seen storage.Throttle
	if _, err := s.UpdateThrottle(ctx, "k", now.Add(time.Second), time.Minute, func(cur storage.Throttle) storage.Throttle {
		seen = cur
		return incr(cur)
	}); err != nil {
		t.Fatal(err)
	}
	if seen.Count != 1 || !seen.Next.Equal(now.Add(time.Second)) {
		t.Errorf("second update: fn got %+v, want count 1 next %v", seen, now.Add(time.Second))
	}
	// Other keys are separate.
	if got, err := s.UpdateThrottle(ctx, "other", now, time.Minute, incr); err != nil || got.Count != 1 {
		t.Errorf("other key: got %+v, %v, want count 1", got, err)
	}
	// Expired counters read as zero.
	if _, err := s.UpdateThrottle(ctx, "k", now.Add(2*time.Minute), time.Minute, func(cur storage.Throttle) storage.Throttle {
		seen = cur
		return incr(cur)
	}); err != nil {
		t.Fatal(err)
	}
	if seen != (storage.Throttle{}) {
		t.Errorf("after expiry: fn got %+v, want the zero Throttle", seen)
	}
	// Count <= 0 deletes.
	if _, err := s.UpdateThrottle(ctx, "other", now, time.Minute, func(storage.Throttle) storage.Throttle { return storage.Throttle{} }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateThrottle(ctx, "other", now, time.Minute, func(cur storage.Throttle) storage.Throttle {
		seen = cur
		return cur
	}); err != nil {
		t.Fatal(err)
	}
	if seen.Count != 0 {
		t.Errorf("after delete: got count %d, want 0", seen.Count)
	}
	// "k" expires at now+3m.
	if n, err := s.ExpireThrottles(ctx, now.Add(2*time.Minute)); err != nil || n != 0 {
		t.Errorf("ExpireThrottles(before expiry): got %d, %v, want 0", n, err)
	}
	if n, err := s.ExpireThrottles(ctx, now.Add(4*time.Minute)); err != nil || n != 1 {
		t.Errorf("ExpireThrottles(after expiry): got %d, %v, want 1", n, err)
	}
}

// testThrottlesConcurrent: parallel increments are never lost.
func testThrottlesConcurrent(t *testing.T, s storage.Store) {
	ctx := t.Context()
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.UpdateThrottle(ctx, "c", time.Now(), time.Minute, incr); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("UpdateThrottle: %v", err)
	}
	got, err := s.UpdateThrottle(ctx, "c", time.Now(), time.Minute, func(cur storage.Throttle) storage.Throttle { return cur })
	if err != nil || got.Count != n {
		t.Errorf("after %d parallel increments: got %+v, %v, want count %d", n, got, err, n)
	}
}

// testThrottlesConcurrentDelete: updates that remove the key (count 0, as a
// successful login's release does) race updates that count on it; every
// update succeeds (a PostgreSQL update that waited on a row deleted under
// it used to find no row and fail with ErrNotFound, seen as IMAP LOGIN
// failures under imaptest on two nodes).
func testThrottlesConcurrentDelete(t *testing.T, s storage.Store) {
	ctx := t.Context()
	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				fn := incr
				if (i+r)%2 == 1 {
					fn = func(storage.Throttle) storage.Throttle { return storage.Throttle{} }
				}
				if _, err := s.UpdateThrottle(ctx, "d", time.Now(), time.Minute, fn); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 3 {
			t.Errorf("UpdateThrottle: %v", err)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d updates failed", n, workers*rounds)
	}
}
