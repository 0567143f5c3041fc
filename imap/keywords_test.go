package imap

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestKeywordsAcrossSessions: a keyword one session sets is in every other
// session's FLAGS before any FETCH of theirs shows it, and stays listed once
// no message has it (clients keep a FLAGS list that only grows; Dovecot does
// the same).
func TestKeywordsAcrossSessions(t *testing.T) {
	e := syncEnv(t, 2)
	a, b := e.login(t), e.login(t)
	a.ok("SELECT INBOX")
	b.ok("SELECT INBOX")

	a.ok("STORE 1 +FLAGS (Project)")
	lines := b.ok("NOOP")
	flagsAt, fetchAt := -1, -1
	for i, l := range lines {
		if strings.HasPrefix(l, "* FLAGS ") && strings.Contains(l, "Project") && flagsAt < 0 {
			flagsAt = i
		}
		if strings.Contains(l, "FETCH") && strings.Contains(l, "Project") && fetchAt < 0 {
			fetchAt = i
		}
	}
	if flagsAt < 0 || fetchAt < 0 || flagsAt > fetchAt {
		t.Fatalf("other session's NOOP: got %q; want FLAGS with Project before the FETCH showing it", lines)
	}

	// APPEND of a message with a new keyword: the other session learns it
	// before the EXISTS of the new message.
	msg := "Subject: k\r\n\r\nbody\r\n"
	tag := a.send("APPEND INBOX (Invoice) {%d}", len(msg))
	if l := a.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("APPEND: got %q, want continuation", l)
	}
	a.c.Write([]byte(msg + "\r\n"))
	if _, st := a.until(tag); !strings.Contains(st, "OK") {
		t.Fatalf("APPEND: %q", st)
	}
	lines = b.ok("NOOP")
	if f := grep(lines, "* FLAGS "); len(f) == 0 || !strings.Contains(f[0], "Invoice") || !strings.Contains(f[0], "Project") {
		t.Fatalf("NOOP after APPEND: got %q; want FLAGS listing Invoice and Project", lines)
	}

	// Removing a keyword from every message keeps it listed, in a new
	// session too.
	a.ok("STORE 1 -FLAGS (Project)")
	c := e.login(t)
	lines = c.ok("SELECT INBOX")
	if f := grep(lines, "* FLAGS "); len(f) != 1 || !strings.Contains(f[0], "Project") || !strings.Contains(f[0], "Invoice") {
		t.Fatalf("SELECT: got %q; want FLAGS still listing Project and Invoice", lines)
	}
	if p := grep(lines, "PERMANENTFLAGS"); len(p) != 1 || !strings.Contains(p[0], `\*`) {
		t.Fatalf("SELECT: got %q; want PERMANENTFLAGS with \\*", lines)
	}
}

// TestKeywordsRecordedOnCopy: COPY and MOVE into a mailbox the session
// has not selected record the messages' keywords there, so a session that
// selects it lists them, before and after the messages are gone.
func TestKeywordsRecordedOnCopy(t *testing.T) {
	e := syncEnv(t, 2)
	a, b := e.login(t), e.login(t)
	a.ok("CREATE Dest")
	a.ok("SELECT INBOX")
	a.ok("STORE 1 +FLAGS (Travel)")
	a.ok("STORE 2 +FLAGS (Receipts)")
	a.ok("COPY 1 Dest")
	a.ok("MOVE 2 Dest")
	a.ok("COPY 1 Dest") // recorded already: no new keyword
	ctx := context.Background()
	u, err := e.store.GetUserByAddress(ctx, "bob@example.test")
	if err != nil {
		t.Fatal(err)
	}
	dest, err := e.store.GetMailboxByName(ctx, u.ID, "Dest")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.store.Keywords(ctx, u.ID, dest.ID); err != nil || !slices.Equal(got, []string{"Receipts", "Travel"}) {
		t.Fatalf("Dest's keywords after COPY and MOVE, before any SELECT of it: got %q, %v; want [Receipts Travel]", got, err)
	}
	lines := b.ok("SELECT Dest")
	if f := grep(lines, "* FLAGS "); len(f) != 1 || !strings.Contains(f[0], "Travel") || !strings.Contains(f[0], "Receipts") {
		t.Fatalf("SELECT Dest: got %q; want FLAGS listing Travel and Receipts", lines)
	}
	b.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
	b.ok("EXPUNGE")
	lines = b.ok("SELECT Dest")
	if f := grep(lines, "* FLAGS "); len(f) != 1 || !strings.Contains(f[0], "Travel") || !strings.Contains(f[0], "Receipts") {
		t.Fatalf("SELECT Dest, empty: got %q; want FLAGS still listing Travel and Receipts", lines)
	}
}
