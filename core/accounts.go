package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// MinPasswordLength is the shortest password CreateUser and SetPassword accept.
const MinPasswordLength = 8

// sessionLifetime is how long an API session token stays valid.
const sessionLifetime = 30 * 24 * time.Hour

// Authenticate checks a username (the full address) and password. remote
// (an IP or "ip:port") keys the login slow-down of throttle.go, which runs
// before the password is checked: ErrRateLimited when this attempt would
// have to wait too long. An unknown account costs the same hash work as a
// wrong password. It returns ErrAuthFailed for any mismatch. A login
// verified lately, or running at the same time with the same password, is
// not counted again (authcache.go).
func (s *Service) Authenticate(ctx context.Context, username, password, remote string) (User, error) {
	addr := strings.ToLower(strings.TrimSpace(username))
	mac := s.logins.mac(addr, password)
	if hash := s.logins.recent(addr, mac, time.Now()); hash != "" {
		u, err := s.store.GetUserByAddress(ctx, addr)
		if err == nil && u.PasswordHash == hash {
			return u, nil
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return User{}, temporary("authenticate", err)
		}
		s.logins.forget(addr) // changed or deleted: check it as new
	}
	k := loginFlightKey{addr, mac}
	for {
		f, lead := s.logins.join(k)
		if !lead {
			u, err := f.wait(ctx)
			if ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
				continue // the attempt we waited for gave up; check this one
			}
			return u, err
		}
		u, err := s.authenticate(ctx, addr, password, remote)
		if err == nil {
			s.logins.remember(addr, mac, u.PasswordHash, time.Now())
		}
		s.logins.finish(k, f, u, err)
		return u, err
	}
}

// authenticate is one full check: the slow-down, then bcrypt.
func (s *Service) authenticate(ctx context.Context, addr, password, remote string) (User, error) {
	host := remoteHost(remote)
	keys := s.loginKeys(addr, host)
	at, err := s.reserveLogin(ctx, keys)
	if err != nil {
		if errors.Is(err, ErrRateLimited) {
			s.metrics.AuthFailures.Add(1)
			s.log.Info("login refused: too many attempts", "user", addr, "remote", host)
		}
		return User{}, err
	}
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return User{}, ctx.Err()
		case <-t.C:
		}
	}
	u, err := s.store.GetUserByAddress(ctx, addr)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return User{}, temporary("authenticate", err)
	}
	hash := s.dummyHash()
	if err == nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil {
		s.metrics.AuthFailures.Add(1)
		s.log.Info("authentication failed", "user", addr, "remote", host)
		return User{}, ErrAuthFailed
	}
	s.releaseLogin(context.WithoutCancel(ctx), keys)
	return u, nil
}

// CreateUser validates the address, adds its domain if it is not local yet,
// hashes the password and creates the user with the default folders.
func (s *Service) CreateUser(ctx context.Context, address, password string) (User, error) {
	addr, err := message.ParseAddress(address)
	if err != nil {
		return User{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(password) < MinPasswordLength {
		return User{}, fmt.Errorf("%w: password must have at least %d characters", ErrInvalid, MinPasswordLength)
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	if ok, err := s.IsLocalDomain(ctx, domain); err != nil {
		return User{}, err
	} else if !ok {
		if err := s.AddDomain(ctx, domain); err != nil && !errors.Is(err, ErrExists) {
			return User{}, err
		}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	return s.store.CreateUser(ctx, addr, string(hash))
}

// SetPassword replaces a user's password.
func (s *Service) SetPassword(ctx context.Context, address, password string) error {
	u, err := s.store.GetUserByAddress(ctx, strings.ToLower(strings.TrimSpace(address)))
	if err != nil {
		return err
	}
	if len(password) < MinPasswordLength {
		return fmt.Errorf("%w: password must have at least %d characters", ErrInvalid, MinPasswordLength)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.store.SetPassword(ctx, u.ID, string(hash))
}

// DeleteUser removes a user and all its mail.
func (s *Service) DeleteUser(ctx context.Context, address string) error {
	u, err := s.store.GetUserByAddress(ctx, strings.ToLower(strings.TrimSpace(address)))
	if err != nil {
		return err
	}
	_, err = s.store.DeleteUser(ctx, u.ID)
	s.forgetRecipients()
	s.settingsChanged(ctx, u.ID)
	return err
}

// ListUsers returns every user.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) { return s.store.ListUsers(ctx) }

// GetUser returns a user by id.
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	return s.store.GetUser(ctx, id)
}

// LookupUser returns a user by address.
func (s *Service) LookupUser(ctx context.Context, address string) (User, error) {
	return s.store.GetUserByAddress(ctx, strings.ToLower(strings.TrimSpace(address)))
}

// AddDomain makes a domain local and generates its DKIM keys.
func (s *Service) AddDomain(ctx context.Context, name string) error {
	d, err := normalizeDomain(name)
	if err != nil {
		return err
	}
	if err := s.store.CreateDomain(ctx, d); err != nil {
		return err
	}
	s.forgetDomains()
	if s.keygen != nil {
		keys, err := s.keygen(d, time.Now())
		if err != nil {
			return fmt.Errorf("generate DKIM keys for %s: %w", d, err)
		}
		for _, k := range keys {
			if err := s.store.PutDKIMKey(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListDomains returns the local domains.
func (s *Service) ListDomains(ctx context.Context) ([]Domain, error) { return s.store.ListDomains(ctx) }

// DeleteDomain removes a local domain.
func (s *Service) DeleteDomain(ctx context.Context, name string) error {
	d, err := normalizeDomain(name)
	if err != nil {
		return err
	}
	defer s.forgetDomains()
	return s.store.DeleteDomain(ctx, d)
}

// DKIMKeys returns the DKIM keys of a domain.
func (s *Service) DKIMKeys(ctx context.Context, domain string) ([]storage.DKIMKey, error) {
	return s.store.ListDKIMKeys(ctx, strings.ToLower(domain))
}

// domainCacheTTL bounds how long the list of local domains is reused, so a
// domain added by the CLI in another process is live within seconds while
// a stream of RCPT commands costs no query each.
const domainCacheTTL = 5 * time.Second

// IsLocalDomain says whether mail for domain is delivered here.
func (s *Service) IsLocalDomain(ctx context.Context, domain string) (bool, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	s.domainsMu.Lock()
	names, at := s.domains, s.domainsAt
	s.domainsMu.Unlock()
	if names == nil || time.Since(at) > domainCacheTTL {
		ds, err := s.store.ListDomains(ctx)
		if err != nil {
			return false, temporary("list domains", err)
		}
		names = make(map[string]bool, len(ds))
		for _, d := range ds {
			names[d.Name] = true
		}
		s.domainsMu.Lock()
		s.domains, s.domainsAt = names, time.Now()
		s.domainsMu.Unlock()
	}
	return names[domain], nil
}

// forgetDomains drops the cached domain list after this process changed it.
func (s *Service) forgetDomains() {
	s.domainsMu.Lock()
	s.domains = nil
	s.domainsMu.Unlock()
}

func normalizeDomain(name string) (string, error) {
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if _, err := message.ParseAddress("postmaster@" + d); err != nil || d == "" {
		return "", fmt.Errorf("%w: invalid domain %q", ErrInvalid, name)
	}
	return d, nil
}

// CreateToken starts an API session for a user and returns its bearer token.
// Only the token's SHA-256 is stored.
func (s *Service) CreateToken(ctx context.Context, userID int64) (string, error) {
	tok := randomToken(32)
	now := time.Now()
	err := s.store.CreateSession(ctx, storage.Session{TokenHash: tokenHash(tok), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(sessionLifetime)})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// UserByToken returns the user of a valid session token; ErrAuthFailed otherwise.
func (s *Service) UserByToken(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrAuthFailed
	}
	sess, err := s.store.GetSession(ctx, tokenHash(token), time.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return User{}, ErrAuthFailed
	} else if err != nil {
		return User{}, temporary("get session", err)
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return User{}, ErrAuthFailed
	}
	return u, err
}

// DeleteToken ends an API session.
func (s *Service) DeleteToken(ctx context.Context, token string) error {
	return s.store.DeleteSession(ctx, tokenHash(token))
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func remoteHost(remote string) string {
	if i := strings.LastIndexByte(remote, ':'); i > 0 && !strings.HasSuffix(remote, "]") && strings.Count(remote, ":") == 1 {
		return remote[:i]
	}
	if strings.HasPrefix(remote, "[") {
		if i := strings.Index(remote, "]"); i > 0 {
			return remote[1:i]
		}
	}
	return remote
}

// rateWindow counts events per key in a sliding window.
type rateWindow struct {
	window time.Duration
	mu     sync.Mutex
	events map[int64][]time.Time
}

func newRateWindow(w time.Duration) *rateWindow {
	return &rateWindow{window: w, events: map[int64][]time.Time{}}
}

// allow records n events for key if that keeps the window at or under limit.
func (r *rateWindow) allow(key int64, n, limit int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	ev := r.events[key]
	i := 0
	for i < len(ev) && now.Sub(ev[i]) > r.window {
		i++
	}
	ev = ev[i:]
	if len(ev)+n > limit {
		r.events[key] = ev
		return false
	}
	for j := 0; j < n; j++ {
		ev = append(ev, now)
	}
	r.events[key] = ev
	return true
}

// MTASTSPolicy returns the MTA-STS policy (RFC 8461 section 3.2) that the
// DNS records printed by `stamp domain add` announce: mail goes to this host
// only, over TLS. It starts in "testing" mode, so a misconfiguration is
// reported (TLS-RPT) rather than bouncing mail; switch to "enforce" once
// reports are clean.
func (s *Service) MTASTSPolicy() string {
	return "version: STSv1\r\nmode: testing\r\nmx: " + s.cfg.Hostname + "\r\nmax_age: 604800\r\n"
}
