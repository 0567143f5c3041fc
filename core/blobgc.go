package core

import (
	"context"
	"time"
)

// Blob collection. Unreferenced blobs are normally kept for BlobGrace (an
// hour) before they are deleted. When the disk holding the blob store runs
// short, the grace shrinks to BlobGraceShort and the collector runs on
// every check, so space freed by expunges comes back within seconds.
// A short grace is safe: a delivery that re-uses a blob collected under it
// re-creates the file after its commit (commit.go).

// SpaceReporter is implemented by blob stores on a local file system
// (storage/blob/fs): the bytes available and the file system's size.
type SpaceReporter interface {
	Space() (avail, total uint64, err error)
}

// Collector timing.
const (
	// gcCheckEvery is how often the collector looks at the disk.
	gcCheckEvery = 5 * time.Second
	// gcRegularEvery is how often it collects when the disk is not short.
	gcRegularEvery = 10 * time.Minute
	// gcLowFraction: less than this share of the disk free is short too.
	gcLowFraction = 0.05
)

// DiskShort reports whether the blob store's disk is short of space:
// less than BlobLowSpace bytes or less than 5% available. Stores that do
// not report space are never short.
func (s *Service) DiskShort() bool {
	sr, ok := s.blobs.(SpaceReporter)
	if !ok {
		return false
	}
	avail, total, err := sr.Space()
	if err != nil {
		s.log.Warn("blob store space unknown", "err", err)
		return false
	}
	return avail < uint64(s.cfg.BlobLowSpace) || float64(avail) < gcLowFraction*float64(total)
}

// BlobGraceNow is the grace period that applies now: BlobGraceShort when
// the disk is short, BlobGrace otherwise.
func (s *Service) BlobGraceNow() time.Duration {
	if s.DiskShort() {
		return s.cfg.BlobGraceShort
	}
	return s.cfg.BlobGrace
}

// runCollector removes unreferenced blobs (regularly, and promptly under
// disk pressure) and expired throttle counters.
func (s *Service) runCollector(ctx context.Context) {
	t := time.NewTicker(gcCheckEvery)
	defer t.Stop()
	last := time.Now()
	var lastPrune time.Time // change log pruning, daily (core/imapext.go)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		short := s.DiskShort()
		if !short && time.Since(last) < gcRegularEvery {
			continue
		}
		last = time.Now()
		grace := s.cfg.BlobGrace
		if short {
			grace = s.cfg.BlobGraceShort
		}
		n, err := s.CollectBlobs(ctx, time.Now().Add(-grace))
		if err != nil {
			s.log.Warn("blob collection failed", "err", err)
		} else if short && n > 0 {
			s.log.Info("disk short: collected freed blobs early", "blobs", n, "grace", grace)
		}
		if _, err := s.store.ExpireThrottles(ctx, time.Now()); err != nil {
			s.log.Warn("expiring login and rate counters failed", "err", err)
		}
		lastPrune = s.pruneChangesDaily(ctx, lastPrune)
	}
}
