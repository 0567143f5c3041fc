package core_test

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/message/structure"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/sqlite"
)

const structMsg = "From: Ann <ann@remote.example>\r\nTo: alice@example.test, bob@example.test\r\n" +
	"Subject: nested\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\nMessage-ID: <n1@remote.example>\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
	"--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
	"--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@remote.example\r\nSubject: inner\r\n\r\ninner body\r\n" +
	"--b1--\r\n"

// structService is a started service on a SQLite store the test also holds.
func structService(t *testing.T) (*core.Service, storage.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return coretest.New(t, coretest.Options{Deps: core.Deps{Store: st}}), st
}

// checkStored compares every stored structure of the mailbox with the tree
// built from the message's bytes as stored (per-recipient trace header
// included).
func checkStored(t *testing.T, svc *core.Service, st storage.Store, userID, mailboxID int64, want int) {
	t.Helper()
	ctx := context.Background()
	ms, err := svc.MessagesByUID(ctx, userID, mailboxID, 1, 0)
	if err != nil || len(ms) != want {
		t.Fatalf("messages: %d, %v; want %d", len(ms), err, want)
	}
	rows, err := st.MessageStructures(ctx, userID, mailboxID, 1, 0)
	if err != nil || len(rows) != want {
		t.Fatalf("structures: %d, %v", len(rows), err)
	}
	for i, m := range ms {
		if rows[i].Data == nil {
			t.Fatalf("message %d has no stored structure", m.UID)
		}
		got, err := structure.Unmarshal(rows[i].Data)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := svc.ReadMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if w := structure.Build(raw); !reflect.DeepEqual(got, w) {
			t.Fatalf("message %d: stored structure differs from its bytes'\n got %+v\nwant %+v", m.UID, got, w)
		}
	}
}

// TestStructureAtDelivery: SMTP-style delivery to two users (each copy
// behind its own Return-Path/Received block) and IMAP-style Append store
// the structure of the bytes as stored.
func TestStructureAtDelivery(t *testing.T) {
	ctx := context.Background()
	svc, st := structService(t)
	alice := coretest.User(t, svc, "alice@example.test")
	bob := coretest.User(t, svc, "bob@example.test")
	if err := svc.Deliver(ctx, core.Envelope{MailFrom: "ann@remote.example", Recipients: []string{alice.Address, bob.Address}, Helo: "remote.example"}, []byte(structMsg)); err != nil {
		t.Fatal(err)
	}
	if err := svc.Deliver(ctx, core.Envelope{MailFrom: "ann@remote.example", Recipients: []string{alice.Address}}, []byte(structMsg)); err != nil {
		t.Fatal(err)
	}
	inbox, err := svc.GetMailboxByName(ctx, alice.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Append(ctx, alice.ID, inbox.ID, nil, time.Now(), []byte(structMsg)); err != nil {
		t.Fatal(err)
	}
	checkStored(t, svc, st, alice.ID, inbox.ID, 3)
	// The delivered copies carry a trace block ahead of the message: the
	// stored tree was shifted past it.
	ms, _ := svc.MessagesByUID(ctx, alice.ID, inbox.ID, 1, 1)
	if raw, err := svc.ReadMessage(ctx, ms[0]); err != nil || !bytes.HasPrefix(raw, []byte("Return-Path:")) {
		t.Fatalf("delivered copy: %.40q, %v; want a Return-Path first", raw, err)
	}
	bin, err := svc.GetMailboxByName(ctx, bob.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	checkStored(t, svc, st, bob.ID, bin.ID, 1)
}

// TestStructureBackfill: mail without a stored structure (as before
// migration 11) is filled by BackfillStructures, which then records that
// it is done; MessageStructures fills what it meets on the way.
func TestStructureBackfill(t *testing.T) {
	ctx := context.Background()
	svc, st := structService(t)
	alice := coretest.User(t, svc, "alice@example.test")
	for range 5 {
		if err := svc.Deliver(ctx, core.Envelope{MailFrom: "ann@remote.example", Recipients: []string{alice.Address}}, []byte(structMsg)); err != nil {
			t.Fatal(err)
		}
	}
	inbox, err := svc.GetMailboxByName(ctx, alice.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := svc.MessagesByUID(ctx, alice.ID, inbox.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var clear []storage.StructureRow
	for _, m := range ms {
		clear = append(clear, storage.StructureRow{ID: m.ID})
	}
	if err := st.SetStructures(ctx, alice.ID, clear); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteKV(ctx, "core/structure-backfill-done"); err != nil {
		t.Fatal(err)
	}
	if miss, _ := st.MissingStructures(ctx, 0, 0, 100); len(miss) != 5 {
		t.Fatalf("after clearing: %d missing, want 5", len(miss))
	}
	// A FETCH-style read of the first two computes and stores them.
	got, err := svc.MessageStructures(ctx, alice.ID, inbox.ID, ms[0].UID, ms[1].UID)
	if err != nil || len(got) != 2 || got[0].Root == nil || got[0].Root.Env.Subject != "nested" || got[0].Root.Children[1].Msg.Env.Subject != "inner" {
		t.Fatalf("MessageStructures of unfilled mail: %+v, %v", got, err)
	}
	if miss, _ := st.MissingStructures(ctx, 0, 0, 100); len(miss) != 3 {
		t.Fatalf("after MessageStructures: %d missing, want 3", len(miss))
	}
	n, err := svc.BackfillStructures(ctx, 0)
	if err != nil || n != 3 {
		t.Fatalf("BackfillStructures: %d, %v; want 3", n, err)
	}
	checkStored(t, svc, st, alice.ID, inbox.ID, 5)
	if _, err := st.GetKV(ctx, "core/structure-backfill-done"); err != nil {
		t.Fatalf("done mark: %v", err)
	}
	if n, err := svc.BackfillStructures(ctx, 0); err != nil || n != 0 {
		t.Fatalf("second BackfillStructures: %d, %v; want 0", n, err)
	}
}
