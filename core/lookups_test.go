package core_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
)

// countIn returns how many messages a user's mailbox named name holds.
func countIn(t *testing.T, svc *core.Service, u core.User, name string) int {
	t.Helper()
	ctx := context.Background()
	mbs, err := svc.ListMailboxes(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range mbs {
		if mb.Name == name {
			ms, err := svc.ListMessages(ctx, u.ID, mb.ID, core.ListQuery{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(ms)
		}
	}
	t.Fatalf("no mailbox %q", name)
	return 0
}

// TestLookupsSieveChangeSeenAtOnce: the active Sieve script is cached per
// user between messages (core/lookups.go), and a change through the
// service is used by the very next message, however long the cache lives.
// Without the service forgetting the entry, message 2 would be kept in
// INBOX by the cached "no script".
func TestLookupsSieveChangeSeenAtOnce(t *testing.T) {
	ctx := context.Background()
	svc := coretest.New(t, coretest.Options{Config: core.Config{LookupTTL: time.Hour}})
	u := coretest.User(t, svc, "sieve@example.test")
	if _, err := svc.CreateMailbox(ctx, u.ID, "Later", ""); err != nil {
		t.Fatal(err)
	}
	deliver := func(subject string) {
		t.Helper()
		raw := simpleMessage("a@remote.example", u.Address, subject, "body")
		if err := svc.Deliver(ctx, core.Envelope{MailFrom: "a@remote.example", Recipients: []string{u.Address}}, raw); err != nil {
			t.Fatal(err)
		}
	}
	deliver("one") // no script: INBOX, and "no script" is now cached
	if err := svc.PutSieveScript(ctx, u.ID, "s", "require \"fileinto\";\r\nfileinto \"Later\";\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetActiveSieveScript(ctx, u.ID, "s"); err != nil {
		t.Fatal(err)
	}
	deliver("two")
	if n := countIn(t, svc, u, "Later"); n != 1 {
		t.Errorf("after activating a script: %d messages in Later, want 1 (the cached lookup was not forgotten)", n)
	}
	if err := svc.SetActiveSieveScript(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	deliver("three")
	if n := countIn(t, svc, u, "INBOX"); n != 2 {
		t.Errorf("after deactivating: %d messages in INBOX, want 2", n)
	}
}

// TestLookupsSpamLists: the judge's view of the spam lists (JudgeStore)
// follows changes made through the service at once, a change written to the
// store behind the service's back only after the cache's lifetime, and a
// change on another node as soon as its notice arrives (PostgreSQL).
func TestLookupsSpamLists(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			n := twoNodesWith(t, backend, core.Config{LookupTTL: time.Hour})
			u := coretest.User(t, n.svc[0], "lists@example.test")
			judge := n.look[0].JudgeStore()
			got := func() storage.SpamLists {
				t.Helper()
				l, err := judge.GetSpamLists(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			if l := got(); len(l.Block) != 0 {
				t.Fatalf("new user: block list %v, want empty", l.Block)
			}
			if err := n.svc[0].SetSpamLists(ctx, u.ID, storage.SpamLists{Block: []string{"spam@bad.example"}}); err != nil {
				t.Fatal(err)
			}
			if l := got(); !slices.Equal(l.Block, []string{"spam@bad.example"}) {
				t.Fatalf("after SetSpamLists on this node: block list %v, want [spam@bad.example]", l.Block)
			}
			// Written past every service: the cached lists stay (for LookupTTL).
			if err := n.store[0].PutSpamLists(ctx, u.ID, storage.SpamLists{}); err != nil {
				t.Fatal(err)
			}
			if l := got(); !slices.Equal(l.Block, []string{"spam@bad.example"}) {
				t.Fatalf("after a write behind the service: block list %v, want the cached [spam@bad.example]", l.Block)
			}
			if backend != "postgres" {
				return
			}
			// Another node's change reaches this node's cache by NOTIFY.
			if err := n.svc[1].SetSpamLists(ctx, u.ID, storage.SpamLists{Block: []string{"other@bad.example"}}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Equal(got().Block, []string{"other@bad.example"}) {
				if time.Now().After(deadline) {
					t.Fatalf("a change on node 1 was not seen by node 0 within 10s: block list %v", got().Block)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestLookupsQuotaSetting: with no server-wide quota a user's own setting
// is cached (no usage read while it has none), and a quota set through the
// service applies to the very next message, however long the cache lives.
func TestLookupsQuotaSetting(t *testing.T) {
	ctx := context.Background()
	svc := coretest.New(t, coretest.Options{Config: core.Config{LookupTTL: time.Hour}})
	u := coretest.User(t, svc, "quota@example.test")
	deliver := func(subject string) error {
		raw := simpleMessage("a@remote.example", u.Address, subject, "a body of some length")
		return svc.Deliver(ctx, core.Envelope{MailFrom: "a@remote.example", Recipients: []string{u.Address}}, raw)
	}
	if err := deliver("one"); err != nil { // no quota: accepted, "none" cached
		t.Fatal(err)
	}
	used, _, _, err := svc.Quota(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetQuota(ctx, u.Address, used+10); err != nil {
		t.Fatal(err)
	}
	if err := deliver("two"); !errors.Is(err, core.ErrOverQuota) {
		t.Errorf("after SetQuota: got %v, want ErrOverQuota (the cached setting was not forgotten)", err)
	}
	if _, err := svc.CheckRecipient(ctx, u.Address); err != nil {
		t.Errorf("RCPT below the quota: %v", err)
	}
	if err := svc.SetQuota(ctx, u.Address, used); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CheckRecipient(ctx, u.Address); !errors.Is(err, core.ErrOverQuota) {
		t.Errorf("RCPT at the quota: got %v, want ErrOverQuota", err)
	}
	if err := svc.SetQuota(ctx, u.Address, core.QuotaDefault); err != nil {
		t.Fatal(err)
	}
	if err := deliver("three"); err != nil {
		t.Errorf("back to no quota: %v", err)
	}
}
