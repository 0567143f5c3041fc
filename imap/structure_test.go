package imap

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/sqlite"
)

// countingStore counts reads of message bytes kept in the database.
type countingStore struct {
	storage.Store
	reads atomic.Int64
}

func (c *countingStore) ReadBlob(ctx context.Context, hash string) ([]byte, error) {
	c.reads.Add(1)
	return c.Store.ReadBlob(ctx, hash)
}

// newCountingEnv is newEnv on a store that counts blob reads; core's blob
// cache is off so every read reaches the store.
func newCountingEnv(t *testing.T) (*env, *countingStore) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "stamp.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	svc := coretest.New(t, coretest.Options{Dir: dir, Deps: core.Deps{Store: cs}, Config: core.Config{CacheBytes: -1}})
	srv := New(Options{Core: svc, AllowInsecureAuth: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &env{svc: svc, store: cs, srv: srv, addr: ln.Addr().String()}, cs
}

const nestedMsg = "From: \"Ann B\" <ann@remote.example>, team: bob@remote.example, carl@remote.example (Carl);\r\n" +
	"To: alice@example.test\r\nSubject: =?utf-8?q?caf=C3=A9?= nested\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\n" +
	"Message-ID: <n1@remote.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
	"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Language: en\r\n\r\nhello\r\n" +
	"--b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=in.eml\r\n\r\n" +
	"From: inner@remote.example\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n" +
	"--b2\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b2\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--b2--\r\n" +
	"--b1--\r\n"

// TestFetchStructureStored: ENVELOPE, BODY and BODYSTRUCTURE (message/rfc822
// nesting included) come from the structure stored at delivery without
// reading the message; mail without one (as before migration 11) gets the
// same answer from its bytes, and its structure is stored on the way.
func TestFetchStructureStored(t *testing.T) {
	e, cs := newCountingEnv(t)
	u := coretest.User(t, e.svc, "alice@example.test")
	for range 3 {
		e.deliver(t, u.Address, nestedMsg)
	}
	rc := e.raw(t)
	rc.ok("LOGIN alice@example.test %q", coretest.Password)
	rc.ok("SELECT INBOX")
	before := cs.reads.Load()
	stored := rc.ok("FETCH 1:* (UID FLAGS ENVELOPE BODY BODYSTRUCTURE)")
	if n := cs.reads.Load() - before; n != 0 {
		t.Errorf("FETCH ENVELOPE/BODY/BODYSTRUCTURE read %d blobs, want 0", n)
	}
	if len(stored) != 3 {
		t.Fatalf("got %d FETCH lines: %q", len(stored), stored)
	}
	want := []string{
		`ENVELOPE ("Tue, 1 Dec 2026 10:00:00 +0100" "=?utf-8?q?caf=C3=A9?= nested" (("Ann B" NIL "ann" "remote.example")(NIL NIL "team" NIL)(NIL NIL "bob" "remote.example")("Carl" NIL "carl" "remote.example")(NIL NIL NIL NIL))`,
		`("message" "rfc822" NIL NIL NIL "7bit" `,
		`(NIL "inner" ((NIL NIL "inner" "remote.example")) ((NIL NIL "inner" "remote.example")) ((NIL NIL "inner" "remote.example")) NIL NIL NIL NIL NIL) (("text" "plain" NIL NIL NIL "7bit" 5 1)("text" "html" NIL NIL NIL "7bit" 8 1) "alternative") 13)`,
		`("attachment" ("filename" "in.eml"))`,
		`"mixed" ("boundary" "b1") NIL NIL NIL)`,
	}
	for _, w := range want {
		if !strings.Contains(stored[0], w) {
			t.Errorf("FETCH line lacks %s\n in %s", w, stored[0])
		}
	}

	// Clear the stored structures: the answer must not change.
	ms, err := e.svc.MessagesByUID(context.Background(), u.ID, inboxID(t, e, u.ID), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var clear []storage.StructureRow
	for _, m := range ms {
		clear = append(clear, storage.StructureRow{ID: m.ID})
	}
	if err := cs.SetStructures(context.Background(), u.ID, clear); err != nil {
		t.Fatal(err)
	}
	before = cs.reads.Load()
	computed := rc.ok("FETCH 1:* (UID FLAGS ENVELOPE BODY BODYSTRUCTURE)")
	if cs.reads.Load() == before {
		t.Error("FETCH of mail without a stored structure read nothing: the counter does not count")
	}
	if strings.Join(computed, "\n") != strings.Join(stored, "\n") {
		t.Errorf("computed from bytes:\n%s\nstored:\n%s", computed, stored)
	}
	if miss, _ := cs.MissingStructures(context.Background(), 0, 0, 10); len(miss) != 0 {
		t.Errorf("%d messages still without a structure after FETCH", len(miss))
	}

	// go-imap's client parses the same answer.
	c := e.client(t, u.Address, nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	bufs, err := c.Fetch(imap.SeqSetNum(2), &imap.FetchOptions{Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true}}).Collect()
	if err != nil || len(bufs) != 1 {
		t.Fatalf("imapclient FETCH: %v, %d", err, len(bufs))
	}
	mp, ok := bufs[0].BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || len(mp.Children) != 2 || bufs[0].Envelope.Subject != "=?utf-8?q?caf=C3=A9?= nested" && bufs[0].Envelope.Subject != "café nested" {
		t.Fatalf("imapclient: structure %#v, envelope %+v", bufs[0].BodyStructure, bufs[0].Envelope)
	}
	inner, ok := mp.Children[1].(*imap.BodyStructureSinglePart)
	if !ok || inner.MessageRFC822 == nil || inner.MessageRFC822.Envelope.Subject != "inner" {
		t.Fatalf("message/rfc822 part: %#v", mp.Children[1])
	}
	if alt, ok := inner.MessageRFC822.BodyStructure.(*imap.BodyStructureMultiPart); !ok || alt.Subtype != "alternative" || len(alt.Children) != 2 {
		t.Fatalf("inner structure: %#v", inner.MessageRFC822.BodyStructure)
	}
}

func inboxID(t *testing.T, e *env, userID int64) int64 {
	t.Helper()
	mb, err := e.svc.GetMailboxByName(context.Background(), userID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	return mb.ID
}
