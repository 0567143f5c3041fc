package postgres

import (
	"testing"

	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/storagetest"
)

// suiteParts keeps schema creation quick for the many suite cases;
// TestPartitionedTables and the benchmark use more.
const suiteParts = 4

func TestSuite(t *testing.T) {
	storagetest.Run(t, func(tb testing.TB) storage.Store { return openTest(tb, suiteParts) })
}

func BenchmarkDeliver(b *testing.B) {
	storagetest.BenchmarkDeliver(b, func(tb testing.TB) storage.Store { return openTest(tb, DefaultPartitions) })
}
