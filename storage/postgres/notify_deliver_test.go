package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// TestDeliverNotices checks that a batch's notices are published with its
// commit, describe the assigned UIDs, and are not published when the
// delivery fails.
func TestDeliverNotices(t *testing.T) {
	s1, s2 := openTest(t, 2), openTest(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const channel = "stamp_test_deliver"
	got := make(chan string, 16)
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	go s2.Listen(lctx, channel, func(p string) { got <- p })
	// Wait until the listener is in place.
	for ready := false; !ready; {
		s1.Notify(ctx, channel, "ping")
		select {
		case <-got:
			ready = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	u, inbox := mustUser(t, s1, "n@example.com")
	notice := func(b *storage.Batch) func() []storage.Notice {
		return func() []storage.Notice {
			return []storage.Notice{{Channel: channel, Payload: fmt.Sprintf("uid %d", b.Messages[0].UID)}}
		}
	}
	ok := &storage.Batch{Messages: []*storage.NewMessage{newMsg(u.ID, inbox.ID, "one", 1)}}
	ok.Notices = notice(ok)
	if err := s1.Deliver(ctx, ok); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if want := fmt.Sprintf("uid %d", ok.Messages[0].UID); p != want {
			t.Errorf("notice: got %q, want %q", p, want)
		}
	case <-ctx.Done():
		t.Fatal("no notice for a committed delivery")
	}
	bad := &storage.Batch{Messages: []*storage.NewMessage{newMsg(u.ID, inbox.ID, "two", 2), newMsg(u.ID, 999999, "three", 3)}}
	bad.Notices = notice(bad)
	if err := s1.Deliver(ctx, bad); err == nil {
		t.Fatal("delivery into a missing mailbox succeeded")
	}
	s1.Notify(ctx, channel, "marker")
	if p := <-got; p != "marker" {
		t.Errorf("after a failed delivery: got notice %q, want none", p)
	}
}
