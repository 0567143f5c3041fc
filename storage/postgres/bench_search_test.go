package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/stamp-mail/stamp/storage/storagetest"
)

// BenchmarkSearchBody runs SEARCH BODY on a 100,000-message folder kept in
// the schema bench_search_v1, filled on the first run and reused after.
func BenchmarkSearchBody(b *testing.B) {
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		b.Skip("SKIPPING PostgreSQL benchmark: " + dsnEnv + " is not set")
	}
	s, err := Open(context.Background(), dsn, Options{Schema: "bench_search_v1", MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storagetest.BenchmarkSearchBody(b, s)
}

// BenchmarkResync runs the QRESYNC store calls on the same folder.
func BenchmarkResync(b *testing.B) {
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		b.Skip("SKIPPING PostgreSQL benchmark: " + dsnEnv + " is not set")
	}
	s, err := Open(context.Background(), dsn, Options{Schema: "bench_search_v1", MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storagetest.BenchmarkResync(b, s)
}
