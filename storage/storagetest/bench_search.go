package storagetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// BenchSearchAddress is the user BenchmarkSearchBody fills once per store.
const BenchSearchAddress = "bench-search@example.com"

// BenchSearchMessages is the folder size of BenchmarkSearchBody:
// $STAMP_BENCH_MESSAGES or 100,000.
func BenchSearchMessages() int {
	if n, err := strconv.Atoi(os.Getenv("STAMP_BENCH_MESSAGES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// benchWords are the vocabulary of the generated bodies: mail-like
// English, with a little German and French.
var benchWords = strings.Fields(`the a to of and in for on with is that this your we you our please meeting
	report attached project budget quarterly review schedule update team customer order shipping
	delivery invoice payment account password reset security notice weekly newsletter offer sale
	friday monday tomorrow call thanks regards best question answer draft final version contract
	Rechnung Lieferung Besprechung morgen danke Grüße réunion facture livraison demain merci cordialement`)

// benchBody is message i's body text: about 1.5 KB of words, with a rare
// token in 1% of the messages and a Chinese sentence in 2%.
func benchBody(r *rand.Rand, i int) string {
	var b strings.Builder
	for b.Len() < 1500 {
		b.WriteString(benchWords[r.IntN(len(benchWords))])
		b.WriteByte(' ')
		if r.IntN(12) == 0 {
			b.WriteString(strconv.Itoa(r.IntN(100000)))
			b.WriteString(". ")
		}
	}
	if i%100 == 7 {
		b.WriteString(" reference INV-2026-" + strconv.Itoa(i) + " due")
	}
	if i%50 == 3 {
		b.WriteString(" 我们明天在北京开会讨论预算。")
	}
	return b.String()
}

// fillSearchBench makes the bench user's INBOX hold n generated messages,
// unless an earlier run did already (the store may be reused).
func fillSearchBench(b *testing.B, s storage.Store, n int) (storage.User, storage.Mailbox) {
	ctx := context.Background()
	u, err := s.GetUserByAddress(ctx, BenchSearchAddress)
	if err != nil {
		if u, err = s.CreateUser(ctx, BenchSearchAddress, "x"); err != nil {
			b.Fatal(err)
		}
	}
	inbox, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	if err != nil {
		b.Fatal(err)
	}
	if inbox.Total >= n {
		return u, inbox
	}
	start := time.Now()
	r := rand.New(rand.NewPCG(7, uint64(inbox.Total)))
	seg := storage.Segment{Hash: "bench-search-segment", Size: 2000, Inline: true}
	for i := inbox.Total; i < n; {
		batch := &storage.Batch{Inline: map[string][]byte{seg.Hash: make([]byte, 2000)}}
		for k := 0; k < 500 && i < n; k, i = k+1, i+1 {
			body := benchBody(r, i)
			batch.Messages = append(batch.Messages, &storage.NewMessage{
				UserID: u.ID, MailboxID: inbox.ID, InternalDate: time.Unix(1_700_000_000+int64(i)*60, 0),
				Size: 2000, HeaderSize: 300, Segments: []storage.Segment{seg},
				Subject: fmt.Sprintf("%s %s %d", benchWords[r.IntN(len(benchWords))], benchWords[r.IntN(len(benchWords))], i),
				From:    []storage.Address{{Name: "Sender " + strconv.Itoa(i%300), Address: fmt.Sprintf("s%d@example.org", i%300)}},
				To:      []storage.Address{{Address: BenchSearchAddress}},
				Date:    time.Unix(1_700_000_000+int64(i)*60, 0), MessageIDHdr: fmt.Sprintf("bs%d@example.org", i),
				SearchText: body, SearchHeader: fmt.Sprintf("subject: bench %d\nfrom: s%d@example.org\n", i, i%300),
			})
		}
		if err := s.Deliver(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("filled %d messages in %v", n-inbox.Total, time.Since(start).Round(time.Second))
	inbox, _ = s.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	return u, inbox
}

// cpuTime is this process's user+system CPU time (the SQLite backend runs
// in-process, so it is the query's cost even on a loaded machine).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSearchBody measures IMAP SEARCH BODY (SearchUIDs) on one
// folder of BenchSearchMessages() messages: a rare token (1% of messages),
// a common word, a Chinese phrase (2%), an absent string, and two
// needles that cannot use the key index (the bounded scan): two
// characters, and three ASCII letters (a body key needs a word run of
// four runes). It reports matches and CPU milliseconds per search of this
// process next to the wall time.
func BenchmarkSearchBody(b *testing.B, s storage.Store) {
	n := BenchSearchMessages()
	u, inbox := fillSearchBench(b, s, n)
	for _, c := range []struct{ name, needle string }{
		{"rare", "inv-2026-"},
		{"common", "quarterly"},
		{"cjk", "北京开会"},
		{"absent", "qwxyzzyq"},
		{"short-scan", "zz"},
		{"three-scan", "qxz"}, // no body keys (textkeys.BodyKeys): the same scan
	} {
		b.Run(c.name, func(b *testing.B) {
			q := storage.SearchQuery{MailboxID: inbox.ID, Body: []string{c.needle}}
			var hits int
			cpu0 := cpuTime()
			for b.Loop() {
				got, err := s.SearchUIDs(context.Background(), u.ID, q)
				if err != nil {
					b.Fatal(err)
				}
				hits = len(got)
			}
			b.ReportMetric(float64(hits), "matches")
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkResync measures what a QRESYNC resynchronisation asks of the
// store (RFC 7162 section 3.2.5) on the BenchmarkSearchBody folder after
// 100 changes (90 flag changes, 10 expunges): ChangedSince plus
// VanishedSince since the MODSEQ before them, against MessagesByUID of the
// whole folder, which a full UID FETCH 1:* (FLAGS) resync reads.
func BenchmarkResync(b *testing.B, s storage.Store) {
	ctx := context.Background()
	n := BenchSearchMessages()
	u, inbox := fillSearchBench(b, s, n)
	before := inbox.HighestModSeq
	all, err := s.MessagesByUID(ctx, u.ID, inbox.ID, 1, 0)
	if err != nil || len(all) < 200 {
		b.Fatalf("folder: %d messages, %v", len(all), err)
	}
	r := rand.New(rand.NewPCG(3, uint64(before)))
	var expunge []int64
	for i := 0; i < 100; i++ {
		m := all[r.IntN(len(all))]
		if i < 10 {
			expunge = append(expunge, m.ID)
			continue
		}
		if _, err := s.UpdateFlags(ctx, u.ID, inbox.ID, []int64{m.ID}, storage.FlagsAdd, []string{"$bench" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, expunge); err != nil {
		b.Fatal(err)
	}
	b.Run("qresync-100-changes", func(b *testing.B) {
		var changed, vanished int
		cpu0 := cpuTime()
		for b.Loop() {
			ch, err := s.ChangedSince(ctx, u.ID, inbox.ID, before)
			if err != nil {
				b.Fatal(err)
			}
			v, _, err := s.VanishedSince(ctx, u.ID, inbox.ID, before)
			if err != nil {
				b.Fatal(err)
			}
			changed, vanished = len(ch), len(v)
		}
		b.ReportMetric(float64(changed), "changed")
		b.ReportMetric(float64(vanished), "vanished")
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
	b.Run("full-flags-resync", func(b *testing.B) {
		var got int
		cpu0 := cpuTime()
		for b.Loop() {
			ms, err := s.MessagesByUID(ctx, u.ID, inbox.ID, 1, 0)
			if err != nil {
				b.Fatal(err)
			}
			got = len(ms)
		}
		b.ReportMetric(float64(got), "messages")
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}
