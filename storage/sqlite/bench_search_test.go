package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stamp-mail/stamp/storage/sqlite"
	"github.com/stamp-mail/stamp/storage/storagetest"
)

// BenchmarkSearchBody runs SEARCH BODY on a 100,000-message folder kept in
// $STAMP_BENCH_DIR (default the system temp directory), filled on the first
// run and reused after.
func BenchmarkSearchBody(b *testing.B) {
	dir := os.Getenv("STAMP_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "stamp-bench-search-v1.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Logf("database %s", path)
	storagetest.BenchmarkSearchBody(b, s)
}

// BenchmarkResync runs the QRESYNC store calls on the same folder.
func BenchmarkResync(b *testing.B) {
	dir := os.Getenv("STAMP_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "stamp-bench-search-v1.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storagetest.BenchmarkResync(b, s)
}
