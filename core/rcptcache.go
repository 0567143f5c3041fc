package core

import (
	"context"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// recipientCacheTTL bounds how long a recipient found at RCPT is reused
// without asking the store. With PostgreSQL that lookup was the one round
// trip per message outside the group commit; a stream of mail to the same
// users now costs none. A user deleted in another process may still be
// accepted at RCPT for this long; its delivery then fails, because the
// mailbox is gone, and nothing is stored for it.
const recipientCacheTTL = 2 * time.Second

// recipientCacheMax bounds the entries; the cache starts over when full.
const recipientCacheMax = 50_000

// recipientCache remembers users found by address (never misses: a new
// user receives mail at once). Safe for concurrent use.
type recipientCache struct {
	mu sync.Mutex
	m  map[string]cachedUser
}

type cachedUser struct {
	u  storage.User
	at time.Time
}

// userByAddress is store.GetUserByAddress for RCPT, through the cache.
func (s *Service) userByAddress(ctx context.Context, addr string) (storage.User, error) {
	c := &s.rcpts
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[addr]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < recipientCacheTTL {
		return e.u, nil
	}
	u, err := s.store.GetUserByAddress(ctx, addr)
	if err != nil {
		return u, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= recipientCacheMax {
		c.m = make(map[string]cachedUser)
	}
	c.m[addr] = cachedUser{u, now}
	c.mu.Unlock()
	return u, nil
}

// forgetRecipients empties the cache (a user was deleted on this node).
func (s *Service) forgetRecipients() {
	s.rcpts.mu.Lock()
	s.rcpts.m = nil
	s.rcpts.mu.Unlock()
}
