package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/sqlite"
	"github.com/stamp-mail/stamp/storage/storagetest"
)

func open(tb testing.TB) storage.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "stamp.db"), sqlite.Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestSuite(t *testing.T) {
	storagetest.Run(t, open)
}

func BenchmarkDeliver(b *testing.B) {
	storagetest.BenchmarkDeliver(b, open)
}
