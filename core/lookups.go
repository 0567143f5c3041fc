package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// Per-message look-up cache. Every delivery read, for each recipient, the
// active Sieve script, and the spam judge read the user and the user's and
// the domain's allow and block lists: on PostgreSQL a round trip each (the
// lists were four), on SQLite a query each. These settings change rarely,
// so they are kept for lookupTTL:
//
//   - a change made through this node's Service (web and API, ManageSieve,
//     the filter form, marking mail as not spam, which allows the sender)
//     forgets the entry at once, so the next message sees it;
//   - other nodes are told over the event channel (eventLookups, carried by
//     PostgreSQL's NOTIFY) and forget theirs when it arrives;
//   - a change no serving Service saw (another process writing the SQLite
//     file, such as `stamp sieve put` beside a running server, or a lost
//     notification) takes effect within lookupTTL.
//
// A user's quota setting is cached too, so that with no server-wide limit
// (limits.quota_bytes and quota_messages 0, the default) a user without a
// quota of its own costs no usage read per message; SetQuota forgets it like
// the others. Quota usage itself is never cached: whenever a limit applies
// it is read for every message, at RCPT and again at DATA.

// lookupTTL bounds how long a cached setting is used.
const lookupTTL = 2 * time.Second

// lookupMax bounds each map; a map starts over when full.
const lookupMax = 50_000

// eventLookups is the internal event kind telling other nodes that a user's
// settings (UserID), or with UserID 0 a domain's, changed. It is never
// published to subscribers.
const eventLookups = "lookups"

// Lookups caches the delivery path's reads of rarely changed settings. It
// is safe for concurrent use. The spam judge reads through JudgeStore, the
// Service through Deps.Lookups (server wires both to one Lookups).
type Lookups struct {
	store storage.Store
	now   func() time.Time
	ttl   time.Duration

	mu sync.Mutex
	// gen counts forgets: a value read while one happened is not kept, so
	// a read racing with a change cannot bring the old value back.
	gen     uint64
	users   map[int64]timed[storage.User]
	lists   map[int64]timed[storage.SpamLists]
	domains map[string]timed[storage.SpamLists]
	sieve   map[int64]timed[sieveLookup]
	quota   map[int64]timed[int64]
}

type timed[T any] struct {
	v  T
	at time.Time
}

// sieveLookup is a user's active script, or none (found false).
type sieveLookup struct {
	sc    storage.SieveScript
	found bool
}

// NewLookups returns an empty cache reading from st.
func NewLookups(st storage.Store) *Lookups {
	return &Lookups{store: st, now: time.Now, ttl: lookupTTL}
}

// cached returns m[k] when fresh, else reads it with read and keeps it
// (errors other than want-to-keep ones are not kept).
func cached[K comparable, V any](ctx context.Context, l *Lookups, m *map[K]timed[V], k K, read func(context.Context) (V, error)) (V, error) {
	now := l.now()
	l.mu.Lock()
	e, ok := (*m)[k]
	gen := l.gen
	l.mu.Unlock()
	if ok && now.Sub(e.at) < l.ttl && !now.Before(e.at) {
		return e.v, nil
	}
	v, err := read(ctx)
	if err != nil {
		return v, err
	}
	l.mu.Lock()
	if l.gen == gen {
		if *m == nil || len(*m) >= lookupMax {
			*m = make(map[K]timed[V])
		}
		(*m)[k] = timed[V]{v: v, at: now}
	}
	l.mu.Unlock()
	return v, nil
}

// user is store.GetUser through the cache.
func (l *Lookups) user(ctx context.Context, id int64) (storage.User, error) {
	return cached(ctx, l, &l.users, id, func(ctx context.Context) (storage.User, error) { return l.store.GetUser(ctx, id) })
}

// userLists is store.GetSpamLists through the cache.
func (l *Lookups) userLists(ctx context.Context, id int64) (storage.SpamLists, error) {
	return cached(ctx, l, &l.lists, id, func(ctx context.Context) (storage.SpamLists, error) { return l.store.GetSpamLists(ctx, id) })
}

// domainLists is store.GetDomainSpamLists through the cache.
func (l *Lookups) domainLists(ctx context.Context, domain string) (storage.SpamLists, error) {
	domain = strings.ToLower(domain)
	return cached(ctx, l, &l.domains, domain, func(ctx context.Context) (storage.SpamLists, error) {
		return l.store.GetDomainSpamLists(ctx, domain)
	})
}

// activeSieve is store.ActiveSieveScript through the cache; having none
// (storage.ErrNotFound) is kept too.
func (l *Lookups) activeSieve(ctx context.Context, userID int64) (storage.SieveScript, error) {
	r, err := cached(ctx, l, &l.sieve, userID, func(ctx context.Context) (sieveLookup, error) {
		sc, err := l.store.ActiveSieveScript(ctx, userID)
		if errors.Is(err, storage.ErrNotFound) {
			return sieveLookup{}, nil
		}
		return sieveLookup{sc: sc, found: err == nil}, err
	})
	if err != nil {
		return storage.SieveScript{}, err
	}
	if !r.found {
		return storage.SieveScript{}, storage.ErrNotFound
	}
	return r.sc, nil
}

// quotaSetting is a user's own quota setting (storage.Usage's Quota:
// storage.QuotaDefault or bytes, 0 for none) through the cache. Only the
// setting is kept, never the usage.
func (l *Lookups) quotaSetting(ctx context.Context, userID int64) (int64, error) {
	return cached(ctx, l, &l.quota, userID, func(ctx context.Context) (int64, error) {
		u, err := l.store.Usage(ctx, userID)
		return u.Quota, err
	})
}

// forgetUser drops what is cached for a user (0: nothing).
func (l *Lookups) forgetUser(id int64) {
	l.mu.Lock()
	l.gen++
	delete(l.users, id)
	delete(l.lists, id)
	delete(l.sieve, id)
	delete(l.quota, id)
	l.mu.Unlock()
}

// forgetDomains drops every domain's cached lists.
func (l *Lookups) forgetDomains() {
	l.mu.Lock()
	l.gen++
	l.domains = nil
	l.mu.Unlock()
}

// JudgeStore is the store as the spam judge (check.New) should read it:
// st with GetUser, GetSpamLists and GetDomainSpamLists served through l.
func (l *Lookups) JudgeStore() storage.Store { return judgeStore{Store: l.store, l: l} }

type judgeStore struct {
	storage.Store
	l *Lookups
}

func (j judgeStore) GetUser(ctx context.Context, id int64) (storage.User, error) {
	return j.l.user(ctx, id)
}

func (j judgeStore) GetSpamLists(ctx context.Context, userID int64) (storage.SpamLists, error) {
	return j.l.userLists(ctx, userID)
}

func (j judgeStore) GetDomainSpamLists(ctx context.Context, domain string) (storage.SpamLists, error) {
	return j.l.domainLists(ctx, domain)
}

// settingsChanged forgets a user's cached settings (userID > 0) or the
// domains' (userID 0) here and tells the other nodes to do the same.
func (s *Service) settingsChanged(ctx context.Context, userID int64) {
	if userID > 0 {
		s.look.forgetUser(userID)
	} else {
		s.look.forgetDomains()
	}
	n, ok := s.store.(storage.Notifier)
	if !ok {
		return
	}
	for _, payload := range s.encodeEvents([]Event{{UserID: userID, Kind: eventLookups}}) {
		nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := n.Notify(nctx, notifyChannel, payload); err != nil {
			s.log.Warn("notify other nodes failed", "err", err)
		}
		cancel()
	}
}

// remoteSettingsChanged handles another node's eventLookups.
func (s *Service) remoteSettingsChanged(ev Event) {
	if ev.UserID > 0 {
		s.look.forgetUser(ev.UserID)
	} else {
		s.look.forgetDomains()
	}
}
