package core

import (
	"sync"
	"time"
)

// correspondentsFresh is how long a recorded correspondent (a user wrote to
// an address) is not recorded again by this node. Each record was a write
// transaction and an fsync of its own after every submission, and
// concurrent submissions by one user to one address queued on its row. The
// spam filter asks only whether the pair exists, so its last_at may lag by
// this much.
const correspondentsFresh = 10 * time.Minute

// correspondentsMax bounds the entries; the memo starts over when full.
const correspondentsMax = 100_000

// correspondentMemo remembers correspondents recorded lately. The zero
// value is ready; safe for concurrent use.
type correspondentMemo struct {
	mu sync.Mutex
	m  map[correspondentKey]time.Time
}

type correspondentKey struct {
	user int64
	addr string
}

// stale returns those of addrs not recorded for userID within
// correspondentsFresh of at, and notes them as recorded at at.
func (c *correspondentMemo) stale(userID int64, addrs []string, at time.Time) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= correspondentsMax {
		c.m = make(map[correspondentKey]time.Time)
	}
	out := addrs[:0:0]
	for _, a := range addrs {
		k := correspondentKey{userID, a}
		if last, ok := c.m[k]; ok && at.Sub(last) < correspondentsFresh && !at.Before(last) {
			continue
		}
		c.m[k] = at
		out = append(out, a)
	}
	return out
}

// forget drops a remembered pair (its record failed).
func (c *correspondentMemo) forget(userID int64, addrs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range addrs {
		delete(c.m, correspondentKey{userID, a})
	}
}
