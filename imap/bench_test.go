package imap

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
)

var (
	benchFolder   = flag.Int("imap.folder", 10000, "messages in the folder of BenchmarkFetchHeaders")
	benchStore    = flag.Int("imap.store", 100000, "messages in the store of BenchmarkSearchBody")
	benchSessions = flag.Int("imap.sessions", 1000, "sessions held open by BenchmarkSessions")
)

// fill appends n small messages to a user's mailbox with parallel
// core.Append calls, so that group commit batches them.
func fill(b *testing.B, e *env, userID int64, mailbox string, n int) {
	b.Helper()
	ctx := context.Background()
	mb, err := e.svc.GetMailboxByName(ctx, userID, mailbox)
	if err != nil {
		b.Fatal(err)
	}
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, 1)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				msg := fmt.Sprintf("From: Sender %d <s%d@remote.example>\r\nTo: bob@example.test\r\nSubject: message %d %s\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <m%d@remote.example>\r\n\r\nHello, this is body number %d about %s and %s.\r\n",
					i%100, i%100, i, words[i%10], i, i, words[(i/10)%10], strings.Repeat("lorem ipsum ", 20))
				if i%1000 == 0 {
					msg += "the needle word appears here\r\n"
				}
				if _, err := e.svc.Append(ctx, userID, mb.ID, nil, time.Time{}, []byte(msg)); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.Logf("filled %s with %d messages in %v", mailbox, n, time.Since(start).Round(time.Millisecond))
}

// BenchmarkFetchHeaders measures a Thunderbird-style header sync: UID FETCH
// 1:* of BODY.PEEK[HEADER.FIELDS (...)] over a folder of -imap.folder messages.
func BenchmarkFetchHeaders(b *testing.B) {
	e := newEnvIn(b, memDir(b), Options{AllowInsecureAuth: true})
	u := coretest.User(b, e.svc, "bob@example.test")
	fill(b, e, u.ID, "INBOX", *benchFolder)
	rc := e.raw(b)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	rc.ok("SELECT INBOX")
	b.Run(fmt.Sprintf("messages=%d", *benchFolder), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			lines := rc.ok("UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])")
			if len(lines) != *benchFolder {
				b.Fatalf("got %d FETCH responses, want %d", len(lines), *benchFolder)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(*benchFolder), "µs/message")
	})
}

// BenchmarkSearchBody measures SEARCH BODY in a store of -imap.store
// messages (built only when the benchmark runs).
func BenchmarkSearchBody(b *testing.B) {
	e := newEnvIn(b, memDir(b), Options{AllowInsecureAuth: true})
	u := coretest.User(b, e.svc, "bob@example.test")
	fill(b, e, u.ID, "INBOX", *benchStore)
	rc := e.raw(b)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	rc.ok("SELECT INBOX")
	want := (*benchStore + 999) / 1000
	b.Run(fmt.Sprintf("messages=%d", *benchStore), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			lines := rc.ok("SEARCH BODY needle")
			if n := len(strings.Fields(strings.TrimPrefix(lines[0], "* SEARCH"))); n != want {
				b.Fatalf("got %d hits, want %d", n, want)
			}
		}
	})
}

// BenchmarkSessions holds -imap.sessions logged-in sessions with INBOX
// selected and reports the heap they take (server and the minimal raw
// clients of this process together).
func BenchmarkSessions(b *testing.B) {
	b.Run("selected", func(b *testing.B) { benchSessionsState(b, true) })
	b.Run("authenticated", func(b *testing.B) { benchSessionsState(b, false) })
}

func benchSessionsState(b *testing.B, selectInbox bool) {
	for i := 0; i < b.N; i++ {
		e := newEnv(b, Options{AllowInsecureAuth: true})
		coretest.User(b, e.svc, "bob@example.test")
		n := *benchSessions
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		conns := make([]net.Conn, 0, n)
		for j := 0; j < n; j++ {
			c, err := net.Dial("tcp", e.addr)
			if err != nil {
				b.Fatal(err)
			}
			r := bufio.NewReaderSize(c, 16)
			cmd := "b NOOP"
			if selectInbox {
				cmd = "b SELECT INBOX"
			}
			fmt.Fprintf(c, "a LOGIN bob@example.test %q\r\n%s\r\n", coretest.Password, cmd)
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasPrefix(l, "b OK") {
					break
				}
			}
			conns = append(conns, c)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/session")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		if got := e.srv.count(); got != n {
			b.Fatalf("open sessions: got %d, want %d", got, n)
		}
		for _, c := range conns {
			c.Close()
		}
	}
}
