package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

// TestDeliverChain feeds DeliverChain a run of batches: good ones, an empty
// one, one the planner refuses (a bad flag) and one whose allocation fails
// in the database (no such mailbox) behind a good one that commits in the
// same round trip. Each batch is answered once, with its own outcome; the
// chain stops after the failure without asking for more, and the next
// chain goes on with the right UIDs.
func TestDeliverChain(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "chain@example.com")
	one := func(mb int64, flags []string, i int) *storage.Batch {
		m := newMsg(u.ID, mb, "chained", i)
		m.Flags = flags
		return &storage.Batch{Messages: []*storage.NewMessage{m}}
	}
	batches := []*storage.Batch{
		one(inbox.ID, nil, 1),
		one(inbox.ID, nil, 2),
		{},
		one(inbox.ID, []string{"bad flag"}, 3),
		one(inbox.ID, nil, 4),
		one(inbox.ID+1000, nil, 5), // no such mailbox
		one(inbox.ID, nil, 6),
	}
	want := []error{nil, nil, nil, storage.ErrInvalid, nil, storage.ErrNotFound}
	got := map[*storage.Batch][]error{}
	asked := 1
	next := func() *storage.Batch {
		if asked == len(batches) {
			return nil
		}
		asked++
		return batches[asked-1]
	}
	done := func(b *storage.Batch, err error) { got[b] = append(got[b], err) }
	s.DeliverChain(ctx, batches[0], next, done)
	if asked != len(want) {
		t.Fatalf("the chain asked for %d batches, want %d (it stops after the failure)", asked, len(want))
	}
	for i, w := range want {
		errs := got[batches[i]]
		if len(errs) != 1 {
			t.Errorf("batch %d: answered %d times, want once", i, len(errs))
			continue
		}
		if (w == nil) != (errs[0] == nil) || (w != nil && !errors.Is(errs[0], w)) {
			t.Errorf("batch %d: got %v, want %v", i, errs[0], w)
		}
	}
	s.DeliverChain(ctx, batches[6], func() *storage.Batch { return nil }, done)
	if errs := got[batches[6]]; len(errs) != 1 || errs[0] != nil {
		t.Fatalf("the batch after the chain: got %v, want committed once", errs)
	}
	ms, err := s.MessagesByUID(ctx, u.ID, inbox.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for _, m := range ms {
		uids = append(uids, m.UID)
	}
	if len(uids) != 4 || uids[0] != 1 || uids[3] != 4 {
		t.Errorf("UIDs in INBOX: got %v, want [1 2 3 4] (batches 0, 1, 4, 6)", uids)
	}
	for i, b := range []*storage.Batch{batches[0], batches[4], batches[6]} {
		if m := b.Messages[0]; m.ID == 0 || m.UID == 0 {
			t.Errorf("committed batch %d: ID %d UID %d, want them set", i, m.ID, m.UID)
		}
	}
}
