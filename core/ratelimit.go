package core

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// Shared rate limits (SMTP connections and messages per remote IP): fixed
// windows counted in the database's throttles table, so that every node
// of a cluster draws on one budget per key.
//
// A write per event would cost every SMTP message a database transaction,
// so each node batches: it counts events locally and adds them to the
// shared counter once it holds rateBatch(limit) of them or rateSyncEvery
// has passed, learning the cluster's total each time. Once that total comes
// within two batches of the limit, every event is written through, so the
// limit is exact when a single node serves the key and overshoots by at most
// one batch per other node otherwise (limit/20 each).
const (
	// rateSyncEvery bounds how stale a node's view of a shared counter is.
	rateSyncEvery = time.Second
	// maxRateKeys bounds the local state before stale windows are pruned.
	maxRateKeys = 10000
)

func rateBatch(limit int) int64 { return max(1, int64(limit)/20) }

// rateState is a node's view of one key's current window.
type rateState struct {
	start   time.Time // window start
	pending int64     // counted here, not yet written
	known   int64     // the shared total at the last write (ours included)
	synced  time.Time
}

// rateBook holds the local views; one per Service.
type rateBook struct {
	mu sync.Mutex
	m  map[string]*rateState
}

// AllowRate counts one event under key in the current window of the given
// length and reports whether the cluster-wide count stays within limit. A
// limit of 0 or less allows everything. When the database fails the event
// is judged on this node's own count (and the error logged): a broken
// database must not stop mail.
func (s *Service) AllowRate(ctx context.Context, key string, limit int, window time.Duration) bool {
	if limit <= 0 {
		return true
	}
	now := time.Now()
	start := now.Truncate(window)
	b := &s.rates
	b.mu.Lock()
	if b.m == nil {
		b.m = map[string]*rateState{}
	}
	st := b.m[key]
	if st == nil || !st.start.Equal(start) {
		if st == nil && len(b.m) >= maxRateKeys {
			for k, v := range b.m {
				if now.Sub(v.start) >= 2*window {
					delete(b.m, k)
				}
			}
		}
		// A new key starts as if just synced: its first events cost no
		// write unless they fill a batch (a key far below its limit need
		// never be written; the overshoot bound below still holds).
		st = &rateState{start: start, synced: now}
		b.m[key] = st
	}
	batch := rateBatch(limit)
	if st.known+st.pending >= int64(limit) && now.Sub(st.synced) < rateSyncEvery/10 {
		b.mu.Unlock()
		return false // over, and known to be over a moment ago
	}
	st.pending++
	local := st.known + st.pending
	if st.pending < batch && now.Sub(st.synced) < rateSyncEvery && local < int64(limit)-2*batch {
		b.mu.Unlock()
		return true
	}
	delta := st.pending
	st.pending = 0
	b.mu.Unlock()

	dbKey := "rate:" + key + ":" + strconv.FormatInt(start.UnixMilli(), 10)
	got, err := s.store.UpdateThrottle(ctx, dbKey, now, 2*window, func(cur storage.Throttle) storage.Throttle {
		cur.Count += delta
		return cur
	})
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		s.log.Warn("shared rate counter failed; judging on this node's count", "key", key, "err", err)
		st.pending += delta
		return local <= int64(limit)
	}
	if st.start.Equal(start) {
		st.known = max(st.known, got.Count)
		st.synced = now
	}
	return got.Count <= int64(limit)
}
