package core

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// Verified logins. A mail client opens several connections at once (five
// IMAP connections is Thunderbird's default, and submission clients open
// one per outgoing batch) and reconnects often. Without help, each of
// those logins would be counted by the slow-down (throttle.go) before its
// password is checked, so the fourth parallel login of one client was
// delayed like a fourth guess, and each cost a bcrypt hash.
//
// Two things keep the slow-down for guesses only:
//
//   - A login whose password was verified in the last authCacheTTL is
//     recognized without bcrypt and without counting: the process keeps,
//     per account, an HMAC (under a random per-process key) of the address
//     and the password last verified, and the password hash it was
//     verified against. A hit still reads the user, and counts only if the
//     stored hash is unchanged, so a password change or a deleted account
//     (on any node) ends it at once.
//   - Parallel attempts with the same address and password share one
//     check: the first runs it (slow-down, bcrypt), the others wait for its
//     answer, which is theirs too. A client's burst of connections costs
//     one attempt; a burst of identical guesses likewise counts as one.
//
// Nothing here is known to an attacker who lacks the password: a guess
// with a different password has a different HMAC and goes through the
// slow-down as before.
const (
	// authCacheTTL bounds how long a verified login is recognized.
	authCacheTTL = 10 * time.Minute
	// authCacheMax bounds the map; it starts over when full.
	authCacheMax = 100_000
)

type authCache struct {
	key []byte // HMAC key, random per process

	mu     sync.Mutex
	ok     map[string]verifiedLogin // by address
	flight map[loginFlightKey]*loginFlight
}

type verifiedLogin struct {
	mac  [sha256.Size]byte
	hash string // the password hash the password was checked against
	at   time.Time
}

type loginFlightKey struct {
	addr string
	mac  [sha256.Size]byte
}

// loginFlight is one running check that identical attempts wait for.
type loginFlight struct {
	done chan struct{}
	u    User
	err  error
}

func newAuthCache() *authCache {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return &authCache{key: key, ok: map[string]verifiedLogin{}, flight: map[loginFlightKey]*loginFlight{}}
}

// mac is the HMAC of an address and a password.
func (c *authCache) mac(addr, password string) [sha256.Size]byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(addr))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// recent returns the password hash addr was verified against with this
// password (mac) within authCacheTTL, or "".
func (c *authCache) recent(addr string, mac [sha256.Size]byte, now time.Time) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.ok[addr]
	if !ok || now.Sub(v.at) > authCacheTTL || !hmac.Equal(v.mac[:], mac[:]) {
		return ""
	}
	return v.hash
}

// remember records a verified login.
func (c *authCache) remember(addr string, mac [sha256.Size]byte, hash string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ok) >= authCacheMax {
		clear(c.ok)
	}
	c.ok[addr] = verifiedLogin{mac: mac, hash: hash, at: now}
}

// forget drops addr's verified login (its hash no longer matched).
func (c *authCache) forget(addr string) {
	c.mu.Lock()
	delete(c.ok, addr)
	c.mu.Unlock()
}

// join returns the running check for k and false, or registers a new one
// that the caller must run and finish, and true.
func (c *authCache) join(k loginFlightKey) (*loginFlight, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flight[k]; ok {
		return f, false
	}
	f := &loginFlight{done: make(chan struct{})}
	c.flight[k] = f
	return f, true
}

// finish publishes a check's answer to those waiting for it.
func (c *authCache) finish(k loginFlightKey, f *loginFlight, u User, err error) {
	c.mu.Lock()
	delete(c.flight, k)
	c.mu.Unlock()
	f.u, f.err = u, err
	close(f.done)
}

// wait returns the answer of another attempt's check.
func (f *loginFlight) wait(ctx context.Context) (User, error) {
	select {
	case <-f.done:
		return f.u, f.err
	case <-ctx.Done():
		return User{}, ctx.Err()
	}
}
