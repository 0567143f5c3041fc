package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

const dsnEnv = "STAMP_TEST_POSTGRES_DSN"

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// openTest opens a Store in a fresh schema dropped at cleanup, or skips the
// test loudly when no PostgreSQL is configured.
func openTest(t testing.TB, parts int) *Store {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip("SKIPPING PostgreSQL tests: " + dsnEnv + " is not set (eval \"$(scripts/pg-throwaway.sh)\")")
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	schema := "t_" + name + "_" + hex.EncodeToString(rnd[:])
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{Schema: schema, Partitions: parts, MaxConns: 8})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if _, err := s.pool.Exec(ctx, "DROP SCHEMA "+quoteIdent(schema)+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		s.Close()
	})
	return s
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func mustUser(t testing.TB, s *Store, addr string) (storage.User, storage.Mailbox) {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, addr, "hash")
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", addr, err)
	}
	inbox, err := s.GetMailboxByName(ctx, u.ID, "inbox")
	if err != nil {
		t.Fatalf("GetMailboxByName(inbox): %v", err)
	}
	return u, inbox
}

func newMsg(u, mb int64, subject string, i int) *storage.NewMessage {
	return &storage.NewMessage{
		UserID: u, MailboxID: mb,
		InternalDate: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC),
		Size:         100, HeaderSize: 40,
		Segments:     []storage.Segment{{Hash: fmt.Sprintf("%064x", i), Size: 100}},
		Subject:      subject,
		From:         []storage.Address{{Name: "Alice", Address: "alice@example.com"}},
		To:           []storage.Address{{Address: "bob@example.org"}},
		MessageIDHdr: fmt.Sprintf("m%d@example.com", i),
		SearchText:   "body text " + subject,
	}
}

func deliver(t testing.TB, s *Store, ms ...*storage.NewMessage) {
	t.Helper()
	if err := s.Deliver(context.Background(), &storage.Batch{Messages: ms}); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
}

func TestPartitionedTables(t *testing.T) {
	s := openTest(t, 4)
	ctx := context.Background()
	for _, table := range []string{"mailboxes", "messages", "threads", "thread_refs", "attachments", "search_text", "changes", "training"} {
		var strategy string
		var parts int
		err := s.pool.QueryRow(ctx, `SELECT pt.partstrat::text,
				(SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)
			FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
			WHERE c.oid = to_regclass($1)`, table).Scan(&strategy, &parts)
		if err != nil {
			t.Errorf("%s: not in pg_partitioned_table: %v", table, err)
			continue
		}
		if strategy != "h" || parts != 4 {
			t.Errorf("%s: got strategy %q with %d partitions, want \"h\" with 4", table, strategy, parts)
		}
	}
	// Every btree index of a per-user table leads with user_id.
	rows, err := s.pool.Query(ctx, `SELECT i.indexrelid::regclass::text, a.attname
		FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_partitioned_table p ON p.partrelid = c.oid
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
		JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
		WHERE am.amname = 'btree' AND c.relnamespace = to_regnamespace(current_schema())`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var idx, col string
		if err := rows.Scan(&idx, &col); err != nil {
			t.Fatal(err)
		}
		n++
		if col != "user_id" {
			t.Errorf("index %s leads with %q, want user_id", idx, col)
		}
	}
	if n < 8 {
		t.Errorf("got %d btree indexes on partitioned tables, want at least 8", n)
	}
}

func TestMigrateTwice(t *testing.T) {
	s := openTest(t, 2)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			s2, err := Open(context.Background(), os.Getenv(dsnEnv), Options{Schema: s.schema, Partitions: 2})
			if err != nil {
				t.Errorf("second Open: %v", err)
				return
			}
			s2.Close()
		})
	}
	wg.Wait()
}

func TestDeliverUIDsModSeqCounters(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "a@example.com")
	other, err := s.CreateMailbox(ctx, u.ID, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	start, _ := s.HighestModSeq(ctx, u.ID)
	ms := []*storage.NewMessage{newMsg(u.ID, inbox.ID, "one", 1), newMsg(u.ID, other.ID, "two", 2), newMsg(u.ID, inbox.ID, "three", 3)}
	ms[2].Flags = []string{`\SEEN`, "$Label", "$label", `\Recent`}
	deliver(t, s, ms...)
	if ms[0].UID != 1 || ms[2].UID != 2 || ms[1].UID != 1 {
		t.Errorf("got UIDs %d %d %d, want 1 1 2", ms[0].UID, ms[1].UID, ms[2].UID)
	}
	for i, m := range ms {
		if want := start + uint64(i) + 1; m.ModSeq != want {
			t.Errorf("message %d: got modseq %d, want %d", i, m.ModSeq, want)
		}
	}
	mb, _ := s.GetMailbox(ctx, u.ID, inbox.ID)
	if mb.Total != 2 || mb.Unread != 1 || mb.Size != 200 || mb.UIDNext != 3 || mb.HighestModSeq != ms[2].ModSeq {
		t.Errorf("inbox: got %+v, want total 2 unread 1 size 200 uidnext 3 highestmodseq %d", mb, ms[2].ModSeq)
	}
	ob, _ := s.GetMailbox(ctx, u.ID, other.ID)
	if ob.HighestModSeq != ms[1].ModSeq {
		t.Errorf("other: got highest modseq %d, want %d", ob.HighestModSeq, ms[1].ModSeq)
	}
	got, err := s.GetMessage(ctx, u.ID, ms[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"$Label", `\Seen`}; !slices.Equal(got.Flags, want) {
		t.Errorf("got flags %q, want %q", got.Flags, want)
	}

	// No-op flag change: nothing returned, no modseq bump.
	before, _ := s.HighestModSeq(ctx, u.ID)
	ch, err := s.UpdateFlags(ctx, u.ID, inbox.ID, []int64{ms[2].ID}, storage.FlagsAdd, []string{`\seen`})
	if err != nil || len(ch) != 0 {
		t.Errorf("no-op UpdateFlags: got %v, %v, want nothing", ch, err)
	}
	if after, _ := s.HighestModSeq(ctx, u.ID); after != before {
		t.Errorf("no-op UpdateFlags bumped modseq %d -> %d", before, after)
	}
	ch, err = s.UpdateFlags(ctx, u.ID, inbox.ID, []int64{ms[0].ID, ms[2].ID}, storage.FlagsAdd, []string{`\seen`})
	if err != nil || len(ch) != 1 || ch[0].ModSeq != before+1 {
		t.Fatalf("UpdateFlags: got %+v, %v, want one change at modseq %d", ch, err, before+1)
	}
	if mb, _ := s.GetMailbox(ctx, u.ID, inbox.ID); mb.Unread != 0 {
		t.Errorf("got unread %d after marking seen, want 0", mb.Unread)
	}

	// Expunge then deliver: UIDs never reused.
	uids, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{ms[2].ID})
	if err != nil || !slices.Equal(uids, []uint32{2}) {
		t.Fatalf("Expunge: got %v, %v, want [2]", uids, err)
	}
	m4 := newMsg(u.ID, inbox.ID, "four", 4)
	deliver(t, s, m4)
	if m4.UID != 3 {
		t.Errorf("got UID %d after expunge, want 3", m4.UID)
	}
	// Move keeps the id, gives a new UID.
	mv, err := s.Move(ctx, u.ID, inbox.ID, []int64{m4.ID, ms[0].ID}, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Moved{{ID: m4.ID, OldID: m4.ID, OldUID: 3, NewUID: 2}, {ID: ms[0].ID, OldID: ms[0].ID, OldUID: 1, NewUID: 3}}
	if !slices.Equal(mv, want) {
		t.Errorf("Move: got %+v, want %+v", mv, want)
	}
	cp, err := s.Copy(ctx, u.ID, other.ID, []int64{m4.ID}, inbox.ID)
	if err != nil || len(cp) != 1 || cp[0].ID == m4.ID || cp[0].NewUID != 4 {
		t.Errorf("Copy: got %+v, %v, want a new id with UID 4", cp, err)
	}
	if n, _ := s.BlobRefs(ctx, m4.Segments[0].Hash); n != 2 {
		t.Errorf("got %d refs after copy, want 2", n)
	}
	mb, _ = s.GetMailbox(ctx, u.ID, inbox.ID)
	ob, _ = s.GetMailbox(ctx, u.ID, other.ID)
	if mb.Total != 1 || ob.Total != 3 || mb.Unread != 1 || ob.Unread != 2 {
		t.Errorf("counters: inbox %d/%d other %d/%d, want 1/1 and 3/2", mb.Total, mb.Unread, ob.Total, ob.Unread)
	}
	changes, err := s.ChangesSince(ctx, u.ID, start, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, c := range changes {
		kinds = append(kinds, string(c.Kind))
		if i > 0 && c.ModSeq <= changes[i-1].ModSeq {
			t.Errorf("change log not strictly increasing at %d", i)
		}
	}
	if got := strings.Join(kinds, ","); got != "new,new,new,flags,expunge,new,expunge,new,expunge,new,new" {
		t.Errorf("got change kinds %s", got)
	}
}

func TestMailboxNames(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "b@example.com")
	a, _ := s.CreateMailbox(ctx, u.ID, "A", "")
	ab, _ := s.CreateMailbox(ctx, u.ID, "A/B", "")
	cases := []struct {
		name string
		err  error
		fn   func() error
	}{
		{"create dup", storage.ErrExists, func() error { _, err := s.CreateMailbox(ctx, u.ID, "A", ""); return err }},
		{"create inbox", storage.ErrExists, func() error { _, err := s.CreateMailbox(ctx, u.ID, "iNbOx", ""); return err }},
		{"create empty", storage.ErrInvalid, func() error { _, err := s.CreateMailbox(ctx, u.ID, "", ""); return err }},
		{"rename inbox", storage.ErrNotAllowed, func() error { return s.RenameMailbox(ctx, u.ID, inbox.ID, "X") }},
		{"rename empty", storage.ErrInvalid, func() error { return s.RenameMailbox(ctx, u.ID, a.ID, "") }},
		{"rename to taken", storage.ErrExists, func() error { return s.RenameMailbox(ctx, u.ID, a.ID, "Sent") }},
		{"delete role", storage.ErrNotAllowed, func() error { _, err := s.DeleteMailbox(ctx, u.ID, inbox.ID); return err }},
		{"rename other user's", storage.ErrNotFound, func() error { return s.RenameMailbox(ctx, u.ID+1000, a.ID, "Z") }},
		{"rename", nil, func() error { return s.RenameMailbox(ctx, u.ID, a.ID, "C") }},
	}
	for _, c := range cases {
		if err := c.fn(); !errors.Is(err, c.err) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.err)
		}
	}
	got, _ := s.GetMailbox(ctx, u.ID, ab.ID)
	if got.Name != "C/B" {
		t.Errorf("child: got %q, want C/B", got.Name)
	}
	if _, err := s.DeleteMailbox(ctx, u.ID, ab.ID); err != nil {
		t.Errorf("delete: %v", err)
	}
	nb, _ := s.CreateMailbox(ctx, u.ID, "C/B", "")
	if nb.UIDValidity == got.UIDValidity {
		t.Errorf("recreated mailbox reuses UIDVALIDITY %d", nb.UIDValidity)
	}
}

func TestThreadsAndSearch(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "c@example.com")
	root := newMsg(u.ID, inbox.ID, "Lunch plans", 1)
	reply := newMsg(u.ID, inbox.ID, "Re: Lunch plans", 2)
	reply.InReplyTo = []string{root.MessageIDHdr}
	fw := newMsg(u.ID, inbox.ID, "[team] FWD: re: lunch   PLANS", 3)
	other := newMsg(u.ID, inbox.ID, "Quarterly report", 4)
	other.Attachments = []storage.Attachment{{Part: "2", Filename: "r.pdf", ContentType: "application/pdf", Size: 10, Hash: "x"}}
	deliver(t, s, root)
	deliver(t, s, reply, fw, other)
	if reply.ThreadID != root.ThreadID || fw.ThreadID != root.ThreadID || other.ThreadID == root.ThreadID {
		t.Errorf("threads: root %d reply %d fw %d other %d", root.ThreadID, reply.ThreadID, fw.ThreadID, other.ThreadID)
	}
	th, err := s.ListThread(ctx, u.ID, root.ThreadID)
	if err != nil || len(th) != 3 || th[0].ID != root.ID {
		t.Errorf("ListThread: got %d messages, %v", len(th), err)
	}
	unread := true
	cases := []struct {
		name string
		q    storage.SearchQuery
		want []int64
	}{
		{"text", storage.SearchQuery{Text: "lunch"}, []int64{fw.ID, reply.ID, root.ID}},
		{"all terms", storage.SearchQuery{Text: "quarterly body"}, []int64{other.ID}},
		{"missing term", storage.SearchQuery{Text: "quarterly nothing"}, nil},
		// Substring semantics (RFC 9051 section 6.4.4; the trigram index).
		{"substring", storage.SearchQuery{Text: "uarter"}, []int64{other.ID}},
		{"no such substring", storage.SearchQuery{Text: "quartz"}, nil},
		{"syntax is text", storage.SearchQuery{Text: "lunch & !( | :* '"}, []int64{fw.ID, reply.ID, root.ID}},
		{"punctuation only", storage.SearchQuery{Text: "&|!", Subject: "report"}, []int64{other.ID}},
		{"address part", storage.SearchQuery{Text: "alice", Subject: "quarterly"}, []int64{other.ID}},
		{"from filter", storage.SearchQuery{From: "ALICE@", Limit: 1}, []int64{other.ID}},
		{"to filter wildcard", storage.SearchQuery{To: "%"}, nil},
		{"attachment", storage.SearchQuery{HasAttachment: true}, []int64{other.ID}},
		{"unread after", storage.SearchQuery{Unread: &unread, After: root.InternalDate.Add(time.Second)}, []int64{other.ID, fw.ID, reply.ID}},
		{"offset", storage.SearchQuery{Text: "lunch", Offset: 2}, []int64{root.ID}},
	}
	for _, c := range cases {
		got, err := s.Search(ctx, u.ID, c.q)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var ids []int64
		for _, m := range got {
			ids = append(ids, m.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, ids, c.want)
		}
	}
	// Subject ranks above body: "report" is in other's subject and in
	// nothing else's body, "plans" in subjects; a body-only match ranks lower.
	extra := newMsg(u.ID, inbox.ID, "misc", 9)
	extra.SearchText = "the quarterly numbers"
	deliver(t, s, extra)
	got, _ := s.Search(ctx, u.ID, storage.SearchQuery{Text: "quarterly"})
	if len(got) != 2 || got[0].ID != other.ID {
		t.Errorf("ranking: got %d results, first %d, want subject match %d first", len(got), got[0].ID, other.ID)
	}
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{other.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Search(ctx, u.ID, storage.SearchQuery{Text: "report"}); len(got) != 0 {
		t.Errorf("expunged message still found")
	}
	v, _ := mustUser(t, s, "d@example.com")
	if got, _ := s.Search(ctx, v.ID, storage.SearchQuery{Text: "lunch"}); len(got) != 0 {
		t.Errorf("other user's search found %d messages", len(got))
	}
}

func TestIsolationAndAtomicity(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	a, ainbox := mustUser(t, s, "e@example.com")
	b, _ := mustUser(t, s, "f@example.com")
	m := newMsg(a.ID, ainbox.ID, "secret", 1)
	deliver(t, s, m)
	checks := map[string]error{}
	_, checks["GetMessage"] = s.GetMessage(ctx, b.ID, m.ID)
	_, checks["GetMailbox"] = s.GetMailbox(ctx, b.ID, ainbox.ID)
	_, checks["ListMessages"] = s.ListMessages(ctx, b.ID, ainbox.ID, storage.ListQuery{})
	_, checks["MessagesByUID"] = s.MessagesByUID(ctx, b.ID, ainbox.ID, 1, 0)
	_, checks["ListThread"] = s.ListThread(ctx, b.ID, m.ThreadID)
	_, checks["ListAttachments"] = s.ListAttachments(ctx, b.ID, m.ID)
	_, checks["UpdateFlags"] = s.UpdateFlags(ctx, b.ID, ainbox.ID, []int64{m.ID}, storage.FlagsAdd, []string{`\Seen`})
	_, _, checks["Expunge"] = s.Expunge(ctx, b.ID, ainbox.ID, []int64{m.ID})
	_, checks["DeleteMailbox"] = s.DeleteMailbox(ctx, b.ID, ainbox.ID)
	for name, err := range checks {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s with another user's id: got %v, want ErrNotFound", name, err)
		}
	}
	// A batch with one bad mailbox commits nothing.
	before, _ := s.HighestModSeq(ctx, a.ID)
	err := s.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{newMsg(a.ID, ainbox.ID, "ok", 2), newMsg(a.ID, 999999, "bad", 3)}})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Deliver with bad mailbox: got %v, want ErrNotFound", err)
	}
	if after, _ := s.HighestModSeq(ctx, a.ID); after != before {
		t.Errorf("failed Deliver moved modseq %d -> %d", before, after)
	}
	if mb, _ := s.GetMailbox(ctx, a.ID, ainbox.ID); mb.Total != 1 || mb.UIDNext != 2 {
		t.Errorf("failed Deliver changed inbox: %+v", mb)
	}
	// The connections of failed batches went back clean: a store limited to
	// one connection still delivers after a failure in each round trip.
	one, err := Open(ctx, os.Getenv(dsnEnv), Options{Schema: s.schema, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	dupRef := newMsg(a.ID, ainbox.ID, "dup", 5)
	dupRef.Attachments = []storage.Attachment{{Part: "2"}, {Part: "2"}} // primary key violation in round trip 2
	for _, bad := range []*storage.NewMessage{newMsg(a.ID, 999999, "bad", 4), dupRef} {
		if err := one.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{bad}}); err == nil {
			t.Errorf("Deliver(%s): got nil error, want one", bad.Subject)
		}
		good := newMsg(a.ID, ainbox.ID, "good", 6)
		if err := one.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{good}}); err != nil {
			t.Errorf("Deliver after failed %s: %v", bad.Subject, err)
		}
	}
	if mb, _ := s.GetMailbox(ctx, a.ID, ainbox.ID); mb.Total != 3 || mb.UIDNext != 4 {
		t.Errorf("after failures and two good deliveries: got total %d uidnext %d, want 3 and 4", mb.Total, mb.UIDNext)
	}
}

func TestListPaging(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "g@example.com")
	var batch []*storage.NewMessage
	for i := range 95 {
		m := newMsg(u.ID, inbox.ID, "x", i/3) // three messages per second: ties broken by id
		if i%2 == 0 {
			m.Flags = []string{`\Seen`}
		}
		batch = append(batch, m)
	}
	deliver(t, s, batch...)
	for _, unread := range []*bool{nil, new(true), new(false)} {
		q := storage.ListQuery{Limit: 10, Unread: unread}
		var all []storage.Message
		for {
			page, err := s.ListMessages(ctx, u.ID, inbox.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < q.Limit {
				break
			}
			q.BeforeDate, q.BeforeID = page[len(page)-1].InternalDate, page[len(page)-1].ID
		}
		want := 95
		if unread != nil {
			want = map[bool]int{true: 47, false: 48}[*unread]
		}
		seen := map[int64]bool{}
		for i, m := range all {
			if seen[m.ID] {
				t.Errorf("duplicate %d", m.ID)
			}
			seen[m.ID] = true
			if i > 0 && (m.InternalDate.After(all[i-1].InternalDate) || m.InternalDate.Equal(all[i-1].InternalDate) && m.ID > all[i-1].ID) {
				t.Errorf("out of order at %d", i)
			}
		}
		if len(all) != want {
			t.Errorf("unread=%v: got %d messages, want %d", unread, len(all), want)
		}
	}
}

func TestBlobsAndQueue(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "h@example.com")
	shared := storage.Segment{Hash: strings.Repeat("ab", 32), Size: 5}
	var ms []*storage.NewMessage
	for i := range 3 {
		m := newMsg(u.ID, inbox.ID, "s", i)
		m.Segments = append(m.Segments, shared)
		ms = append(ms, m)
	}
	q := &storage.QueueItem{UserID: u.ID, Sender: "h@example.com", Recipients: []string{"x@remote.test"}, Segments: []storage.Segment{shared}, Size: 5}
	if err := s.Deliver(ctx, &storage.Batch{Messages: ms, Queue: []*storage.QueueItem{q}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.BlobRefs(ctx, shared.Hash); n != 4 {
		t.Errorf("got %d refs, want 4", n)
	}
	for i, m := range ms {
		_, freed, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m.ID})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(freed, shared.Hash) {
			t.Errorf("expunge %d freed the shared blob early", i)
		}
	}
	freed, err := s.DeleteQueueItem(ctx, q.ID)
	if err != nil || !slices.Equal(freed, []string{shared.Hash}) {
		t.Errorf("DeleteQueueItem: got %v, %v, want the shared blob freed", freed, err)
	}
	var removed []string
	n, err := s.CollectBlobs(ctx, time.Now().Add(time.Hour), func(h string) error {
		removed = append(removed, h)
		return nil
	})
	if err != nil || n != 4 || !slices.Contains(removed, shared.Hash) {
		t.Errorf("CollectBlobs: got %d %v, %v, want 4 including the shared blob", n, removed, err)
	}

	// Concurrent claimers never share an item.
	var items []*storage.QueueItem
	for i := range 40 {
		items = append(items, &storage.QueueItem{Sender: "s@x.test", Recipients: []string{fmt.Sprint(i, "@y.test")}, NextAttemptAt: time.Now().Add(-time.Minute)})
	}
	if err := s.Deliver(ctx, &storage.Batch{Queue: items}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.ClaimQueue(ctx, time.Now(), 3, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, it := range got {
					claimed[it.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != 40 {
		t.Errorf("got %d items claimed, want 40", len(claimed))
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("item %d claimed %d times", id, n)
		}
	}
	it, _ := s.GetQueueItem(ctx, items[0].ID)
	it.State, it.Attempts, it.Results = storage.QueueDelivered, 1, map[string]string{"0@y.test": "ok"}
	if err := s.UpdateQueue(ctx, it); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetQueueItem(ctx, it.ID); got.State != storage.QueueDelivered || got.Results["0@y.test"] != "ok" {
		t.Errorf("UpdateQueue: got %+v", got)
	}
}

func TestConcurrentFlags(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "i@example.com")
	var batch []*storage.NewMessage
	for i := range 40 {
		batch = append(batch, newMsg(u.ID, inbox.ID, "x", i))
	}
	deliver(t, s, batch...)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i, m := range batch {
				op := storage.FlagsAdd
				if (i+g)%2 == 0 {
					op = storage.FlagsRemove
				}
				if _, err := s.UpdateFlags(ctx, u.ID, inbox.ID, []int64{m.ID}, op, []string{`\Seen`}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var unseen int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM messages WHERE user_id = $1 AND NOT seen", u.ID).Scan(&unseen); err != nil {
		t.Fatal(err)
	}
	if mb, _ := s.GetMailbox(ctx, u.ID, inbox.ID); mb.Unread != unseen {
		t.Errorf("got unread counter %d, want %d", mb.Unread, unseen)
	}
}

func TestNotifyAcrossStores(t *testing.T) {
	s1 := openTest(t, 2)
	s2 := openTest(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan string, 16)
	done := make(chan error, 1)
	lctx, lcancel := context.WithCancel(ctx)
	go func() { done <- s2.Listen(lctx, "stamp_test_events", func(p string) { got <- p }) }()
	// The LISTEN may not be in place yet: publish until one arrives.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	payload := `{"user_id":1,"kind":"new"}`
wait:
	for {
		select {
		case p := <-got:
			if p != payload {
				t.Errorf("got payload %q, want %q", p, payload)
			}
			break wait
		case <-tick.C:
			if err := s1.Notify(ctx, "stamp_test_events", payload); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("no notification arrived")
		}
	}
	// Kill the listening connection: Listen reconnects and delivers again.
	var killed int
	if err := s1.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, listenAppName("stamp_test_events")).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminating the listener: got %d killed, %v, want 1", killed, err)
	}
	payload = "after reconnect"
wait2:
	for {
		select {
		case p := <-got:
			if p == payload {
				break wait2
			}
		case <-tick.C:
			if err := s1.Notify(ctx, "stamp_test_events", payload); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("no notification after the listener's connection was killed")
		}
	}
	if err := s1.Notify(ctx, "stamp_test_events", strings.Repeat("x", 8000)); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("oversized payload: got %v, want ErrInvalid", err)
	}
	lcancel()
	if err := <-done; err != nil {
		t.Errorf("Listen returned %v, want nil", err)
	}
}

func BenchmarkDeliverLocal(b *testing.B) {
	for _, size := range []int{1, 32} {
		b.Run(fmt.Sprint("batch", size), func(b *testing.B) {
			s := openTest(b, 16)
			u, inbox := mustUser(b, s, "bench@example.com")
			b.ResetTimer()
			n := 0
			for b.Loop() {
				batch := &storage.Batch{}
				for range size {
					n++
					batch.Messages = append(batch.Messages, newMsg(u.ID, inbox.ID, fmt.Sprint("subject ", n), n))
				}
				if err := s.Deliver(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// TestNoDeadlocks mixes multi-user batches sharing blobs (users in varying
// order), expunges and blob collection; the lock order (users, mailboxes,
// messages, blobs by hash) must keep PostgreSQL from detecting a deadlock.
func TestNoDeadlocks(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	type acct struct{ u, inbox int64 }
	var accts []acct
	for i := range 3 {
		u, inbox := mustUser(t, s, fmt.Sprintf("dl%d@example.com", i))
		accts = append(accts, acct{u.ID, inbox.ID})
	}
	shared := []storage.Segment{{Hash: strings.Repeat("1", 64), Size: 1}, {Hash: strings.Repeat("2", 64), Size: 1}, {Hash: strings.Repeat("3", 64), Size: 1}}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 15 {
				var batch []*storage.NewMessage
				for k := range 3 {
					a := accts[(g+k+i)%3]
					m := newMsg(a.u, a.inbox, "dl", g*1000+i*10+k)
					m.Segments = append(m.Segments, shared[(g+k)%3], shared[(g+k+1)%3])
					batch = append(batch, m)
				}
				if err := s.Deliver(ctx, &storage.Batch{Messages: batch}); err != nil {
					t.Errorf("Deliver: %v", err)
					return
				}
				if i%3 == 0 {
					m := batch[g%3]
					if _, _, err := s.Expunge(ctx, m.UserID, m.MailboxID, []int64{m.ID}); err != nil {
						t.Errorf("Expunge: %v", err)
						return
					}
				}
				if g == 0 {
					if _, err := s.CollectBlobs(ctx, time.Now(), func(string) error { return nil }); err != nil {
						t.Errorf("CollectBlobs: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	var want int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM messages m, jsonb_array_elements(m.segments) seg
		WHERE seg->>'h' = $1`, shared[0].Hash).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.BlobRefs(ctx, shared[0].Hash); got != want {
		t.Errorf("shared blob: got refcount %d, want %d (its segments in messages)", got, want)
	}
}
