// Package blobtest is the test suite every blob.Store runs (storage/blob/fs
// always, storage/blob/s3 against a real SeaweedFS when it is built), so
// the stores cannot drift apart.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stamp-mail/stamp/storage/blob"
)

// Opener returns a fresh, empty store.
type Opener func(tb testing.TB) blob.Store

// Run runs every case as a subtest, each on a fresh store. badHash is the
// store's error for an invalid name.
func Run(t *testing.T, open Opener, badHash error) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutOpenDelete", testPutOpenDelete},
		{"BadHash", func(t *testing.T, s blob.Store) { testBadHash(t, s, badHash) }},
		{"ConcurrentPutSame", testConcurrentPutSame},
		{"Canceled", testCanceled},
		{"Large", testLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

// Read returns a blob's bytes, failing the test on error.
func Read(t testing.TB, s blob.Store, h string) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), h)
	if err != nil {
		t.Fatalf("Open(%s): %v", h, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", h, err)
	}
	return b
}

func testPutOpenDelete(t *testing.T, s blob.Store) {
	ctx := t.Context()
	blobs := [][]byte{[]byte("hello"), {}, []byte("world"), []byte("hello")}
	hashes, err := s.PutAll(ctx, blobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(hashes) != len(blobs) {
		t.Fatalf("PutAll: got %d hashes, want %d", len(hashes), len(blobs))
	}
	for i, b := range blobs {
		if got, want := hashes[i], blob.Hash(b); got != want {
			t.Errorf("hash %d: got %s, want %s", i, got, want)
		}
		if got := Read(t, s, hashes[i]); !bytes.Equal(got, b) {
			t.Errorf("blob %d: got %q, want %q", i, got, b)
		}
	}
	h := hashes[0]
	if _, err := s.PutAll(ctx, [][]byte{[]byte("hello")}); err != nil {
		t.Errorf("PutAll of an existing blob: %v", err)
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
	if got := Read(t, s, hashes[2]); string(got) != "world" {
		t.Errorf("other blob after Delete: got %q, want %q", got, "world")
	}
	// PutAll re-creates a deleted blob.
	if _, err := s.PutAll(ctx, [][]byte{[]byte("hello")}); err != nil {
		t.Fatal(err)
	}
	if got := Read(t, s, h); string(got) != "hello" {
		t.Errorf("re-created blob: got %q, want %q", got, "hello")
	}
	if _, err := s.Open(ctx, blob.Hash([]byte("never stored"))); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open(never stored): got %v, want blob.ErrNotFound", err)
	}
}

func testBadHash(t *testing.T, s blob.Store, bad error) {
	ctx := t.Context()
	good := blob.Hash([]byte("x"))
	cases := []string{
		"", "../../etc/passwd", good[:63], good + "0",
		"ABCDEF" + good[6:], "../" + good[3:], "/" + good[1:], good[:62] + "/x",
	}
	for _, h := range cases {
		if _, err := s.Open(ctx, h); !errors.Is(err, bad) {
			t.Errorf("Open(%q): got %v, want %v", h, err, bad)
		}
		if err := s.Delete(ctx, h); !errors.Is(err, bad) {
			t.Errorf("Delete(%q): got %v, want %v", h, err, bad)
		}
	}
}

func testConcurrentPutSame(t *testing.T, s blob.Store) {
	ctx := t.Context()
	data := bytes.Repeat([]byte("same blob "), 1000)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := []byte(fmt.Sprintf("other %d", i%4))
			_, err := s.PutAll(ctx, [][]byte{data, other, data})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := Read(t, s, blob.Hash(data)); !bytes.Equal(got, data) {
		t.Errorf("got %d bytes, want %d", len(got), len(data))
	}
	for i := 0; i < 4; i++ {
		other := []byte(fmt.Sprintf("other %d", i))
		if got := Read(t, s, blob.Hash(other)); !bytes.Equal(got, other) {
			t.Errorf("other %d: got %q, want %q", i, got, other)
		}
	}
}

func testCanceled(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.PutAll(ctx, [][]byte{[]byte("x")}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// testLarge stores a 12 MiB blob (above S3's 5 MiB minimum part, so a store
// configured with small parts uploads it in several) and reads it back
// byte for byte.
func testLarge(t *testing.T, s blob.Store) {
	ctx := t.Context()
	data := make([]byte, 12<<20+12345)
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	_, _ = r.Read(data)
	hashes, err := s.PutAll(ctx, [][]byte{data, []byte("small neighbour")})
	if err != nil {
		t.Fatal(err)
	}
	if got := Read(t, s, hashes[0]); !bytes.Equal(got, data) {
		t.Errorf("large blob: got %d bytes (hash %s), want %d (hash %s)", len(got), blob.Hash(got), len(data), hashes[0])
	}
	if err := s.Delete(ctx, hashes[0]); err != nil {
		t.Fatal(err)
	}
}
