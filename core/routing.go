package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/core/sieve"
	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// Routing decides where mail for an address goes (ARCHITECTURE.md: core
// owns routing). In order, for an address of a local domain:
//
//  1. an SRS address of ours (SRS0=/SRS1=, see srs.go): decoded, the mail
//     (a bounce, normally) goes back to the original sender;
//  2. a user with that exact address;
//  3. an alias with that exact address (targets: local addresses, routed
//     again, or external ones, forwarded through the queue with SRS);
//  4. user+detail (RFC 5233; the separator is RoutingConfig.Separator):
//     the user or alias without the detail, the detail kept for Sieve;
//  5. postmaster@ and abuse@ (RFC 5321 section 4.5.1, RFC 2142): the
//     domain's admin (storage.Routing.DomainAdmin, else its first user);
//  6. the domain's catch-all, the alias "@domain";
//  7. otherwise ErrNoSuchUser.
//
// Local aliases may point at each other: expansion stops at routeMaxDepth
// and never visits an address twice. Forwarding loops across servers are
// stopped by Delivered-To (RFC 9228) and by counting Received fields
// (RFC 5321 section 6.3), answered 554 5.4.6.

// RoutingConfig configures routing, forwarding and Sieve.
type RoutingConfig struct {
	Separator    string        // subaddress separator; default "+"
	MaxHops      int           // Received fields before a message is refused as looping; default 50
	SieveTimeout time.Duration // per script run; default 1s
	SieveLimits  sieve.Limits  // zero fields take sieve's defaults
	VacationDays int           // default :days of vacation; default 7 (RFC 5230 section 4.1)
	// Now is the clock of SRS expiry and vacation periods; nil is time.Now
	// (tests move it forward instead of waiting days).
	Now func() time.Time
}

func (s *Service) routingNow() time.Time {
	if s.cfg.Routing.Now != nil {
		return s.cfg.Routing.Now()
	}
	return time.Now()
}

func (c *RoutingConfig) setDefaults() {
	if c.Separator == "" {
		c.Separator = "+"
	}
	if c.MaxHops <= 0 {
		c.MaxHops = 50
	}
	if c.SieveTimeout <= 0 {
		c.SieveTimeout = time.Second
	}
	if c.VacationDays <= 0 {
		c.VacationDays = 7
	}
}

// routeMaxDepth bounds alias expansion (alias to alias to ...).
const routeMaxDepth = 8

// Alias is a routing alias (storage row type).
type Alias = storage.Alias

// routeTarget is one local delivery.
type routeTarget struct {
	user   User
	rcpt   string // the address given in RCPT TO (the envelope "to" of Sieve)
	detail string // the +detail, "" if none
	via    string // the alias this came through, "" for direct mail
}

// forward is mail leaving for external addresses on behalf of via.
type forward struct {
	via     string // the local address that forwards (alias, SRS address, user redirect)
	targets []string
}

// routed is the result of routing every recipient of a message.
type routed struct {
	locals   []routeTarget
	forwards []forward
}

func (r *routed) addLocal(t routeTarget) {
	if !slices.ContainsFunc(r.locals, func(x routeTarget) bool { return x.user.ID == t.user.ID }) {
		r.locals = append(r.locals, t)
	}
}

func (r *routed) addForward(via, target string) {
	for i := range r.forwards {
		if r.forwards[i].via == via {
			if !slices.Contains(r.forwards[i].targets, target) {
				r.forwards[i].targets = append(r.forwards[i].targets, target)
			}
			return
		}
	}
	r.forwards = append(r.forwards, forward{via: via, targets: []string{target}})
}

func splitAddr(addr string) (local, domain string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", false
	}
	return addr[:at], addr[at+1:], true
}

// resolve routes one address into out.
func (s *Service) resolve(ctx context.Context, addr, rcpt, via string, depth int, seen map[string]bool, out *routed) error {
	addr = strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := splitAddr(addr)
	if !ok {
		return fmt.Errorf("%w: invalid recipient %q", ErrInvalid, addr)
	}
	if depth > routeMaxDepth {
		return fmt.Errorf("%w: aliases nested more than %d deep at %s", ErrNoSuchUser, routeMaxDepth, addr)
	}
	if seen[addr] {
		return nil // an alias cycle: every address is delivered once
	}
	seen[addr] = true
	isLocal, err := s.IsLocalDomain(ctx, domain)
	if err != nil {
		return err
	}
	if !isLocal {
		if depth == 0 {
			return ErrRelayDenied
		}
		out.addForward(via, addr)
		return nil
	}
	if rcpt == "" {
		rcpt = addr
	}
	// 1. SRS addresses of ours.
	if isSRS(local) {
		codec, err := s.srs(ctx)
		if err != nil {
			return err
		}
		orig, err := codec.reverse(local, s.routingNow())
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrNoSuchUser, addr, err)
		}
		_, od, ok := splitAddr(orig)
		if !ok {
			return fmt.Errorf("%w: %s: %w", ErrNoSuchUser, addr, ErrSRSInvalid)
		}
		if l, err := s.IsLocalDomain(ctx, od); err != nil {
			return err
		} else if l {
			return s.resolve(ctx, orig, rcpt, addr, depth+1, seen, out)
		}
		out.addForward(addr, orig)
		return nil
	}
	// 2, 3: exact user or alias.
	found, err := s.resolveExact(ctx, addr, rcpt, via, "", depth, seen, out)
	if err != nil || found {
		return err
	}
	// 4: user+detail.
	base := local
	if i := strings.Index(local, s.cfg.Routing.Separator); i > 0 {
		base = local[:i]
		found, err := s.resolveExact(ctx, base+"@"+domain, rcpt, via, local[i+len(s.cfg.Routing.Separator):], depth, seen, out)
		if err != nil || found {
			return err
		}
	}
	// 5: postmaster and abuse.
	if base == "postmaster" || base == "abuse" {
		admin, err := s.domainAdmin(ctx, domain)
		if err != nil {
			return err
		}
		if admin != "" && !seen[admin] {
			return s.resolve(ctx, admin, rcpt, addr, depth+1, seen, out)
		}
	}
	// 6: the catch-all.
	a, err := s.store.GetAlias(ctx, "@"+domain)
	if err == nil {
		return s.expandAlias(ctx, a, rcpt, "", depth, seen, out)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return temporary("look up catch-all", err)
	}
	return ErrNoSuchUser
}

// resolveExact routes addr if it is a user or an alias.
func (s *Service) resolveExact(ctx context.Context, addr, rcpt, via, detail string, depth int, seen map[string]bool, out *routed) (bool, error) {
	u, err := s.userByAddress(ctx, addr) // cached briefly: rcptcache.go
	if err == nil {
		out.addLocal(routeTarget{user: u, rcpt: rcpt, detail: detail, via: via})
		return true, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return false, temporary("look up recipient", err)
	}
	a, err := s.store.GetAlias(ctx, addr)
	if err == nil {
		return true, s.expandAlias(ctx, a, rcpt, detail, depth, seen, out)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return false, temporary("look up alias", err)
	}
	return false, nil
}

func (s *Service) expandAlias(ctx context.Context, a Alias, rcpt, detail string, depth int, seen map[string]bool, out *routed) error {
	before := len(out.locals)
	any := false
	for _, t := range a.Targets {
		err := s.resolve(ctx, t, rcpt, a.Address, depth+1, seen, out)
		switch {
		case err == nil:
			any = true
		case errors.Is(err, ErrNoSuchUser):
			s.log.Warn("alias target does not exist", "alias", a.Address, "target", t, "err", err)
		default:
			return err
		}
	}
	if detail != "" {
		for i := before; i < len(out.locals); i++ {
			if out.locals[i].detail == "" {
				out.locals[i].detail = detail
			}
		}
	}
	if !any {
		return fmt.Errorf("%w: no target of alias %s exists", ErrNoSuchUser, a.Address)
	}
	return nil
}

// domainAdmin returns who gets a domain's postmaster@ and abuse@ mail: the
// configured admin, else the domain's first user, else "".
func (s *Service) domainAdmin(ctx context.Context, domain string) (string, error) {
	admin, err := s.store.DomainAdmin(ctx, domain)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return "", temporary("look up domain admin", err)
	}
	if admin != "" {
		return admin, nil
	}
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return "", temporary("list users", err)
	}
	var first *User
	for i, u := range users {
		if domainOf(u.Address) == domain && (first == nil || u.ID < first.ID) {
			first = &users[i]
		}
	}
	if first == nil {
		return "", nil
	}
	return first.Address, nil
}

// route routes every recipient of an envelope; Resolved users (direct
// mail to a user, checked at RCPT) are taken as they are.
func (s *Service) route(ctx context.Context, env Envelope) (*routed, error) {
	if len(env.Recipients) == 0 {
		return nil, fmt.Errorf("%w: no recipients", ErrInvalid)
	}
	out := &routed{}
	for i, r := range env.Recipients {
		if i < len(env.Resolved) && len(env.Resolved) == len(env.Recipients) && env.Resolved[i].ID != 0 {
			out.addLocal(routeTarget{user: env.Resolved[i], rcpt: strings.ToLower(r), detail: s.detailOf(r, env.Resolved[i].Address)})
			continue
		}
		if err := s.resolve(ctx, r, "", "", 0, map[string]bool{}, out); err != nil {
			return nil, fmt.Errorf("recipient %s: %w", r, err)
		}
	}
	return out, nil
}

// detailOf returns the +detail of rcpt when it reached user by subaddressing.
func (s *Service) detailOf(rcpt, user string) string {
	rl, _, ok1 := splitAddr(strings.ToLower(rcpt))
	ul, _, ok2 := splitAddr(user)
	sep := s.cfg.Routing.Separator
	if ok1 && ok2 && strings.HasPrefix(rl, ul+sep) {
		return rl[len(ul)+len(sep):]
	}
	return ""
}

// users returns the distinct local users of a routing result.
func (r *routed) users() []User {
	out := make([]User, 0, len(r.locals))
	for _, t := range r.locals {
		out = append(out, t.user)
	}
	return out
}

// checkLoop refuses a message that has too many Received fields or that
// already carries Delivered-To for an address forwarding it again.
func (s *Service) checkLoop(r *routed, raw []byte) error {
	head := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head = raw[:i+2]
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		head = raw[:i+1]
	}
	fields := headerFields(head)
	hops := 0
	var delivered []string
	for _, f := range fields {
		switch strings.ToLower(f.name) {
		case "received":
			hops++
		case "delivered-to":
			delivered = append(delivered, strings.ToLower(strings.Trim(strings.TrimSpace(f.value), "<>")))
		}
	}
	if hops >= s.cfg.Routing.MaxHops {
		return &RejectedError{Code: 554, Enhanced: [3]int{5, 4, 6}, Message: fmt.Sprintf("Routing loop detected: %d hops", hops)}
	}
	for _, f := range r.forwards {
		if f.via != "" && slices.Contains(delivered, f.via) {
			return &RejectedError{Code: 554, Enhanced: [3]int{5, 4, 6}, Message: "Routing loop detected: already delivered to " + f.via}
		}
	}
	return nil
}

// CanSendAs says whether user u may use addr as envelope sender and From:
// its own address, or an alias that lists u among its owners.
func (s *Service) CanSendAs(ctx context.Context, u User, addr string) (bool, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == u.Address {
		return true, nil
	}
	a, err := s.store.GetAlias(ctx, addr)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, temporary("look up alias", err)
	}
	return slices.Contains(a.Owners, u.Address), nil
}

// Identity is an address a user may send as.
type Identity struct {
	Address string
	Name    string
	Primary bool
}

// Identities returns the user's own address (primary) then the aliases it owns.
func (s *Service) Identities(ctx context.Context, u User) ([]Identity, error) {
	out := []Identity{{Address: u.Address, Primary: true}}
	as, err := s.store.AliasesOwnedBy(ctx, u.Address)
	if err != nil {
		return nil, temporary("list aliases", err)
	}
	for _, a := range as {
		if !strings.HasPrefix(a.Address, "@") {
			out = append(out, Identity{Address: a.Address})
		}
	}
	return out, nil
}

// AddAlias creates or replaces an alias ("@domain" for a catch-all) of a
// local domain. With owners nil, the local users among the targets become
// its owners (they may send as it).
func (s *Service) AddAlias(ctx context.Context, address string, targets, owners []string) (Alias, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	local, domain, ok := splitAddr(address)
	if strings.HasPrefix(address, "@") && len(address) > 1 {
		local, domain, ok = "", address[1:], true
	}
	if !ok {
		return Alias{}, fmt.Errorf("%w: alias %q is not an address or @domain", ErrInvalid, address)
	}
	if local != "" {
		if _, err := message.ParseAddress(address); err != nil {
			return Alias{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if l, err := s.IsLocalDomain(ctx, domain); err != nil {
		return Alias{}, err
	} else if !l {
		return Alias{}, fmt.Errorf("%w: %s is not a local domain (add it with stamp domain add)", ErrInvalid, domain)
	}
	if _, err := s.store.GetUserByAddress(ctx, address); err == nil {
		return Alias{}, fmt.Errorf("%w: %s is a user", ErrExists, address)
	}
	if len(targets) == 0 {
		return Alias{}, fmt.Errorf("%w: an alias needs at least one target", ErrInvalid)
	}
	a := Alias{Address: address}
	for _, t := range targets {
		t, err := message.ParseAddress(t)
		if err != nil {
			return Alias{}, fmt.Errorf("%w: target: %w", ErrInvalid, err)
		}
		if t == address {
			return Alias{}, fmt.Errorf("%w: an alias cannot point at itself", ErrInvalid)
		}
		a.Targets = append(a.Targets, t)
		if owners == nil {
			if _, err := s.store.GetUserByAddress(ctx, t); err == nil {
				a.Owners = append(a.Owners, t)
			}
		}
	}
	for _, o := range owners {
		o = strings.ToLower(strings.TrimSpace(o))
		if _, err := s.store.GetUserByAddress(ctx, o); err != nil {
			return Alias{}, fmt.Errorf("%w: owner %s is not a user", ErrInvalid, o)
		}
		a.Owners = append(a.Owners, o)
	}
	if local == "" {
		a.Owners = nil // nobody sends as a catch-all
	}
	if err := s.store.PutAlias(ctx, a); err != nil {
		return Alias{}, err
	}
	return s.store.GetAlias(ctx, address)
}

// ListAliases returns the aliases of a domain, or all ("").
func (s *Service) ListAliases(ctx context.Context, domain string) ([]Alias, error) {
	return s.store.ListAliases(ctx, strings.ToLower(strings.TrimSpace(domain)))
}

// DeleteAlias removes an alias.
func (s *Service) DeleteAlias(ctx context.Context, address string) error {
	return s.store.DeleteAlias(ctx, strings.ToLower(strings.TrimSpace(address)))
}

// SetDomainAdmin sets who receives a domain's postmaster@ and abuse@ mail.
func (s *Service) SetDomainAdmin(ctx context.Context, domain, admin string) error {
	d, err := normalizeDomain(domain)
	if err != nil {
		return err
	}
	if admin != "" {
		if admin, err = message.ParseAddress(admin); err != nil {
			return fmt.Errorf("%w: admin: %w", ErrInvalid, err)
		}
		if strings.HasPrefix(admin, "postmaster@") || strings.HasPrefix(admin, "abuse@") {
			if domainOf(admin) == d {
				return fmt.Errorf("%w: the admin of %s cannot be its own postmaster@ or abuse@", ErrInvalid, d)
			}
		}
	}
	return s.store.SetDomainAdmin(ctx, d, admin)
}

// DomainAdmin returns who receives a domain's postmaster@ and abuse@ mail.
func (s *Service) DomainAdmin(ctx context.Context, domain string) (string, error) {
	d, err := normalizeDomain(domain)
	if err != nil {
		return "", err
	}
	if _, err := s.store.DomainAdmin(ctx, d); err != nil {
		return "", err
	}
	return s.domainAdmin(ctx, d)
}

// bounceTarget says where a bounce for sender goes: a local user (remote
// ""), or a remote address (for a decoded SRS sender, the original one).
func (s *Service) bounceTarget(ctx context.Context, sender string) (User, string, error) {
	r := &routed{}
	if err := s.resolve(ctx, sender, "", "", 0, map[string]bool{}, r); err != nil {
		return User{}, "", err
	}
	if len(r.locals) > 0 {
		return r.locals[0].user, "", nil
	}
	if len(r.forwards) > 0 && len(r.forwards[0].targets) > 0 {
		return User{}, r.forwards[0].targets[0], nil
	}
	return User{}, "", ErrNoSuchUser
}
