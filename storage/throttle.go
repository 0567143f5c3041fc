package storage

import (
	"context"
	"time"
)

// Throttle is one shared counter of the login slow-down and of rate limits:
// how many events were counted under its key since it was created, and the
// time Next before which the next event must not run (a reserved slot).
// Counters live in the database so that every node of a cluster sees the
// same numbers: a client cannot multiply its budget by the number of nodes.
type Throttle struct {
	Count int64
	Next  time.Time
}

// Throttles stores expiring counters keyed by a string such as
// "login:ip:192.0.2.1" or "smtp:rate:192.0.2.1:29584031".
type Throttles interface {
	// UpdateThrottle reads the counter key (the zero Throttle when it is
	// absent or expired at now), replaces it with fn's result and returns
	// that, all in one transaction: concurrent calls on the same key, from
	// any node, see each other's updates in some order. The counter then
	// expires at now+ttl; a result with Count <= 0 deletes it. fn may be
	// called more than once if the transaction is retried.
	UpdateThrottle(ctx context.Context, key string, now time.Time, ttl time.Duration, fn func(Throttle) Throttle) (Throttle, error)
	// ExpireThrottles deletes the counters expired at now and returns how many.
	ExpireThrottles(ctx context.Context, now time.Time) (int, error)
}
