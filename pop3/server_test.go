package pop3

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
)

func plain(authz, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
}

func TestLoginRequiresTLS(t *testing.T) {
	e := newEnv(t, envOptions{tls: true})
	e.user(t, "a@example.test")

	c := dial(t, e.addr)
	caps := c.capa()
	if !slices.Contains(caps, "STLS") || slices.Contains(caps, "USER") || slices.Contains(caps, "SASL PLAIN") {
		t.Fatalf("CAPA before TLS: got %q, want STLS and neither USER nor SASL PLAIN", caps)
	}
	for _, cmd := range []string{"USER a@example.test", "AUTH PLAIN " + plain("", "a@example.test", coretest.Password)} {
		if r := c.cmd("%s", cmd); !strings.HasPrefix(r, "-ERR [AUTH]") || !strings.Contains(r, "STLS") {
			t.Errorf("%s before TLS: got %q, want -ERR [AUTH] naming STLS", strings.Fields(cmd)[0], r)
		}
	}
	c.startTLS()
	caps = c.capa()
	if slices.Contains(caps, "STLS") || !slices.Contains(caps, "USER") || !slices.Contains(caps, "SASL PLAIN") {
		t.Fatalf("CAPA after TLS: got %q, want USER and SASL PLAIN, no STLS", caps)
	}
	if r := c.cmd("STLS"); !strings.HasPrefix(r, "-ERR") {
		t.Errorf("second STLS: got %q, want -ERR", r)
	}
	c.login("a@example.test")
	c.expectOK("QUIT")
}

func TestImplicitTLS(t *testing.T) {
	e := newEnv(t, envOptions{implicitTLS: true, fakeRemote: "192.0.2.7:4000"})
	u, inbox := e.user(t, "a@example.test")
	e.add(t, u, inbox, "Subject: tls\r\n\r\nover tls\r\n")
	c := dialTLS(t, e.addr, e.certPEM)
	caps := c.capa()
	if slices.Contains(caps, "STLS") || !slices.Contains(caps, "USER") {
		t.Fatalf("CAPA on implicit TLS: got %q, want USER and no STLS", caps)
	}
	c.login("a@example.test")
	c.expectOK("RETR 1")
	if got := string(c.multi()); got != "Subject: tls\r\n\r\nover tls\r\n" {
		t.Errorf("RETR over TLS: got %q", got)
	}
	c.expectOK("QUIT")
}

func TestInsecureAuthOnlyFromLoopback(t *testing.T) {
	cases := []struct {
		name      string
		allow     bool
		remote    string
		wantLogin bool
	}{
		{"dev loopback", true, "", true},
		{"dev loopback v6", true, "[::1]:4000", true},
		{"dev remote", true, "192.0.2.7:4000", false},
		{"prod loopback", false, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{allowInsecure: tc.allow, fakeRemote: tc.remote})
			e.user(t, "a@example.test")
			c := dial(t, e.addr)
			caps := c.capa()
			if got := slices.Contains(caps, "USER"); got != tc.wantLogin {
				t.Errorf("CAPA lists USER: got %v, want %v", got, tc.wantLogin)
			}
			r := c.cmd("USER a@example.test")
			if got := strings.HasPrefix(r, "+OK"); got != tc.wantLogin {
				t.Fatalf("USER: got %q, want accepted=%v", r, tc.wantLogin)
			}
			if !tc.wantLogin {
				if !strings.HasPrefix(r, "-ERR [AUTH]") {
					t.Errorf("USER: got %q, want -ERR [AUTH]", r)
				}
				return
			}
			c.expectOK("PASS %s", coretest.Password)
		})
	}
}

func TestAuthPlain(t *testing.T) {
	e := newEnv(t, envOptions{tls: true})
	e.user(t, "a@example.test")
	good := plain("", "a@example.test", coretest.Password)
	cases := []struct {
		name  string
		lines []string // sent in order; every reply but the last must be "+ "
		want  string   // prefix of the last reply
	}{
		{"initial response", []string{"AUTH PLAIN " + good}, "+OK"},
		{"lower-case mechanism", []string{"auth plain " + good}, "+OK"},
		{"authzid equal", []string{"AUTH PLAIN " + plain("a@example.test", "a@example.test", coretest.Password)}, "+OK"},
		{"continuation", []string{"AUTH PLAIN", good}, "+OK"},
		{"empty initial response", []string{"AUTH PLAIN ="}, "-ERR [AUTH]"},
		{"cancelled", []string{"AUTH PLAIN", "*"}, "-ERR"},
		{"bad base64", []string{"AUTH PLAIN !!!"}, "-ERR"},
		{"wrong password", []string{"AUTH PLAIN " + plain("", "a@example.test", "wrong password")}, "-ERR [AUTH]"},
		{"unknown user", []string{"AUTH PLAIN " + plain("", "nobody@example.test", coretest.Password)}, "-ERR [AUTH]"},
		{"other authzid", []string{"AUTH PLAIN " + plain("b@example.test", "a@example.test", coretest.Password)}, "-ERR [AUTH]"},
		{"unknown mechanism", []string{"AUTH CRAM-MD5"}, "-ERR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, e.addr)
			c.startTLS()
			var r string
			for i, l := range tc.lines {
				r = c.cmd("%s", l)
				if i < len(tc.lines)-1 && r != "+ " {
					t.Fatalf("reply to %q: got %q, want \"+ \"", l, r)
				}
			}
			if !strings.HasPrefix(r, tc.want) {
				t.Fatalf("last reply: got %q, want prefix %q", r, tc.want)
			}
			if tc.want == "+OK" {
				c.expectOK("STAT")
			}
			c.expectOK("QUIT")
		})
	}
}

func TestWrongPasswordAndTooManyFailures(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	e.user(t, "a@example.test")
	c := dial(t, e.addr)
	for i := 0; i < maxAuthFailures; i++ {
		c.expectOK("USER a@example.test")
		if r := c.cmd("PASS not the password"); !strings.HasPrefix(r, "-ERR [AUTH]") {
			t.Fatalf("attempt %d: got %q, want -ERR [AUTH]", i+1, r)
		}
	}
	if r := c.line(); !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("after %d failures: got %q, want -ERR", maxAuthFailures, r)
	}
	c.expectClosed()
	// The password itself still works on a new connection.
	c = dial(t, e.addr)
	c.login("a@example.test")
}

func TestPassWithoutUser(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	c := dial(t, e.addr)
	if r := c.cmd("PASS x"); !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("PASS first: got %q, want -ERR", r)
	}
	if r := c.cmd("STAT"); !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("STAT before login: got %q, want -ERR", r)
	}
	if r := c.cmd("NOOP"); !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("NOOP before login: got %q, want -ERR", r)
	}
}

// wire is the reference conversion a test expects for stored bytes: CRLF
// line endings (bare LF or CRLF in), a CRLF after an unterminated last line.
func wire(stored string) string {
	s := strings.ReplaceAll(stored, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	if s != "" && !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return s
}

func TestRetrByteExact(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	u, inbox := e.user(t, "a@example.test")
	stored := []string{
		"From: x@example.test\r\nSubject: crlf\r\n\r\nHello\r\n.\r\n..two dots\r\n.\r\nend\r\n",
		"From: x@example.test\nSubject: bare lf\n\n.leading dot\nmiddle\n.\n\nlast line without newline",
		"Subject: mixed\r\n\nline\r\nline2\n.\r\n",
		"Subject: dots only\r\n\r\n.\r\n..\r\n...\r\n",
		"Subject: big\r\n\r\n" + strings.Repeat(".dotted line with bare lf\nand a crlf one\r\n", 40000),
	}
	for _, s := range stored {
		e.add(t, u, inbox, s)
	}
	c := dial(t, e.addr)
	c.login("a@example.test")

	c.expectOK("LIST")
	list := c.lines()
	if len(list) != len(stored) {
		t.Fatalf("LIST: got %d lines, want %d", len(list), len(stored))
	}
	var total int
	for i, s := range stored {
		want := wire(s)
		r := c.expectOK("RETR %d", i+1)
		got := string(c.multi())
		if got != want {
			t.Errorf("RETR %d: got %q, want %q", i+1, short(got), short(want))
		}
		wantLine := fmt.Sprintf("%d %d", i+1, len(got))
		if list[i] != wantLine {
			t.Errorf("LIST line %d: got %q, want %q (bytes RETR delivered)", i+1, list[i], wantLine)
		}
		if r != fmt.Sprintf("+OK %d octets", len(got)) {
			t.Errorf("RETR %d status: got %q, want %d octets", i+1, r, len(got))
		}
		if r := c.expectOK("LIST %d", i+1); r != "+OK "+wantLine {
			t.Errorf("LIST %d: got %q, want %q", i+1, r, "+OK "+wantLine)
		}
		total += len(got)
	}
	if r := c.expectOK("STAT"); r != fmt.Sprintf("+OK %d %d", len(stored), total) {
		t.Errorf("STAT: got %q, want +OK %d %d", r, len(stored), total)
	}
	c.expectOK("QUIT")
	for _, m := range e.inbox(t, u, inbox) {
		if !slices.Contains(m.Flags, storage.FlagSeen) {
			t.Errorf("message uid %d after RETR: flags %v, want \\Seen", m.UID, m.Flags)
		}
	}
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

func TestTop(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	u, inbox := e.user(t, "a@example.test")
	e.add(t, u, inbox, "Subject: top\nFrom: x@example.test\n\n.one\ntwo\r\nthree\n")
	e.add(t, u, inbox, "Subject: no body\r\nFrom: x@example.test")
	cases := []struct {
		msg, n int
		want   string
	}{
		{1, 0, "Subject: top\r\nFrom: x@example.test\r\n\r\n"},
		{1, 2, "Subject: top\r\nFrom: x@example.test\r\n\r\n.one\r\ntwo\r\n"},
		{1, 99, "Subject: top\r\nFrom: x@example.test\r\n\r\n.one\r\ntwo\r\nthree\r\n"},
		{2, 5, "Subject: no body\r\nFrom: x@example.test\r\n"},
	}
	c := dial(t, e.addr)
	c.login("a@example.test")
	for _, tc := range cases {
		c.expectOK("TOP %d %d", tc.msg, tc.n)
		if got := string(c.multi()); got != tc.want {
			t.Errorf("TOP %d %d: got %q, want %q", tc.msg, tc.n, got, tc.want)
		}
	}
	for _, bad := range []string{"TOP 1", "TOP 3 1", "TOP 1 -1", "TOP x 1"} {
		if r := c.cmd("%s", bad); !strings.HasPrefix(r, "-ERR") {
			t.Errorf("%s: got %q, want -ERR", bad, r)
		}
	}
	c.expectOK("QUIT")
	for _, m := range e.inbox(t, u, inbox) {
		if slices.Contains(m.Flags, storage.FlagSeen) {
			t.Errorf("TOP marked uid %d \\Seen, want unchanged", m.UID)
		}
	}
}

func TestUIDLStableAcrossSessions(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	u, inbox := e.user(t, "a@example.test")
	for i := 0; i < 3; i++ {
		e.add(t, u, inbox, fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i))
	}
	uidl := func() map[string]string { // uid -> Subject line
		c := dial(t, e.addr)
		c.login("a@example.test")
		c.expectOK("UIDL")
		out := map[string]string{}
		for _, l := range c.lines() {
			n, id, _ := strings.Cut(l, " ")
			c.expectOK("TOP %s 0", n)
			out[id] = strings.SplitN(string(c.multi()), "\r\n", 2)[0]
			if r := c.expectOK("UIDL %s", n); r != "+OK "+l {
				t.Errorf("UIDL %s: got %q, want %q", n, r, "+OK "+l)
			}
		}
		c.expectOK("QUIT")
		return out
	}
	first := uidl()
	if len(first) != 3 {
		t.Fatalf("UIDL: got %v, want 3 distinct ids", first)
	}
	second := uidl()
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("UIDL changed: got %v, want %v", second, first)
	}
	// Deleting the first message keeps the others' ids.
	c := dial(t, e.addr)
	c.login("a@example.test")
	c.expectOK("DELE 1")
	c.expectOK("QUIT")
	third := uidl()
	for id, subj := range third {
		if first[id] != subj {
			t.Errorf("after DELE, id %s: got %q, want %q", id, subj, first[id])
		}
	}
	if len(third) != 2 {
		t.Errorf("after DELE: got %d ids, want 2", len(third))
	}
}

func TestDeleteQuitRsetAndDrop(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	u, inbox := e.user(t, "a@example.test")
	for i := 0; i < 4; i++ {
		e.add(t, u, inbox, fmt.Sprintf("Subject: %d\r\n\r\nbody %d\r\n", i, i))
	}
	// DELE then a dropped connection: nothing removed.
	c := dial(t, e.addr)
	c.login("a@example.test")
	c.expectOK("DELE 1")
	c.expectOK("DELE 2")
	c.nc.Close()
	waitUnlocked(t, e, u.ID)
	if n := len(e.inbox(t, u, inbox)); n != 4 {
		t.Fatalf("after DELE and dropped connection: got %d messages, want 4", n)
	}
	// DELE, RSET, QUIT: nothing removed.
	c = dial(t, e.addr)
	c.login("a@example.test")
	c.expectOK("DELE 3")
	c.expectOK("RSET")
	c.expectOK("QUIT")
	if n := len(e.inbox(t, u, inbox)); n != 4 {
		t.Fatalf("after DELE, RSET, QUIT: got %d messages, want 4", n)
	}
	// DELE 1 and 3, QUIT: removed, and deleted messages are hidden meanwhile.
	before := e.inbox(t, u, inbox)
	c = dial(t, e.addr)
	c.login("a@example.test")
	c.expectOK("DELE 1")
	c.expectOK("DELE 3")
	for _, cmd := range []string{"RETR 1", "DELE 1", "LIST 3", "UIDL 3", "TOP 1 0"} {
		if r := c.cmd("%s", cmd); !strings.HasPrefix(r, "-ERR") {
			t.Errorf("%s on a deleted message: got %q, want -ERR", cmd, r)
		}
	}
	c.expectOK("LIST")
	if got := len(c.lines()); got != 2 {
		t.Errorf("LIST after DELE: got %d lines, want 2", got)
	}
	if r := c.expectOK("STAT"); !strings.HasPrefix(r, "+OK 2 ") {
		t.Errorf("STAT after DELE: got %q, want 2 messages", r)
	}
	if r := c.expectOK("QUIT"); !strings.Contains(r, "2 messages deleted") {
		t.Errorf("QUIT: got %q, want 2 messages deleted", r)
	}
	after := e.inbox(t, u, inbox)
	var gotUIDs []uint32
	for _, m := range after {
		gotUIDs = append(gotUIDs, m.UID)
	}
	wantUIDs := []uint32{before[1].UID, before[3].UID}
	if !slices.Equal(gotUIDs, wantUIDs) {
		t.Errorf("INBOX after DELE 1, DELE 3, QUIT: got uids %v, want %v", gotUIDs, wantUIDs)
	}
}

func TestConcurrentExpungeByAnotherClient(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	u, inbox := e.user(t, "a@example.test")
	m1 := e.add(t, u, inbox, "Subject: 1\r\n\r\none\r\n")
	e.add(t, u, inbox, "Subject: 2\r\n\r\ntwo\r\n")
	c := dial(t, e.addr)
	c.login("a@example.test")
	// Another client (IMAP, web) expunges message 1 after the snapshot.
	if _, err := e.svc.Expunge(context.Background(), u.ID, inbox, []int64{m1.ID}); err != nil {
		t.Fatal(err)
	}
	c.expectOK("RETR 1") // the snapshot still has it and blobs outlive the row
	if got := string(c.multi()); got != "Subject: 1\r\n\r\none\r\n" {
		t.Errorf("RETR of a message expunged elsewhere: got %q", got)
	}
	c.expectOK("DELE 1")
	c.expectOK("DELE 2")
	c.expectOK("QUIT")
	if n := len(e.inbox(t, u, inbox)); n != 0 {
		t.Errorf("after QUIT: got %d messages, want 0", n)
	}
}

func TestIdleAutologoutDeletesNothing(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true, idle: 300 * time.Millisecond})
	u, inbox := e.user(t, "a@example.test")
	e.add(t, u, inbox, "Subject: 1\r\n\r\none\r\n")
	c := dial(t, e.addr)
	c.login("a@example.test")
	c.expectOK("DELE 1")
	if r := c.line(); !strings.HasPrefix(r, "-ERR") || !strings.Contains(r, "autologout") {
		t.Errorf("when idle: got %q, want -ERR autologout", r)
	}
	c.expectClosed()
	waitUnlocked(t, e, u.ID)
	if n := len(e.inbox(t, u, inbox)); n != 1 {
		t.Errorf("after autologout: got %d messages, want 1 (RFC 1939: no UPDATE)", n)
	}
}

func TestIdleTimeoutFloor(t *testing.T) {
	if idleTimeout < 10*time.Minute {
		t.Errorf("idleTimeout: got %v, want at least 10m (RFC 1939 section 3)", idleTimeout)
	}
}

// waitUnlocked waits for the server to finish a dropped session.
func waitUnlocked(t *testing.T, e *testEnv, userID int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		e.srv.mu.Lock()
		locked := e.srv.locked[userID]
		e.srv.mu.Unlock()
		if !locked {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("session of user %d did not end", userID)
}

func TestExpungeVisibleThroughEvents(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	u, inbox := e.user(t, "a@example.test")
	m := e.add(t, u, inbox, "Subject: x\r\n\r\nbody\r\n")
	sub := e.svc.Subscribe(u.ID)
	defer sub.Close()
	c := dial(t, e.addr)
	c.login("a@example.test")
	c.expectOK("DELE 1")
	c.expectOK("QUIT")
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-sub.C:
			if ev.Kind == "expunge" && ev.UID == m.UID {
				return
			}
		case <-timeout:
			t.Fatalf("no expunge event for uid %d", m.UID)
		}
	}
}

func TestIsolationAndLock(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	a, ia := e.user(t, "a@example.test")
	b, ib := e.user(t, "b@example.test")
	e.add(t, a, ia, "Subject: for a\r\n\r\nsecret a\r\n")
	e.add(t, b, ib, "Subject: for b 1\r\n\r\nsecret b\r\n")
	e.add(t, b, ib, "Subject: for b 2\r\n\r\nsecret b\r\n")

	ca := dial(t, e.addr)
	ca.login("a@example.test")
	if r := ca.expectOK("STAT"); !strings.HasPrefix(r, "+OK 1 ") {
		t.Errorf("STAT of a: got %q, want 1 message", r)
	}
	ca.expectOK("RETR 1")
	if got := string(ca.multi()); strings.Contains(got, "secret b") || !strings.Contains(got, "secret a") {
		t.Errorf("a's RETR 1: got %q, want a's message", got)
	}
	if r := ca.cmd("RETR 2"); !strings.HasPrefix(r, "-ERR") {
		t.Errorf("a's RETR 2: got %q, want -ERR", r)
	}

	// A second session of a is refused while the first holds the maildrop.
	ca2 := dial(t, e.addr)
	ca2.expectOK("USER a@example.test")
	if r := ca2.cmd("PASS %s", coretest.Password); !strings.HasPrefix(r, "-ERR [IN-USE]") {
		t.Errorf("second session: got %q, want -ERR [IN-USE]", r)
	}
	cb := dial(t, e.addr)
	cb.login("b@example.test")
	if r := cb.expectOK("STAT"); !strings.HasPrefix(r, "+OK 2 ") {
		t.Errorf("STAT of b: got %q, want 2 messages", r)
	}
	ca.expectOK("QUIT")
	ca2.login("a@example.test") // the lock is free right after QUIT's reply
	ca2.expectOK("QUIT")
	cb.expectOK("QUIT")
}

func TestCommandLineLimits(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	e.user(t, "a@example.test")
	c := dial(t, e.addr)
	// RFC 2449: 255 octets with CRLF is the longest command line.
	if r := c.cmd("NOOP%s", strings.Repeat(" ", 255-6)); !strings.HasPrefix(r, "-ERR") || strings.Contains(r, "long") {
		t.Errorf("255-octet line: got %q, want an ordinary reply", r)
	}
	if r := c.cmd("NOOP%s", strings.Repeat(" ", 256-6)); !strings.Contains(r, "too long") {
		t.Errorf("256-octet line: got %q, want -ERR too long", r)
	}
	c.login("a@example.test") // the session survives
	c.expectOK("NOOP")
	if _, err := c.nc.Write([]byte(strings.Repeat("XYZZY\r\n", maxBadCommands))); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()

	c = dial(t, e.addr)
	c.text.PrintfLine("%s", strings.Repeat("A", 2*maxDiscard))
	c.expectClosed()
}

func TestPipelining(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true})
	u, inbox := e.user(t, "a@example.test")
	e.add(t, u, inbox, "Subject: p\r\n\r\n.body\r\n")
	c := dial(t, e.addr)
	batch := "USER a@example.test\r\nPASS " + coretest.Password + "\r\nSTAT\r\nRETR 1\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n"
	if _, err := c.nc.Write([]byte(batch)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"+OK", "+OK", "+OK 1 ", "+OK"} {
		if r := c.line(); !strings.HasPrefix(r, want) {
			t.Fatalf("pipelined reply: got %q, want prefix %q", r, want)
		}
	}
	if got := string(c.multi()); got != "Subject: p\r\n\r\n.body\r\n" {
		t.Errorf("pipelined RETR: got %q", got)
	}
	for _, want := range []string{"+OK 1 ", "+OK", "+OK"} {
		if r := c.line(); !strings.HasPrefix(r, want) {
			t.Fatalf("pipelined reply: got %q, want prefix %q", r, want)
		}
	}
}

func TestSTLSRefusesPipelinedData(t *testing.T) {
	e := newEnv(t, envOptions{tls: true})
	c := dial(t, e.addr)
	if _, err := c.nc.Write([]byte("STLS\r\nUSER injected\r\n")); err != nil {
		t.Fatal(err)
	}
	if r := c.line(); !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("STLS with pipelined data: got %q, want -ERR", r)
	}
	c.expectClosed()
}

func TestMaxConnections(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true, maxConnections: 1})
	dial(t, e.addr)
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 200)
	n, _ := nc.Read(buf)
	if got := string(buf[:n]); !strings.HasPrefix(got, "-ERR [SYS/TEMP]") {
		t.Errorf("connection over the limit: got %q, want -ERR [SYS/TEMP]", got)
	}
}

// TestMaxConnectionsPerIP: with one address at its cap, that address is
// refused and another is still served (issue 16).
func TestMaxConnectionsPerIP(t *testing.T) {
	e := newEnv(t, envOptions{allowInsecure: true, maxConnections: 10, maxPerIP: 2})
	from := func(ip string) string {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		nc, err := d.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 200)
		n, _ := nc.Read(buf)
		return string(buf[:n])
	}
	for i := range 2 {
		if got := from("127.0.0.1"); !strings.HasPrefix(got, "+OK") {
			t.Fatalf("127.0.0.1 connection %d: got %q, want +OK", i+1, got)
		}
	}
	if got := from("127.0.0.1"); !strings.HasPrefix(got, "-ERR [SYS/TEMP]") {
		t.Errorf("127.0.0.1 connection 3: got %q, want -ERR [SYS/TEMP]", got)
	}
	if got := from("127.0.0.2"); !strings.HasPrefix(got, "+OK") {
		t.Errorf("127.0.0.2 while 127.0.0.1 is at its cap: got %q, want +OK", got)
	}
}

func TestShutdownTellsSessions(t *testing.T) {
	svc := coretest.New(t, coretest.Options{})
	srv := New(Options{Core: svc, AllowInsecureAuth: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	u := coretest.User(t, svc, "a@example.test")
	mb, _ := svc.GetMailboxByRole(context.Background(), u.ID, storage.RoleInbox)
	if _, err := svc.Append(context.Background(), u.ID, mb.ID, nil, time.Time{}, []byte("Subject: s\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	c := dial(t, ln.Addr().String())
	c.login("a@example.test")
	c.expectOK("DELE 1")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: got %v, want nil", err)
	}
	if r := c.line(); !strings.HasPrefix(r, "-ERR [SYS/TEMP]") {
		t.Errorf("at shutdown: got %q, want -ERR [SYS/TEMP]", r)
	}
	c.expectClosed()
	if err := <-served; !errors.Is(err, ErrServerClosed) || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve: got %v, want ErrServerClosed wrapping net.ErrClosed", err)
	}
	ms, _ := svc.MessagesByUID(context.Background(), u.ID, mb.ID, 1, 0)
	if len(ms) != 1 {
		t.Errorf("after shutdown without QUIT: got %d messages, want 1", len(ms))
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Errorf("dial after Shutdown: got a connection, want refused")
	}
}

// capa sends CAPA and returns the capability lines.
func (c *client) capa() []string {
	c.t.Helper()
	c.expectOK("CAPA")
	return c.lines()
}

// BenchmarkRetr measures RETR of a 4 MiB message with bare LFs (streamed
// from the blob store, converted and dot-stuffed) over loopback.
func BenchmarkRetr(b *testing.B) {
	e := newEnv(b, envOptions{allowInsecure: true})
	u, inbox := e.user(b, "a@example.test")
	body := strings.Repeat(".a line of text with a leading dot and a bare LF ending....\n", 4<<20/60)
	e.add(b, u, inbox, "Subject: big\n\n"+body)
	c := dial(b, e.addr)
	c.login("a@example.test")
	c.expectOK("LIST 1") // size computed and cached outside the timing
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		c.expectOK("RETR 1")
		c.multi()
	}
}
