package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// maxGroup caps how many waiting batches one group commit takes.
const maxGroup = 256

// pendingBatch is a Deliver call waiting for a group commit.
type pendingBatch struct {
	b    *storage.Batch
	done chan error
}

// Deliver commits a batch atomically: every message gets its id, the next
// UID of its mailbox, a new MODSEQ, a thread, its search row and its blob
// references; queue items are inserted with theirs. On error nothing of the
// batch is committed and the output fields keep their previous values.
//
// Group commit: batches of concurrent callers share one transaction and so
// one fsync. The first caller to find the writer idle becomes the leader and
// commits every batch waiting at that moment, each inside its own SAVEPOINT,
// so one failing batch is rolled back alone while the others commit. The
// group runs to completion even if a caller's context ends, because a
// batch that may already be committed cannot be reported as failed.
func (s *Store) Deliver(ctx context.Context, b *storage.Batch) error {
	if b == nil || len(b.Messages)+len(b.Queue) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: deliver: %w", err)
	}
	s.PrepareIndex(b.Messages)
	s.PrepareInline(b)
	p := &pendingBatch{b: b, done: make(chan error, 1)}
	s.groupMu.Lock()
	s.group = append(s.group, p)
	s.groupMu.Unlock()
	for {
		select {
		case err := <-p.done:
			return err
		case s.leader <- struct{}{}:
			s.groupMu.Lock()
			n := min(len(s.group), maxGroup)
			group := s.group[:n:n]
			s.group = s.group[n:]
			s.groupMu.Unlock()
			if len(group) > 0 {
				s.commitGroup(context.WithoutCancel(ctx), group)
			}
			<-s.leader
		}
	}
}

// PrepareInline packs (packed.go) each of b's inline blobs that is not
// yet in b.InlineStored: the packed bytes where that saves, nil where the
// blob is stored as it is. core calls it in the delivering goroutine
// (storage.InlinePreparer); Deliver, in whatever goroutine calls it, for
// what is left (none, after core).
func (s *Store) PrepareInline(b *storage.Batch) {
	for h, data := range b.Inline {
		if _, ok := b.InlineStored[h]; ok {
			continue
		}
		if b.InlineStored == nil {
			b.InlineStored = make(map[string][]byte, len(b.Inline))
		}
		b.InlineStored[h] = pack(data)
	}
}

// commitGroup delivers batches in one write transaction and reports to
// each waiting caller.
func (s *Store) commitGroup(ctx context.Context, group []*pendingBatch) {
	errs := make([]error, len(group))
	applied := make([]func(), len(group))
	err := s.write(ctx, func(w *wtx) error {
		var rows []searchRow
		for i, p := range group {
			if len(group) == 1 {
				if applied[i], errs[i] = w.deliverBatch(p.b); errs[i] != nil {
					return errs[i]
				}
				return w.insertSearchRows(w.search)
			}
			if _, err := w.exec(`SAVEPOINT deliver`); err != nil {
				return err
			}
			w.search = w.search[:0]
			applied[i], errs[i] = w.deliverBatch(p.b)
			if errs[i] != nil {
				if _, err := w.exec(`ROLLBACK TO deliver`); err != nil {
					return err
				}
			} else {
				rows = append(rows, w.search...)
			}
			if _, err := w.exec(`RELEASE deliver`); err != nil {
				return err
			}
		}
		return w.insertSearchRows(rows)
	})

	for i, p := range group {
		forgetIndex(p.b)
		switch {
		case errs[i] != nil:
			p.done <- fmt.Errorf("sqlite: deliver: %w", errs[i])
		case err != nil:
			p.done <- fmt.Errorf("sqlite: deliver: %w", err)
		default:
			applied[i]()
			p.done <- nil
		}
	}
}

// deliverBatch writes one batch and returns the function that publishes
// its output fields once the transaction has committed.
func (w *wtx) deliverBatch(b *storage.Batch) (func(), error) {
	outs := make([]delivered, len(b.Messages))
	qids := make([]int64, len(b.Queue))
	slots, err := w.reserve(b.Messages)
	if err != nil {
		return nil, err
	}
	for i, m := range b.Messages {
		o, err := w.deliverOne(m, slots[i])
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		outs[i] = o
	}
	for i, q := range b.Queue {
		if q == nil {
			return nil, fmt.Errorf("queue item %d: nil: %w", i, storage.ErrInvalid)
		}
		id, err := w.insertQueue(q)
		if err != nil {
			return nil, fmt.Errorf("queue item %d: %w", i, err)
		}
		qids[i] = id
	}
	// Inline bytes go in after the references above, so they are never
	// stored for a blob that a concurrent collection is about to drop.
	for h, data := range b.Inline {
		codec := codecRaw
		if p := b.InlineStored[h]; p != nil {
			data, codec = p, codecS2
		}
		if _, err := w.exec(`INSERT INTO blob_data (hash, data, codec) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING`, h, data, codec); err != nil {
			return nil, fmt.Errorf("inline blob %s: %w", h, err)
		}
	}
	return func() {
		for i, m := range b.Messages {
			m.ID, m.ThreadID, m.UID, m.ModSeq = outs[i].ID, outs[i].ThreadID, outs[i].UID, outs[i].ModSeq
		}
		for i, q := range b.Queue {
			q.ID = qids[i]
			if q.State == "" {
				q.State = storage.QueueQueued
			}
		}
	}, nil
}

// delivered holds what deliverOne assigned.
type delivered struct {
	ID, ThreadID int64
	UID          uint32
	ModSeq       uint64
}

// slot is what reserve set aside for one message of a batch.
type slot struct {
	id     int64
	modseq uint64
	uid    uint32
	flags  []string
	seen   bool
}

// mailboxKey names a mailbox of a user.
type mailboxKey struct{ user, mailbox int64 }

// reserve checks the messages of a batch and reserves their ids, MODSEQs
// (RFC 7162 section 3.1) and UIDs with one statement for the ids, one per
// user and one per mailbox, instead of three per message: a group commit
// holds several messages for one mailbox, and these three rows were
// updated once per message. Each user's MODSEQs and each mailbox's UIDs
// follow the order of the messages.
func (w *wtx) reserve(msgs []*storage.NewMessage) ([]slot, error) {
	slots := make([]slot, len(msgs))
	if len(msgs) == 0 {
		return slots, nil
	}
	var users []int64 // in order of first appearance, as boxes
	perUser := map[int64][]int{}
	var boxes []mailboxKey
	perBox := map[mailboxKey][]int{}
	for i, m := range msgs {
		if m == nil {
			return nil, fmt.Errorf("message %d: nil: %w", i, storage.ErrInvalid)
		}
		if m.UserID <= 0 || m.MailboxID <= 0 || m.Size < 0 || m.HeaderSize < 0 {
			return nil, fmt.Errorf("message %d: user %d mailbox %d: %w", i, m.UserID, m.MailboxID, storage.ErrInvalid)
		}
		flags, err := normFlags(m.Flags)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		for _, sg := range m.Segments {
			if sg.Hash == "" || sg.Size < 0 {
				return nil, fmt.Errorf("message %d: segment %q: %w", i, sg.Hash, storage.ErrInvalid)
			}
		}
		slots[i].flags, slots[i].seen = flags, hasSeen(flags)
		if _, ok := perUser[m.UserID]; !ok {
			users = append(users, m.UserID)
		}
		perUser[m.UserID] = append(perUser[m.UserID], i)
		k := mailboxKey{m.UserID, m.MailboxID}
		if _, ok := perBox[k]; !ok {
			boxes = append(boxes, k)
		}
		perBox[k] = append(perBox[k], i)
	}
	last, err := w.nextIDs("message", len(msgs))
	if err != nil {
		return nil, err
	}
	for i := range slots {
		slots[i].id = last - int64(len(msgs)) + 1 + int64(i)
	}
	for _, u := range users {
		idx := perUser[u]
		top, err := w.bumpModSeqs(u, len(idx))
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			slots[i].modseq = top - uint64(len(idx)-1-j)
		}
	}
	for _, k := range boxes {
		idx := perBox[k]
		var unread int
		var size int64
		var top uint64
		for _, i := range idx {
			unread += b2i(!slots[i].seen)
			size += msgs[i].Size
			top = max(top, slots[i].modseq)
		}
		var first uint32
		if err := w.stmt(w.s.st.mailboxAdd).QueryRowContext(w.ctx, len(idx), unread, size, top, k.user, k.mailbox).Scan(&first); err != nil {
			return nil, fmt.Errorf("mailbox %d: %w", k.mailbox, notFound(err))
		}
		for j, i := range idx {
			slots[i].uid = first + uint32(j)
		}
	}
	return slots, nil
}

func (w *wtx) deliverOne(m *storage.NewMessage, sl slot) (delivered, error) {
	var d delivered
	flags, seen, modseq, uid, id := sl.flags, sl.seen, sl.modseq, sl.uid, sl.id
	thread, err := w.assignThread(m)
	if err != nil {
		return d, fmt.Errorf("thread: %w", err)
	}
	idate := m.InternalDate
	if idate.IsZero() {
		idate = w.now
	}
	segs, _ := json.Marshal(nonNil(m.Segments))
	from, _ := json.Marshal(nonNil(m.From))
	to, _ := json.Marshal(nonNil(m.To))
	cc, _ := json.Marshal(nonNil(m.Cc))
	_, err = w.stmt(w.s.st.insertMessage).ExecContext(w.ctx, m.UserID, id, m.MailboxID, uid, thread, modseq,
		encodeFlags(flags), b2i(seen), ts(idate), m.Size, m.HeaderSize, string(segs), m.Subject,
		string(from), string(to), string(cc), ts(m.Date), m.MessageIDHdr, m.Snippet, b2i(storage.ListedAttachments(m.Attachments)),
		strings.ToLower(m.Subject), addrText(m.From), addrText(append(slicesClone(m.To), m.Cc...)),
		storage.SentDay(m.Date, idate), nilBlob(m.Structure))
	if err != nil {
		return d, fmt.Errorf("insert message: %w", err)
	}
	if k := m.SortKeys; k != nil {
		if _, err := w.exec(`INSERT OR REPLACE INTO sort_keys(user_id, message_id, from_name, from_addr, to_name, to_addr, cc_addr, parents)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.UserID, id, k.FromName, k.FromAddr, k.ToName, k.ToAddr, k.CcAddr,
			storage.JoinParents(k.Parents)); err != nil {
			return d, fmt.Errorf("insert sort keys: %w", err)
		}
	}
	for _, a := range m.Attachments {
		if _, err := w.stmt(w.s.st.insertAttachment).ExecContext(w.ctx, m.UserID, id, a.Part, a.Filename,
			a.ContentType, a.Size, a.Hash); err != nil {
			if isUnique(err) {
				return d, fmt.Errorf("attachment part %q twice: %w", a.Part, storage.ErrInvalid)
			}
			return d, fmt.Errorf("insert attachment: %w", err)
		}
	}
	w.addSearch(m, id)
	if err := w.incSegments(m.Segments); err != nil {
		return d, err
	}
	if err := w.change(m.UserID, modseq, m.MailboxID, id, uid, storage.ChangeNew); err != nil {
		return d, err
	}
	return delivered{ID: id, ThreadID: thread, UID: uid, ModSeq: modseq}, nil
}

// nextID allocates the next value of a global sequence.
func (w *wtx) nextID(name string) (int64, error) { return w.nextIDs(name, 1) }

// nextIDs allocates the next n values of a global sequence and returns the
// last of them.
func (w *wtx) nextIDs(name string, n int) (int64, error) {
	var id int64
	if err := w.stmt(w.s.st.nextSeq).QueryRowContext(w.ctx, name, n).Scan(&id); err != nil {
		return 0, fmt.Errorf("sequence %s: %w", name, err)
	}
	return id, nil
}

// bumpModSeq allocates the user's next MODSEQ (RFC 7162 section 3.1).
func (w *wtx) bumpModSeq(userID int64) (uint64, error) { return w.bumpModSeqs(userID, 1) }

// bumpModSeqs allocates the user's next n MODSEQs and returns the last.
func (w *wtx) bumpModSeqs(userID int64, n int) (uint64, error) {
	var m uint64
	if err := w.stmt(w.s.st.bumpModSeq).QueryRowContext(w.ctx, userID, n).Scan(&m); err != nil {
		return 0, fmt.Errorf("user %d: %w", userID, notFound(err))
	}
	return m, nil
}

func (w *wtx) change(userID int64, modseq uint64, mailboxID, messageID int64, uid uint32, kind storage.ChangeKind) error {
	if _, err := w.stmt(w.s.st.insertChange).ExecContext(w.ctx, userID, modseq, mailboxID, messageID, uid, string(kind), ts(w.now)); err != nil {
		return fmt.Errorf("change log: %w", err)
	}
	return nil
}

// incSegments adds one reference per segment.
func (w *wtx) incSegments(segs []storage.Segment) error {
	for _, sg := range segs {
		if _, err := w.stmt(w.s.st.blobInc).ExecContext(w.ctx, sg.Hash, sg.Size); err != nil {
			return fmt.Errorf("blob ref %s: %w", sg.Hash, err)
		}
	}
	return nil
}

// decSegments removes one reference per segment, recording blobs that reach zero.
func (w *wtx) decSegments(segs []storage.Segment) error {
	for _, sg := range segs {
		var n int64
		err := w.stmt(w.s.st.blobDec).QueryRowContext(w.ctx, ts(w.now), sg.Hash).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			w.s.log.Warn("sqlite: blob reference missing", "hash", sg.Hash)
			continue
		}
		if err != nil {
			return fmt.Errorf("blob unref %s: %w", sg.Hash, err)
		}
		if n == 0 {
			w.addFreed(sg.Hash)
		}
	}
	return nil
}

func (w *wtx) insertQueue(q *storage.QueueItem) (int64, error) {
	if q.Sender == "" && q.UserID != 0 || len(q.Recipients) == 0 {
		return 0, fmt.Errorf("sender %q, %d recipients: %w", q.Sender, len(q.Recipients), storage.ErrInvalid)
	}
	state := q.State
	if state == "" {
		state = storage.QueueQueued
	}
	next := q.NextAttemptAt
	if next.IsZero() {
		next = w.now
	}
	created := q.CreatedAt
	if created.IsZero() {
		created = w.now
	}
	rcpts, _ := json.Marshal(q.Recipients)
	segs, _ := json.Marshal(nonNil(q.Segments))
	res, _ := json.Marshal(nonNilMap(q.Results))
	dsnRcpts, _ := json.Marshal(nonNilMap(q.DSN.Rcpts))
	var id int64
	err := w.stmt(w.s.st.insertQueue).QueryRowContext(w.ctx, q.UserID, q.Sender, string(rcpts), string(segs), q.Size,
		state, q.Attempts, ts(next), ts(created), q.LastError, string(res),
		q.DSN.Ret, q.DSN.EnvID, string(dsnRcpts), q.DSN.DelayNotified, q.RequireTLS).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert queue: %w", err)
	}
	if err := w.incSegments(q.Segments); err != nil {
		return 0, err
	}
	return id, nil
}

// addrText is the lower-case text of addresses used for substring filters
// and the full-text index.
func addrText(as []storage.Address) string {
	var b strings.Builder
	for _, a := range as {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if a.Name != "" {
			b.WriteString(strings.ToLower(a.Name))
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToLower(a.Address))
	}
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }
