package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stamp-mail/stamp/storage"
)

// mbKey identifies a mailbox of a user.
type mbKey struct{ user, mailbox int64 }

// mbPlan is what a batch does to one mailbox.
type mbPlan struct {
	n, unread int
	size      int64
	lastIdx   int    // index of its last message among the user's messages
	uidnext   uint32 // after the update
	first     uint32 // first UID allocated
	next      uint32 // next UID to hand out
}

// userPlan is what a batch does to one user.
type userPlan struct {
	n       int
	last    uint64 // MODSEQ after the update
	idx     int    // messages assigned so far
	refs    map[string]int64
	subject map[string][]storage.ThreadCandidate // same-subject thread messages (threadmatch.go)
	lookRef []string
	lookSub []string
}

// addrText renders addresses (names and addresses) for substring filters
// and the search index.
func addrText(lists ...[]storage.Address) string {
	var b strings.Builder
	for _, l := range lists {
		for _, a := range l {
			b.WriteString(a.Name)
			b.WriteByte(' ')
			b.WriteString(a.Address)
			b.WriteByte(' ')
		}
	}
	return clean(b.String())
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func cleanAddrs(l []storage.Address) []storage.Address {
	if l == nil {
		return nil
	}
	out := make([]storage.Address, len(l))
	for i, a := range l {
		out[i] = storage.Address{Name: clean(a.Name), Address: clean(a.Address)}
	}
	return out
}

func tsz(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// deliverSettingsSQL starts Deliver's transaction. Its statements touch one
// user's partitions, but the planner rates a cached generic plan (every
// partition, pruned at run time) as dearer than a custom one and so plans
// each of them afresh on every call: 1.1 ms for the subject look-up and 0.5
// ms for the mailbox update per group, more than they take to run. Generic
// plans cost nothing after the first call. But a generic plan is made once
// per connection from the statistics of that moment: made while a table was
// small, or where a partition holds many users (few rows per user in the
// planner's eyes), it read all of a user's references or messages (an index
// scan on user_id alone, the other keys filtered) on every delivery: 0.35
// ms for each of the two look-ups per group after 3,000 messages, growing
// with the mailbox. Without sequential and bitmap scans the look-ups
// (threadmatch.go, written as one probe per key) can only be index probes
// on all their keys; the other statements insert, or update one row by its
// key.
const deliverSettingsSQL = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
	set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`

// Deliver commits a batch in one transaction in two round trips whatever
// its size: BEGIN and the allocation (lock users and mailboxes in id order,
// take MODSEQs and UIDs, ids, thread look-ups), then the inserts (one
// INSERT ... SELECT FROM unnest per table) and COMMIT.
func (s *Store) Deliver(ctx context.Context, b *storage.Batch) error {
	if b == nil || len(b.Messages)+len(b.Queue) == 0 {
		return nil
	}
	defer forgetPrepared(b)
	users := map[int64]*userPlan{}
	mbs := map[mbKey]*mbPlan{}
	flags := make([][]string, len(b.Messages))
	for i, m := range b.Messages {
		if m == nil {
			return fmt.Errorf("postgres: deliver: message %d is nil: %w", i, storage.ErrInvalid)
		}
		u := users[m.UserID]
		if u == nil {
			u = &userPlan{refs: map[string]int64{}, subject: map[string][]storage.ThreadCandidate{}}
			users[m.UserID] = u
		}
		k := mbKey{m.UserID, m.MailboxID}
		p := mbs[k]
		if p == nil {
			p = &mbPlan{}
			mbs[k] = p
		}
		if err := checkFlags(m.Flags); err != nil {
			return fmt.Errorf("postgres: deliver: %w", err)
		}
		flags[i] = normFlags(m.Flags)
		p.n++
		p.size += m.Size
		if !hasSeen(flags[i]) {
			p.unread++
		}
		p.lastIdx = u.n
		u.n++
		u.lookRef = append(u.lookRef, m.InReplyTo...)
		u.lookRef = append(u.lookRef, m.References...)
		if m.MessageIDHdr != "" {
			u.lookRef = append(u.lookRef, m.MessageIDHdr)
		}
		if len(m.InReplyTo)+len(m.References) == 0 {
			if ns := normSubject(clean(m.Subject)); ns != "" {
				u.lookSub = append(u.lookSub, ns)
			}
		}
	}
	for i, q := range b.Queue {
		if q == nil {
			return fmt.Errorf("postgres: deliver: queue item %d is nil: %w", i, storage.ErrInvalid)
		}
	}
	userIDs := sortedKeys(users, cmp.Compare[int64])
	mbKeys := sortedKeys(mbs, func(a, b mbKey) int {
		return cmp.Or(cmp.Compare(a.user, b.user), cmp.Compare(a.mailbox, b.mailbox))
	})

	// BEGIN travels in the first pipeline and COMMIT in the second, so the
	// whole transaction costs two round trips.
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return mapErr("deliver", err)
	}
	defer conn.Release()
	committed := false
	defer func() {
		if !committed {
			rollback(ctx, conn)
		}
	}()

	// Round trip 1: locks and allocation.
	var msgIDs, threadIDs, queueIDs []int64
	rt1 := &pgx.Batch{}
	rt1.Queue("BEGIN")
	rt1.Queue(deliverSettingsSQL)
	for _, uid := range userIDs {
		u := users[uid]
		rt1.Queue("UPDATE users SET modseq = modseq + $2 WHERE id = $1 RETURNING modseq", uid, u.n).
			QueryRow(func(row pgx.Row) error {
				var last int64
				if err := row.Scan(&last); err != nil {
					return notFound(err, "user %d", uid)
				}
				u.last = uint64(last)
				return nil
			})
	}
	for _, k := range mbKeys {
		p := mbs[k]
		// The users row was updated above in this transaction, so its
		// modseq is the user's new highest; this mailbox's last message
		// gets that minus the messages of the user that follow it.
		off := users[k.user].n - 1 - p.lastIdx
		rt1.Queue(`UPDATE mailboxes SET uidnext = uidnext + $3, total = total + $3, unread = unread + $4,
				size = size + $5,
				highest_modseq = greatest(highest_modseq, (SELECT modseq FROM users WHERE id = $1) - $6)
			WHERE user_id = $1 AND id = $2 RETURNING uidnext`, k.user, k.mailbox, p.n, p.unread, p.size, off).
			QueryRow(func(row pgx.Row) error {
				var next int64
				if err := row.Scan(&next); err != nil {
					return notFound(err, "mailbox %d of user %d", k.mailbox, k.user)
				}
				p.uidnext = uint32(next)
				p.first = uint32(next - int64(p.n))
				p.next = p.first
				return nil
			})
	}
	for _, uid := range userIDs {
		u := users[uid]
		if len(u.lookRef) > 0 {
			rt1.Queue(threadRefsSQL, uid, u.lookRef).
				Query(func(rows pgx.Rows) error {
					var ref string
					var tid *int64
					_, err := pgx.ForEachRow(rows, []any{&ref, &tid}, func() error {
						if tid != nil {
							u.refs[ref] = *tid
						}
						return nil
					})
					return err
				})
		}
		if len(u.lookSub) > 0 {
			rt1.Queue(subjectCandidatesSQL, uid, dedup(u.lookSub), maxSubjectCandidates).Query(u.readSubjectCandidates)
		}
	}
	rt1.Queue(`SELECT ARRAY(SELECT nextval('message_ids') FROM generate_series(1, $1)),
			ARRAY(SELECT nextval('thread_ids') FROM generate_series(1, $1)),
			ARRAY(SELECT nextval('queue_ids') FROM generate_series(1, $2))`, len(b.Messages), len(b.Queue)).
		QueryRow(func(row pgx.Row) error { return row.Scan(&msgIDs, &threadIDs, &queueIDs) })
	if err := conn.SendBatch(ctx, rt1).Close(); err != nil {
		return mapErr("deliver", err)
	}

	// Assign ids, UIDs, MODSEQs and threads in batch order.
	type assigned struct {
		id, thread int64
		uid        uint32
		modseq     uint64
	}
	out := make([]assigned, len(b.Messages))
	var (
		thU, thID                                   []int64
		thSub                                       []string
		refU, refT                                  []int64
		refID                                       []string
		mU, mID, mMB, mUID, mThread, mModseq, mSize []int64
		mHdr                                        []int64
		mFlags, mSegs, mSubj, mFrom, mTo, mCc       []string
		mFromT, mToT, mMsgID, mSnippet              []string
		mSeen, mAtt                                 []bool
		mIDate, mDate                               []pgtype.Timestamptz
		sAddr, sBody, sHdrs                         []string
		sKeys, sHKeys                               [][]int64
		mSent                                       []int64
		mStruct                                     [][]byte
		kU, kID                                     []int64
		kFN, kFA, kTN, kTA, kCA, kPar               []string
		aU, aMsg, aSize                             []int64
		aPart, aName, aType, aHash                  []string
		cU, cModseq, cMB, cMsg, cUID                []int64
		cKind                                       []string
	)
	refs := blobRefs{}
	nextThread := 0
	now := time.Now()
	for i, m := range b.Messages {
		u := users[m.UserID]
		p := mbs[mbKey{m.UserID, m.MailboxID}]
		a := &out[i]
		a.id = msgIDs[i]
		a.uid = p.next
		p.next++
		a.modseq = u.last - uint64(u.n) + uint64(u.idx) + 1
		u.idx++

		// Threading (RFC 5256 REFERENCES, simplified): the nearest known
		// ancestor, then a known own Message-ID, then the base subject.
		for _, r := range m.InReplyTo {
			if a.thread = u.refs[r]; a.thread != 0 {
				break
			}
		}
		for j := len(m.References) - 1; a.thread == 0 && j >= 0; j-- {
			a.thread = u.refs[m.References[j]]
		}
		if a.thread == 0 && m.MessageIDHdr != "" {
			a.thread = u.refs[m.MessageIDHdr]
		}
		r := prepared(m)
		subj, ns := r.subj, r.ns
		if a.thread == 0 && len(m.InReplyTo)+len(m.References) == 0 && ns != "" {
			a.thread = u.subjectJoin(ns, m, now)
		}
		if a.thread == 0 {
			a.thread = threadIDs[nextThread]
			nextThread++
			thU, thID, thSub = append(thU, m.UserID), append(thID, a.thread), append(thSub, ns)
		}
		if ns != "" {
			u.addSubjectCandidate(ns, a.thread, m, now)
		}
		for _, lst := range [][]string{{m.MessageIDHdr}, m.InReplyTo, m.References} {
			for _, r := range lst {
				r = clean(r)
				if r == "" {
					continue
				}
				if _, ok := u.refs[r]; ok {
					continue
				}
				u.refs[r] = a.thread
				refU, refID, refT = append(refU, m.UserID), append(refID, r), append(refT, a.thread)
			}
		}

		fl, err := jsonText(flags[i])
		if err != nil {
			return fmt.Errorf("postgres: deliver: %w", err)
		}
		idate := m.InternalDate
		if idate.IsZero() {
			idate = now
		}
		mU, mID, mMB, mUID = append(mU, m.UserID), append(mID, a.id), append(mMB, m.MailboxID), append(mUID, int64(a.uid))
		mThread, mModseq, mSize, mHdr = append(mThread, a.thread), append(mModseq, int64(a.modseq)), append(mSize, m.Size), append(mHdr, m.HeaderSize)
		mFlags, mSegs, mSubj = append(mFlags, fl), append(mSegs, r.segs), append(mSubj, subj)
		mFrom, mTo, mCc = append(mFrom, r.from), append(mTo, r.to), append(mCc, r.cc)
		mFromT, mToT = append(mFromT, r.fromT), append(mToT, r.toT)
		mMsgID, mSnippet = append(mMsgID, r.msgID), append(mSnippet, r.snippet)
		mSeen, mAtt = append(mSeen, hasSeen(flags[i])), append(mAtt, r.attachments)
		mIDate, mDate = append(mIDate, tsz(idate)), append(mDate, tsz(m.Date))
		sAddr = append(sAddr, r.addrs)
		sHdrs, sHKeys = append(sHdrs, r.hdrs), append(sHKeys, r.hdrKeys)
		mSent = append(mSent, storage.SentDay(m.Date, idate))
		mStruct = append(mStruct, nilBytes(m.Structure))
		if m.SortKeys != nil {
			kU, kID = append(kU, m.UserID), append(kID, a.id)
			kFN, kFA, kTN = append(kFN, r.sortFN), append(kFA, r.sortFA), append(kTN, r.sortTN)
			kTA, kCA, kPar = append(kTA, r.sortTA), append(kCA, r.sortCA), append(kPar, r.sortPar)
		}
		sBody, sKeys = append(sBody, r.body), append(sKeys, r.bodyKeys)
		for _, at := range r.atts {
			aU, aMsg, aSize = append(aU, m.UserID), append(aMsg, a.id), append(aSize, at.Size)
			aPart, aName, aType, aHash = append(aPart, at.Part), append(aName, at.Filename), append(aType, at.ContentType), append(aHash, at.Hash)
		}
		cU, cModseq, cMB, cMsg, cUID = append(cU, m.UserID), append(cModseq, int64(a.modseq)), append(cMB, m.MailboxID), append(cMsg, a.id), append(cUID, int64(a.uid))
		cKind = append(cKind, string(storage.ChangeNew))
		refs.add(m.Segments)
	}

	var qID, qUser, qSize, qAttempts []int64
	var qSender, qRcpts, qSegs, qState, qErr, qResults []string
	var qRet, qEnvID, qDSNRcpts []string
	var qDelayed, qReqTLS []bool
	var qNext, qCreated []pgtype.Timestamptz
	for i, q := range b.Queue {
		rc, _ := jsonText(nonNil(q.Recipients))
		sg, _ := jsonText(nonNil(q.Segments))
		res, dr := "", ""
		if q.Results != nil {
			res, _ = jsonText(q.Results)
		}
		if q.DSN.Rcpts != nil {
			dr, _ = jsonText(q.DSN.Rcpts)
		}
		qRet, qEnvID, qDSNRcpts = append(qRet, clean(q.DSN.Ret)), append(qEnvID, clean(q.DSN.EnvID)), append(qDSNRcpts, dr)
		qDelayed, qReqTLS = append(qDelayed, q.DSN.DelayNotified), append(qReqTLS, q.RequireTLS)
		state := cmp.Or(q.State, storage.QueueQueued)
		next, created := q.NextAttemptAt, q.CreatedAt
		if next.IsZero() {
			next = now
		}
		if created.IsZero() {
			created = now
		}
		qID, qUser, qSize, qAttempts = append(qID, queueIDs[i]), append(qUser, q.UserID), append(qSize, q.Size), append(qAttempts, int64(q.Attempts))
		qSender, qRcpts, qSegs, qState = append(qSender, clean(q.Sender)), append(qRcpts, rc), append(qSegs, sg), append(qState, state)
		qErr, qResults = append(qErr, clean(q.LastError)), append(qResults, res)
		qNext, qCreated = append(qNext, tsz(next)), append(qCreated, tsz(created))
		refs.add(q.Segments)
	}

	// The results are set now so that Notices can describe the messages;
	// on failure nothing is committed and the caller must not use them.
	for i, m := range b.Messages {
		m.ID, m.UID, m.ModSeq, m.ThreadID = out[i].id, out[i].uid, out[i].modseq, out[i].thread
	}

	// Round trip 2: every insert, one statement per table.
	rt2 := &pgx.Batch{}
	if len(thID) > 0 {
		rt2.Queue(`INSERT INTO threads (user_id, id, subject_norm)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])`, thU, thID, thSub)
	}
	if len(refID) > 0 {
		rt2.Queue(`INSERT INTO thread_refs (user_id, msgid, thread_id)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`, refU, refID, refT)
	}
	if len(mID) > 0 {
		rt2.Queue(`INSERT INTO messages (user_id, id, mailbox_id, uid, thread_id, modseq, flags, seen,
				internal_date, size, header_size, segments, subject, from_addrs, to_addrs, cc_addrs,
				from_text, to_text, date, message_id_hdr, snippet, has_attachments, sent_day, structure)
			SELECT u, id, mb, uid, th, ms, ARRAY(SELECT jsonb_array_elements_text(fl::jsonb)), seen,
				idate, sz, hs, segs::jsonb, subj, fa::jsonb, ta::jsonb, ca::jsonb,
				ft, tt, d, mid, snip, att, sd, st
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
				$7::text[], $8::bool[], $9::timestamptz[], $10::bigint[], $11::bigint[], $12::text[],
				$13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
				$19::timestamptz[], $20::text[], $21::text[], $22::bool[], $23::bigint[], $24::bytea[])
			AS t(u, id, mb, uid, th, ms, fl, seen, idate, sz, hs, segs, subj, fa, ta, ca, ft, tt, d, mid, snip, att, sd, st)`,
			mU, mID, mMB, mUID, mThread, mModseq, mFlags, mSeen, mIDate, mSize, mHdr, mSegs,
			mSubj, mFrom, mTo, mCc, mFromT, mToT, mDate, mMsgID, mSnippet, mAtt, mSent, mStruct)
		// Every message's body keys travel in one flat bigint[] ($7, in
		// binary), each message taking its slice from $8 (start) and $9
		// (end); its header keys likewise in $10, $11 and $12.
		keys, kf, ke := flatKeys(sKeys)
		hkeys, hf, he := flatKeys(sHKeys)
		rt2.Queue(`INSERT INTO search_text (user_id, message_id, subject, addrs, hdrs, body, body_keys, hdr_keys)
			SELECT u, id, subj, ad, hd, bd, coalesce(($7::bigint[])[f:e], '{}'), coalesce(($10::bigint[])[hf:he], '{}')
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $8::bigint[], $9::bigint[],
				$11::bigint[], $12::bigint[])
			AS t(u, id, subj, ad, hd, bd, f, e, hf, he)`,
			mU, mID, mSubj, sAddr, sHdrs, sBody, keys, kf, ke, hkeys, hf, he)
		rt2.Queue(`INSERT INTO changes (user_id, modseq, mailbox_id, message_id, uid, kind)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[])`,
			cU, cModseq, cMB, cMsg, cUID, cKind)
	}
	if len(kID) > 0 {
		rt2.Queue(`INSERT INTO sort_keys (user_id, message_id, from_name, from_addr, to_name, to_addr, cc_addr, parents)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			ON CONFLICT (user_id, message_id) DO NOTHING`, kU, kID, kFN, kFA, kTN, kTA, kCA, kPar)
	}
	if len(aMsg) > 0 {
		rt2.Queue(`INSERT INTO attachments (user_id, message_id, part, filename, content_type, size, hash)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])`,
			aU, aMsg, aPart, aName, aType, aSize, aHash)
	}
	if len(qID) > 0 {
		rt2.Queue(`INSERT INTO queue (id, user_id, sender, recipients, segments, size, state, attempts,
				next_attempt_at, created_at, last_error, results,
				dsn_ret, dsn_envid, dsn_rcpts, delay_notified, require_tls)
			SELECT id, u, snd, rc::jsonb, sg::jsonb, sz, st, att, nx, cr, le, nullif(res, '')::jsonb,
				ret, envid, nullif(dr, '')::jsonb, dn, rt
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
				$7::text[], $8::bigint[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[],
				$13::text[], $14::text[], $15::text[], $16::bool[], $17::bool[])
			AS t(id, u, snd, rc, sg, sz, st, att, nx, cr, le, res, ret, envid, dr, dn, rt)`,
			qID, qUser, qSender, qRcpts, qSegs, qSize, qState, qAttempts, qNext, qCreated, qErr, qResults,
			qRet, qEnvID, qDSNRcpts, qDelayed, qReqTLS)
	}
	if len(refs) > 0 {
		h, sz, n := refs.arrays()
		rt2.Queue(refBlobsSQL, h, sz, n)
	}
	// Inline bytes go in after the references above: their upsert waits for a
	// concurrent CollectBlobs holding the rows, so the insert below then finds
	// the old bytes gone and stores them again.
	if len(b.Inline) > 0 {
		ih := make([]string, 0, len(b.Inline))
		id := make([][]byte, 0, len(b.Inline))
		for h, d := range b.Inline {
			ih = append(ih, h)
			id = append(id, d)
		}
		rt2.Queue(`INSERT INTO blob_data (hash, data) SELECT * FROM unnest($1::text[], $2::bytea[])
			ON CONFLICT (hash) DO NOTHING`, ih, id)
	}
	if b.Notices != nil {
		for _, n := range b.Notices() {
			if n.Channel == "" || len(n.Payload) > MaxPayload {
				return fmt.Errorf("postgres: deliver: notice on %q of %d bytes: %w", n.Channel, len(n.Payload), storage.ErrInvalid)
			}
			rt2.Queue("SELECT pg_notify($1, $2)", n.Channel, n.Payload)
		}
	}
	rt2.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			return fmt.Errorf("commit ended in %q", ct.String())
		}
		return nil
	})
	if err := conn.SendBatch(ctx, rt2).Close(); err != nil {
		return mapErr("deliver", err)
	}
	committed = true
	for i, q := range b.Queue {
		q.ID = queueIDs[i]
		q.State = qState[i]
		q.NextAttemptAt, q.CreatedAt = qNext[i].Time, qCreated[i].Time
	}
	return nil
}

// flatKeys concatenates sets of keys into one array, set i being
// flat[from[i]-1:to[i]] (SQL's flat[from[i]:to[i]]; empty when to < from).
func flatKeys(sets [][]int64) (flat, from, to []int64) {
	from, to = make([]int64, len(sets)), make([]int64, len(sets))
	for i, k := range sets {
		from[i] = int64(len(flat)) + 1
		flat = append(flat, k...)
		to[i] = int64(len(flat))
	}
	return flat, from, to
}

// rollback ends a failed transaction on conn. If that fails the pool
// destroys the connection on release, as it does any connection left inside
// a transaction.
func rollback(ctx context.Context, conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, "ROLLBACK")
}

// notFound turns pgx.ErrNoRows into a wrapped storage.ErrNotFound.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf(format+": %w", append(args, storage.ErrNotFound)...)
	}
	return err
}

// nonNil returns an empty slice for nil, so JSON holds [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func sortedKeys[K comparable, V any](m map[K]V, cmpf func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmpf)
	return keys
}
