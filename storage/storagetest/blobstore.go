package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob"
)

// BlobOpener returns a fresh, empty blob store.
type BlobOpener func(tb testing.TB) blob.Store

// RunWithBlobs runs the cases where the metadata store and a real blob store
// (the file store, or S3) work together as core uses them: blob bytes are
// put before the metadata commit, reference counts decide collection, and
// CollectBlobs removes objects from the blob store while a delivery of the
// same content races it.
func RunWithBlobs(t *testing.T, open Opener, openBlobs BlobOpener) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s storage.Store, bl blob.Store)
	}{
		{"CollectRemovesObjects", testCollectRemovesObjects},
		{"CollectRacesDelivery", testCollectRacesDelivery},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t), openBlobs(t)) })
	}
}

// bigBlob is content above the inline limit, so it lives in the blob store.
func bigBlob(tag string) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%-64s\r\n", tag)), 1200) // about 80 KB
}

// putAndDeliver does what core's group commit does: blobs first, then the batch.
func putAndDeliver(t *testing.T, s storage.Store, bl blob.Store, contents [][]byte, msgs ...*storage.NewMessage) {
	t.Helper()
	if _, err := bl.PutAll(t.Context(), contents); err != nil {
		t.Fatalf("PutAll: %v", err)
	}
	deliver(t, s, msgs...)
}

func present(t *testing.T, bl blob.Store, h string) bool {
	t.Helper()
	rc, err := bl.Open(t.Context(), h)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("Open(%s): %v", h, err)
	}
	rc.Close()
	return true
}

func collectInto(t *testing.T, s storage.Store, bl blob.Store) int {
	t.Helper()
	n, err := s.CollectBlobs(t.Context(), time.Now().Add(time.Minute), func(h string) error {
		return bl.Delete(t.Context(), h)
	})
	if err != nil {
		t.Fatalf("CollectBlobs: %v", err)
	}
	return n
}

func testCollectRemovesObjects(t *testing.T, s storage.Store, bl blob.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "blobs@example.com")
	shared := bigBlob("an attachment sent three times")
	sharedSeg := storage.Segment{Hash: blob.Hash(shared), Size: int64(len(shared))}
	var msgs []*storage.NewMessage
	var own [][]byte
	for i := 0; i < 3; i++ {
		body := bigBlob(fmt.Sprintf("body %d", i))
		own = append(own, body)
		m := newMsg(u.ID, inbox.ID, withSegs(storage.Segment{Hash: blob.Hash(body), Size: int64(len(body))}),
			withAttachment("a.pdf", sharedSeg))
		msgs = append(msgs, m)
		putAndDeliver(t, s, bl, [][]byte{body, shared}, m)
	}
	if n, _ := s.BlobRefs(ctx, sharedSeg.Hash); n != 3 {
		t.Fatalf("BlobRefs(shared): got %d, want 3", n)
	}
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{msgs[0].ID, msgs[1].ID}); err != nil {
		t.Fatal(err)
	}
	collectInto(t, s, bl)
	for i, b := range own {
		if got, want := present(t, bl, blob.Hash(b)), i == 2; got != want {
			t.Errorf("after expunging messages 0 and 1: body %d present %v, want %v", i, got, want)
		}
	}
	if !present(t, bl, sharedSeg.Hash) {
		t.Errorf("shared attachment removed while a message still uses it")
	}
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{msgs[2].ID}); err != nil {
		t.Fatal(err)
	}
	collectInto(t, s, bl)
	if present(t, bl, sharedSeg.Hash) || present(t, bl, blob.Hash(own[2])) {
		t.Errorf("blobs of the last message still present after collection")
	}
}

// testCollectRacesDelivery delivers a blob while the collector is removing
// it: the delivery waits for the collector's row lock, re-creates the row,
// and core's re-ensuring PutAll after the commit puts the object back.
func testCollectRacesDelivery(t *testing.T, s storage.Store, bl blob.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "race@example.com")
	content := bigBlob("collected and delivered at once")
	seg := storage.Segment{Hash: blob.Hash(content), Size: int64(len(content))}
	m1 := newMsg(u.ID, inbox.ID, withSegs(seg))
	putAndDeliver(t, s, bl, [][]byte{content}, m1)
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m1.ID}); err != nil {
		t.Fatal(err)
	}
	delivered := make(chan error, 1)
	m2 := newMsg(u.ID, inbox.ID, withSegs(seg))
	_, err := s.CollectBlobs(ctx, time.Now().Add(time.Minute), func(h string) error {
		if h == seg.Hash {
			go func() {
				// As core: the bytes are put (the object still exists, so
				// this is a no-op), then the batch commits.
				if _, err := bl.PutAll(context.WithoutCancel(ctx), [][]byte{content}); err != nil {
					delivered <- err
					return
				}
				delivered <- s.Deliver(context.WithoutCancel(ctx), &storage.Batch{Messages: []*storage.NewMessage{m2}})
			}()
			time.Sleep(200 * time.Millisecond) // let the delivery reach the lock
		}
		return bl.Delete(ctx, h)
	})
	if err != nil {
		t.Fatalf("CollectBlobs: %v", err)
	}
	if err := <-delivered; err != nil {
		t.Fatalf("racing delivery: %v", err)
	}
	// core's finishJob re-ensures the blobs of a committed batch.
	if _, err := bl.PutAll(ctx, [][]byte{content}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.BlobRefs(ctx, seg.Hash); n != 1 {
		t.Errorf("BlobRefs after the race: got %d, want 1", n)
	}
	if !present(t, bl, seg.Hash) {
		t.Fatalf("blob missing after the race: the delivered message would be unreadable")
	}
	collectInto(t, s, bl)
	if !present(t, bl, seg.Hash) {
		t.Errorf("a referenced blob was collected")
	}
}
