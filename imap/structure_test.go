package imap

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestPythonStructureAndSearch: Python's imaplib reads the stored ENVELOPE
// and BODYSTRUCTURE and runs the header, date and text keys that storage
// answers (short needles included).
func TestPythonStructureAndSearch(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: python3 not installed")
	}
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "alice@example.test")
	e.deliver(t, "alice@example.test", nestedMsg)
	e.deliver(t, "alice@example.test", "From: Zoë <zoe@remote.example>\r\nTo: alice@example.test\r\nSubject: 会議の議事録\r\n"+
		"Date: Wed, 2 Dec 2026 23:30:00 -0800\r\nX-Ticket: T-42\r\n\r\nplain body about quarterly numbers\r\n")
	host, port, _ := strings.Cut(e.addr, ":")
	script := `
import imaplib, sys
host, port, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = imaplib.IMAP4(host, port)
m.login("alice@example.test", pw)
typ, data = m.select("INBOX")
assert typ == "OK" and data == [b"2"], data
typ, data = m.fetch("1", "(ENVELOPE BODYSTRUCTURE)")
line = data[0] if isinstance(data[0], bytes) else b"".join(x if isinstance(x, bytes) else x[0] + x[1] for x in data)
assert b'"<n1@remote.example>"' in line, line
assert b'("message" "rfc822" NIL NIL NIL "7bit" 186 (NIL "inner"' in line, line
assert b'"alternative" ("boundary" "b2")' in line, line
def search(*keys):
    typ, data = m.search("UTF-8", *keys)
    assert typ == "OK", (keys, typ, data)
    return data[0].decode()
assert search("FROM", "carl@remote") == "1", search("FROM", "carl@remote")
assert search("FROM", "zo") == "2"
assert search("HEADER", "X-Ticket", "\"\"") == "2"
assert search("HEADER", "X-Ticket", "t-4") == "2"
assert search("SENTON", "3-Dec-2026") == ""
assert search("SENTON", "2-Dec-2026") == "2"
assert search("SENTBEFORE", "2-Dec-2026") == "1"
assert search("OR", "SUBJECT", "inner", "BODY", "quarterl") == "2"
# Short needles scan the folder's indexed text; message 1 has "plain"
# only inside its attached message (attachments are not indexed).
assert search("BODY", "pl") == "2"
assert search("BODY", "ell") == "1"
assert search("NOT", "TEXT", "hello") == "2"
m.literal = "議事".encode()
assert search("SUBJECT") == "2"
m.logout()
print("ok")
`
	path := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, path, host, port, coretest.Password).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("python imaplib: %v\n%s", err, out)
	}
}
