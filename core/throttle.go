package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stamp-mail/stamp/storage"
)

// The login slow-down. Every login attempt is counted, before its password
// is checked, under three keys kept in the database (so that every node of
// a cluster shares them): the pair (remote IP, account), the account from
// any IP, and the remote IP for any account. Each key lets a few attempts
// through at once, then spaces the following ones out: attempt n past the
// free ones must wait AuthFailDelay * 2^(n-1), at most AuthMaxDelay, after
// the slot reserved by the attempt before it. Because the slot is reserved
// when the attempt starts, attempts in flight count: 200 parallel guesses
// are spread out exactly like 200 sequential ones. An attempt whose slot is
// more than AuthMaxWait away is refused (ErrRateLimited) without checking
// its password and without reserving anything further.
//
// A successful login takes its own attempt back out of the account and IP
// counters and clears the (IP, account) pair; it never touches the counters
// of another account, so an attacker cannot clear the IP counter by logging
// in to an account of their own. The pair key is checked first and refuses
// first, so an attacker hammering one account from an IP is stopped by that
// pair before their attempts weigh on the IP counter that the other
// accounts behind the same address share: that counter is generous
// (AuthFree.IP) and only slows down, it is never a lockout of the address.
const (
	// authWindow is how long an idle counter is remembered.
	authWindow = 15 * time.Minute
)

// AuthFree says how many login attempts each key lets through in a window
// before it spaces them out; zero fields take the defaults (3, 10, 100).
type AuthFree struct {
	Pair    int // per (remote IP, account)
	Account int // per account, from any IP
	IP      int // per remote IP (IPv6: per /64), for any account
}

func (f *AuthFree) setDefaults() {
	if f.Pair <= 0 {
		f.Pair = 3
	}
	if f.Account <= 0 {
		f.Account = 10
	}
	if f.IP <= 0 {
		f.IP = 100
	}
}

// maxKeyAddress bounds the account name kept in a counter's key: the
// longest forward-path (RFC 5321 section 4.5.3.1.3) is 256 octets.
const maxKeyAddress = 256

// loginKey is one counter an attempt is checked against.
type loginKey struct {
	key  string
	free int64
}

// loginKeys returns the counters of an attempt on addr from host, the most
// specific first (see the order argument above).
func (s *Service) loginKeys(addr, host string) []loginKey {
	f := s.cfg.AuthFree
	if len(addr) > maxKeyAddress {
		// No account has such a name (RFC 5321 section 4.5.3.1.3); keep
		// the row small all the same.
		sum := sha256.Sum256([]byte(addr))
		addr = "sha256:" + hex.EncodeToString(sum[:])
	}
	keys := make([]loginKey, 0, 3)
	ip := ipKey(host)
	if ip != "" {
		keys = append(keys, loginKey{"login:pair:" + ip + " " + addr, int64(f.Pair)})
	}
	keys = append(keys, loginKey{"login:acct:" + addr, int64(f.Account)})
	if ip != "" {
		keys = append(keys, loginKey{"login:ip:" + ip, int64(f.IP)})
	}
	return keys
}

// ipKey normalizes a remote host for counting: IPv6 addresses count per /64
// (one customer's network), IPv4 per address; anything else as written.
func ipKey(host string) string {
	ip := net.ParseIP(host)
	if ip == nil {
		return strings.ToLower(host)
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// authStep is the spacing before attempt n of a key (n counts from 1).
func (s *Service) authStep(n, free int64) time.Duration {
	k := n - free
	if k <= 0 {
		return 0
	}
	d := s.cfg.AuthFailDelay << min(k-1, 20)
	if d <= 0 || d > s.cfg.AuthMaxDelay {
		d = s.cfg.AuthMaxDelay
	}
	return d
}

// reserveLogin counts one attempt under keys and returns when it may run.
// It returns ErrRateLimited (and how long to wait) when a slot is too far
// away; the keys after the refusing one are then not counted.
func (s *Service) reserveLogin(ctx context.Context, keys []loginKey) (time.Time, error) {
	now := time.Now()
	at := now
	for _, k := range keys {
		refused := time.Duration(0)
		var slotOut time.Time
		_, err := s.store.UpdateThrottle(ctx, k.key, now, authWindow, func(cur storage.Throttle) storage.Throttle {
			refused = 0
			n := cur.Count + 1
			slot := now
			if cur.Next.After(slot) {
				slot = cur.Next
			}
			slot = slot.Add(s.authStep(n, k.free))
			if wait := slot.Sub(now); wait > s.cfg.AuthMaxWait {
				refused = wait - s.cfg.AuthMaxWait
				return cur
			}
			slotOut = slot
			return storage.Throttle{Count: n, Next: slot}
		})
		if err != nil {
			return now, temporary("login throttle", err)
		}
		if refused > 0 {
			return now.Add(refused), fmt.Errorf("%w: too many login attempts", ErrRateLimited)
		}
		if slotOut.After(at) {
			at = slotOut
		}
	}
	return at, nil
}

// releaseLogin takes a successful attempt back out of its counters.
func (s *Service) releaseLogin(ctx context.Context, keys []loginKey) {
	now := time.Now()
	for i, k := range keys {
		pair := strings.HasPrefix(k.key, "login:pair:")
		_, err := s.store.UpdateThrottle(ctx, k.key, now, authWindow, func(cur storage.Throttle) storage.Throttle {
			if pair {
				return storage.Throttle{}
			}
			cur.Count--
			return cur
		})
		if err != nil {
			s.log.Warn("login throttle release failed", "key", i, "err", err)
		}
	}
}

// authLimiter holds the per-process part of login checking: the dummy
// hash (the counters themselves are in the database).
type authLimiter struct {
	dummyOnce sync.Once
	dummy     []byte
}

func newAuthLimiter() *authLimiter { return &authLimiter{} }

// dummyHash returns a bcrypt hash at the configured cost, computed once:
// an unknown account costs the same hash work as a wrong password.
func (s *Service) dummyHash() []byte {
	s.auth.dummyOnce.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte(randomToken(16)), s.cfg.BcryptCost)
		if err != nil {
			panic(err) // only for a cost outside bcrypt's range, which setDefaults prevents
		}
		s.auth.dummy = h
	})
	return s.auth.dummy
}
