package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stamp-mail/stamp/storage/blob"
	"github.com/stamp-mail/stamp/storage/blob/blobtest"
)

func newStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func read(t *testing.T, s *Store, h string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), h)
	if err != nil {
		t.Fatalf("Open(%s): %v", h, err)
	}
	defer rc.Close()
	if _, ok := rc.(*os.File); !ok {
		t.Errorf("Open returned %T, want *os.File", rc)
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPutOpenDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	blobs := [][]byte{[]byte("hello"), {}, []byte("world"), []byte("hello")}
	hashes, err := s.PutAll(ctx, blobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blobs {
		if got, want := hashes[i], blob.Hash(b); got != want {
			t.Errorf("hash %d: got %s, want %s", i, got, want)
		}
		if got := read(t, s, hashes[i]); !bytes.Equal(got, b) {
			t.Errorf("blob %d: got %q, want %q", i, got, b)
		}
	}
	h := hashes[0]
	if got, want := s.path(h), filepath.Join(s.dir, h[:2], h); got != want {
		t.Errorf("path: got %s, want %s", got, want)
	}
	// Dedup: the second put leaves the same file (same inode).
	st1, _ := os.Stat(s.path(h))
	if _, err := s.PutAll(ctx, [][]byte{[]byte("hello")}); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(s.path(h))
	if !os.SameFile(st1, st2) {
		t.Errorf("existing blob was rewritten")
	}
	if err := s.Delete(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, h); err != nil {
		t.Errorf("second Delete: got %v, want nil", err)
	}
	if _, err := s.Open(ctx, h); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Delete: got %v, want blob.ErrNotFound", err)
	}
	// PutAll re-creates a deleted blob.
	if _, err := s.PutAll(ctx, [][]byte{[]byte("hello")}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, h); string(got) != "hello" {
		t.Errorf("re-created blob: got %q, want %q", got, "hello")
	}
	// No temporary files are left behind.
	filepath.Walk(s.dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && filepath.Base(p)[0] == '.' {
			t.Errorf("leftover temp file %s", p)
		}
		return nil
	})
}

// TestSuite runs the shared blob store suite on the file store.
func TestSuite(t *testing.T) {
	blobtest.Run(t, func(tb testing.TB) blob.Store { return newStore(tb) }, ErrBadHash)
}

func BenchmarkPutAll32x10KB(b *testing.B) {
	for _, par := range []int{1, maxParallelSync} {
		b.Run(fmt.Sprintf("parallel=%d", par), func(b *testing.B) {
			ctx := context.Background()
			s := newStore(b)
			s.parallel = par
			b.SetBytes(32 * 10 << 10)
			n := 0
			for b.Loop() {
				batch := make([][]byte, 32)
				for i := range batch {
					d := make([]byte, 10<<10)
					copy(d, fmt.Sprintf("blob %d", n))
					n++
					batch[i] = d
				}
				if _, err := s.PutAll(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
