package imap

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
)

var benchSort = flag.Int("imap.sort", 10000, "messages in the folder of BenchmarkSortThread")

// fillThreads appends n messages in reply chains of up to 5 (each message
// names the previous ones of its chain in References and In-Reply-To),
// from 100 senders, with parallel core.Append calls.
func fillThreads(b *testing.B, e *env, userID int64, n int) {
	b.Helper()
	ctx := context.Background()
	mb, err := e.svc.GetMailboxByName(ctx, userID, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	var once sync.Once
	var firstErr error
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				root := i - i%5
				subj := fmt.Sprintf("topic %d", root)
				var refs []string
				for j := root; j < i; j++ {
					refs = append(refs, fmt.Sprintf("<m%d@remote.example>", j))
				}
				h := fmt.Sprintf("From: Sender %d <s%d@remote.example>\r\nTo: Bob <bob@example.test>\r\nCc: c%d@remote.example\r\nDate: %s\r\nMessage-ID: <m%d@remote.example>\r\n",
					i%100, i%100, i%7, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*7919%n)*time.Minute).Format(time.RFC1123Z), i)
				if len(refs) > 0 {
					subj = "Re: " + subj
					h += "In-Reply-To: " + refs[len(refs)-1] + "\r\nReferences: " + strings.Join(refs, " ") + "\r\n"
				}
				msg := h + "Subject: " + subj + "\r\n\r\nbody " + fmt.Sprint(i) + "\r\n"
				if _, err := e.svc.Append(ctx, userID, mb.ID, nil, time.Time{}, []byte(msg)); err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.Logf("filled INBOX with %d messages in %v", n, time.Since(start).Round(time.Millisecond))
}

// BenchmarkSortThread measures SORT and THREAD over a folder of
// -imap.sort messages, over the wire (the whole answer read by the client).
func BenchmarkSortThread(b *testing.B) {
	n := *benchSort
	e := newEnvIn(b, memDir(b), Options{AllowInsecureAuth: true})
	u := coretest.User(b, e.svc, "bob@example.test")
	fillThreads(b, e, u.ID, n)
	// The first SORT of the folder reads its rows into the server's sort
	// cache (and computes keys from headers for mail stored without them):
	// timed once here with a long deadline.
	warm := e.raw(b)
	warm.ok("LOGIN bob@example.test %q", coretest.Password)
	warm.ok("SELECT INBOX")
	start := time.Now()
	fmt.Fprintf(warm.c, "w SORT (FROM) UTF-8 ALL\r\n")
	warm.c.SetReadDeadline(time.Now().Add(30 * time.Minute))
	for {
		l, err := warm.r.ReadString('\n')
		if err != nil {
			b.Fatalf("first SORT (FROM): %v", err)
		}
		if strings.HasPrefix(l, "w ") {
			break
		}
	}
	b.Logf("first SORT (FROM) of %d messages (rows read into the sort cache): %v", n, time.Since(start).Round(time.Millisecond))
	rc := e.raw(b)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	rc.ok("SELECT INBOX")
	for _, tc := range []struct{ name, cmd, prefix string }{
		{"SORT_DATE", "SORT (DATE) UTF-8 ALL", "* SORT "},
		{"SORT_SUBJECT", "SORT (SUBJECT) UTF-8 ALL", "* SORT "},
		{"SORT_FROM", "SORT (FROM) UTF-8 ALL", "* SORT "},
		{"SORT_REVERSE_ARRIVAL_UNSEEN", "UID SORT (REVERSE ARRIVAL) UTF-8 UNSEEN", "* SORT "},
		{"THREAD_ORDEREDSUBJECT", "THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD "},
		{"THREAD_REFERENCES", "THREAD REFERENCES UTF-8 ALL", "* THREAD "},
	} {
		b.Run(fmt.Sprintf("%s/messages=%d", tc.name, n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				lines := rc.ok("%s", tc.cmd)
				if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.prefix) {
					b.Fatalf("%s: got %d lines (%.60q), want one %q", tc.cmd, len(lines), lines, tc.prefix)
				}
				if strings.HasPrefix(tc.prefix, "* THREAD") && strings.Count(lines[0], "((") > 0 {
					b.Fatalf("unexpected empty parent in %.100q", lines[0])
				}
			}
		})
	}
}
