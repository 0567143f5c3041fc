package core

import (
	"context"
	"errors"

	"github.com/stamp-mail/stamp/storage"
)

// stsKeyPrefix is where MTA-STS policies (RFC 8461) fetched by the outbound
// workers are cached, in the shared key-value table so that every node of a
// cluster uses (and refreshes) the same copy.
const stsKeyPrefix = "mta-sts/"

// CachedSTSPolicy returns the MTA-STS policy cached for domain as the
// outbound workers stored it, or nil when none is cached.
func (s *Service) CachedSTSPolicy(ctx context.Context, domain string) ([]byte, error) {
	b, err := s.store.GetKV(ctx, stsKeyPrefix+domain)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

// CacheSTSPolicy stores the MTA-STS policy of domain (opaque to core).
func (s *Service) CacheSTSPolicy(ctx context.Context, domain string, policy []byte) error {
	return s.store.PutKV(ctx, stsKeyPrefix+domain, policy)
}
