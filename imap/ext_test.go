package imap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage/sqlite"
)

// TestExtCapabilities: after login CAPABILITY lists the extensions wired
// in cmd_quota.go, cmd_metadata.go, cmd_sort.go and cmd_compress.go; before
// login it does not offer them.
func TestExtCapabilities(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	rc := e.raw(t)
	before := strings.Join(rc.ok("CAPABILITY"), " ")
	if strings.Contains(before, "QUOTA") || strings.Contains(before, "COMPRESS") {
		t.Errorf("before login: %q offers post-login extensions", before)
	}
	// COMPRESS only once logged in, so always after any STARTTLS.
	if _, st := rc.cmd("COMPRESS DEFLATE"); !strings.Contains(st, "BAD") {
		t.Errorf("COMPRESS before login: got %q, want BAD", st)
	}
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	if _, st := rc.cmd("COMPRESS LZW"); !strings.Contains(st, "BAD") {
		t.Errorf("COMPRESS LZW: got %q, want BAD", st)
	}
	caps := strings.Fields(strings.Join(rc.ok("CAPABILITY"), " "))
	// Issue 10's list, then the extras of this branch.
	for _, want := range []string{"CONDSTORE", "QRESYNC", "QUOTA", "METADATA", "SORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES",
		"OBJECTID", "COMPRESS=DEFLATE", "ID", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE", "METADATA-SERVER", "SORT=DISPLAY", "ESORT"} {
		if !contains(caps, want) {
			t.Errorf("CAPABILITY after login: %q lacks %s", caps, want)
		}
	}
	// go-imap's client reads the same list.
	c := e.client(t, "bob@example.test", nil)
	cs, err := c.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range []imap.Cap{imap.CapSort, imap.CapQuota, imap.CapMetadata, imap.CapMetadataServer} {
		if !cs.Has(cp) {
			t.Errorf("imapclient: capability %s missing", cp)
		}
	}
	if algs := cs.ThreadAlgorithms(); len(algs) != 2 {
		t.Errorf("thread algorithms: got %v, want ORDEREDSUBJECT and REFERENCES", algs)
	}
	id, err := c.ID(&imap.IDData{Name: "test"}).Wait()
	if err != nil || id.Name != "Stamp" || id.Version == "" {
		t.Errorf("ID: got %+v, %v; want name Stamp and a version", id, err)
	}
}

// TestQuotaCommands drives GETQUOTAROOT, GETQUOTA and SETQUOTA through
// imapclient and checks the raw answers: the STORAGE resource in KiB,
// usage right after APPEND and EXPUNGE, no root without a limit, the
// untagged QUOTA before NO [OVERQUOTA].
func TestQuotaCommands(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	coretest.User(t, e.svc, "free@example.test")
	if err := e.svc.SetQuota(context.Background(), "bob@example.test", 10*1024); err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprintf("From: bob@example.test\r\nSubject: q\r\n\r\n%03000d\r\n", 0)
	e.deliver(t, "bob@example.test", msg)

	c := e.client(t, "bob@example.test", nil)
	roots, err := c.GetQuotaRoot("INBOX").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 || roots[0].Root != "" {
		t.Fatalf("GETQUOTAROOT INBOX: got %+v, want one root \"\"", roots)
	}
	st := roots[0].Resources[imap.QuotaResourceStorage]
	used, limit, _, _ := e.svc.Quota(context.Background(), mustUser(t, e, "bob@example.test"))
	if st.Limit != 10 || st.Usage != (used+1023)/1024 || st.Usage < 3 {
		t.Errorf("STORAGE: got %+v, want usage %d KiB (%d bytes) of limit 10 (%d bytes)", st, (used+1023)/1024, used, limit)
	}
	q, err := c.GetQuota("").Wait()
	if err != nil || q.Resources[imap.QuotaResourceStorage] != st {
		t.Errorf("GETQUOTA \"\": got %+v, %v; want %+v", q, err, st)
	}
	if _, err := c.GetQuota("other").Wait(); !isCode(err, imap.ResponseCodeNonExistent) {
		t.Errorf("GETQUOTA other: got %v, want NO [NONEXISTENT]", err)
	}
	if err := c.SetQuota("", map[imap.QuotaResourceType]int64{imap.QuotaResourceStorage: 1 << 20}).Wait(); !isCode(err, imap.ResponseCodeNoPerm) {
		t.Errorf("SETQUOTA: got %v, want NO [NOPERM]", err)
	}
	if _, err := c.GetQuotaRoot("Nope").Wait(); !isCode(err, imap.ResponseCodeNonExistent) {
		t.Errorf("GETQUOTAROOT of a missing mailbox: got %v, want NO [NONEXISTENT]", err)
	}

	// Over the limit: the untagged QUOTA comes before the tagged NO.
	rc := e.raw(t)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	big := strings.Repeat("x", 12*1024)
	tag := rc.send("APPEND INBOX {%d+}\r\n%s", len(big), big)
	lines, status := rc.until(tag)
	if !strings.Contains(status, "NO [OVERQUOTA]") {
		t.Fatalf("APPEND over quota: got %q, want NO [OVERQUOTA]", status)
	}
	if got := grep(lines, `* QUOTA "" (STORAGE `); len(got) != 1 || !strings.HasSuffix(got[0], " 10)") {
		t.Errorf("untagged QUOTA before NO [OVERQUOTA]: got %q", lines)
	}

	// Usage after an expunge.
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	roots, err = c.GetQuotaRoot("INBOX").Wait()
	if err != nil || len(roots) != 1 || roots[0].Resources[imap.QuotaResourceStorage].Usage != 0 {
		t.Errorf("after EXPUNGE: got %+v, %v; want usage 0", roots, err)
	}

	// No limit: no quota root.
	rf := e.raw(t)
	rf.ok("LOGIN free@example.test %q", coretest.Password)
	if got := rf.ok("GETQUOTAROOT INBOX"); len(got) != 1 || got[0] != "* QUOTAROOT INBOX" {
		t.Errorf("GETQUOTAROOT without a limit: got %q, want only * QUOTAROOT INBOX", got)
	}
}

func mustUser(t *testing.T, e *env, addr string) int64 {
	t.Helper()
	u, err := e.store.GetUserByAddress(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestMetadataCommands: SETMETADATA and GETMETADATA on the server and on a
// mailbox through imapclient, then the options and errors raw: DEPTH,
// MAXSIZE with LONGENTRIES, MAXSIZE and NOPERM refusals, removal by NIL,
// literal8 values.
func TestMetadataCommands(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	coretest.User(t, e.svc, "eve@example.test")
	if err := e.svc.SetServerMetadata(context.Background(), []core.MetadataEntry{{Name: "/shared/admin", Value: []byte("mailto:postmaster@example.test")}}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t, "bob@example.test", nil)
	v := func(s string) *[]byte { b := []byte(s); return &b }
	if err := c.SetMetadata("", map[string]*[]byte{"/private/vendor/deltachat/x": v("1")}).Wait(); err != nil {
		t.Fatalf("SETMETADATA server: %v", err)
	}
	if err := c.SetMetadata("INBOX", map[string]*[]byte{"/shared/comment": v("Mail for Bob"), "/private/comment": v("mine")}).Wait(); err != nil {
		t.Fatalf("SETMETADATA INBOX: %v", err)
	}
	got, err := c.GetMetadata("INBOX", []string{"/shared/comment", "/private/comment"}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != 2 || string(*got.Entries["/shared/comment"]) != "Mail for Bob" || string(*got.Entries["/private/comment"]) != "mine" {
		t.Errorf("GETMETADATA INBOX: got %v", got.Entries)
	}
	srv, err := c.GetMetadata("", []string{"/shared/admin", "/private/vendor/deltachat/x"}, nil).Wait()
	if err != nil || len(srv.Entries) != 2 || string(*srv.Entries["/shared/admin"]) != "mailto:postmaster@example.test" {
		t.Errorf("GETMETADATA server: got %v, %v", srv.Entries, err)
	}
	if err := c.SetMetadata("", map[string]*[]byte{"/shared/admin": v("x")}).Wait(); !isCode(err, imap.ResponseCodeNoPerm) {
		t.Errorf("SETMETADATA of the server's /shared/admin: got %v, want NO [NOPERM]", err)
	}

	rc := e.raw(t)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	cases := []struct {
		name, cmd string
		lines     []string
		status    string
	}{
		{"depth infinity", `GETMETADATA (DEPTH infinity) INBOX /private`, []string{`* METADATA INBOX (/private/comment "mine")`}, "OK"},
		{"depth 1 of /shared", `GETMETADATA (DEPTH 1) INBOX (/shared)`, []string{`* METADATA INBOX (/shared/comment "Mail for Bob")`}, "OK"},
		{"missing is NIL", `GETMETADATA INBOX /private/nothing`, []string{`* METADATA INBOX (/private/nothing NIL)`}, "OK"},
		{"maxsize", `GETMETADATA (MAXSIZE 5) INBOX (/shared/comment /private/comment)`, []string{`* METADATA INBOX (/private/comment "mine")`}, "OK [METADATA LONGENTRIES 12]"},
		{"options after the mailbox", `GETMETADATA INBOX (MAXSIZE 100) (/private/comment)`, []string{`* METADATA INBOX (/private/comment "mine")`}, "OK"},
		{"bad name", `GETMETADATA INBOX /other/x`, nil, "BAD"},
		{"bad depth", `GETMETADATA (DEPTH 2) INBOX /private`, nil, "BAD"},
		{"no mailbox", `GETMETADATA Nope /private/comment`, nil, "NO [NONEXISTENT]"},
		{"remove", `SETMETADATA INBOX (/private/comment NIL)`, nil, "OK"},
		{"removed", `GETMETADATA INBOX /private/comment`, []string{`* METADATA INBOX (/private/comment NIL)`}, "OK"},
		{"too large", fmt.Sprintf("SETMETADATA INBOX (/private/big {%d+}\r\n%s)", core.MetadataMaxValue+1, strings.Repeat("a", core.MetadataMaxValue+1)), nil, fmt.Sprintf("NO [METADATA MAXSIZE %d]", core.MetadataMaxValue)},
		{"largest value", fmt.Sprintf("SETMETADATA INBOX (/private/big {%d+}\r\n%s)", core.MetadataMaxValue, strings.Repeat("a", core.MetadataMaxValue)), nil, "OK"},
		{"literal8 value", "SETMETADATA INBOX (/private/bin ~{3+}\r\na\x00b)", nil, "OK"},
		{"binary read back", `GETMETADATA INBOX /private/bin`, []string{"* METADATA INBOX (/private/bin ~{3}\r\na\x00b)"}, "OK"},
	}
	for _, tc := range cases {
		lines, status := rc.cmd("%s", tc.cmd)
		if !strings.Contains(status, " "+tc.status) || !reflect.DeepEqual(lines, tc.lines) {
			t.Errorf("%s: got %q %q, want %q %q", tc.name, lines, status, tc.lines, tc.status)
		}
	}
	// Another user sees none of bob's entries.
	re := e.raw(t)
	re.ok("LOGIN eve@example.test %q", coretest.Password)
	if got := re.ok(`GETMETADATA "" /private/vendor/deltachat/x`); len(got) != 1 || !strings.HasSuffix(got[0], "NIL)") {
		t.Errorf("eve reads bob's server entry: got %q, want NIL", got)
	}
}

// Messages of a reply chain (a <- b <- c, d replying to a) and an
// unrelated one.
func chainMsg(id, subject, from, date string, refs ...string) string {
	h := fmt.Sprintf("From: %s\r\nTo: bob@example.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n", from, subject, date, id)
	if len(refs) > 0 {
		h += "In-Reply-To: <" + refs[len(refs)-1] + ">\r\nReferences: <" + strings.Join(refs, "> <") + ">\r\n"
	}
	return h + "\r\nbody of " + id + "\r\n"
}

// TestSortThread: SORT and THREAD through imapclient (go-imap has both),
// UID forms, search criteria, ESORT and errors raw. THREAD=REFERENCES of a
// reply chain nests it.
func TestSortThread(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	u := coretest.User(t, e.svc, "bob@example.test")
	inbox, err := e.svc.GetMailboxByName(context.Background(), u.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []string{
		chainMsg("a@x", "Plans", "Carol <carol@example.test>", "Mon, 1 Jan 2024 10:00:00 +0000"),
		chainMsg("z@x", "Zebra news", "Alice <alice@example.test>", "Sun, 31 Dec 2023 09:00:00 +0000"),
		chainMsg("b@x", "Re: Plans", "Dave <dave@example.test>", "Mon, 1 Jan 2024 11:00:00 +0000", "a@x"),
		chainMsg("c@x", "Re: Re: Plans", "Carol <carol@example.test>", "Mon, 1 Jan 2024 12:00:00 +0000", "a@x", "b@x"),
		chainMsg("d@x", "Re: Plans", "Bob <bob@example.test>", "Mon, 1 Jan 2024 13:00:00 +0000", "a@x"),
	} {
		// Arrival a minute apart: ARRIVAL compares the internal date's
		// seconds, ties go by sequence number (RFC 5256 section 3).
		arrival := time.Date(2024, 2, 1, 0, i, 0, 0, time.UTC)
		if _, err := e.svc.Append(context.Background(), u.ID, inbox.ID, nil, arrival, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client(t, "bob@example.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	sortCases := []struct {
		name string
		crit []imapclient.SortCriterion
		want []uint32
	}{
		{"date", []imapclient.SortCriterion{{Key: imapclient.SortKeyDate}}, []uint32{2, 1, 3, 4, 5}},
		{"reverse date", []imapclient.SortCriterion{{Key: imapclient.SortKeyDate, Reverse: true}}, []uint32{5, 4, 3, 1, 2}},
		{"from", []imapclient.SortCriterion{{Key: imapclient.SortKeyFrom}, {Key: imapclient.SortKeyArrival}}, []uint32{2, 5, 1, 4, 3}},
		{"subject", []imapclient.SortCriterion{{Key: imapclient.SortKeySubject}, {Key: imapclient.SortKeyDate}}, []uint32{1, 3, 4, 5, 2}},
		{"reverse arrival", []imapclient.SortCriterion{{Key: imapclient.SortKeyArrival, Reverse: true}}, []uint32{5, 4, 3, 2, 1}},
	}
	var got []uint32
	for _, tc := range sortCases {
		got, err = c.Sort(&imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{}, SortCriteria: tc.crit}).Wait()
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SORT %s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	// Search criteria through the SEARCH code, UID form.
	got, err = c.UIDSort(&imapclient.SortOptions{
		SearchCriteria: &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "carol"}}},
		SortCriteria:   []imapclient.SortCriterion{{Key: imapclient.SortKeyDate, Reverse: true}},
	}).Wait()
	if err != nil || !reflect.DeepEqual(got, []uint32{4, 1}) {
		t.Errorf("UID SORT FROM carol: got %v, %v; want [4 1]", got, err)
	}

	th, err := c.Thread(&imapclient.ThreadOptions{Algorithm: imap.ThreadReferences, SearchCriteria: &imap.SearchCriteria{}}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	// (2)(1 (3 4)(5)): z alone; a with two replies, b's reply c under b.
	want := []imapclient.ThreadData{
		{Chain: []uint32{2}},
		{Chain: []uint32{1}, SubThreads: []imapclient.ThreadData{{Chain: []uint32{3, 4}}, {Chain: []uint32{5}}}},
	}
	if !reflect.DeepEqual(th, want) {
		t.Errorf("THREAD REFERENCES: got %+v, want %+v", th, want)
	}

	// The keys THREAD and SORT FROM need are stored (at delivery), once per message.
	rows, err := e.svc.SortRows(context.Background(), u.ID, inbox.ID)
	if err != nil || len(rows) != 5 {
		t.Fatalf("SortRows: got %d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		if r.Keys == nil {
			t.Fatalf("message %d: no stored sort keys after SORT and THREAD", r.UID)
		}
	}
	if k := rows[3].Keys; !reflect.DeepEqual(k.Parents, []string{"a@x", "b@x"}) || k.FromName != "Carol" || k.FromAddr != "carol@example.test" {
		t.Errorf("stored keys of c: got %+v", k)
	}

	rc := e.raw(t)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	rc.ok("SELECT INBOX")
	raw := []struct{ cmd, line, status string }{
		{"THREAD REFERENCES UTF-8 ALL", "* THREAD (2)(1 (3 4)(5))", "OK"},
		{"UID THREAD REFERENCES UTF-8 ALL", "* THREAD (2)(1 (3 4)(5))", "OK"},
		{"THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (2)(1 (3)(4)(5))", "OK"},
		{"THREAD REFERENCES UTF-8 SUBJECT zebra", "* THREAD (2)", "OK"},
		{"THREAD REFERENCES UTF-8 SUBJECT nothing", "* THREAD", "OK"},
		{"SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 2 5 1 4 3", "OK"},
		{"SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL", `* ESEARCH (TAG "a%d") MIN 2 MAX 5 COUNT 5`, "OK"},
		{"UID SORT RETURN () (REVERSE ARRIVAL) UTF-8 1:4", `* ESEARCH (TAG "a%d") UID ALL 4,3,2,1`, "OK"},
		{"SORT (DATE) KOI8-R ALL", "", "NO [BADCHARSET"},
		{"SORT (COLOUR) UTF-8 ALL", "", "BAD"},
		{"THREAD SPAGHETTI UTF-8 ALL", "", "BAD"},
		{"SORT () UTF-8 ALL", "", "BAD"},
	}
	for _, tc := range raw {
		lines, status := rc.cmd("%s", tc.cmd)
		want := tc.line
		if strings.Contains(want, "%d") {
			want = fmt.Sprintf(want, rc.tag)
		}
		if !strings.Contains(status, " "+tc.status) || (want != "" && !reflect.DeepEqual(lines, []string{want})) {
			t.Errorf("%s: got %q %q, want %q %q", tc.cmd, lines, status, want, tc.status)
		}
	}
	// SORT keeps a saved SEARCHRES result as it was.
	rc.ok("SEARCH RETURN (SAVE) FROM dave")
	rc.ok("SORT (DATE) UTF-8 FROM carol")
	if got := rc.ok("UID SEARCH UID $"); !reflect.DeepEqual(got, []string{"* SEARCH 3"}) {
		t.Errorf("$ after SORT: got %q, want [* SEARCH 3]", got)
	}
}

// compressPeer is a client in python3 with zlib for raw DEFLATE (RFC
// 4978): it logs in, sends COMPRESS DEFLATE with the next command pipelined
// straight after it (compressed), then runs SELECT, a full FETCH, IDLE
// (the test delivers a message meanwhile and the peer must see EXISTS
// unprompted), a second COMPRESS and LOGOUT, all compressed.
const compressPeer = `
import socket, sys, zlib
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
raw = b""
def rline():
    global raw
    while b"\r\n" not in raw:
        data = s.recv(65536)
        if not data:
            raise SystemExit("closed")
        raw += data
    i = raw.index(b"\r\n") + 2
    l, raw = raw[:i], raw[i:]
    return l
assert rline().startswith(b"* OK")
s.sendall(b'a LOGIN bob@example.test "' + sys.argv[2].encode() + b'"\r\n')
while not rline().startswith(b"a OK"): pass
c = zlib.compressobj(6, zlib.DEFLATED, -15)
d = zlib.decompressobj(-15)
# COMPRESS and, in the same packet, the first compressed command.
s.sendall(b"b COMPRESS DEFLATE\r\n" + c.compress(b"c CAPABILITY\r\n") + c.flush(zlib.Z_SYNC_FLUSH))
l = rline()
assert l.startswith(b"b OK"), l
buf = d.decompress(raw)
def send(line):
    s.sendall(c.compress(line) + c.flush(zlib.Z_SYNC_FLUSH))
wire = 0
def until(token):
    global buf, wire
    while token not in buf:
        data = s.recv(65536)
        if not data:
            raise SystemExit("closed before " + token.decode())
        wire += len(data)
        buf += d.decompress(data)
    i = buf.index(token) + len(token)
    out, buf = buf[:i], buf[i:]
    return out
caps = until(b"c OK")
assert b"COMPRESS=DEFLATE" not in caps and b"QUOTA" in caps, caps
send(b"e SELECT INBOX\r\n")
until(b"e OK")
send(b"f FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[])\r\n")
out = until(b"f OK")
assert out.count(b"* ") >= int(sys.argv[3]) and out.count(b"filler line") == 200 * int(sys.argv[3]), out[:300]
send(b"g IDLE\r\n")
until(b"+ ")
print("idling", flush=True)
sys.stdin.readline()
until(b"EXISTS")
send(b"DONE\r\n")
until(b"g OK")
until(b"\r\n")
send(b"h COMPRESS DEFLATE\r\n")
out = until(b"\r\n")
assert out.startswith(b"h NO [COMPRESSIONACTIVE]"), out
send(b"i LOGOUT\r\n")
until(b"i OK")
print("peer ok", len(out), wire, flush=True)
`

// TestCompressPython runs a whole compressed session with python's zlib
// as the client.
func TestCompressPython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIPPED LOUDLY: python3 not installed: the zlib client cannot run")
	}
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	filler := strings.Repeat("filler line\r\n", 200)
	const n = 3
	for i := 0; i < n; i++ {
		e.deliver(t, "bob@example.test", fmt.Sprintf("From: a@example.test\r\nSubject: m%d\r\n\r\n%s", i, filler))
	}
	cmd := exec.Command("python3", "-c", compressPeer, strings.Split(e.addr, ":")[1], coretest.Password, fmt.Sprint(n))
	stdin, _ := cmd.StdinPipe()
	var out strings.Builder
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "idling" {
		cmd.Wait()
		t.Fatalf("python client did not reach IDLE: %q %s", lines.Text(), out.String())
	}
	e.deliver(t, "bob@example.test", "From: a@example.test\r\nSubject: during idle\r\n\r\nhi\r\n")
	fmt.Fprintln(stdin, "go")
	lines.Scan()
	last := lines.Text()
	if err := cmd.Wait(); err != nil || !strings.HasPrefix(last, "peer ok") {
		t.Fatalf("python client: %v\nstdout %q\nstderr %s", err, last, out.String())
	}
	t.Logf("python: %s (last response bytes, compressed bytes received)", last)
}

// newEnvConfig is newEnv over a core with cfg.
func newEnvConfig(t *testing.T, cfg core.Config) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "stamp.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := coretest.New(t, coretest.Options{Dir: dir, Config: cfg, Deps: core.Deps{Store: st}})
	srv := New(Options{Core: svc, AllowInsecureAuth: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	})
	return &env{svc: svc, store: st, srv: srv, addr: ln.Addr().String()}
}

// TestQuotaMessages: with limits.quota_messages the MESSAGE resource is
// listed, APPEND past it and a COPY that would pass it answer NO
// [OVERQUOTA], and SMTP-style delivery is refused too; nothing stored is
// touched.
func TestQuotaMessages(t *testing.T) {
	e := newEnvConfig(t, core.Config{QuotaMessages: 2})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", "From: a@example.test\r\nSubject: one\r\n\r\nhi\r\n")
	c := e.client(t, "bob@example.test", nil)
	roots, err := c.GetQuotaRoot("INBOX").Wait()
	if err != nil || len(roots) != 1 {
		t.Fatalf("GETQUOTAROOT: got %+v, %v", roots, err)
	}
	if m, ok := roots[0].Resources[imap.QuotaResourceMessage]; !ok || m.Usage != 1 || m.Limit != 2 {
		t.Errorf("MESSAGE: got %+v (%v), want 1 of 2", m, roots[0].Resources)
	}
	if _, ok := roots[0].Resources[imap.QuotaResourceStorage]; ok {
		t.Errorf("STORAGE listed without a storage limit: %+v", roots[0].Resources)
	}
	appendMsg := func() error {
		msg := "From: bob@example.test\r\nSubject: q\r\n\r\nx\r\n"
		cmd := c.Append("INBOX", int64(len(msg)), nil)
		cmd.Write([]byte(msg))
		cmd.Close()
		_, err := cmd.Wait()
		return err
	}
	if err := appendMsg(); err != nil {
		t.Fatalf("second APPEND: %v", err)
	}
	if err := appendMsg(); !isCode(err, imap.ResponseCodeOverQuota) {
		t.Errorf("third APPEND: got %v, want NO [OVERQUOTA]", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Archive").Wait(); !isCode(err, imap.ResponseCodeOverQuota) {
		t.Errorf("COPY over the message limit: got %v, want NO [OVERQUOTA]", err)
	}
	err = e.svc.Deliver(context.Background(), core.Envelope{MailFrom: "s@remote.example", Recipients: []string{"bob@example.test"},
		RemoteIP: net.ParseIP("192.0.2.1"), Helo: "remote.example"}, []byte("From: s@remote.example\r\nSubject: x\r\n\r\nx\r\n"))
	if !errors.Is(err, core.ErrOverQuota) {
		t.Errorf("delivery over the message limit: got %v, want ErrOverQuota", err)
	}
	// MOVE needs no room.
	if _, err := c.Move(imap.SeqSetNum(1), "Archive").Wait(); err != nil {
		t.Errorf("MOVE at the limit: %v", err)
	}
	st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || st.NumMessages == nil || *st.NumMessages != 1 {
		t.Errorf("Archive after MOVE: got %+v, %v", st, err)
	}
}

// imaplibPeer drives SORT, THREAD, QUOTA and METADATA with python's
// imaplib (its sort, thread, getquotaroot and getquota methods and raw
// GETMETADATA/SETMETADATA) and prints what it got, one result a line.
const imaplibPeer = `
import imaplib, sys
imaplib.Commands["SETMETADATA"] = imaplib.Commands["GETMETADATA"] = ("AUTH", "SELECTED")
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("bob@example.test", sys.argv[2])
m.select("INBOX")
print("sort", m.sort("(REVERSE DATE)", "UTF-8", "ALL")[1][0].decode())
print("thread", m.thread("REFERENCES", "UTF-8", "ALL")[1][0].decode())
typ, data = m.getquotaroot("INBOX")
print("quotaroot", typ, [d.decode() for d in data[0] + data[1]])
print("setmetadata", m._simple_command("SETMETADATA", "INBOX", '(/private/comment "hello")')[0])
typ, data = m._simple_command("GETMETADATA", "INBOX", "/private/comment")
print("getmetadata", typ, m.untagged_responses.get("METADATA"))
m.logout()
`

// TestImaplib: python's imaplib as an independent client of SORT, THREAD,
// QUOTA and METADATA.
func TestImaplib(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIPPED LOUDLY: python3 not installed: the imaplib client cannot run")
	}
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	if err := e.svc.SetQuota(context.Background(), "bob@example.test", 1<<20); err != nil {
		t.Fatal(err)
	}
	e.deliver(t, "bob@example.test", chainMsg("p@x", "Lunch", "Ann <ann@example.test>", "Tue, 2 Jan 2024 10:00:00 +0000"))
	e.deliver(t, "bob@example.test", chainMsg("q@x", "Re: Lunch", "Ben <ben@example.test>", "Tue, 2 Jan 2024 11:00:00 +0000", "p@x"))
	e.deliver(t, "bob@example.test", chainMsg("r@x", "Re: Lunch", "Ann <ann@example.test>", "Tue, 2 Jan 2024 12:00:00 +0000", "p@x", "q@x"))
	out, err := exec.Command("python3", "-c", imaplibPeer, strings.Split(e.addr, ":")[1], coretest.Password).CombinedOutput()
	if err != nil {
		t.Fatalf("imaplib: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	used, _, _, err := e.svc.Quota(context.Background(), mustUser(t, e, "bob@example.test"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sort 3 2 1",
		"thread (1 2 3)", // the reply chain nested: 3 under 2 under 1
		fmt.Sprintf("quotaroot OK ['INBOX \"\"', '\"\" (STORAGE %d 1024)']", (used+1023)/1024),
		"setmetadata OK",
		"getmetadata OK [b'INBOX (/private/comment \"hello\")']",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("imaplib:\ngot  %q\nwant %q", got, want)
	}
}
