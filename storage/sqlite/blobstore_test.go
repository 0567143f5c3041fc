package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/stamp-mail/stamp/storage/blob"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/blob/s3/s3test"
	"github.com/stamp-mail/stamp/storage/storagetest"
)

// TestSuiteWithBlobs runs the metadata-and-blob-store cases on the file
// store and on a real S3 (SeaweedFS).
func TestSuiteWithBlobs(t *testing.T) {
	t.Run("fs", func(t *testing.T) {
		storagetest.RunWithBlobs(t, open, func(tb testing.TB) blob.Store {
			s, err := fs.Open(filepath.Join(tb.TempDir(), "blobs"))
			if err != nil {
				tb.Fatal(err)
			}
			return s
		})
	})
	t.Run("s3", func(t *testing.T) {
		srv := s3test.Start(t)
		storagetest.RunWithBlobs(t, open, func(tb testing.TB) blob.Store { return srv.Store(tb) })
	})
}
