package core_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/postgres"
	"github.com/stamp-mail/stamp/storage/sqlite"
)

// twoNodes returns two services on one database, as two nodes of a
// cluster: two SQLite stores on one file, or two PostgreSQL stores on one
// fresh schema.
func twoNodes(t *testing.T, backend string, cfg core.Config) [2]*core.Service {
	t.Helper()
	return twoNodesWith(t, backend, cfg).svc
}

// nodes are twoNodesWith's services, their stores and look-up caches.
type nodes struct {
	svc   [2]*core.Service
	store [2]storage.Store
	look  [2]*core.Lookups
}

// twoNodesWith is twoNodes, also returning each node's store and the
// look-up cache its service (and a judge, if it had one) reads through.
func twoNodesWith(t *testing.T, backend string, cfg core.Config) nodes {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	var out nodes
	var pg []*postgres.Store
	if backend == "postgres" {
		dsn := os.Getenv("STAMP_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("SKIPPED: STAMP_TEST_POSTGRES_DSN not set (scripts/test.sh starts a throwaway PostgreSQL)")
		}
		pg = coretest.PostgresStores(t, dsn, len(out.svc), postgres.Options{Partitions: 2})
	}
	for i := range out.svc {
		var st storage.Store
		switch backend {
		case "sqlite":
			s, err := sqlite.Open(ctx, filepath.Join(dir, "stamp.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			st = s
		case "postgres":
			st = pg[i] // closed by PostgresStores' cleanup
		}
		bl, err := fs.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		out.store[i] = st
		out.look[i] = core.NewLookups(st)
		out.svc[i] = coretest.New(t, coretest.Options{Dir: dir, Config: cfg, Deps: core.Deps{Store: st, Blobs: bl, Lookups: out.look[i]}})
	}
	return out
}

// TestLoginSlowDownSharedAcrossNodes: failures counted on one node slow
// down (here: refuse, the wait being over AuthMaxWait) the next attempt on
// the other, so a client cannot multiply its budget by the number of nodes;
// the refused attempt carried the right password, which was never checked.
func TestLoginSlowDownSharedAcrossNodes(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			cfg := core.Config{AuthFree: core.AuthFree{Pair: 2}, AuthFailDelay: 5 * time.Second, AuthMaxDelay: 5 * time.Second, AuthMaxWait: time.Second}
			n := twoNodes(t, backend, cfg)
			ctx := context.Background()
			coretest.User(t, n[0], "u@example.test")
			for i := 0; i < 2; i++ {
				if _, err := n[0].Authenticate(ctx, "u@example.test", "wrong", "192.0.2.1:1000"); !errors.Is(err, core.ErrAuthFailed) {
					t.Fatalf("free attempt %d on node 0: got %v, want ErrAuthFailed", i+1, err)
				}
			}
			if _, err := n[1].Authenticate(ctx, "u@example.test", coretest.Password, "192.0.2.1:1001"); !errors.Is(err, core.ErrRateLimited) {
				t.Errorf("third attempt, on node 1: got %v, want ErrRateLimited (counted across nodes)", err)
			}
			// Another address is not concerned by the pair.
			if _, err := n[1].Authenticate(ctx, "u@example.test", coretest.Password, "192.0.2.2:1000"); err != nil {
				t.Errorf("from another address on node 1: %v", err)
			}
		})
	}
}

// TestAllowRateSharedAcrossNodes: two nodes drawing on one per-key budget
// admit the limit once between them, within one batch (limit/20) per other
// node, not twice.
func TestAllowRateSharedAcrossNodes(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			n := twoNodes(t, backend, core.Config{})
			ctx := context.Background()
			for attempt := 0; attempt < 3; attempt++ {
				window := time.Now().Truncate(time.Hour)
				key := fmt.Sprintf("test:%d", time.Now().UnixNano())
				const limit = 100
				allowed := 0
				for i := 0; i < 3*limit; i++ {
					if n[i%2].AllowRate(ctx, key, limit, time.Hour) {
						allowed++
					}
				}
				if !time.Now().Truncate(time.Hour).Equal(window) {
					continue // the window turned during the run
				}
				if allowed < limit || allowed > limit+limit/20 {
					t.Errorf("%d events alternating between two nodes, limit %d: %d allowed, want %d to %d", 3*limit, limit, allowed, limit, limit+limit/20)
				}
				return
			}
		})
	}
}
