package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var blobCases = []testCase{
	{"BlobDedupAndCollect", testBlobs},
	{"BlobCollectFailure", testBlobCollectFailure},
	{"InlineBlobs", testInlineBlobs},
}

// testInlineBlobs checks small blobs kept in the store: written with the
// batch, shared between messages, readable, and gone after collection.
func testInlineBlobs(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "inline@example.com")
	data := []byte("Subject: small\r\n\r\nan inline body\r\n")
	seg := segment(string(data))
	seg.Inline = true
	m1 := newMsg(u.ID, inbox.ID, withSegs(seg))
	m2 := newMsg(u.ID, inbox.ID, withSegs(seg))
	if err := s.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{m1}, Inline: map[string][]byte{seg.Hash: data}}); err != nil {
		t.Fatal(err)
	}
	// The second delivery carries the bytes again; they are stored once.
	if err := s.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{m2}, Inline: map[string][]byte{seg.Hash: data}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadBlob(ctx, seg.Hash)
	if err != nil || string(got) != string(data) {
		t.Fatalf("ReadBlob: got %q, %v, want %q", got, err, data)
	}
	msg, err := s.GetMessage(ctx, u.ID, m1.ID)
	if err != nil || len(msg.Segments) == 0 || msg.Segments[len(msg.Segments)-1] != seg {
		t.Fatalf("GetMessage segments: got %+v, %v, want the inline segment last", msg.Segments, err)
	}
	if n, _ := s.BlobRefs(ctx, seg.Hash); n != 2 {
		t.Errorf("BlobRefs: got %d, want 2", n)
	}
	if _, err := s.ReadBlob(ctx, segment("never stored").Hash); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ReadBlob(unknown): got %v, want ErrNotFound", err)
	}
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m1.ID, m2.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CollectBlobs(ctx, time.Now().Add(time.Hour), func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadBlob(ctx, seg.Hash); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ReadBlob after collection: got %v, want ErrNotFound", err)
	}
}

func testBlobs(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	shared := segment("one attachment sent to many")
	const n = 5
	var msgs []*storage.NewMessage
	for i := 0; i < n; i++ {
		msgs = append(msgs, newMsg(u.ID, inbox.ID, withAttachment("big.pdf", shared)))
	}
	deliver(t, s, msgs[:2]...)
	deliver(t, s, msgs[2:]...)
	if got, _ := s.BlobRefs(ctx, shared.Hash); got != n {
		t.Fatalf("BlobRefs(shared): got %d, want %d", got, n)
	}
	// A queue item holding the same blob adds a reference.
	q := &storage.QueueItem{UserID: u.ID, Sender: "a@example.com", Recipients: []string{"r@remote.example"},
		Segments: []storage.Segment{shared}, Size: shared.Size}
	if err := s.Deliver(ctx, &storage.Batch{Queue: []*storage.QueueItem{q}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.BlobRefs(ctx, shared.Hash); got != n+1 {
		t.Errorf("BlobRefs(shared) with queue item: got %d, want %d", got, n+1)
	}
	freed, err := s.DeleteQueueItem(ctx, q.ID)
	if err != nil || len(freed) != 0 {
		t.Errorf("DeleteQueueItem: got freed %v, %v, want none", freed, err)
	}
	if _, err := s.DeleteQueueItem(ctx, q.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteQueueItem(twice): got %v, want ErrNotFound", err)
	}

	noop := func(string) error { t.Error("remove called for a referenced blob"); return nil }
	for i, m := range msgs {
		_, freed, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m.ID})
		if err != nil {
			t.Fatalf("Expunge %d: %v", i, err)
		}
		want := []string{m.Segments[0].Hash}
		if i == n-1 {
			want = append(want, shared.Hash)
		}
		slices.Sort(want)
		slices.Sort(freed)
		if !slices.Equal(freed, want) {
			t.Errorf("Expunge %d: freed got %v, want %v", i, freed, want)
		}
		if got, _ := s.BlobRefs(ctx, shared.Hash); got != int64(n-1-i) {
			t.Errorf("after expunge %d: BlobRefs got %d, want %d", i, got, n-1-i)
		}
		if i < n-1 {
			// Only the header blobs are collectable while the shared one is referenced.
			removed := map[string]bool{}
			c, err := s.CollectBlobs(ctx, time.Now().Add(time.Minute), func(h string) error {
				if h == shared.Hash {
					return noop(h)
				}
				removed[h] = true
				return nil
			})
			if err != nil || c != 1 || !removed[m.Segments[0].Hash] {
				t.Errorf("CollectBlobs after expunge %d: got %d %v, want the header blob only", i, c, err)
			}
		}
	}
	// Not old enough yet.
	c, err := s.CollectBlobs(ctx, time.Now().Add(-time.Hour), func(string) error { t.Error("remove called too early"); return nil })
	if err != nil || c != 0 {
		t.Errorf("CollectBlobs(an hour ago): got %d, %v, want 0", c, err)
	}
	var removed []string
	c, err = s.CollectBlobs(ctx, time.Now().Add(time.Minute), func(h string) error { removed = append(removed, h); return nil })
	slices.Sort(removed)
	want := []string{msgs[n-1].Segments[0].Hash, shared.Hash}
	slices.Sort(want)
	if err != nil || c != 2 || !slices.Equal(removed, want) {
		t.Errorf("final CollectBlobs: got %d %v, removed %v, want %v", c, err, removed, want)
	}
	if c, _ := s.CollectBlobs(ctx, time.Now().Add(time.Minute), func(string) error { return nil }); c != 0 {
		t.Errorf("CollectBlobs again: got %d, want 0", c)
	}

	// A blob referenced again after reaching zero is no longer collectable.
	m := newMsg(u.ID, inbox.ID, withSegs(shared))
	deliver(t, s, m)
	_, freed, _ = s.Expunge(ctx, u.ID, inbox.ID, []int64{m.ID})
	if !slices.Contains(freed, shared.Hash) {
		t.Fatalf("expunge: freed %v, want the shared blob", freed)
	}
	deliver(t, s, newMsg(u.ID, inbox.ID, withSegs(shared)))
	if c, _ := s.CollectBlobs(ctx, time.Now().Add(time.Minute), func(h string) error {
		if h == shared.Hash {
			t.Errorf("collected a re-referenced blob")
		}
		return nil
	}); c != 1 {
		t.Errorf("CollectBlobs after re-reference: got %d, want 1 (the header)", c)
	}
	if got, _ := s.BlobRefs(ctx, "0000"); got != 0 {
		t.Errorf("BlobRefs(unknown): got %d, want 0", got)
	}
}

func testBlobCollectFailure(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	m1, m2 := newMsg(u.ID, inbox.ID), newMsg(u.ID, inbox.ID)
	deliver(t, s, m1, m2)
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m1.ID, m2.ID}); err != nil {
		t.Fatal(err)
	}
	fail := m1.Segments[0].Hash
	c, err := s.CollectBlobs(ctx, time.Now().Add(time.Minute), func(h string) error {
		if h == fail {
			return errors.New("disk on fire")
		}
		return nil
	})
	if c != 1 || err == nil {
		t.Errorf("CollectBlobs with one failure: got %d, %v, want 1 and an error", c, err)
	}
	var again []string
	c, err = s.CollectBlobs(ctx, time.Now().Add(time.Minute), func(h string) error { again = append(again, h); return nil })
	if err != nil || c != 1 || !slices.Equal(again, []string{fail}) {
		t.Errorf("retry CollectBlobs: got %d %v %v, want the failed blob only", c, err, again)
	}
}
