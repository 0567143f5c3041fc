package core_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	ctx := context.Background()
	schema := fmt.Sprintf("benchpg_%d", time.Now().UnixNano())
	st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		st.Pool().Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		st.Close()
	})
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
