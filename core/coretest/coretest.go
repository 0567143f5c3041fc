// Package coretest builds real core services for other packages' tests: a
// SQLite store and a filesystem blob store in a temporary directory, or
// PostgreSQL stores on a throwaway schema (PostgresStores).
package coretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/postgres"
	"github.com/stamp-mail/stamp/storage/sqlite"
)

// Password is the password of users made by User.
const Password = "correct horse battery"

// Options tune New.
type Options struct {
	Config core.Config
	Deps   core.Deps // Store and Blobs are filled in when nil
	Dir    string    // data directory; default t.TempDir()
}

// New returns a started service on fresh storage; it is closed at cleanup.
func New(t testing.TB, o Options) *core.Service {
	t.Helper()
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	ctx := context.Background()
	if o.Deps.Store == nil {
		st, err := sqlite.Open(ctx, filepath.Join(dir, "stamp.db"), sqlite.Options{})
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		o.Deps.Store = st
	}
	if o.Deps.Blobs == nil {
		bl, err := fs.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			t.Fatalf("open blobs: %v", err)
		}
		o.Deps.Blobs = bl
	}
	if o.Deps.Logger == nil && os.Getenv("STAMP_TEST_LOG") != "" {
		o.Deps.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.Config.Hostname == "" {
		o.Config.Hostname = "mx.test.example"
	}
	if o.Config.BcryptCost == 0 {
		o.Config.BcryptCost = 4 // bcrypt.MinCost: tests create many users
	}
	if o.Config.AuthFailDelay == 0 {
		o.Config.AuthFailDelay = 10 * 1e6 // 10ms keeps wrong-password tests fast
	}
	s := core.New(o.Config, o.Deps)
	s.Start(ctx)
	t.Cleanup(s.Close)
	return s
}

// User creates a user (and its domain) with Password.
func User(t testing.TB, s *core.Service, address string) core.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), address, Password)
	if err != nil {
		t.Fatalf("create user %s: %v", address, err)
	}
	return u
}

// PostgresStores opens n stores on one fresh schema of the PostgreSQL at
// dsn, the nodes of one cluster, with o's other options; the schema is
// dropped and the stores closed at cleanup.
func PostgresStores(t testing.TB, dsn string, n int, o postgres.Options) []*postgres.Store {
	t.Helper()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	o.Schema = "t_" + hex.EncodeToString(rnd[:])
	ctx := context.Background()
	t.Cleanup(func() {
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{o.Schema}.Sanitize()+" CASCADE")
			c.Close(ctx)
		}
	})
	stores := make([]*postgres.Store, n)
	for i := range stores {
		st, err := postgres.Open(ctx, dsn, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	return stores
}
