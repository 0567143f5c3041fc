package storagetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var concurrencyCases = []testCase{
	{"ConcurrentFlagCounters", testConcurrentFlags},
	{"ConcurrentDeliverExpungeMove", testConcurrentMixed},
	{"ConcurrentDeliverAtomic", testConcurrentDeliverAtomic},
}

// testConcurrentDeliverAtomic delivers good and bad batches at once: a
// backend that groups concurrent batches into one transaction must still
// commit each good batch whole and nothing of a bad one.
func testConcurrentDeliverAtomic(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	const callers = 16
	batches := make([][]*storage.NewMessage, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range batches {
		batches[i] = []*storage.NewMessage{newMsg(u.ID, inbox.ID), newMsg(u.ID, inbox.ID)}
		if i%2 == 1 {
			batches[i][1].MailboxID = 1 << 40
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Deliver(ctx, &storage.Batch{Messages: batches[i]})
		}()
	}
	wg.Wait()
	uids := map[uint32]bool{}
	for i, b := range batches {
		bad := i%2 == 1
		if bad != (errs[i] != nil) {
			t.Errorf("batch %d: got error %v, want error %v", i, errs[i], bad)
		}
		for _, m := range b {
			if bad && m.ID != 0 || !bad && (m.ID == 0 || m.UID == 0 || uids[m.UID]) {
				t.Errorf("batch %d: got id %d uid %d", i, m.ID, m.UID)
			}
			uids[m.UID] = true
		}
		if !bad && b[1].UID != b[0].UID+1 {
			t.Errorf("batch %d: UIDs %d, %d, want consecutive within a batch", i, b[0].UID, b[1].UID)
		}
	}
	mb := mailbox(t, s, u.ID, inbox.ID)
	if mb.Total != callers || mb.UIDNext != callers+1 {
		t.Errorf("inbox: got total %d uidnext %d, want %d and %d", mb.Total, mb.UIDNext, callers, callers+1)
	}
	checkCounters(t, s, u.ID, inbox.ID)
}

// testConcurrentFlags flips \Seen on shared messages from many goroutines;
// the unread counter must match the messages afterwards, and every change
// must have its own MODSEQ.
func testConcurrentFlags(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	var msgs []*storage.NewMessage
	for i := 0; i < 40; i++ {
		msgs = append(msgs, newMsg(u.ID, inbox.ID))
	}
	deliver(t, s, msgs...)
	start, _ := s.HighestModSeq(ctx, u.ID)
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	changed := 0
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < rounds; i++ {
				var batch []int64
				for j := 0; j < 1+r.IntN(4); j++ {
					batch = append(batch, msgs[r.IntN(len(msgs))].ID)
				}
				op := []storage.FlagOp{storage.FlagsAdd, storage.FlagsRemove, storage.FlagsSet}[r.IntN(3)]
				flags := []string{`\Seen`}
				if op == storage.FlagsSet && r.IntN(2) == 0 {
					flags = []string{"$Junk"}
				}
				got, err := s.UpdateFlags(ctx, u.ID, inbox.ID, batch, op, flags)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				changed += len(got)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("UpdateFlags: %v", err)
	}
	checkCounters(t, s, u.ID, inbox.ID)
	end, _ := s.HighestModSeq(ctx, u.ID)
	if int(end-start) != changed {
		t.Errorf("modseq advanced by %d, want %d (one per changed message)", end-start, changed)
	}
	chs, _ := s.ChangesSince(ctx, u.ID, start, 10000)
	if len(chs) != changed {
		t.Errorf("change log: got %d entries, want %d", len(chs), changed)
	}
	// Each message's MODSEQ is the one of its last logged change.
	last := map[int64]uint64{}
	for _, c := range chs {
		last[c.MessageID] = c.ModSeq
	}
	for _, m := range allMessages(t, s, u.ID, inbox.ID, nil) {
		if want, ok := last[m.ID]; ok && m.ModSeq != want {
			t.Errorf("message %d: got MODSEQ %d, want %d", m.ID, m.ModSeq, want)
		}
	}
}

// testConcurrentMixed delivers, expunges and moves at once; counters, UIDs
// and the change log must stay consistent.
func testConcurrentMixed(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	arch := mustRole(t, s, u.ID, storage.RoleArchive)
	const deliverers, each = 4, 12
	var wg sync.WaitGroup
	errs := make(chan error, deliverers+2)
	done := make(chan struct{})
	for d := 0; d < deliverers; d++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				m := newMsg(u.ID, inbox.ID)
				if i%2 == 0 {
					m.Flags = []string{`\Seen`}
				}
				if err := s.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{m}}); err != nil {
					errs <- fmt.Errorf("deliver: %w", err)
					return
				}
			}
		}()
	}
	var side sync.WaitGroup
	for _, job := range []func(ids []int64) error{
		func(ids []int64) error { _, _, err := s.Expunge(ctx, u.ID, inbox.ID, ids[:1]); return err },
		func(ids []int64) error { _, err := s.Move(ctx, u.ID, inbox.ID, ids[len(ids)-1:], arch.ID); return err },
	} {
		side.Add(1)
		go func() {
			defer side.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				page, err := s.ListMessages(ctx, u.ID, inbox.ID, storage.ListQuery{Limit: 5})
				if err != nil {
					errs <- err
					return
				}
				if len(page) > 0 {
					if err := job(ids(page)); err != nil {
						errs <- err
						return
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(done)
	side.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkCounters(t, s, u.ID, inbox.ID)
	checkCounters(t, s, u.ID, arch.ID)
	for _, mb := range []storage.Mailbox{inbox, arch} {
		all, _ := s.MessagesByUID(ctx, u.ID, mb.ID, 1, 0)
		cur := mailbox(t, s, u.ID, mb.ID)
		for i, m := range all {
			if i > 0 && m.UID <= all[i-1].UID || m.UID >= cur.UIDNext {
				t.Errorf("%s: UID %d out of order or >= UIDNEXT %d", mb.Name, m.UID, cur.UIDNext)
			}
		}
	}
	chs, _ := s.ChangesSince(ctx, u.ID, 0, 100000)
	if !slices.IsSortedFunc(chs, func(a, b storage.Change) int { return int(a.ModSeq) - int(b.ModSeq) }) {
		t.Errorf("change log not in MODSEQ order")
	}
	for i := 1; i < len(chs); i++ {
		if chs[i].ModSeq == chs[i-1].ModSeq {
			t.Errorf("change log: MODSEQ %d used twice", chs[i].ModSeq)
		}
	}
}
