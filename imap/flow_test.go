package imap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/stamp-mail/stamp/core/coretest"
)

func TestStoreMoveJunkTraining(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	u := coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", plainMsg)
	e.deliver(t, "bob@example.test", attachMsg)
	c := e.client(t, "bob@example.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "Later"}}, nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !hasImapFlag(msgs[0].Flags, imap.FlagFlagged) || !hasImapFlag(msgs[0].Flags, "Later") {
		t.Fatalf("STORE +FLAGS: got %v, want \\Flagged and Later", msgs)
	}
	mv, err := c.Move(imap.UIDSetNum(2), "Junk").Wait()
	if err != nil {
		t.Fatalf("UID MOVE: %v", err)
	}
	if mv.DestUIDs.String() != "1" || mv.SourceUIDs.String() != "2" {
		t.Errorf("COPYUID: got %v -> %v, want 2 -> 1", mv.SourceUIDs, mv.DestUIDs)
	}
	if n := c.Mailbox().NumMessages; n != 1 {
		t.Errorf("after MOVE: got %d messages, want 1", n)
	}
	tr, err := e.store.TrainingSince(context.Background(), u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 1 || !tr[0].Spam {
		t.Errorf("training after move to Junk: got %+v, want one spam row", tr)
	}
	// MOVE into the selected mailbox itself gives the message a new UID
	// (as Dovecot does; imaptest's move group checks it).
	if d, err := c.Move(imap.SeqSetNum(1), "INBOX").Wait(); err != nil || d.SourceUIDs.String() == d.DestUIDs.String() {
		t.Errorf("MOVE into the selected mailbox: got %+v, %v; want OK with a new UID", d, err)
	}
	if _, err := c.Move(imap.SeqSetNum(1), "Nope").Wait(); !isCode(err, imap.ResponseCodeTryCreate) {
		t.Errorf("MOVE to a missing mailbox: got %v, want NO [TRYCREATE]", err)
	}
}

func hasImapFlag(fs []imap.Flag, f imap.Flag) bool {
	for _, x := range fs {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}

func isCode(err error, code imap.ResponseCode) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Code == code
}

func TestAppendCopyExpunge(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	c := e.client(t, "bob@example.test", nil)
	date := time.Date(2025, 12, 24, 18, 30, 0, 0, time.FixedZone("", 3600))
	for i := 0; i < 3; i++ {
		msg := fmt.Sprintf("From: bob@example.test\r\nSubject: draft %d\r\n\r\nbody %d\r\n", i, i)
		cmd := c.Append("Drafts", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft, imap.FlagSeen}, Time: date})
		cmd.Write([]byte(msg))
		cmd.Close()
		data, err := cmd.Wait()
		if err != nil {
			t.Fatalf("APPEND: %v", err)
		}
		if data.UID != imap.UID(i+1) || data.UIDValidity == 0 {
			t.Errorf("APPENDUID: got %+v, want UID %d", data, i+1)
		}
	}
	cmd := c.Append("Nope", 3, nil)
	cmd.Write([]byte("a\r\n"))
	cmd.Close()
	if _, err := cmd.Wait(); !isCode(err, imap.ResponseCodeTryCreate) {
		t.Errorf("APPEND to a missing mailbox: got %v, want NO [TRYCREATE]", err)
	}
	if _, err := c.Select("Drafts", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true, InternalDate: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !msgs[0].InternalDate.Equal(date) || !hasImapFlag(msgs[0].Flags, imap.FlagDraft) || !hasImapFlag(msgs[0].Flags, imap.FlagSeen) {
		t.Errorf("appended message: got date %v flags %v, want %v and \\Draft \\Seen", msgs[0].InternalDate, msgs[0].Flags, date)
	}
	cp, err := c.Copy(imap.SeqSetNum(1, 2), "Archive").Wait()
	if err != nil {
		t.Fatalf("COPY: %v", err)
	}
	if cp.DestUIDs.String() != "1:2" {
		t.Errorf("COPYUID dest: got %v, want 1:2", cp.DestUIDs)
	}
	if err := c.Store(imap.SeqSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	gone, err := c.UIDExpunge(imap.UIDSetNum(2)).Collect()
	if err != nil || len(gone) != 1 || gone[0] != 2 {
		t.Fatalf("UID EXPUNGE 2: got %v %v, want seq 2", gone, err)
	}
	gone, err = c.Expunge().Collect()
	if err != nil || len(gone) != 2 {
		t.Fatalf("EXPUNGE: got %v %v, want two", gone, err)
	}
	st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || *st.NumMessages != 2 {
		t.Fatalf("STATUS Archive: got %v %v, want 2 messages", st, err)
	}
}

func TestIdleSeesCoreChanges(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", plainMsg)
	exists := make(chan uint32, 10)
	expunges := make(chan uint32, 10)
	flags := make(chan []imap.Flag, 10)
	c := e.client(t, "bob@example.test", &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
		Expunge: func(seq uint32) { expunges <- seq },
		Fetch: func(m *imapclient.FetchMessageData) {
			if b, err := m.Collect(); err == nil {
				flags <- b.Flags
			}
		},
	})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	e.deliver(t, "bob@example.test", attachMsg)
	select {
	case n := <-exists:
		if n != 2 {
			t.Errorf("IDLE EXISTS: got %d, want 2", n)
		}
	case <-time.After(testTimeout):
		t.Fatal("IDLE: no EXISTS after a delivery")
	}
	// Another session changes flags and expunges.
	other := e.client(t, "bob@example.test", nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-flags:
		if !hasImapFlag(f, imap.FlagFlagged) {
			t.Errorf("IDLE FETCH FLAGS: got %v, want \\Flagged", f)
		}
	case <-time.After(testTimeout):
		t.Fatal("IDLE: no FETCH FLAGS after another session's STORE")
	}
	if _, err := other.Move(imap.SeqSetNum(1), "Archive").Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case seq := <-expunges:
		if seq != 1 {
			t.Errorf("IDLE EXPUNGE: got %d, want 1", seq)
		}
	case <-time.After(testTimeout):
		t.Fatal("IDLE: no EXPUNGE after another session's MOVE")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestRecentRev1(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", plainMsg)
	first := e.raw(t)
	first.ok("LOGIN bob@example.test %q", coretest.Password)
	if l := first.ok("SELECT INBOX"); len(grep(l, "* 1 RECENT")) != 1 {
		t.Fatalf("first SELECT: got %q, want * 1 RECENT", l)
	}
	if l := first.ok("FETCH 1 (FLAGS)"); len(grep(l, `\Recent`)) != 1 {
		t.Errorf("FETCH FLAGS: got %q, want \\Recent", l)
	}
	if l := first.ok("SEARCH RECENT"); len(grep(l, "* SEARCH 1")) != 1 {
		t.Errorf("SEARCH RECENT: got %q, want 1", l)
	}
	second := e.raw(t)
	second.ok("LOGIN bob@example.test %q", coretest.Password)
	if l := second.ok("SELECT INBOX"); len(grep(l, "* 0 RECENT")) != 1 {
		t.Errorf("second SELECT: got %q, want * 0 RECENT", l)
	}
	e.deliver(t, "bob@example.test", attachMsg)
	// Both learn about the new message; only one gets it as recent.
	l1 := first.ok("NOOP")
	l2 := second.ok("NOOP")
	// The first to learn claims it: 2 recent there (RECENT counts all), 0 here.
	if len(grep(l1, "* 2 EXISTS")) != 1 || len(grep(l2, "* 2 EXISTS")) != 1 || len(grep(l1, "* 2 RECENT")) != 1 || len(grep(l2, "* 0 RECENT")) != 1 {
		t.Errorf("NOOP after delivery: got %q and %q, want EXISTS in both, 2 RECENT in the first, 0 in the second", l1, l2)
	}
	// IMAP4rev2 sessions see no \Recent.
	third := e.raw(t)
	third.ok("LOGIN bob@example.test %q", coretest.Password)
	third.ok("ENABLE IMAP4rev2")
	if l := third.ok("SELECT INBOX"); len(grep(l, "RECENT")) != 0 || len(grep(l, "* LIST")) != 1 {
		t.Errorf("rev2 SELECT: got %q, want no RECENT and a LIST", l)
	}
}

func TestIsolation(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "a@example.test")
	coretest.User(t, e.svc, "b@example.test")
	e.deliver(t, "b@example.test", "From: x@remote.example\r\nSubject: secret plans\r\n\r\nzebra confidential\r\n")
	cb := e.client(t, "b@example.test", nil)
	if err := cb.Create("Private", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	e.deliver(t, "a@example.test", plainMsg)
	rc := e.raw(t)
	rc.ok("LOGIN a@example.test %q", coretest.Password)
	names := []string{"Private", "../Private", "INBOX/../Private", "../b@example.test/INBOX", "b@example.test", "b@example.test/INBOX", "*", "%", "/Private", "INBOX/..", "~b/INBOX"}
	for _, n := range names {
		q := fmt.Sprintf("%q", n)
		for _, cmd := range []string{"SELECT " + q, "EXAMINE " + q, "STATUS " + q + " (MESSAGES)", "DELETE " + q, "SUBSCRIBE " + q} {
			if lines, st := rc.cmd("%s", cmd); strings.Contains(st, " OK") {
				t.Errorf("%s as user a: got %q (%q), want NO", cmd, st, lines)
			}
		}
		tag := rc.send("APPEND %s {3}", q)
		if l := rc.line(); !strings.HasPrefix(l, tag+" NO") {
			if strings.HasPrefix(l, "+") {
				fmt.Fprintf(rc.c, "a\r\n\r\n")
				_, l = rc.until(tag)
			}
			if !strings.Contains(l, "NO") {
				t.Errorf("APPEND %s as user a: got %q, want NO", q, l)
			}
		}
	}
	for _, pat := range []string{"*", "%", "../*", "b@example.test/*", "~b/*"} {
		lines := rc.ok("LIST \"\" %q", pat)
		if len(grep(lines, "Private")) != 0 {
			t.Errorf("LIST %q as user a: got %q, want no Private", pat, lines)
		}
	}
	rc.ok("SELECT INBOX")
	for _, cmd := range []string{"UID FETCH 1:* (UID BODY.PEEK[])", "FETCH 1:* (BODY.PEEK[])", "UID FETCH 1:4294967295 (BODY.PEEK[TEXT])"} {
		lines := rc.ok("%s", cmd)
		if len(grep(lines, "zebra")) != 0 || len(grep(lines, "FETCH")) != 1 {
			t.Errorf("%s as user a: got %q, want only a's one message", cmd, lines)
		}
	}
	for _, cmd := range []string{"SEARCH BODY zebra", "SEARCH TEXT confidential", "UID SEARCH SUBJECT secret"} {
		if lines := rc.ok("%s", cmd); len(lines) != 1 || strings.TrimSpace(lines[0]) != "* SEARCH" {
			t.Errorf("%s as user a: got %q, want an empty result", cmd, lines)
		}
	}
	if _, st := rc.cmd("UID COPY 1 Private"); !strings.Contains(st, "TRYCREATE") {
		t.Errorf("COPY into b's folder name: got %q, want NO [TRYCREATE]", st)
	}
	// b's message is intact.
	st, err := cb.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || *st.NumMessages != 1 {
		t.Errorf("b's INBOX: got %v %v, want 1 message", st, err)
	}
}

// TestThunderbirdSession replays what Thunderbird sends on connect.
func TestThunderbirdSession(t *testing.T) {
	e := newEnv(t, Options{})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", plainMsg)
	e.deliver(t, "bob@example.test", attachMsg)
	rc := e.raw(t)
	rc.ok("CAPABILITY")
	rc.starttls(e.tls)
	rc.ok("CAPABILITY")
	rc.ok("LOGIN \"bob@example.test\" %q", coretest.Password)
	rc.ok("ENABLE UTF8=ACCEPT")
	rc.ok("NAMESPACE")
	lines := rc.ok("LIST (SPECIAL-USE) \"\" \"*\"")
	if len(grep(lines, `\Sent`)) != 1 || len(grep(lines, `\Trash`)) != 1 {
		t.Errorf("LIST (SPECIAL-USE): got %q", lines)
	}
	lines = rc.ok("LIST \"\" \"*\" RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES UNSEEN SIZE))")
	if len(grep(lines, "* STATUS INBOX (MESSAGES 2 UNSEEN 2 SIZE")) != 1 {
		t.Errorf("LIST RETURN (STATUS): got %q", lines)
	}
	rc.ok("LSUB \"\" \"*\"")
	rc.ok("SELECT \"INBOX\"")
	if l := rc.ok("UID FETCH 1:* (FLAGS)"); len(l) != 2 {
		t.Errorf("UID FETCH 1:* (FLAGS): got %q, want two", l)
	}
	l := rc.ok("UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])")
	if len(grep(l, "Subject: Lunch plans")) != 1 {
		t.Errorf("header fetch: got %q", l)
	}
	tag := rc.send("IDLE")
	if l := rc.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("IDLE: got %q, want +", l)
	}
	e.deliver(t, "bob@example.test", "From: z@remote.example\r\nSubject: third\r\n\r\nhi\r\n")
	if l := rc.line(); l != "* 3 EXISTS" {
		t.Errorf("during IDLE: got %q, want * 3 EXISTS", l)
	}
	fmt.Fprintf(rc.c, "DONE\r\n")
	if _, st := rc.until(tag); !strings.Contains(st, "OK") {
		t.Fatalf("IDLE end: got %q", st)
	}
	msg := "From: bob@example.test\r\nTo: z@remote.example\r\nSubject: re\r\n\r\nok\r\n"
	tag = rc.send("APPEND \"Sent\" (\\Seen) {%d}", len(msg))
	if l := rc.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("APPEND: got %q, want +", l)
	}
	fmt.Fprintf(rc.c, "%s\r\n", msg)
	if _, st := rc.until(tag); !strings.Contains(st, "OK [APPENDUID") {
		t.Errorf("APPEND: got %q, want OK [APPENDUID ...]", st)
	}
	lines = rc.ok("UID MOVE 1 \"Trash\"")
	if len(grep(lines, "COPYUID")) != 1 || len(grep(lines, "* 1 EXPUNGE")) != 1 {
		t.Errorf("UID MOVE: got %q, want COPYUID and EXPUNGE", lines)
	}
	rc.ok("UID STORE 2 +FLAGS.SILENT (\\Seen)")
	rc.ok("NOOP")
	rc.ok("LOGOUT")
}

// TestPythonImaplib drives the server with Python's imaplib, an independent client.
func TestPythonImaplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", attachMsg)
	host, port, _ := strings.Cut(e.addr, ":")
	script := `
import imaplib, sys, ssl
host, port, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = imaplib.IMAP4(host, port)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m.starttls(ssl_context=ctx)
m.login("bob@example.test", pw)
typ, data = m.list()
assert typ == "OK" and any(b"\\Junk" in d for d in data), data
typ, data = m.select("INBOX")
assert typ == "OK" and data == [b"1"], data
typ, data = m.fetch("1", "(BODY.PEEK[2])")
assert typ == "OK" and data[0][1] == b"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", data
typ, data = m.search(None, "FROM", "carol")
assert data == [b"1"], data
typ, data = m.search(None, "UNSEEN")
assert data == [b"1"], data
typ, data = m.store("1", "+FLAGS", "(\\Seen)")
assert typ == "OK", data
typ, data = m.append("Drafts", "(\\Draft)", imaplib.Time2Internaldate(1700000000), b"Subject: py\r\n\r\nhello\r\n")
assert typ == "OK" and b"APPENDUID" in data[0], data
typ, data = m.uid("COPY", "1", "Archive")
assert typ == "OK", data
typ, data = m.status("Archive", "(MESSAGES UNSEEN)")
assert b"MESSAGES 1" in data[0], data
typ, data = m.create("py/sub")
assert typ == "OK", data
typ, data = m.rename("py", "py2")
assert typ == "OK", data
typ, data = m.lsub()
assert typ == "OK", data
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

func TestShutdownSaysBye(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	var clients []*raw
	for i := 0; i < 3; i++ {
		rc := e.raw(t)
		rc.ok("LOGIN bob@example.test %q", coretest.Password)
		rc.ok("SELECT INBOX")
		clients = append(clients, rc)
	}
	clients[0].send("IDLE")
	clients[0].line()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()
	for i, rc := range clients {
		if l := rc.line(); !strings.HasPrefix(l, "* BYE") {
			t.Errorf("client %d: got %q, want * BYE", i, l)
		}
	}
	wg.Wait()
	if n := e.srv.count(); n != 0 {
		t.Errorf("sessions after Shutdown: got %d, want 0", n)
	}
}

func TestMaxConnections(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true, MaxConnections: 1})
	e.raw(t)
	c, err := netDial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 200)
	c.SetReadDeadline(time.Now().Add(testTimeout))
	n, _ := c.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "* BYE") {
		t.Errorf("connection over the limit: got %q, want * BYE", buf[:n])
	}
}

func TestImplicitTLS(t *testing.T) {
	dir := t.TempDir()
	e := newEnvIn(t, dir, Options{})
	coretest.User(t, e.svc, "bob@example.test")
	stls, ctls := selfSigned(t)
	srv := New(Options{Core: e.svc, ImplicitTLS: true})
	ln, err := tlsListen(stls)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	c, err := imapclient.DialTLS(ln.Addr().String(), &imapclient.Options{TLSConfig: ctls})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bob@example.test", coretest.Password).Wait(); err != nil {
		t.Fatalf("LOGIN over implicit TLS: %v", err)
	}
	list, err := c.List("", "", nil).Collect()
	if err != nil || len(list) != 1 || list[0].Delim != '/' {
		t.Errorf(`LIST "" "": got %v %v, want the "/" delimiter`, list, err)
	}
}

func TestNewKeywordUpdatesFlags(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", plainMsg)
	a, b := e.raw(t), e.raw(t)
	for _, rc := range []*raw{a, b} {
		rc.ok("LOGIN bob@example.test %q", coretest.Password)
		rc.ok("SELECT INBOX")
	}
	lines := a.ok("STORE 1 +FLAGS (ToDo)")
	if len(grep(lines, "* FLAGS (")) != 1 || len(grep(grep(lines, "* FLAGS ("), "ToDo")) != 1 {
		t.Errorf("STORE of a new keyword: got %q, want a FLAGS update with ToDo", lines)
	}
	lines = b.ok("NOOP")
	if len(grep(grep(lines, "* FLAGS ("), "ToDo")) != 1 || len(grep(grep(lines, "FETCH"), "ToDo")) != 1 {
		t.Errorf("other session NOOP: got %q, want FLAGS and FETCH with ToDo", lines)
	}
	if lines := a.ok("SEARCH KEYWORD todo"); len(lines) != 1 || lines[0] != "* SEARCH 1" {
		t.Errorf("SEARCH KEYWORD todo: got %q, want 1", lines)
	}
}
