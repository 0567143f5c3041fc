package core_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/sqlite"
)

// env is a service with direct access to its store, for checks that the
// service does not expose (blob reference counts).
type env struct {
	svc   *core.Service
	store storage.Store
	dir   string // holds stamp.db (SQLite) and the blobs
}

func newEnv(t *testing.T) env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "stamp.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bl, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	svc := coretest.New(t, coretest.Options{Dir: dir, Deps: core.Deps{Store: st, Blobs: bl}})
	return env{svc: svc, store: st, dir: dir}
}

func simpleMessage(from, to, subject, body string) []byte {
	return []byte("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + fmt.Sprint(time.Now().UnixNano()) + "@test>\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\n" + body + "\r\n")
}

func withAttachment(subject string, attachment []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@remote.example\r\nTo: x@example.test\r\nSubject: " + subject + "\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n--BOUND\r\nContent-Type: text/plain\r\n\r\n")
	b.WriteString("Body of " + subject + "\r\n--BOUND\r\nContent-Type: application/octet-stream\r\n")
	b.WriteString("Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := make([]byte, 0)
	const line = 57
	for i := 0; i < len(attachment); i += line {
		end := min(i+line, len(attachment))
		enc = append(enc, []byte(b64(attachment[i:end]))...)
		enc = append(enc, '\r', '\n')
	}
	b.Write(enc)
	b.WriteString("--BOUND--\r\n")
	return b.Bytes()
}

func inbox(t *testing.T, svc *core.Service, u core.User) core.Mailbox {
	t.Helper()
	mb, err := svc.GetMailboxByRole(context.Background(), u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

func TestDeliverStoresOnceForManyRecipients(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := coretest.User(t, e.svc, "alice@example.test")
	b := coretest.User(t, e.svc, "bob@example.test")
	raw := simpleMessage("x@remote.example", "alice@example.test", "hello both", "the body")
	err := e.svc.Deliver(ctx, core.Envelope{MailFrom: "x@remote.example", Recipients: []string{"alice@example.test", "Bob@Example.test", "alice+tag@example.test"}, Helo: "remote.example"}, raw)
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
	var segs [][]storage.Segment
	for _, u := range []core.User{a, b} {
		ms, err := e.svc.ListMessages(ctx, u.ID, inbox(t, e.svc, u).ID, core.ListQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 {
			t.Fatalf("%s: got %d messages, want 1", u.Address, len(ms))
		}
		got, err := e.svc.ReadMessage(ctx, ms[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(got, raw) || !bytes.HasPrefix(got, []byte("Return-Path: <x@remote.example>\r\nReceived: from remote.example")) {
			t.Errorf("%s: stored message does not end with the original or lacks trace headers:\n%s", u.Address, got[:200])
		}
		if ms[0].Subject != "hello both" {
			t.Errorf("subject: got %q, want %q", ms[0].Subject, "hello both")
		}
		segs = append(segs, ms[0].Segments)
	}
	for i, s := range segs[0] {
		if segs[1][i] != s {
			t.Errorf("segment %d differs between recipients: %v vs %v", i, s, segs[1][i])
		}
		if n, _ := e.store.BlobRefs(ctx, s.Hash); n != 2 {
			t.Errorf("segment %d refcount: got %d, want 2", i, n)
		}
	}
}

func TestAttachmentDedupAndCollection(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := coretest.User(t, e.svc, "x@example.test")
	att := bytes.Repeat([]byte("0123456789abcdef"), 1024) // 16 KiB
	const n = 5
	for i := 0; i < n; i++ {
		raw := withAttachment(fmt.Sprintf("copy %d", i), att)
		if err := e.svc.Deliver(ctx, core.Envelope{MailFrom: "a@remote.example", Recipients: []string{u.Address}}, raw); err != nil {
			t.Fatal(err)
		}
	}
	mb := inbox(t, e.svc, u)
	ms, err := e.svc.ListMessages(ctx, u.ID, mb.ID, core.ListQuery{Limit: 10})
	if err != nil || len(ms) != n {
		t.Fatalf("list: %v, %d messages", err, len(ms))
	}
	// Find the shared segment: the one present in every message.
	count := map[string]int{}
	for _, m := range ms {
		for _, s := range m.Segments {
			count[s.Hash]++
		}
		if !m.HasAttachments {
			t.Errorf("message %d: HasAttachments false", m.ID)
		}
	}
	shared := ""
	for h, c := range count {
		if c == n {
			shared = h
		}
	}
	if shared == "" {
		t.Fatalf("no segment shared by all %d messages: %v", n, count)
	}
	if refs, _ := e.store.BlobRefs(ctx, shared); refs != n {
		t.Fatalf("shared blob refcount: got %d, want %d", refs, n)
	}
	// Attachment content round-trips.
	atts, err := e.svc.Attachments(ctx, u.ID, ms[0].ID)
	if err != nil || len(atts) != 1 {
		t.Fatalf("attachments: %v %v", atts, err)
	}
	_, data, err := e.svc.AttachmentContent(ctx, u.ID, ms[0].ID, atts[0].Part)
	if err != nil || !bytes.Equal(data, att) {
		t.Fatalf("attachment content: err %v, equal %v", err, bytes.Equal(data, att))
	}
	for i, m := range ms {
		if _, err := e.svc.Expunge(ctx, u.ID, mb.ID, []int64{m.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CollectBlobs(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		want := int64(n - i - 1)
		if refs, _ := e.store.BlobRefs(ctx, shared); refs != want {
			t.Fatalf("after %d expunges refcount: got %d, want %d", i+1, refs, want)
		}
		if _, err := e.svc.ReadMessage(ctx, core.Message{Segments: []storage.Segment{{Hash: shared}}}); (err == nil) != (want > 0) {
			t.Fatalf("after %d expunges: blob readable = %v, want %v", i+1, err == nil, want > 0)
		}
	}
}

func TestConcurrentDeliveriesAllCommitted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := coretest.User(t, e.svc, "many@example.test")
	const workers, per = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*per)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				raw := simpleMessage("s@remote.example", u.Address, fmt.Sprintf("w%d m%d", w, i), strings.Repeat("x", 2000))
				if err := e.svc.Deliver(ctx, core.Envelope{MailFrom: "s@remote.example", Recipients: []string{u.Address}}, raw); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mb := inbox(t, e.svc, u)
	if mb.Total != workers*per || mb.Unread != workers*per {
		t.Fatalf("counts: got total %d unread %d, want %d", mb.Total, mb.Unread, workers*per)
	}
	ms, err := e.svc.MessagesByUID(ctx, u.ID, mb.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].UID <= ms[i-1].UID {
			t.Fatalf("UIDs not increasing: %d then %d", ms[i-1].UID, ms[i].UID)
		}
	}
}

func TestDeliverRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	coretest.User(t, e.svc, "bob@example.test")
	cases := []struct {
		name  string
		rcpts []string
		raw   []byte
		want  error
	}{
		{"unknown local user", []string{"nobody@example.test"}, simpleMessage("a@b.c", "x", "s", "b"), core.ErrNoSuchUser},
		{"foreign domain", []string{"someone@elsewhere.example"}, simpleMessage("a@b.c", "x", "s", "b"), core.ErrRelayDenied},
		{"no recipients", nil, simpleMessage("a@b.c", "x", "s", "b"), core.ErrInvalid},
		{"too big", []string{"bob@example.test"}, bytes.Repeat([]byte("a"), 51<<20), core.ErrTooBig},
	}
	for _, c := range cases {
		err := e.svc.Deliver(ctx, core.Envelope{MailFrom: "a@b.c", Recipients: c.rcpts}, c.raw)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	u, _ := e.svc.LookupUser(ctx, "bob@example.test")
	if mb := inbox(t, e.svc, u); mb.Total != 0 {
		t.Errorf("refused mail was stored: INBOX has %d messages", mb.Total)
	}
}

func TestCorruptMessageIsStoredAndListed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := coretest.User(t, e.svc, "c@example.test")
	corrupt := [][]byte{
		[]byte("no header separator at all, just text"),
		[]byte("Subject: =?utf-8?B?broken\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n"),
		{0xff, 0xfe, 0x00, '\n', '\n', 0x80},
		[]byte("Content-Type: text/plain; charset=unknown-8bit\n\nbare LF body \xe9\n"),
	}
	for i, raw := range corrupt {
		if err := e.svc.Deliver(ctx, core.Envelope{MailFrom: "", Recipients: []string{u.Address}}, raw); err != nil {
			t.Fatalf("corrupt message %d refused: %v", i, err)
		}
	}
	mb := inbox(t, e.svc, u)
	ms, err := e.svc.MessagesByUID(ctx, u.ID, mb.ID, 1, 0)
	if err != nil || len(ms) != len(corrupt) {
		t.Fatalf("got %d messages (%v), want %d", len(ms), err, len(corrupt))
	}
	for i, m := range ms {
		got, err := e.svc.ReadMessage(ctx, m)
		if err != nil || !bytes.HasSuffix(got, corrupt[i]) {
			t.Errorf("message %d not read back byte for byte (err %v)", i, err)
		}
	}
}

func TestUsersAndDomainsBadInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	coretest.User(t, e.svc, "dup@example.test")
	cases := []struct {
		name, addr, pw string
		want           error
	}{
		{"duplicate", "DUP@example.test", "longenough", core.ErrExists},
		{"no at", "nodomain", "longenough", core.ErrInvalid},
		{"empty local", "@example.test", "longenough", core.ErrInvalid},
		{"short password", "new@example.test", "short", core.ErrInvalid},
		{"spaces", "a b@example.test", "longenough", core.ErrInvalid},
	}
	for _, c := range cases {
		if _, err := e.svc.CreateUser(ctx, c.addr, c.pw); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	us, _ := e.svc.ListUsers(ctx)
	if len(us) != 1 {
		t.Errorf("users after bad input: got %d, want 1", len(us))
	}
	if _, err := e.svc.Authenticate(ctx, "dup@example.test", "wrong password", "127.0.0.1:1"); !errors.Is(err, core.ErrAuthFailed) {
		t.Errorf("wrong password: got %v, want ErrAuthFailed", err)
	}
	if _, err := e.svc.Authenticate(ctx, "Dup@Example.test", coretest.Password, "127.0.0.1:1"); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := e.svc.AddDomain(ctx, "bad domain"); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("bad domain: got %v, want ErrInvalid", err)
	}
}

func TestEventsOnDeliveryAndFlags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := coretest.User(t, e.svc, "ev@example.test")
	sub := e.svc.Subscribe(u.ID)
	defer sub.Close()
	if err := e.svc.Deliver(ctx, core.Envelope{Recipients: []string{u.Address}}, simpleMessage("a@b.c", u.Address, "s", "b")); err != nil {
		t.Fatal(err)
	}
	ev := next(t, sub)
	if ev.Kind != core.EventNew || ev.UID != 1 {
		t.Fatalf("got %+v, want a new event for UID 1", ev)
	}
	if _, err := e.svc.UpdateFlags(ctx, u.ID, ev.MailboxID, []int64{ev.MessageID}, core.FlagsAdd, []string{`\Seen`}); err != nil {
		t.Fatal(err)
	}
	ev2 := next(t, sub)
	if ev2.Kind != core.EventFlags || ev2.ModSeq <= ev.ModSeq {
		t.Fatalf("got %+v, want a flags event with a higher modseq than %d", ev2, ev.ModSeq)
	}
	changes, err := e.svc.ChangesSince(ctx, u.ID, ev.ModSeq, 100)
	if err != nil || len(changes) != 1 || changes[0].Kind != storage.ChangeFlags {
		t.Fatalf("changes since %d: %+v %v", ev.ModSeq, changes, err)
	}
}

func next(t *testing.T, sub *core.Subscription) core.Event {
	t.Helper()
	select {
	case ev := <-sub.C:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return core.Event{}
	}
}

func TestSubmitLocalAndRemote(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := coretest.User(t, e.svc, "alice@example.test")
	bob := coretest.User(t, e.svc, "bob@example.test")
	raw := simpleMessage("Alice <alice@example.test>", "bob@example.test, carol@remote.example", "hi", "hello")
	env := core.Envelope{MailFrom: alice.Address, Recipients: []string{bob.Address, "carol@remote.example"}, AuthUser: alice.Address, Proto: "ESMTPSA"}
	res, err := e.svc.Submit(ctx, alice, env, raw)
	if err != nil {
		t.Fatal(err)
	}
	if res.Local != 1 || res.Remote != 1 || res.QueueID == 0 || res.SentID == 0 {
		t.Fatalf("result: %+v", res)
	}
	sent, _ := e.svc.GetMailboxByRole(ctx, alice.ID, storage.RoleSent)
	if sent.Total != 1 {
		t.Errorf("Sent has %d messages, want 1", sent.Total)
	}
	if mb := inbox(t, e.svc, bob); mb.Total != 1 {
		t.Errorf("bob's INBOX has %d messages, want 1", mb.Total)
	}
	it, err := e.svc.GetQueueItem(ctx, res.QueueID)
	if err != nil || it.State != storage.QueueQueued || len(it.Recipients) != 1 || it.Recipients[0] != "carol@remote.example" {
		t.Fatalf("queue item: %+v %v", it, err)
	}
	body, err := e.svc.ReadQueueMessage(ctx, it)
	if err != nil || !bytes.HasSuffix(body, raw) {
		t.Fatalf("queued bytes do not end with the message: %v", err)
	}
	// Sending as someone else is refused.
	forged := simpleMessage("bob@example.test", "carol@remote.example", "forged", "x")
	_, err = e.svc.Submit(ctx, alice, core.Envelope{MailFrom: alice.Address, Recipients: []string{"carol@remote.example"}}, forged)
	if !errors.Is(err, core.ErrSenderNotAllowed) {
		t.Errorf("forged From: got %v, want ErrSenderNotAllowed", err)
	}
	_, err = e.svc.Submit(ctx, alice, core.Envelope{MailFrom: bob.Address, Recipients: []string{"carol@remote.example"}}, raw)
	if !errors.Is(err, core.ErrSenderNotAllowed) {
		t.Errorf("forged envelope: got %v, want ErrSenderNotAllowed", err)
	}
}

func TestIsolationBetweenUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := coretest.User(t, e.svc, "a@example.test")
	b := coretest.User(t, e.svc, "b@example.test")
	if err := e.svc.Deliver(ctx, core.Envelope{Recipients: []string{b.Address}}, simpleMessage("x@y.z", b.Address, "secret", "for b only")); err != nil {
		t.Fatal(err)
	}
	bInbox := inbox(t, e.svc, b)
	bMsgs, _ := e.svc.MessagesByUID(ctx, b.ID, bInbox.ID, 1, 0)
	id := bMsgs[0].ID
	if _, err := e.svc.GetMessage(ctx, a.ID, id); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("GetMessage of another user's id: got %v, want ErrNotFound", err)
	}
	if _, err := e.svc.GetMailbox(ctx, a.ID, bInbox.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("GetMailbox of another user's id: got %v, want ErrNotFound", err)
	}
	if ms, err := e.svc.MessagesByUID(ctx, a.ID, bInbox.ID, 1, 0); err == nil && len(ms) > 0 {
		t.Errorf("MessagesByUID on another user's mailbox returned %d rows", len(ms))
	}
	if ms, _ := e.svc.Search(ctx, a.ID, core.SearchQuery{Text: "secret", Limit: 10}); len(ms) != 0 {
		t.Errorf("search found another user's mail: %d rows", len(ms))
	}
	aInbox := inbox(t, e.svc, a)
	if _, err := e.svc.Move(ctx, a.ID, bInbox.ID, []int64{id}, aInbox.ID); err == nil {
		t.Errorf("moving another user's message succeeded")
	}
	if ms, _ := e.svc.Move(ctx, a.ID, aInbox.ID, []int64{id}, aInbox.ID); len(ms) != 0 {
		t.Errorf("moving another user's message id from own mailbox moved %d", len(ms))
	}
	if _, err := e.svc.Append(ctx, a.ID, bInbox.ID, nil, time.Time{}, []byte("Subject: x\r\n\r\ny")); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("append into another user's mailbox: got %v, want ErrNotFound", err)
	}
	if ms, _ := e.svc.MessagesByUID(ctx, b.ID, bInbox.ID, 1, 0); len(ms) != 1 {
		t.Errorf("b's INBOX changed: %d messages", len(ms))
	}
}
