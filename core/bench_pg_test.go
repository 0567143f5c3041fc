package core_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/postgres"
)

// BenchmarkDeliverPostgres is BenchmarkDeliver's 10 KB case on PostgreSQL
// (STAMP_TEST_POSTGRES_DSN): the group-commit pipeline without the checks,
// 8 concurrent senders.
func BenchmarkDeliverPostgres(b *testing.B) {
	dsn := os.Getenv("STAMP_TEST_POSTGRES_DSN")
	if dsn == "" {
		b.Skip("SKIPPED: STAMP_TEST_POSTGRES_DSN not set")
	}
	st := coretest.PostgresStores(b, dsn, 1, postgres.Options{})[0]
	dir := b.TempDir()
	bl, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	svc := coretest.New(b, coretest.Options{Dir: dir, Deps: core.Deps{Store: st, Blobs: bl}})
	u := coretest.User(b, svc, "bench@example.test")
	body := strings.Repeat("lorem ipsum dolor sit amet ", (10<<10)/27)
	deliverConcurrently(b, svc, u.Address, body, 8)
}
