// Package storagetest is the test suite every storage.Store backend runs
// (storage/sqlite always, storage/postgres when STAMP_TEST_POSTGRES_DSN is
// set), so that the backends cannot drift apart. Run checks behaviour;
// BenchmarkDeliver measures delivery throughput.
//
// Semantics the suite pins down beyond the interface comments:
//   - ids (messages, mailboxes, threads, queue items) are unique across users;
//   - UpdateFlags, Move, Copy and Expunge skip ids that are not in the given
//     mailbox of the given user, but fail with ErrNotFound when the mailbox
//     itself is not the user's;
//   - every changed message and every created, renamed or deleted mailbox
//     gets its own MODSEQ and change log entry;
//   - flags come back sorted in byte order, system flags in canonical spelling (RFC 9051
//     section 2.3.2), keywords as first given, \Recent never stored;
//   - UIDVALIDITY values of one user never repeat;
//   - ListThread of a thread without messages of the user is ErrNotFound;
//   - ChangesSince with limit <= 0 returns up to a default of at least 1000;
//   - CollectBlobs returns the number removed and, after committing the
//     successful removals, an error describing the failed ones;
//   - Search drops text terms without a letter or digit; text that is all
//     such terms means no text condition.
package storagetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob"
)

// Opener returns a fresh, empty store and registers its own cleanup on tb.
// It serves tests and benchmarks alike.
type Opener func(tb testing.TB) storage.Store

// testCase is one behaviour checked on a fresh store.
type testCase struct {
	name string
	fn   func(t *testing.T, s storage.Store)
}

// Run runs every case of the suite as a subtest, each on a fresh store from open.
func Run(t *testing.T, open Opener) {
	var cases []testCase
	cases = append(cases, accountCases...)
	cases = append(cases, mailboxCases...)
	cases = append(cases, messageCases...)
	cases = append(cases, concurrencyCases...)
	cases = append(cases, blobCases...)
	cases = append(cases, searchCases...)
	cases = append(cases, imapSearchCases...)
	cases = append(cases, queueCases...)
	cases = append(cases, routingCases...)
	cases = append(cases, imapStateCases...)
	cases = append(cases, structureCases...)
	cases = append(cases, spamCases...)
	cases = append(cases, throttleCases...)
	cases = append(cases, webmailCases...)
	cases = append(cases, sortKeyCases...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, open(t))
		})
	}
}

// BenchmarkDeliver measures Deliver throughput into one store, in batches
// of 1 and of 32 messages (each with a unique header segment and a shared
// body segment), and with 16 concurrent callers delivering one message
// each (what group commit, if the backend has it, speeds up); it reports
// msgs/s.
func BenchmarkDeliver(b *testing.B, open Opener) {
	defer b.Run("parallel=16,batch=1", func(b *testing.B) {
		s := open(b)
		ctx := context.Background()
		u, err := s.CreateUser(ctx, "bench@example.com", "x")
		if err != nil {
			b.Fatal(err)
		}
		inbox, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
		if err != nil {
			b.Fatal(err)
		}
		var seq atomic.Int64
		b.SetParallelism(8) // 8 x GOMAXPROCS goroutines; 16 on two cores
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m := benchMessage(u.ID, inbox.ID, int(seq.Add(1)))
				if err := s.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{m}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	})
	for _, size := range []int{1, 32} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := open(b)
			ctx := context.Background()
			u, err := s.CreateUser(ctx, "bench@example.com", "x")
			if err != nil {
				b.Fatal(err)
			}
			inbox, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
			if err != nil {
				b.Fatal(err)
			}
			var seq int
			b.ResetTimer()
			start := time.Now()
			for done := 0; done < b.N; done += size {
				batch := &storage.Batch{}
				for i := 0; i < size && done+i < b.N; i++ {
					seq++
					batch.Messages = append(batch.Messages, benchMessage(u.ID, inbox.ID, seq))
				}
				if err := s.Deliver(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}

func benchMessage(userID, mailboxID int64, n int) *storage.NewMessage {
	hdr := fmt.Sprintf("Subject: bench %d\r\nMessage-ID: <b%d@example.com>\r\n\r\n", n, n)
	body := "the same body text for every benchmark message\r\n"
	return &storage.NewMessage{
		UserID: userID, MailboxID: mailboxID,
		InternalDate: time.Unix(1_700_000_000+int64(n), 0),
		Size:         int64(len(hdr) + len(body)), HeaderSize: int64(len(hdr)),
		Segments:     []storage.Segment{segment(hdr), segment(body)},
		Subject:      fmt.Sprintf("bench %d", n),
		From:         []storage.Address{{Name: "Sender", Address: "sender@example.org"}},
		To:           []storage.Address{{Address: "bench@example.com"}},
		MessageIDHdr: fmt.Sprintf("b%d@example.com", n),
		Snippet:      "the same body text",
		SearchText:   body,
	}
}

// segment returns the Segment of content.
func segment(content string) storage.Segment {
	return storage.Segment{Hash: blob.Hash([]byte(content)), Size: int64(len(content))}
}

// uniq makes distinct contents for header segments across a test.
var uniq atomic.Int64

// msgOpt adjusts a test message.
type msgOpt func(m *storage.NewMessage)

// newMsg builds a message with a unique header segment and sensible defaults.
func newMsg(userID, mailboxID int64, opts ...msgOpt) *storage.NewMessage {
	n := uniq.Add(1)
	hdr := fmt.Sprintf("X-Unique: %d\r\n\r\n", n)
	m := &storage.NewMessage{
		UserID: userID, MailboxID: mailboxID,
		InternalDate: time.Unix(1_700_000_000+n, 0).UTC(),
		Size:         int64(len(hdr)) + 10, HeaderSize: int64(len(hdr)),
		Segments:     []storage.Segment{segment(hdr)},
		Subject:      fmt.Sprintf("message %d", n),
		From:         []storage.Address{{Name: "Alice Example", Address: "alice@example.org"}},
		To:           []storage.Address{{Name: "Bob", Address: "bob@example.com"}},
		MessageIDHdr: fmt.Sprintf("m%d@example.org", n),
		Snippet:      "hello",
		SearchText:   "hello world",
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

func withSubject(s string) msgOpt  { return func(m *storage.NewMessage) { m.Subject = s } }
func withBody(s string) msgOpt     { return func(m *storage.NewMessage) { m.SearchText = s } }
func withFlags(f ...string) msgOpt { return func(m *storage.NewMessage) { m.Flags = f } }
func withMsgID(id string) msgOpt   { return func(m *storage.NewMessage) { m.MessageIDHdr = id } }
func withDate(d time.Time) msgOpt  { return func(m *storage.NewMessage) { m.InternalDate = d } }
func withInReplyTo(id string) msgOpt {
	return func(m *storage.NewMessage) { m.InReplyTo = []string{id} }
}
func withRefs(ids ...string) msgOpt { return func(m *storage.NewMessage) { m.References = ids } }
func withSegs(s ...storage.Segment) msgOpt {
	return func(m *storage.NewMessage) { m.Segments = append(m.Segments, s...) }
}
func withFrom(name, addr string) msgOpt {
	return func(m *storage.NewMessage) { m.From = []storage.Address{{Name: name, Address: addr}} }
}
func withAttachment(name string, seg storage.Segment) msgOpt {
	return func(m *storage.NewMessage) {
		m.Segments = append(m.Segments, seg)
		m.Attachments = append(m.Attachments, storage.Attachment{
			Part: fmt.Sprint(len(m.Attachments) + 2), Filename: name, ContentType: "application/pdf",
			Size: seg.Size, Hash: seg.Hash})
	}
}

// newUser creates a user and returns it with its INBOX.
func newUser(t *testing.T, s storage.Store, addr string) (storage.User, storage.Mailbox) {
	t.Helper()
	u, err := s.CreateUser(t.Context(), addr, "hash")
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", addr, err)
	}
	inbox, err := s.GetMailboxByRole(t.Context(), u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatalf("GetMailboxByRole(inbox): %v", err)
	}
	return u, inbox
}

// deliver delivers msgs in one batch and fails the test on error.
func deliver(t *testing.T, s storage.Store, msgs ...*storage.NewMessage) {
	t.Helper()
	if err := s.Deliver(t.Context(), &storage.Batch{Messages: msgs}); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
}

// mailbox re-reads a mailbox.
func mailbox(t *testing.T, s storage.Store, userID, id int64) storage.Mailbox {
	t.Helper()
	m, err := s.GetMailbox(t.Context(), userID, id)
	if err != nil {
		t.Fatalf("GetMailbox(%d): %v", id, err)
	}
	return m
}

// allMessages lists a whole mailbox through ListMessages paging.
func allMessages(t *testing.T, s storage.Store, userID, mailboxID int64, unread *bool) []storage.Message {
	t.Helper()
	var out []storage.Message
	q := storage.ListQuery{Limit: 37, Unread: unread}
	for {
		page, err := s.ListMessages(t.Context(), userID, mailboxID, q)
		if err != nil {
			t.Fatalf("ListMessages: %v", err)
		}
		out = append(out, page...)
		if len(page) < q.Limit {
			return out
		}
		last := page[len(page)-1]
		q.BeforeDate, q.BeforeID = last.InternalDate, last.ID
	}
}

// checkCounters compares a mailbox's counters with its listed messages.
func checkCounters(t *testing.T, s storage.Store, userID, mailboxID int64) {
	t.Helper()
	mb := mailbox(t, s, userID, mailboxID)
	msgs := allMessages(t, s, userID, mailboxID, nil)
	unread, size := 0, int64(0)
	for _, m := range msgs {
		size += m.Size
		if !hasFlag(m.Flags, storage.FlagSeen) {
			unread++
		}
	}
	tr := true
	listedUnread := len(allMessages(t, s, userID, mailboxID, &tr))
	if mb.Total != len(msgs) || mb.Unread != unread || mb.Size != size || listedUnread != unread {
		t.Errorf("mailbox %q counters: got total %d unread %d size %d, want total %d unread %d (listed unread %d) size %d",
			mb.Name, mb.Total, mb.Unread, mb.Size, len(msgs), unread, listedUnread, size)
	}
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

func ids(msgs []storage.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func ptr[T any](v T) *T { return &v }
