package server

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/storage"
)

// generateKeys adapts check.GenerateDKIMKeys to core.KeyGenerator.
func generateKeys(domain string, now time.Time) ([]storage.DKIMKey, error) {
	keys, err := check.GenerateDKIMKeys(domain, now)
	if err != nil {
		return nil, err
	}
	out := make([]storage.DKIMKey, len(keys))
	for i, k := range keys {
		out[i] = storage.DKIMKey{Domain: k.Domain, Selector: k.Selector, Algorithm: k.Algorithm, PrivatePEM: k.PrivatePEM, CreatedAt: now}
	}
	return out, nil
}

// toCheckKeys converts stored keys for the check package.
func toCheckKeys(keys []storage.DKIMKey) []check.DKIMKey {
	out := make([]check.DKIMKey, len(keys))
	for i, k := range keys {
		out[i] = check.DKIMKey{Domain: k.Domain, Selector: k.Selector, Algorithm: k.Algorithm, PrivatePEM: k.PrivatePEM}
	}
	return out
}

// dkimSigner implements core.Signer with the From domain's stored keys.
type dkimSigner struct {
	store storage.Store
	log   *slog.Logger

	mu      sync.Mutex
	signers map[string]cachedSigner
}

// signerTTL bounds how long a domain's keys are cached, so keys added by
// `stamp domain add` in another process are picked up without a restart.
const signerTTL = 5 * time.Minute

type cachedSigner struct {
	s  *check.Signer // nil: the domain has no key
	at time.Time
}

// SignHeaders returns the DKIM-Signature fields for raw, whose From
// address is in domain (core checks that before queueing), or nil when the
// domain has no key.
func (d *dkimSigner) SignHeaders(ctx context.Context, domain string, raw []byte) ([]byte, error) {
	domain = strings.ToLower(domain)
	d.mu.Lock()
	cs, ok := d.signers[domain]
	d.mu.Unlock()
	s := cs.s
	if !ok || time.Since(cs.at) > signerTTL {
		s = nil
		keys, err := d.store.ListDKIMKeys(ctx, domain)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			s, err = check.NewSigner(toCheckKeys(keys))
			if err != nil {
				return nil, err
			}
		}
		d.mu.Lock()
		if d.signers == nil {
			d.signers = map[string]cachedSigner{}
		}
		d.signers[domain] = cachedSigner{s: s, at: time.Now()}
		d.mu.Unlock()
	}
	if s == nil {
		return nil, nil
	}
	signed, err := s.Sign(raw)
	if err != nil {
		return nil, err
	}
	return signed[:len(signed)-len(raw)], nil
}

// CheckKeys converts stored DKIM keys for the check package (used by the CLI).
func CheckKeys(keys []storage.DKIMKey) []check.DKIMKey { return toCheckKeys(keys) }
