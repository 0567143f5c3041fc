package imap

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob"
)

var (
	benchResyncFolder  = flag.Int("imap.resync", 100000, "messages in the folder of BenchmarkQResync")
	benchResyncChanges = flag.Int("imap.resync-changes", 100, "changes (4 in 5 flag changes, 1 in 5 expunges) before BenchmarkQResync's resync")
)

// bulkFill stores n small messages in a mailbox straight through
// storage.Deliver, 1000 to a transaction, all sharing one inline blob: a
// 100,000 message folder in seconds rather than the minutes core's
// delivery pipeline takes. No subjects (no thread matching by subject):
// enough for flag and MODSEQ work.
func bulkFill(b *testing.B, e *env, userID, mailboxID int64, n int) {
	b.Helper()
	ctx := context.Background()
	raw := []byte("From: Sender <s@remote.example>\r\nTo: bob@example.test\r\nSubject: bulk\r\n\r\nbody\r\n")
	seg := storage.Segment{Hash: blob.Hash(raw), Size: int64(len(raw)), Inline: true}
	start := time.Now()
	for done := 0; done < n; {
		k := min(1000, n-done)
		batch := &storage.Batch{Inline: map[string][]byte{seg.Hash: raw}}
		for i := 0; i < k; i++ {
			batch.Messages = append(batch.Messages, &storage.NewMessage{
				UserID: userID, MailboxID: mailboxID, InternalDate: time.Unix(1700000000+int64(done+i), 0),
				Size: int64(len(raw)), HeaderSize: int64(len(raw)) - 6, Segments: []storage.Segment{seg},
				MessageIDHdr: fmt.Sprintf("b%d@remote.example", done+i),
			})
		}
		if err := e.store.Deliver(ctx, batch); err != nil {
			b.Fatal(err)
		}
		done += k
	}
	b.Logf("stored %d messages in %v", n, time.Since(start).Round(time.Millisecond))
}

// cpuTime is the process's user+system CPU time so far (server and client
// together: on a shared machine a steadier figure than wall time).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countConn counts the bytes a client reads.
type countConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// countedLogin opens a logged-in raw connection whose read bytes are counted.
func (e *env) countedLogin(b *testing.B, n *atomic.Int64) *raw {
	b.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	cc := countConn{Conn: c, n: n}
	rc := &raw{t: b, c: cc, r: bufio.NewReaderSize(cc, 64<<10)}
	rc.line()
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	return rc
}

// BenchmarkQResync measures what a client that knew a folder of
// -imap.resync messages pays to catch up after -imap.resync-changes changes
// made on another connection: "qresync" is ENABLE QRESYNC and EXAMINE
// (QRESYNC (uidvalidity modseq)), "full" is EXAMINE and UID FETCH 1:*
// (FLAGS), what a client without QRESYNC must do to learn the same. Both
// start after login; wire-bytes is what the server sent from then on. Each
// runs with the view cache holding the view the client knew (viewcache=true:
// the SELECT replays the changes) and without it (every SELECT lists the
// folder).
func BenchmarkQResync(b *testing.B) {
	e := newEnvIn(b, memDir(b), Options{AllowInsecureAuth: true})
	u := coretest.User(b, e.svc, "bob@example.test")
	ctx := context.Background()
	inbox, err := e.svc.GetMailboxByName(ctx, u.ID, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	n, changes := *benchResyncFolder, *benchResyncChanges
	bulkFill(b, e, u.ID, inbox.ID, n)

	var sink atomic.Int64
	rc := e.countedLogin(b, &sink)
	lines := rc.ok("EXAMINE INBOX")
	uidv, hms := field(lines, reUIDV), field(lines, reHMS)
	rc.ok("LOGOUT")

	// The changes: flags on 4 in 5, expunges of the rest, spread over the folder.
	other := e.countedLogin(b, &sink)
	other.ok("SELECT INBOX")
	var flagged, expunged []string
	for i := 0; i < changes; i++ {
		uid := fmt.Sprint(1 + i*(n/changes))
		if i%5 == 4 {
			expunged = append(expunged, uid)
		} else {
			flagged = append(flagged, uid)
		}
	}
	if len(flagged) > 0 {
		other.ok("UID STORE %s +FLAGS.SILENT (\\Flagged)", strings.Join(flagged, ","))
	}
	if len(expunged) > 0 {
		other.ok("UID STORE %s +FLAGS.SILENT (\\Deleted)", strings.Join(expunged, ","))
		other.ok("UID EXPUNGE %s", strings.Join(expunged, ","))
	}
	other.ok("LOGOUT")

	// The view the client knew, as the server cached it at that EXAMINE:
	// put back before every resync so each one replays all the changes
	// (otherwise the first resync's view, already current, is cached).
	before := e.srv.views.get(viewKey{u.ID, inbox.ID, uint32(uidv)}, time.Now())
	if before == nil {
		b.Fatal("the first EXAMINE left no view in the cache")
	}
	for _, cached := range []bool{true, false} {
		prepare := func() {
			e.srv.views.clear()
			if cached {
				e.srv.views.min.Store(viewCacheMin)
				e.srv.views.put(before)
			} else {
				e.srv.views.min.Store(1 << 30)
			}
		}
		resync := func(b *testing.B, cmds func(rc *raw)) {
			b.StopTimer()
			var wire atomic.Int64
			var sent int64
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				prepare()
				rc := e.countedLogin(b, &wire)
				wire.Add(-wire.Load())
				b.StartTimer()
				c0 := cpuTime()
				cmds(rc)
				b.StopTimer()
				cpu += cpuTime() - c0
				sent = wire.Load()
				rc.ok("LOGOUT")
			}
			b.ReportMetric(float64(sent), "wire-bytes")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		}
		b.Run(fmt.Sprintf("qresync/messages=%d/changes=%d/viewcache=%v", n, changes, cached), func(b *testing.B) {
			resync(b, func(rc *raw) {
				rc.ok("ENABLE QRESYNC")
				lines := rc.ok("EXAMINE INBOX (QRESYNC (%d %d))", uidv, hms)
				if got := len(grep(lines, " FETCH (")); got != len(flagged) || len(grep(lines, "VANISHED (EARLIER)")) != min(1, len(expunged)) {
					b.Fatalf("resync: got %d FETCH and %q, want %d FETCH and one VANISHED (EARLIER)", got, grep(lines, "VANISHED"), len(flagged))
				}
			})
		})
		b.Run(fmt.Sprintf("full/messages=%d/viewcache=%v", n, cached), func(b *testing.B) {
			resync(b, func(rc *raw) {
				rc.ok("EXAMINE INBOX")
				if lines := rc.ok("UID FETCH 1:* (FLAGS)"); len(lines) != n-len(expunged) {
					b.Fatalf("UID FETCH 1:* (FLAGS): got %d responses, want %d", len(lines), n-len(expunged))
				}
			})
		})
	}
}
