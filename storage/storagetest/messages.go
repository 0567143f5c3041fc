package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var messageCases = []testCase{
	{"DeliverFields", testDeliverFields},
	{"DeliverAtomic", testDeliverAtomic},
	{"DeliverInterleavedBatch", testDeliverInterleaved},
	{"UIDsNeverReused", testUIDs},
	{"FlagsAndModSeq", testFlags},
	{"MoveAndCopy", testMoveCopy},
	{"Threads", testThreads},
	{"Paging", testPaging},
	{"UserIsolation", testIsolation},
}

func testDeliverFields(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := newMsg(u.ID, inbox.ID, withFlags(`\seen`, "$Label", `\Recent`), withAttachment("a.pdf", segment("pdf bytes")),
		func(m *storage.NewMessage) {
			m.Date = date
			m.Cc = []storage.Address{{Address: "carol@example.net"}}
		})
	deliver(t, s, m)
	if m.ID == 0 || m.UID != 1 || m.ModSeq == 0 || m.ThreadID == 0 {
		t.Fatalf("Deliver output: got id %d uid %d modseq %d thread %d, want all set and UID 1", m.ID, m.UID, m.ModSeq, m.ThreadID)
	}
	got, err := s.GetMessage(ctx, u.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UID != 1 || got.MailboxID != inbox.ID || got.UserID != u.ID || got.Subject != m.Subject ||
		!got.InternalDate.Equal(m.InternalDate) || !got.Date.Equal(date) || got.Size != m.Size ||
		got.HeaderSize != m.HeaderSize || got.MessageIDHdr != m.MessageIDHdr || got.Snippet != m.Snippet ||
		!got.HasAttachments || !slices.Equal(got.Segments, m.Segments) || got.ThreadID != m.ThreadID ||
		!slices.Equal(got.From, m.From) || !slices.Equal(got.To, m.To) || !slices.Equal(got.Cc, m.Cc) {
		t.Errorf("GetMessage: got %+v, want the delivered fields of %+v", got, m)
	}
	if want := []string{"$Label", `\Seen`}; !slices.Equal(got.Flags, want) {
		t.Errorf("flags: got %q, want %q", got.Flags, want)
	}
	atts, err := s.ListAttachments(ctx, u.ID, m.ID)
	if err != nil || len(atts) != 1 || atts[0].Filename != "a.pdf" || atts[0].MessageID != m.ID || atts[0].Hash != m.Attachments[0].Hash {
		t.Errorf("ListAttachments: got %+v, %v, want a.pdf of message %d", atts, err, m.ID)
	}
	mb := mailbox(t, s, u.ID, inbox.ID)
	if mb.Total != 1 || mb.Unread != 0 || mb.Size != m.Size || mb.UIDNext != 2 || mb.HighestModSeq != m.ModSeq {
		t.Errorf("mailbox after deliver: got %+v, want total 1 unread 0 size %d uidnext 2 highestmodseq %d", mb, m.Size, m.ModSeq)
	}
	if hm, _ := s.HighestModSeq(ctx, u.ID); hm != m.ModSeq {
		t.Errorf("HighestModSeq: got %d, want %d", hm, m.ModSeq)
	}
	chs, _ := s.ChangesSince(ctx, u.ID, m.ModSeq-1, 10)
	if len(chs) != 1 || chs[0] != (storage.Change{ModSeq: m.ModSeq, MailboxID: inbox.ID, MessageID: m.ID, UID: 1, Kind: storage.ChangeNew}) {
		t.Errorf("ChangesSince: got %+v, want one new change", chs)
	}
	if _, err := s.GetMessage(ctx, u.ID, 1<<40); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMessage(unknown): got %v, want ErrNotFound", err)
	}
}

func testDeliverAtomic(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, inbox := newUser(t, s, "a@example.com")
	b, binbox := newUser(t, s, "b@example.com")
	shared := segment("atomic shared segment")
	before, _ := s.HighestModSeq(ctx, a.ID)
	for _, tc := range []struct {
		name string
		bad  *storage.NewMessage
	}{
		{"nonexistent mailbox", newMsg(a.ID, 1<<40)},
		{"another user's mailbox", newMsg(a.ID, binbox.ID)},
		{"nonexistent user", newMsg(1<<40, inbox.ID)},
		{"invalid flag", newMsg(a.ID, inbox.ID, withFlags("two words"))},
	} {
		good := newMsg(a.ID, inbox.ID, withSegs(shared), withBody("atomicity"))
		batch := &storage.Batch{
			Messages: []*storage.NewMessage{good, tc.bad},
			Queue:    []*storage.QueueItem{{Sender: "a@example.com", Recipients: []string{"x@remote.example"}, Segments: []storage.Segment{shared}}},
		}
		if err := s.Deliver(ctx, batch); err == nil {
			t.Errorf("%s: Deliver: got nil error, want one", tc.name)
		}
		if good.ID != 0 || good.UID != 0 {
			t.Errorf("%s: failed Deliver set id %d uid %d, want zero", tc.name, good.ID, good.UID)
		}
	}
	mb := mailbox(t, s, a.ID, inbox.ID)
	if mb.Total != 0 || mb.UIDNext != 1 {
		t.Errorf("after failed batches: got total %d uidnext %d, want 0 and 1", mb.Total, mb.UIDNext)
	}
	if after, _ := s.HighestModSeq(ctx, a.ID); after != before {
		t.Errorf("after failed batches: modseq got %d, want %d", after, before)
	}
	if n, _ := s.BlobRefs(ctx, shared.Hash); n != 0 {
		t.Errorf("after failed batches: blob refs got %d, want 0", n)
	}
	if q, _ := s.ListQueue(ctx); len(q) != 0 {
		t.Errorf("after failed batches: queue got %d items, want 0", len(q))
	}
	if res, _ := s.Search(ctx, a.ID, storage.SearchQuery{Text: "atomicity"}); len(res) != 0 {
		t.Errorf("after failed batches: search got %d, want 0", len(res))
	}
	if bm := mailbox(t, s, b.ID, binbox.ID); bm.Total != 0 {
		t.Errorf("other user's inbox: got total %d, want 0", bm.Total)
	}
}

// testDeliverInterleaved: one batch (a group commit) holding messages for
// two users and several mailboxes in mixed order gives each mailbox's
// messages consecutive UIDs and each user's increasing MODSEQs, both in
// the batch's order, and counts each mailbox's total, unread, size and
// highest MODSEQ.
func testDeliverInterleaved(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, ainbox := newUser(t, s, "a@example.com")
	b, binbox := newUser(t, s, "b@example.com")
	other, err := s.CreateMailbox(ctx, a.ID, "Other", "")
	if err != nil {
		t.Fatal(err)
	}
	msgs := []*storage.NewMessage{
		newMsg(a.ID, ainbox.ID),
		newMsg(a.ID, other.ID),
		newMsg(b.ID, binbox.ID, withFlags(`\Seen`)),
		newMsg(a.ID, ainbox.ID, withFlags(`\Seen`)),
		newMsg(b.ID, binbox.ID),
		newMsg(a.ID, ainbox.ID),
	}
	deliver(t, s, msgs...)
	wantUID := []uint32{1, 1, 1, 2, 2, 3}
	for i, m := range msgs {
		if m.UID != wantUID[i] {
			t.Errorf("message %d: UID %d, want %d", i, m.UID, wantUID[i])
		}
		for j := range i {
			if msgs[j].ID == m.ID {
				t.Errorf("messages %d and %d share id %d", j, i, m.ID)
			}
			if msgs[j].UserID == m.UserID && msgs[j].ModSeq >= m.ModSeq {
				t.Errorf("messages %d and %d of one user: MODSEQ %d then %d, want increasing", j, i, msgs[j].ModSeq, m.ModSeq)
			}
		}
	}
	for _, c := range []struct {
		name          string
		user, box     int64
		of            []int
		total, unread int
	}{
		{"a's INBOX", a.ID, ainbox.ID, []int{0, 3, 5}, 3, 2},
		{"a's Other", a.ID, other.ID, []int{1}, 1, 1},
		{"b's INBOX", b.ID, binbox.ID, []int{2, 4}, 2, 1},
	} {
		var size int64
		var top uint64
		for _, i := range c.of {
			size += msgs[i].Size
			top = max(top, msgs[i].ModSeq)
		}
		mb := mailbox(t, s, c.user, c.box)
		if mb.Total != c.total || mb.Unread != c.unread || mb.Size != size || mb.UIDNext != uint32(c.total+1) || mb.HighestModSeq != top {
			t.Errorf("%s: got total %d unread %d size %d uidnext %d highest modseq %d, want %d %d %d %d %d",
				c.name, mb.Total, mb.Unread, mb.Size, mb.UIDNext, mb.HighestModSeq, c.total, c.unread, size, c.total+1, top)
		}
		for _, i := range c.of {
			got, err := s.GetMessage(ctx, c.user, msgs[i].ID)
			if err != nil || got.UID != msgs[i].UID || got.ModSeq != msgs[i].ModSeq || got.MailboxID != c.box {
				t.Errorf("%s: message %d stored as %+v, %v; want UID %d MODSEQ %d", c.name, i, got, err, msgs[i].UID, msgs[i].ModSeq)
			}
		}
	}
	if hm, _ := s.HighestModSeq(ctx, a.ID); hm != msgs[5].ModSeq {
		t.Errorf("a's highest MODSEQ %d, want the last of its messages' %d", hm, msgs[5].ModSeq)
	}
	chs, _ := s.ChangesSince(ctx, a.ID, 0, 100)
	var news []storage.Change
	for _, c := range chs {
		if c.Kind == storage.ChangeNew {
			news = append(news, c)
		}
	}
	if len(news) != 4 {
		t.Fatalf("a's new-message changes: got %+v, want 4", news)
	}
	for k, i := range []int{0, 1, 3, 5} {
		if w := (storage.Change{ModSeq: msgs[i].ModSeq, MailboxID: msgs[i].MailboxID, MessageID: msgs[i].ID, UID: msgs[i].UID, Kind: storage.ChangeNew}); news[k] != w {
			t.Errorf("a's change %d: got %+v, want %+v", k, news[k], w)
		}
	}
}

func testUIDs(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	other, _ := s.CreateMailbox(ctx, u.ID, "Other", "")
	last := uint32(0)
	check := func(step string, uid uint32) {
		t.Helper()
		if uid <= last {
			t.Errorf("%s: got UID %d, want > %d", step, uid, last)
		}
		last = uid
	}
	var msgs []*storage.NewMessage
	for i := 0; i < 3; i++ {
		msgs = append(msgs, newMsg(u.ID, inbox.ID))
	}
	deliver(t, s, msgs...)
	for _, m := range msgs {
		check("deliver", m.UID)
	}
	uids, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{msgs[2].ID})
	if err != nil || !slices.Equal(uids, []uint32{3}) {
		t.Fatalf("Expunge: got %v, %v, want [3]", uids, err)
	}
	m4 := newMsg(u.ID, inbox.ID)
	deliver(t, s, m4)
	check("deliver after expunge of highest", m4.UID)
	// Move out and back: new UIDs each time.
	mv, err := s.Move(ctx, u.ID, inbox.ID, []int64{msgs[0].ID}, other.ID)
	if err != nil || len(mv) != 1 || mv[0].NewUID != 1 || mv[0].OldUID != msgs[0].UID {
		t.Fatalf("Move: got %+v, %v", mv, err)
	}
	back, err := s.Move(ctx, u.ID, other.ID, []int64{msgs[0].ID}, inbox.ID)
	if err != nil || len(back) != 1 {
		t.Fatalf("Move back: got %+v, %v", back, err)
	}
	check("move back", back[0].NewUID)
	m5 := newMsg(u.ID, other.ID)
	deliver(t, s, m5)
	if m5.UID != 2 {
		t.Errorf("Other after a move in and out: got UID %d, want 2", m5.UID)
	}
	mb := mailbox(t, s, u.ID, inbox.ID)
	if mb.UIDNext != last+1 {
		t.Errorf("UIDNEXT: got %d, want %d", mb.UIDNext, last+1)
	}
	got, _ := s.MessagesByUID(ctx, u.ID, inbox.ID, 1, 0)
	var gotUIDs []uint32
	for _, m := range got {
		gotUIDs = append(gotUIDs, m.UID)
	}
	if want := []uint32{2, 4, 5}; !slices.Equal(gotUIDs, want) {
		t.Errorf("MessagesByUID(1:*): got %v, want %v", gotUIDs, want)
	}
	if got, _ := s.MessagesByUID(ctx, u.ID, inbox.ID, 3, 4); len(got) != 1 || got[0].UID != 4 {
		t.Errorf("MessagesByUID(3:4): got %d messages, want UID 4 only", len(got))
	}
	checkCounters(t, s, u.ID, inbox.ID)
	checkCounters(t, s, u.ID, other.ID)
}

func testFlags(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	m := newMsg(u.ID, inbox.ID)
	deliver(t, s, m)
	steps := []struct {
		name    string
		op      storage.FlagOp
		flags   []string
		want    []string
		changed bool
	}{
		{"add seen lower case", storage.FlagsAdd, []string{`\seen`}, []string{`\Seen`}, true},
		{"add seen again", storage.FlagsAdd, []string{`\SEEN`}, []string{`\Seen`}, false},
		{"add keywords and recent", storage.FlagsAdd, []string{"Work", `\Recent`, "work", `\flagged`}, []string{"Work", `\Flagged`, `\Seen`}, true}, // byte order
		{"remove keyword other case", storage.FlagsRemove, []string{"WORK"}, []string{`\Flagged`, `\Seen`}, true},
		{"remove absent", storage.FlagsRemove, []string{`\Draft`}, []string{`\Flagged`, `\Seen`}, false},
		{"set same", storage.FlagsSet, []string{`\seen`, `\FLAGGED`}, []string{`\Flagged`, `\Seen`}, false},
		{"set", storage.FlagsSet, []string{`\Answered`, "$Forwarded"}, []string{"$Forwarded", `\Answered`}, true},
		{"set empty", storage.FlagsSet, nil, []string{}, true},
	}
	for _, st := range steps {
		before, _ := s.HighestModSeq(ctx, u.ID)
		got, err := s.UpdateFlags(ctx, u.ID, inbox.ID, []int64{m.ID}, st.op, st.flags)
		if err != nil {
			t.Fatalf("%s: UpdateFlags: %v", st.name, err)
		}
		after, _ := s.HighestModSeq(ctx, u.ID)
		msg, _ := s.GetMessage(ctx, u.ID, m.ID)
		if !slices.Equal(msg.Flags, st.want) {
			t.Errorf("%s: flags got %q, want %q", st.name, msg.Flags, st.want)
		}
		if !st.changed {
			if len(got) != 0 || after != before || msg.ModSeq > before {
				t.Errorf("%s: no-op got %d results, modseq %d -> %d, want none and unchanged", st.name, len(got), before, after)
			}
			continue
		}
		if len(got) != 1 || got[0].ModSeq != after || after != before+1 || !slices.Equal(got[0].Flags, st.want) {
			t.Errorf("%s: got %+v, modseq %d -> %d, want one message at modseq %d", st.name, got, before, after, before+1)
		}
		if mb := mailbox(t, s, u.ID, inbox.ID); mb.HighestModSeq != after {
			t.Errorf("%s: mailbox HIGHESTMODSEQ got %d, want %d", st.name, mb.HighestModSeq, after)
		}
		chs, _ := s.ChangesSince(ctx, u.ID, before, 0)
		if len(chs) != 1 || chs[0].Kind != storage.ChangeFlags || chs[0].MessageID != m.ID || chs[0].UID != m.UID {
			t.Errorf("%s: ChangesSince got %+v, want one flags change", st.name, chs)
		}
		checkCounters(t, s, u.ID, inbox.ID)
	}
	if _, err := s.UpdateFlags(ctx, u.ID, 1<<40, []int64{m.ID}, storage.FlagsAdd, []string{`\Seen`}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateFlags(unknown mailbox): got %v, want ErrNotFound", err)
	}
	if got, err := s.UpdateFlags(ctx, u.ID, inbox.ID, []int64{1 << 40}, storage.FlagsAdd, []string{`\Seen`}); err != nil || len(got) != 0 {
		t.Errorf("UpdateFlags(unknown id): got %v, %v, want nothing", got, err)
	}
}

func testMoveCopy(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	arch := mustRole(t, s, u.ID, storage.RoleArchive)
	att := segment("move copy attachment")
	var msgs []*storage.NewMessage
	for i := 0; i < 4; i++ {
		msgs = append(msgs, newMsg(u.ID, inbox.ID, withAttachment("f.pdf", att), withBody("quokka")))
	}
	msgs[1].Flags = []string{`\Seen`, "Keep"}
	deliver(t, s, msgs...)
	order := []int64{msgs[3].ID, msgs[1].ID, 1 << 40, msgs[0].ID}
	cp, err := s.Copy(ctx, u.ID, inbox.ID, order, arch.ID)
	if err != nil || len(cp) != 3 {
		t.Fatalf("Copy: got %+v, %v, want 3 results", cp, err)
	}
	for i, want := range []*storage.NewMessage{msgs[3], msgs[1], msgs[0]} {
		c := cp[i]
		if c.OldID != want.ID || c.OldUID != want.UID || c.ID == want.ID || c.NewUID != uint32(i+1) {
			t.Errorf("Copy result %d: got %+v, want old %d/%d, a new id, new UID %d", i, c, want.ID, want.UID, i+1)
		}
		got, err := s.GetMessage(ctx, u.ID, c.ID)
		if err != nil || got.MailboxID != arch.ID || got.ThreadID != want.ThreadID || !slices.Equal(got.Segments, want.Segments) {
			t.Errorf("copy %d: got %+v, %v, want same thread and segments in Archive", i, got, err)
		}
		if atts, _ := s.ListAttachments(ctx, u.ID, c.ID); len(atts) != 1 || atts[0].MessageID != c.ID {
			t.Errorf("copy %d attachments: got %+v, want one of message %d", i, atts, c.ID)
		}
	}
	if got, _ := s.GetMessage(ctx, u.ID, cp[1].ID); !slices.Equal(got.Flags, []string{"Keep", `\Seen`}) {
		t.Errorf("copied flags: got %q, want [Keep \\Seen]", got.Flags)
	}
	if n, _ := s.BlobRefs(ctx, att.Hash); n != 7 {
		t.Errorf("attachment refs after copy: got %d, want 7", n)
	}
	if res, _ := s.Search(ctx, u.ID, storage.SearchQuery{Text: "quokka"}); len(res) != 7 {
		t.Errorf("search after copy: got %d, want 7", len(res))
	}
	checkCounters(t, s, u.ID, arch.ID)

	before, _ := s.HighestModSeq(ctx, u.ID)
	mv, err := s.Move(ctx, u.ID, inbox.ID, []int64{msgs[2].ID, msgs[1].ID}, arch.ID)
	if err != nil || len(mv) != 2 {
		t.Fatalf("Move: got %+v, %v", mv, err)
	}
	for i, want := range []*storage.NewMessage{msgs[2], msgs[1]} {
		if mv[i].ID != want.ID || mv[i].OldID != want.ID || mv[i].OldUID != want.UID || mv[i].NewUID != uint32(4+i) {
			t.Errorf("Move result %d: got %+v, want id %d old UID %d new UID %d", i, mv[i], want.ID, want.UID, 4+i)
		}
		got, _ := s.GetMessage(ctx, u.ID, want.ID)
		if got.MailboxID != arch.ID || got.UID != mv[i].NewUID {
			t.Errorf("moved message %d: got mailbox %d UID %d, want %d UID %d", i, got.MailboxID, got.UID, arch.ID, mv[i].NewUID)
		}
	}
	chs, _ := s.ChangesSince(ctx, u.ID, before, 0)
	var kinds []storage.ChangeKind
	for _, c := range chs {
		kinds = append(kinds, c.Kind)
	}
	if want := []storage.ChangeKind{storage.ChangeExpunge, storage.ChangeNew, storage.ChangeExpunge, storage.ChangeNew}; !slices.Equal(kinds, want) {
		t.Errorf("Move changes: got %v, want %v", kinds, want)
	}
	if mb := mailbox(t, s, u.ID, inbox.ID); mb.Total != 2 || mb.HighestModSeq != chs[2].ModSeq {
		t.Errorf("source after move: got total %d highestmodseq %d, want 2 and %d", mb.Total, mb.HighestModSeq, chs[2].ModSeq)
	}
	if n, _ := s.BlobRefs(ctx, att.Hash); n != 7 {
		t.Errorf("attachment refs after move: got %d, want 7", n)
	}
	checkCounters(t, s, u.ID, inbox.ID)
	checkCounters(t, s, u.ID, arch.ID)
	if _, err := s.Move(ctx, u.ID, inbox.ID, []int64{msgs[0].ID}, 1<<40); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Move(unknown target): got %v, want ErrNotFound", err)
	}
}

func testThreads(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) msgOpt { return withDate(t0.Add(time.Duration(h) * time.Hour)) }

	root := newMsg(u.ID, inbox.ID, withMsgID("root@x"), withSubject("Plans"), at(0))
	reply := newMsg(u.ID, inbox.ID, withMsgID("r1@x"), withInReplyTo("root@x"), withSubject("Re: Plans"), at(1))
	reply2 := newMsg(u.ID, inbox.ID, withMsgID("r2@x"), withRefs("root@x", "r1@x"), withSubject("Re: something else"), at(2))
	// A reply arriving before its parent: the parent joins through its own Message-ID.
	early := newMsg(u.ID, inbox.ID, withMsgID("e2@x"), withInReplyTo("e1@x"), withSubject("Re: Early"), at(3))
	late := newMsg(u.ID, inbox.ID, withMsgID("e1@x"), withSubject("Early"), at(4))
	// Subject fallback: no references, same normalized subject.
	subj := newMsg(u.ID, inbox.ID, withSubject("Budget 2026"), at(5))
	subjReply := newMsg(u.ID, inbox.ID, withSubject("RE: [team] Fwd: budget 2026"), at(6))
	aw := newMsg(u.ID, inbox.ID, withSubject("AW: Budget 2026"), at(7))
	// References to an unknown message: a new thread even with the same subject.
	unknownRef := newMsg(u.ID, inbox.ID, withInReplyTo("unknown@x"), withSubject("Re: Budget 2026"), at(8))
	other := newMsg(u.ID, inbox.ID, withSubject("Budget 2027"), at(9))
	deliver(t, s, root, reply)
	deliver(t, s, reply2, early)
	deliver(t, s, late, subj)
	deliver(t, s, subjReply, aw, unknownRef, other)

	for _, tc := range []struct {
		name string
		a, b *storage.NewMessage
		same bool
	}{
		{"In-Reply-To", root, reply, true},
		{"References", root, reply2, true},
		{"parent after reply", early, late, true},
		{"subject fallback with prefixes and tag", subj, subjReply, true},
		{"subject fallback AW", subj, aw, true},
		{"unknown reference is not subject-matched", subj, unknownRef, false},
		{"different subject", subj, other, false},
		{"unrelated threads", root, subj, false},
	} {
		if got := tc.a.ThreadID == tc.b.ThreadID; got != tc.same {
			t.Errorf("%s: got same thread %v (%d, %d), want %v", tc.name, got, tc.a.ThreadID, tc.b.ThreadID, tc.same)
		}
	}
	th, err := s.ListThread(ctx, u.ID, root.ThreadID)
	if want := []int64{root.ID, reply.ID, reply2.ID}; err != nil || !slices.Equal(ids(th), want) {
		t.Errorf("ListThread: got %v, %v, want %v (oldest first)", ids(th), err, want)
	}
	if _, err := s.ListThread(ctx, u.ID, 1<<40); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ListThread(unknown): got %v, want ErrNotFound", err)
	}
	// Threads are per user: another user's reply to the same Message-ID starts its own thread.
	v, vinbox := newUser(t, s, "v@example.com")
	vr := newMsg(v.ID, vinbox.ID, withInReplyTo("root@x"), withSubject("Re: Plans"))
	deliver(t, s, vr)
	if vr.ThreadID == root.ThreadID {
		t.Errorf("other user's reply: got thread %d of user a, want its own", vr.ThreadID)
	}
}

func testPaging(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	const n = 250
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var batch []*storage.NewMessage
	for i := 0; i < n; i++ {
		// Groups of five share an internal date, so the id breaks ties.
		opts := []msgOpt{withDate(base.Add(time.Duration(i/5) * time.Minute))}
		if i%3 == 0 {
			opts = append(opts, withFlags(`\Seen`))
		}
		batch = append(batch, newMsg(u.ID, inbox.ID, opts...))
		if len(batch) == 50 {
			deliver(t, s, batch...)
			batch = nil
		}
	}
	for _, tc := range []struct {
		name   string
		unread *bool
		want   int
	}{
		{"all", nil, n},
		{"unread", ptr(true), n - (n+2)/3},
		{"seen", ptr(false), (n + 2) / 3},
	} {
		for _, limit := range []int{1, 17, 100, 250} {
			var got []storage.Message
			q := storage.ListQuery{Limit: limit, Unread: tc.unread}
			for pages := 0; pages <= n+1; pages++ {
				page, err := s.ListMessages(ctx, u.ID, inbox.ID, q)
				if err != nil {
					t.Fatalf("%s limit %d: %v", tc.name, limit, err)
				}
				if len(page) > limit {
					t.Fatalf("%s limit %d: got page of %d", tc.name, limit, len(page))
				}
				got = append(got, page...)
				if len(page) == 0 {
					break
				}
				q.BeforeDate, q.BeforeID = page[len(page)-1].InternalDate, page[len(page)-1].ID
			}
			seen := map[int64]bool{}
			for i, m := range got {
				if seen[m.ID] {
					t.Fatalf("%s limit %d: message %d listed twice", tc.name, limit, m.ID)
				}
				seen[m.ID] = true
				if tc.unread != nil && hasFlag(m.Flags, storage.FlagSeen) == *tc.unread {
					t.Fatalf("%s limit %d: message %d has flags %q", tc.name, limit, m.ID, m.Flags)
				}
				if i > 0 {
					p := got[i-1]
					if m.InternalDate.After(p.InternalDate) || m.InternalDate.Equal(p.InternalDate) && m.ID >= p.ID {
						t.Fatalf("%s limit %d: order broken at %d", tc.name, limit, i)
					}
				}
			}
			if len(got) != tc.want {
				t.Errorf("%s limit %d: got %d messages, want %d", tc.name, limit, len(got), tc.want)
			}
		}
	}
	checkCounters(t, s, u.ID, inbox.ID)
}

func testIsolation(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, ainbox := newUser(t, s, "a@example.com")
	b, binbox := newUser(t, s, "b@example.com")
	bm := newMsg(b.ID, binbox.ID, withBody("secretword"), withAttachment("b.pdf", segment("b's pdf")), withMsgID("bm@x"))
	deliver(t, s, bm)
	am := newMsg(a.ID, ainbox.ID)
	deliver(t, s, am)
	bModSeq, _ := s.HighestModSeq(ctx, b.ID)
	nf := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s with user a and b's ids: got %v, want ErrNotFound", name, err)
		}
	}
	empty := func(name string, n int, err error) {
		t.Helper()
		if err == nil && n != 0 {
			t.Errorf("%s with user a and b's ids: got %d rows, want none", name, n)
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s with user a and b's ids: got %v, want ErrNotFound or nothing", name, err)
		}
	}
	_, err := s.GetMailbox(ctx, a.ID, binbox.ID)
	nf("GetMailbox", err)
	_, err = s.GetMessage(ctx, a.ID, bm.ID)
	nf("GetMessage", err)
	r1, err := s.ListAttachments(ctx, a.ID, bm.ID)
	empty("ListAttachments", len(r1), err)
	r2, err := s.ListThread(ctx, a.ID, bm.ThreadID)
	empty("ListThread", len(r2), err)
	r3, err := s.ListMessages(ctx, a.ID, binbox.ID, storage.ListQuery{})
	empty("ListMessages", len(r3), err)
	r4, err := s.MessagesByUID(ctx, a.ID, binbox.ID, 1, 0)
	empty("MessagesByUID", len(r4), err)
	r5, err := s.UpdateFlags(ctx, a.ID, binbox.ID, []int64{bm.ID}, storage.FlagsAdd, []string{`\Seen`})
	empty("UpdateFlags(b's mailbox)", len(r5), err)
	r5, err = s.UpdateFlags(ctx, a.ID, ainbox.ID, []int64{bm.ID}, storage.FlagsAdd, []string{`\Seen`})
	empty("UpdateFlags(b's message)", len(r5), err)
	r6, err := s.Move(ctx, a.ID, binbox.ID, []int64{bm.ID}, ainbox.ID)
	empty("Move(from b's mailbox)", len(r6), err)
	r6, err = s.Move(ctx, a.ID, ainbox.ID, []int64{bm.ID}, ainbox.ID)
	empty("Move(b's message)", len(r6), err)
	r6, err = s.Move(ctx, a.ID, ainbox.ID, []int64{am.ID}, binbox.ID)
	empty("Move(into b's mailbox)", len(r6), err)
	r6, err = s.Copy(ctx, a.ID, binbox.ID, []int64{bm.ID}, ainbox.ID)
	empty("Copy(from b's mailbox)", len(r6), err)
	r6, err = s.Copy(ctx, a.ID, ainbox.ID, []int64{am.ID}, binbox.ID)
	empty("Copy(into b's mailbox)", len(r6), err)
	r7, _, err := s.Expunge(ctx, a.ID, binbox.ID, []int64{bm.ID})
	empty("Expunge(b's mailbox)", len(r7), err)
	r7, _, err = s.Expunge(ctx, a.ID, ainbox.ID, []int64{bm.ID})
	empty("Expunge(b's message)", len(r7), err)
	nf("RenameMailbox", s.RenameMailbox(ctx, a.ID, binbox.ID, "Stolen"))
	nf("SetSubscribed", s.SetSubscribed(ctx, a.ID, binbox.ID, false))
	bother, _ := s.CreateMailbox(ctx, b.ID, "B-Other", "")
	_, err = s.DeleteMailbox(ctx, a.ID, bother.ID)
	nf("DeleteMailbox", err)
	r8, err := s.Search(ctx, a.ID, storage.SearchQuery{Text: "secretword"})
	empty("Search", len(r8), err)
	r8, err = s.Search(ctx, a.ID, storage.SearchQuery{MailboxID: binbox.ID})
	empty("Search(b's mailbox)", len(r8), err)
	chs, _ := s.ChangesSince(ctx, a.ID, 0, 0)
	for _, c := range chs {
		if c.MailboxID == binbox.ID || c.MessageID == bm.ID {
			t.Errorf("ChangesSince(a): got b's change %+v", c)
		}
	}
	vr := newMsg(a.ID, ainbox.ID, withInReplyTo("bm@x"))
	deliver(t, s, vr)
	if vr.ThreadID == bm.ThreadID {
		t.Errorf("a's reply to b's Message-ID: got b's thread")
	}

	// b's data is untouched.
	got, err := s.GetMessage(ctx, b.ID, bm.ID)
	if err != nil || got.MailboxID != binbox.ID || len(got.Flags) != 0 || got.UID != 1 {
		t.Errorf("b's message after a's attempts: got %+v, %v, want unchanged", got, err)
	}
	if mb := mailbox(t, s, b.ID, binbox.ID); mb.Name != "INBOX" || mb.Total != 1 || mb.Unread != 1 || !mb.Subscribed {
		t.Errorf("b's inbox after a's attempts: got %+v, want unchanged", mb)
	}
	if _, err := s.GetMailbox(ctx, b.ID, bother.ID); err != nil {
		t.Errorf("b's other mailbox: got %v, want it to exist", err)
	}
	if res, _ := s.Search(ctx, b.ID, storage.SearchQuery{Text: "secretword"}); len(res) != 1 {
		t.Errorf("b's search: got %d, want 1", len(res))
	}
	if hm, _ := s.HighestModSeq(ctx, b.ID); hm != bModSeq+1 { // +1: b's own CreateMailbox
		t.Errorf("b's modseq: got %d, want %d", hm, bModSeq+1)
	}
}
