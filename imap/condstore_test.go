package imap

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// syncEnv is a server with bob and n plain messages in his INBOX (UIDs 1..n).
func syncEnv(t *testing.T, n int) *env {
	t.Helper()
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	for i := 1; i <= n; i++ {
		e.deliver(t, "bob@example.test", numbered(i))
	}
	return e
}

func numbered(i int) string {
	return fmt.Sprintf("From: Alice <alice@remote.example>\r\nTo: bob@example.test\r\nSubject: message %d\r\n"+
		"Message-ID: <m%d@remote.example>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody %d\r\n", i, i, i)
}

// login opens a raw connection logged in as bob.
func (e *env) login(t *testing.T) *raw {
	t.Helper()
	rc := e.raw(t)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	return rc
}

var (
	reHMS   = regexp.MustCompile(`HIGHESTMODSEQ (\d+)`)
	reUIDV  = regexp.MustCompile(`UIDVALIDITY (\d+)`)
	reUID   = regexp.MustCompile(`UID (\d+)`)
	reMod   = regexp.MustCompile(`MODSEQ \((\d+)\)`)
	reFetch = regexp.MustCompile(`^\* \d+ FETCH `)
)

// field returns the first number re captures in lines (0 if none).
func field(lines []string, re *regexp.Regexp) uint64 {
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			return n
		}
	}
	return 0
}

// fetchUIDs returns the UIDs of the FETCH lines, ascending.
func fetchUIDs(lines []string) []uint64 {
	var out []uint64
	for _, l := range lines {
		if reFetch.MatchString(l) {
			out = append(out, field([]string{l}, reUID))
		}
	}
	slices.Sort(out)
	return out
}

func TestSyncCapabilities(t *testing.T) {
	e := syncEnv(t, 0)
	c := e.client(t, "bob@example.test", nil)
	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []imap.Cap{imap.CapCondStore, imap.CapQResync, "OBJECTID"} {
		if !caps.Has(want) {
			t.Errorf("CAPABILITY after login: %s missing", want)
		}
	}
	rc := e.login(t)
	if got := rc.ok("ENABLE CONDSTORE QRESYNC X-NONE"); len(got) != 1 || got[0] != "* ENABLED CONDSTORE QRESYNC" {
		t.Errorf("ENABLE: got %q, want * ENABLED CONDSTORE QRESYNC", got)
	}
	if got := rc.ok("ENABLE QRESYNC"); len(got) != 1 || got[0] != "* ENABLED" {
		t.Errorf("ENABLE again: got %q, want * ENABLED", got)
	}
}

// TestCondStoreImapclient drives CONDSTORE with go-imap's client: SELECT
// (CONDSTORE), STATUS HIGHESTMODSEQ, FETCH MODSEQ and CHANGEDSINCE, SEARCH
// MODSEQ, STORE UNCHANGEDSINCE, after changes on another connection.
func TestCondStoreImapclient(t *testing.T) {
	e := syncEnv(t, 5)
	c := e.client(t, "bob@example.test", nil)
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.HighestModSeq == 0 || sel.NumMessages != 5 {
		t.Fatalf("SELECT (CONDSTORE): got HIGHESTMODSEQ %d, %d messages; want > 0 and 5", sel.HighestModSeq, sel.NumMessages)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{HighestModSeq: true}).Wait()
	if err != nil || st.HighestModSeq != sel.HighestModSeq {
		t.Fatalf("STATUS HIGHESTMODSEQ: got %d (%v), want %d", st.HighestModSeq, err, sel.HighestModSeq)
	}
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, ModSeq: true}).Collect()
	if err != nil || len(msgs) != 5 {
		t.Fatalf("FETCH MODSEQ: got %d messages (%v), want 5", len(msgs), err)
	}
	before := map[imap.UID]uint64{}
	for _, m := range msgs {
		if m.ModSeq == 0 || m.ModSeq > sel.HighestModSeq {
			t.Errorf("UID %d: MODSEQ %d, want in 1..%d", m.UID, m.ModSeq, sel.HighestModSeq)
		}
		before[m.UID] = m.ModSeq
	}

	other := e.client(t, "bob@example.test", nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.UIDSetNum(2, 4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil { // takes in the other connection's changes
		t.Fatal(err)
	}
	changed, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}},
		&imap.FetchOptions{UID: true, Flags: true, ChangedSince: sel.HighestModSeq}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var uids []imap.UID
	for _, m := range changed {
		uids = append(uids, m.UID)
		if m.ModSeq <= sel.HighestModSeq || !slices.Contains(m.Flags, imap.FlagFlagged) {
			t.Errorf("CHANGEDSINCE: UID %d MODSEQ %d flags %v, want MODSEQ > %d and \\Flagged", m.UID, m.ModSeq, m.Flags, sel.HighestModSeq)
		}
	}
	if !slices.Equal(uids, []imap.UID{2, 4}) {
		t.Errorf("FETCH (CHANGEDSINCE %d): got UIDs %v, want [2 4]", sel.HighestModSeq, uids)
	}

	sd, err := c.UIDSearch(&imap.SearchCriteria{ModSeq: &imap.SearchCriteriaModSeq{ModSeq: sel.HighestModSeq + 1}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.AllUIDs(); !slices.Equal(got, []imap.UID{2, 4}) || sd.ModSeq <= sel.HighestModSeq {
		t.Errorf("UID SEARCH MODSEQ: got %v (MODSEQ %d), want [2 4] with MODSEQ > %d", got, sd.ModSeq, sel.HighestModSeq)
	}

	// UID 2 changed after its old MODSEQ: the conditional STORE must not touch it.
	if err := c.Store(imap.UIDSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}},
		&imap.StoreOptions{UnchangedSince: before[2]}).Close(); err != nil {
		t.Fatal(err)
	}
	got, err := c.Fetch(imap.UIDSetNum(1, 2), &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil || len(got) != 2 {
		t.Fatalf("FETCH: %d messages (%v)", len(got), err)
	}
	for _, m := range got {
		if seen := slices.Contains(m.Flags, imap.FlagSeen); seen != (m.UID == 1) {
			t.Errorf("after STORE (UNCHANGEDSINCE): UID %d flags %v, want \\Seen only on UID 1", m.UID, m.Flags)
		}
	}
	st2, err := c.Status("INBOX", &imap.StatusOptions{HighestModSeq: true}).Wait()
	if err != nil || st2.HighestModSeq <= sd.ModSeq {
		t.Errorf("STATUS HIGHESTMODSEQ after STORE: got %d (%v), want > %d", st2.HighestModSeq, err, sd.ModSeq)
	}
}

// TestStoreUnchangedSince checks the MODIFIED response code (RFC 7162
// section 3.1.3) by sequence number and UID, .SILENT with MODSEQ, and
// UNCHANGEDSINCE 0.
func TestStoreUnchangedSince(t *testing.T) {
	e := syncEnv(t, 3)
	rc := e.login(t)
	rc.ok("SELECT INBOX")
	lines := rc.ok("FETCH 1:3 (MODSEQ)") // enables CONDSTORE
	if len(grep(lines, "OK [HIGHESTMODSEQ")) != 1 {
		t.Errorf("first FETCH MODSEQ: got %q, want * OK [HIGHESTMODSEQ n]", lines)
	}
	mod1 := field(grep(lines, "* 1 FETCH"), reMod)
	// Another connection changes message 2.
	rb := e.login(t)
	rb.ok("SELECT INBOX")
	rb.ok("STORE 2 +FLAGS (x-other)")
	rc.ok("NOOP")

	lines, st := rc.cmd("STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Flagged)", field(grep(lines, "* 3 FETCH"), reMod))
	if !strings.Contains(st, "OK [MODIFIED 2]") {
		t.Errorf("STORE (UNCHANGEDSINCE): got %q, want OK [MODIFIED 2]", st)
	}
	if f := grep(lines, " FETCH "); len(f) != 2 || len(grep(f, "MODSEQ (")) != 2 || len(grep(f, "FLAGS")) != 0 {
		t.Errorf(".SILENT conditional STORE: got %q, want FETCH (UID MODSEQ) for messages 1 and 3 only", lines)
	}
	_, st = rc.cmd("UID STORE 1:3 (UNCHANGEDSINCE %d) -FLAGS (\\Flagged)", mod1)
	if !strings.Contains(st, "OK [MODIFIED 1:3]") {
		t.Errorf("UID STORE (UNCHANGEDSINCE old): got %q, want OK [MODIFIED 1:3]", st)
	}
	_, st = rc.cmd("UID STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)")
	if !strings.Contains(st, "OK [MODIFIED 1]") {
		t.Errorf("UNCHANGEDSINCE 0: got %q, want OK [MODIFIED 1]", st)
	}
	lines = rc.ok("FETCH 1:3 (FLAGS)")
	if len(grep(lines, `\Flagged`)) != 2 || len(grep(lines, `\Seen`)) != 0 || len(grep(lines, "MODSEQ (")) != 3 {
		t.Errorf("flags after conditional STOREs: got %q, want \\Flagged on 1 and 3, no \\Seen, MODSEQ on each", lines)
	}
	if _, st := rc.cmd("STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)"); !strings.Contains(st, "BAD") {
		t.Errorf("UNCHANGEDSINCE x: got %q, want BAD", st)
	}
}

// TestQResyncSelect: a client that knew the folder at HIGHESTMODSEQ H comes
// back after flag changes, expunges and a new message on another
// connection; SELECT (QRESYNC ...) must report exactly those changes.
func TestQResyncSelect(t *testing.T) {
	e := syncEnv(t, 10)
	ra := e.login(t)
	ra.ok("ENABLE QRESYNC")
	lines := ra.ok("SELECT INBOX")
	uidv, hms := field(lines, reUIDV), field(lines, reHMS)
	if uidv == 0 || hms == 0 {
		t.Fatalf("SELECT: got %q, want UIDVALIDITY and HIGHESTMODSEQ", lines)
	}
	ra.ok("LOGOUT")

	rb := e.login(t)
	rb.ok("SELECT INBOX")
	rb.ok("UID STORE 2,5 +FLAGS (\\Seen)")
	rb.ok("UID STORE 3,7,8 +FLAGS (\\Deleted)")
	rb.ok("UID EXPUNGE 3,8")
	e.deliver(t, "bob@example.test", numbered(11))

	cases := []struct {
		name, params string
		vanished     string
		fetched      []uint64
	}{
		{"known 1:10", fmt.Sprintf("(QRESYNC (%d %d 1:10))", uidv, hms), "* VANISHED (EARLIER) 3,8", []uint64{2, 5, 7}},
		// UID 11 arrived after hms: new to the client, not changed, so
		// no FETCH (the client learns of it from EXISTS).
		{"no known uids", fmt.Sprintf("(QRESYNC (%d %d))", uidv, hms), "* VANISHED (EARLIER) 3,8", []uint64{2, 5, 7}},
		{"known 1:4", fmt.Sprintf("(QRESYNC (%d %d 1:4))", uidv, hms), "* VANISHED (EARLIER) 3", []uint64{2}},
		{"seq match", fmt.Sprintf("(QRESYNC (%d %d 1:10 (1:3 1:3)))", uidv, hms), "* VANISHED (EARLIER) 3,8", []uint64{2, 5, 7}},
		{"other uidvalidity", fmt.Sprintf("(QRESYNC (%d %d))", uidv+1, hms), "", nil},
		{"up to date", fmt.Sprintf("(QRESYNC (%d %d))", uidv, hms+1000), "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := e.login(t)
			rc.ok("ENABLE QRESYNC")
			lines := rc.ok("EXAMINE INBOX %s", tc.params)
			v := grep(lines, "VANISHED")
			if tc.vanished == "" && len(v) != 0 || tc.vanished != "" && (len(v) != 1 || v[0] != tc.vanished) {
				t.Errorf("got VANISHED %q, want %q", v, tc.vanished)
			}
			if got := fetchUIDs(lines); !slices.Equal(got, tc.fetched) {
				t.Errorf("got FETCH for UIDs %v, want %v (%q)", got, tc.fetched, lines)
			}
			for _, l := range grep(lines, " FETCH ") {
				if field([]string{l}, reMod) <= hms || !strings.Contains(l, "FLAGS (") {
					t.Errorf("FETCH %q: want FLAGS and MODSEQ > %d", l, hms)
				}
				if strings.Contains(l, "UID 2 ") && !strings.Contains(l, `\Seen`) || strings.Contains(l, "UID 7 ") && !strings.Contains(l, `\Deleted`) {
					t.Errorf("FETCH %q: flags not current", l)
				}
			}
			if got := field(lines, reHMS); got <= hms {
				t.Errorf("HIGHESTMODSEQ %d, want above the client's %d", got, hms)
			}
		})
	}

	rc := e.login(t)
	if _, st := rc.cmd("SELECT INBOX (QRESYNC (%d %d))", uidv, hms); !strings.Contains(st, "BAD") {
		t.Errorf("QRESYNC before ENABLE QRESYNC: got %q, want BAD", st)
	}
	for _, bad := range []string{"(QRESYNC (0 1))", "(QRESYNC (1 0))", "(QRESYNC (1 1 1:2 (1:3 1:2)))", "(QRESYNC 1)", "(FOO)"} {
		rc.ok("ENABLE QRESYNC")
		if _, st := rc.cmd("SELECT INBOX %s", bad); !strings.Contains(st, "BAD") {
			t.Errorf("SELECT INBOX %s: got %q, want BAD", bad, st)
		}
	}
}

// TestQResyncAfterPrune: once the change log is pruned past the client's
// MODSEQ, VANISHED (EARLIER) lists the known UIDs that no longer exist
// (RFC 7162 section 3.2.5.2), narrowed by the sequence match data.
func TestQResyncAfterPrune(t *testing.T) {
	e := syncEnv(t, 6)
	ra := e.login(t)
	lines := ra.ok("SELECT INBOX")
	uidv, hms := field(lines, reUIDV), field(lines, reHMS)
	ra.ok("UID STORE 2,5 +FLAGS (\\Deleted)")
	ra.ok("EXPUNGE")
	ra.ok("LOGOUT")
	if _, err := e.svc.PruneChanges(context.Background(), time.Now().Add(core.ChangeRetention+time.Hour)); err != nil {
		t.Fatal(err)
	}
	rc := e.login(t)
	rc.ok("ENABLE QRESYNC")
	lines = rc.ok("EXAMINE INBOX (QRESYNC (%d %d 1:6))", uidv, hms)
	if v := grep(lines, "VANISHED"); len(v) != 1 || v[0] != "* VANISHED (EARLIER) 2,5" {
		t.Errorf("after pruning, no seq match: got %q, want * VANISHED (EARLIER) 2,5", v)
	}
	// The client says its sequence number 1 is UID 1 and 2 is UID 2: only
	// the first still agrees, so UIDs from 2 on are in doubt.
	lines = rc.ok("EXAMINE INBOX (QRESYNC (%d %d 1:6 (1,2 1,2)))", uidv, hms)
	if v := grep(lines, "VANISHED"); len(v) != 1 || v[0] != "* VANISHED (EARLIER) 2,5" {
		t.Errorf("after pruning, seq match 1,2: got %q, want * VANISHED (EARLIER) 2,5", v)
	}
	// Sequence numbers 1..3 are UIDs 1, 3 and 4 now: the client knew that
	// already, so only UIDs above 4 are in doubt.
	lines = rc.ok("EXAMINE INBOX (QRESYNC (%d %d 1:6 (1:3 1,3,4)))", uidv, hms)
	if v := grep(lines, "VANISHED"); len(v) != 1 || v[0] != "* VANISHED (EARLIER) 5" {
		t.Errorf("after pruning, seq match 1:3: got %q, want * VANISHED (EARLIER) 5", v)
	}
}

// TestVanished: with QRESYNC enabled, expunges are reported as VANISHED,
// in NOOP, IDLE, after EXPUNGE and MOVE, and by UID FETCH (CHANGEDSINCE n
// VANISHED).
func TestVanished(t *testing.T) {
	e := syncEnv(t, 6)
	ra := e.login(t)
	ra.ok("ENABLE QRESYNC")
	hms := field(ra.ok("SELECT INBOX"), reHMS)
	rb := e.login(t)
	rb.ok("SELECT INBOX")

	rb.ok("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
	rb.ok("UID EXPUNGE 1")
	lines := ra.ok("NOOP")
	if len(grep(lines, "* VANISHED 1")) != 1 || len(grep(lines, "EXPUNGE")) != 0 {
		t.Errorf("NOOP: got %q, want * VANISHED 1 and no EXPUNGE", lines)
	}

	tag := ra.send("IDLE")
	if l := ra.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("IDLE: got %q, want +", l)
	}
	rb.ok("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
	rb.ok("UID EXPUNGE 2")
	for {
		l := ra.line()
		if strings.Contains(l, "EXPUNGE") {
			t.Fatalf("IDLE: got %q, want VANISHED", l)
		}
		if l == "* VANISHED 2" {
			break
		}
	}
	fmt.Fprintf(ra.c, "DONE\r\n")
	if _, st := ra.until(tag); !strings.Contains(st, "OK") {
		t.Fatalf("IDLE: %q", st)
	}

	if lines := ra.ok("SELECT INBOX"); len(lines) == 0 || lines[0] != "* OK [CLOSED] Previous mailbox closed" {
		t.Errorf("SELECT with a mailbox selected: got %q, want * OK [CLOSED] first (RFC 7162 section 3.2.11)", lines)
	}
	ra.ok("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
	lines, st := ra.cmd("EXPUNGE")
	if len(grep(lines, "* VANISHED 3")) != 1 || len(grep(lines, "EXPUNGE")) != 0 || !strings.Contains(st, "OK [HIGHESTMODSEQ ") {
		t.Errorf("EXPUNGE: got %q / %q, want * VANISHED 3 and OK [HIGHESTMODSEQ n]", lines, st)
	}
	lines = ra.ok("UID MOVE 4 Trash")
	if len(grep(lines, "* VANISHED 4")) != 1 || len(grep(lines, "COPYUID")) != 1 {
		t.Errorf("UID MOVE: got %q, want COPYUID and * VANISHED 4", lines)
	}
	rb.ok("UID STORE 6 +FLAGS (\\Answered)")
	ra.ok("NOOP")
	lines = ra.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)", hms)
	if v := grep(lines, "VANISHED"); len(v) != 1 || v[0] != "* VANISHED (EARLIER) 1:4" {
		t.Errorf("UID FETCH (VANISHED): got %q, want * VANISHED (EARLIER) 1:4", v)
	}
	if got := fetchUIDs(lines); !slices.Equal(got, []uint64{6}) {
		t.Errorf("UID FETCH (CHANGEDSINCE): got UIDs %v, want [6]", got)
	}
	lines = ra.ok("UID FETCH 2:3 (FLAGS) (CHANGEDSINCE %d VANISHED)", hms)
	if v := grep(lines, "VANISHED"); len(v) != 1 || v[0] != "* VANISHED (EARLIER) 2:3" {
		t.Errorf("UID FETCH 2:3 (VANISHED): got %q, want * VANISHED (EARLIER) 2:3", v)
	}
	for _, bad := range []string{"UID FETCH 1:* (FLAGS) (VANISHED)", "FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", "UID FETCH 1 FLAGS (CHANGEDSINCE)"} {
		if _, st := ra.cmd("%s", bad); !strings.Contains(st, "BAD") {
			t.Errorf("%s: got %q, want BAD", bad, st)
		}
	}
	// Without QRESYNC the same expunge is an EXPUNGE.
	rb.ok("UID STORE 5 +FLAGS.SILENT (\\Deleted)")
	if lines := rb.ok("EXPUNGE"); len(grep(lines, "EXPUNGE")) != 1 || len(grep(lines, "VANISHED")) != 0 {
		t.Errorf("EXPUNGE without QRESYNC: got %q, want one EXPUNGE", lines)
	}
}

// TestObjectID: EMAILID and THREADID (stable across MOVE), MAILBOXID in
// CREATE, SELECT and STATUS (stable across RENAME), SEARCH EMAILID and
// THREADID (RFC 8474).
func TestObjectID(t *testing.T) {
	e := syncEnv(t, 2)
	e.deliver(t, "bob@example.test", "From: Carol <carol@remote.example>\r\nTo: bob@example.test\r\nSubject: Re: message 1\r\n"+
		"Message-ID: <r1@remote.example>\r\nIn-Reply-To: <m1@remote.example>\r\nReferences: <m1@remote.example>\r\n\r\nreply\r\n")
	rc := e.login(t)
	_, st := rc.cmd("CREATE Proj")
	reID := regexp.MustCompile(`MAILBOXID \(([A-Za-z0-9_-]+)\)`)
	created := reID.FindStringSubmatch(st)
	if created == nil {
		t.Fatalf("CREATE: got %q, want OK [MAILBOXID (id)]", st)
	}
	rc.ok("RENAME Proj Proj2")
	if s := rc.ok("STATUS Proj2 (MESSAGES MAILBOXID)"); len(s) != 1 || !strings.Contains(s[0], "MAILBOXID ("+created[1]+")") {
		t.Errorf("STATUS after RENAME: got %q, want MAILBOXID (%s)", s, created[1])
	}
	lines := rc.ok("SELECT INBOX")
	inbox := reID.FindStringSubmatch(strings.Join(grep(lines, "MAILBOXID"), ""))
	if inbox == nil || inbox[1] == created[1] {
		t.Fatalf("SELECT: got %q, want its own * OK [MAILBOXID (id)]", lines)
	}
	lines = rc.ok("FETCH 1:3 (EMAILID THREADID)")
	reItems := regexp.MustCompile(`^\* (\d) FETCH \(EMAILID \(([A-Za-z0-9_-]+)\) THREADID \(([A-Za-z0-9_-]+)\)\)$`)
	email := map[string]string{}
	thread := map[string]string{}
	for _, l := range lines {
		m := reItems.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("FETCH (EMAILID THREADID): got %q", l)
		}
		email[m[1]], thread[m[1]] = m[2], m[3]
	}
	if len(email) != 3 || email["1"] == email["2"] || thread["1"] != thread["3"] || thread["1"] == thread["2"] {
		t.Errorf("ids: emails %v threads %v, want distinct emails, message 3 in message 1's thread only", email, thread)
	}
	if got := rc.ok("SEARCH THREADID %s", thread["1"]); len(got) != 1 || got[0] != "* SEARCH 1 3" {
		t.Errorf("SEARCH THREADID: got %q, want * SEARCH 1 3", got)
	}
	if got := rc.ok("SEARCH EMAILID %s", email["2"]); len(got) != 1 || got[0] != "* SEARCH 2" {
		t.Errorf("SEARCH EMAILID: got %q, want * SEARCH 2", got)
	}
	if got := rc.ok("SEARCH OR EMAILID %s EMAILID M0zz", email["1"]); len(got) != 1 || got[0] != "* SEARCH 1" {
		t.Errorf("SEARCH OR EMAILID: got %q, want * SEARCH 1", got)
	}
	rc.ok("MOVE 1 Proj2")
	rc.ok("SELECT Proj2")
	lines = rc.ok("FETCH 1 (EMAILID THREADID)")
	if len(lines) != 1 || !strings.Contains(lines[0], "EMAILID ("+email["1"]+")") || !strings.Contains(lines[0], "THREADID ("+thread["1"]+")") {
		t.Errorf("after MOVE: got %q, want EMAILID (%s) THREADID (%s)", lines, email["1"], thread["1"])
	}
	// STATUS HIGHESTMODSEQ enables CONDSTORE: the selected mailbox's
	// HIGHESTMODSEQ comes first (RFC 7162 section 3.1).
	if got := grep(rc.ok("STATUS INBOX (MAILBOXID HIGHESTMODSEQ)"), "* STATUS"); len(got) != 1 || !strings.Contains(got[0], "MAILBOXID ("+inbox[1]+")") || !strings.Contains(got[0], "HIGHESTMODSEQ ") {
		t.Errorf("STATUS INBOX: got %q, want MAILBOXID (%s) and HIGHESTMODSEQ", got, inbox[1])
	}
}

// TestQResyncPython resynchronises with Python's imaplib as the client:
// ENABLE QRESYNC, SELECT (QRESYNC ...) after another connection changed
// flags and expunged; the untagged VANISHED and FETCH responses must be
// exactly the changes.
func TestQResyncPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: python3 not installed")
	}
	e := syncEnv(t, 8)
	host, port, _ := strings.Cut(e.addr, ":")
	script := `
import imaplib, re, sys
host, port, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def login():
    m = imaplib.IMAP4(host, port)
    m.login("bob@example.test", pw)
    return m
a = login()
typ, data = a.enable("QRESYNC")
assert typ == "OK" and a.untagged_responses.get("ENABLED") == [b"QRESYNC"], (typ, a.untagged_responses)
typ, data = a.select("INBOX")
uidv = int(a.untagged_responses["UIDVALIDITY"][0])
hms = int(re.search(rb"\[HIGHESTMODSEQ (\d+)\]", b" ".join(v for v in a.untagged_responses["OK"])).group(1))
a.logout()
b = login()
b.select("INBOX")
assert b.uid("STORE", "1,4", "+FLAGS", "(\\Flagged)")[0] == "OK"
assert b.uid("STORE", "6", "+FLAGS", "(\\Deleted)")[0] == "OK"
assert b.expunge()[0] == "OK"
b.logout()
c = login()
c.enable("QRESYNC")
typ, data = c._simple_command("SELECT", "INBOX (QRESYNC (%d %d 1:8))" % (uidv, hms))
assert typ == "OK", (typ, data)
vanished = c.untagged_responses.get("VANISHED")
assert vanished == [b"(EARLIER) 6"], vanished
fetches = c.untagged_responses.get("FETCH", [])
uids = sorted(int(re.search(rb"UID (\d+)", f).group(1)) for f in fetches)
assert uids == [1, 4], fetches
for f in fetches:
    assert b"\\Flagged" in f and int(re.search(rb"MODSEQ \((\d+)\)", f).group(1)) > hms, f
c.logout()
print("ok")
`
	path := filepath.Join(t.TempDir(), "qresync.py")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, path, host, port, coretest.Password).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("python imaplib QRESYNC: %v\n%s", err, out)
	}
}

// FuzzSyncParse runs the CONDSTORE/QRESYNC/OBJECTID argument parsers over
// arbitrary input: each must return or fail with BAD, never panic.
func FuzzSyncParse(f *testing.F) {
	for _, s := range []string{
		"(QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:3 41,43,44)))",
		"(CONDSTORE QRESYNC (1 2))",
		"(CHANGEDSINCE 12345 VANISHED)",
		"(UNCHANGEDSINCE 0)",
		`MODSEQ "/flags/\\draft" all 620162338`,
		"OR EMAILID M1 THREADID T2",
		"(HIGHESTMODSEQ MAILBOXID MESSAGES)",
		"(QRESYNC (1 1 1:4294967295 (1:4294967295 1:4294967295)))",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		run := func(fn func(p *parser)) {
			p := newParser(in)
			fn(p)
			p.end()
			if p.err != nil {
				if _, ok := p.err.(badArgs); !ok {
					t.Fatalf("parser error %T, want badArgs", p.err)
				}
			}
		}
		run(func(p *parser) {
			var sp selectParams
			p.list(true, func() { p.selectParam(&sp) })
			if sp.qresync != nil {
				v := &selected{}
				v.uids = []uint32{1, 3, 4, 9}
				seqMatchStart(v, sp.qresync)
				absentUIDs(v.uids, sp.qresync.known, 1, 10)
			}
		})
		run(func(p *parser) { r := &fetchReq{}; p.fetchModifiers(r) })
		run(func(p *parser) { p.storeModifiers() })
		run(func(p *parser) { var r searchReq; p.searchKeys(&r.criteria) })
		run(func(p *parser) { p.statusAtts() })
	})
}

func TestAbsentUIDs(t *testing.T) {
	uids := []uint32{2, 3, 7, 10}
	cases := []struct {
		set        imap.UIDSet
		from, high uint32
		want       [][2]uint32
	}{
		{imap.UIDSet{{Start: 1, Stop: 0}}, 1, 10, [][2]uint32{{1, 1}, {4, 6}, {8, 9}}},
		{imap.UIDSet{{Start: 1, Stop: 0}}, 4, 12, [][2]uint32{{4, 6}, {8, 9}, {11, 12}}},
		{imap.UIDSet{{Start: 5, Stop: 3}, {Start: 9, Stop: 9}}, 1, 10, [][2]uint32{{4, 5}, {9, 9}}},
		{imap.UIDSet{{Start: 2, Stop: 3}}, 1, 10, nil},
		{imap.UIDSet{{Start: 4294967295, Stop: 4294967295}}, 1, 4294967295, [][2]uint32{{4294967295, 4294967295}}},
	}
	for _, tc := range cases {
		if got := absentUIDs(uids, tc.set, tc.from, tc.high); !slices.Equal(got, tc.want) {
			t.Errorf("absentUIDs(%v, %v, %d, %d) = %v, want %v", uids, tc.set, tc.from, tc.high, got, tc.want)
		}
	}
}

// TestModSeqsColumn: the view's MODSEQ column keeps 32-bit values narrow
// and widens, keeping every value, at the first one above 2^32-1.
func TestModSeqsColumn(t *testing.T) {
	var c modSeqs
	c.grow(3)
	for _, m := range []uint64{5, 7, 9} {
		c.append(m)
	}
	c.delete(1)
	c.set(0, 6)
	if c.wide != nil || c.len() != 2 || c.at(0) != 6 || c.at(1) != 9 || c.highest() != 9 {
		t.Fatalf("narrow column: got len %d [%d %d] wide=%v, want 2 [6 9] narrow", c.len(), c.at(0), c.at(1), c.wide != nil)
	}
	big := uint64(1) << 40
	c.append(big)
	c.set(0, big+1)
	if c.wide == nil || c.len() != 3 || c.at(0) != big+1 || c.at(1) != 9 || c.at(2) != big || c.highest() != big+1 {
		t.Fatalf("widened column: got len %d [%d %d %d], want [%d 9 %d]", c.len(), c.at(0), c.at(1), c.at(2), big+1, big)
	}
	c.delete(0)
	if c.len() != 2 || c.at(0) != 9 {
		t.Fatalf("after delete: got len %d, first %d; want 2, 9", c.len(), c.at(0))
	}
}

// TestViewCache: a SELECT served from the view cache, after flag changes,
// expunges and new mail on other connections, shows exactly what a fresh
// listing shows (EXISTS, UIDs, flags, MODSEQs, keywords, first unseen).
func TestViewCache(t *testing.T) {
	e := syncEnv(t, 12)
	e.srv.views.min.Store(0)
	ra := e.login(t)
	ra.ok("SELECT INBOX") // fills the cache
	ra.ok("LOGOUT")
	rb := e.login(t)
	rb.ok("SELECT INBOX")
	rb.ok("UID STORE 1:3 +FLAGS (\\Seen)")
	rb.ok("UID STORE 5 +FLAGS (kw-new)")
	rb.ok("UID STORE 4,9,12 +FLAGS (\\Deleted)")
	rb.ok("UID EXPUNGE 4,9,12")
	rb.ok("UID MOVE 6 Archive")
	e.deliver(t, "bob@example.test", numbered(13))
	rb.ok("LOGOUT")

	look := func() ([]string, []string) {
		rc := e.login(t)
		rc.ok("ENABLE CONDSTORE")
		sel := rc.ok("EXAMINE INBOX")
		return sel, rc.ok("FETCH 1:* (UID FLAGS MODSEQ)")
	}
	hits := e.srv.views.hits.Load()
	sel, fetched := look()
	if e.srv.views.hits.Load() != hits+1 {
		t.Fatalf("view cache hits: got %d, want %d", e.srv.views.hits.Load(), hits+1)
	}
	e.srv.views.min.Store(1 << 30) // the reference: a fresh listing
	e.srv.views.clear()
	wantSel, wantFetched := look()
	if e.srv.views.hits.Load() != hits+1 {
		t.Fatal("reference SELECT was served from the cache")
	}
	if !slices.Equal(sel, wantSel) || !slices.Equal(fetched, wantFetched) {
		t.Errorf("cached SELECT:\n%q\n%q\nwant (fresh listing):\n%q\n%q", sel, fetched, wantSel, wantFetched)
	}
	if got := fetchUIDs(fetched); !slices.Equal(got, []uint64{1, 2, 3, 5, 7, 8, 10, 11, 13}) {
		t.Errorf("UIDs after the changes: got %v", got)
	}
	if len(grep(sel, "kw-new")) == 0 || len(grep(sel, "* OK [UNSEEN 4]")) != 1 {
		t.Errorf("cached SELECT: got %q, want the new keyword in FLAGS and UNSEEN 4", sel)
	}
}

// TestReportedModSeq: while expunges are held back (no EXPUNGE allowed
// yet), the HIGHESTMODSEQ told to the client stays below them.
func TestReportedModSeq(t *testing.T) {
	v := &selected{gone: map[uint32]bool{}, hms: 15}
	if got := v.reportedModSeq(); got != 15 {
		t.Errorf("nothing held back: got %d, want 15", got)
	}
	v.noteGone(12)
	v.gone[3] = true
	v.noteGone(10)
	v.gone[4] = true
	if got := v.reportedModSeq(); got != 9 {
		t.Errorf("expunges at 12 and 10 held back: got %d, want 9", got)
	}
	clear(v.gone)
	v.noteGone(14)
	v.gone[5] = true
	if got := v.reportedModSeq(); got != 13 {
		t.Errorf("after the first were reported, one at 14 held back: got %d, want 13", got)
	}
}
