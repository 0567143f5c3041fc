package imap

import (
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// CONDSTORE and QRESYNC (RFC 7162). MODSEQs are the store's own: one
// counter per user, bumped by every change (new message, flag change,
// expunge), so a message's MODSEQ is the MODSEQ of its last change and a
// mailbox's HIGHESTMODSEQ the highest MODSEQ of any change to it. The
// selected view keeps every message's MODSEQ (view.modseqs), so FETCH
// MODSEQ, CHANGEDSINCE and SEARCH MODSEQ need no query; expunged UIDs come
// from the change log, which keeps them for core.ChangeRetention (30 days)
// and then raises a floor: clients older than the floor get the known UIDs
// that no longer exist instead (RFC 7162 section 3.2.5.2).

// syncExt is a session's RFC 7162 state.
type syncExt struct {
	condstore bool // CONDSTORE enabled: by ENABLE or an enabling command (section 3.1)
	qresync   bool // QRESYNC enabled (ENABLE QRESYNC only, section 3.2.3); implies condstore
}

// enableSync handles ENABLE CONDSTORE and ENABLE QRESYNC (RFC 5161, RFC
// 7162 section 3.2.3), appending what was newly enabled to on.
func (s *session) enableSync(name string, on []string) []string {
	switch strings.ToUpper(name) {
	case "CONDSTORE":
		if !s.cs.condstore {
			s.cs.condstore = true
			on = append(on, "CONDSTORE")
		}
	case "QRESYNC":
		if !s.cs.qresync {
			s.cs.qresync, s.cs.condstore = true, true
			on = append(on, "QRESYNC")
		}
	}
	return on
}

// enableCondStore is called by CONDSTORE enabling commands (FETCH MODSEQ,
// CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, STATUS HIGHESTMODSEQ):
// the first one in the selected state is answered with the mailbox's
// HIGHESTMODSEQ (RFC 7162 section 3.1).
func (s *session) enableCondStore() {
	if s.cs.condstore {
		return
	}
	s.cs.condstore = true
	if s.sel != nil {
		s.writeHighestModSeq()
	}
}

// writeHighestModSeq writes "* OK [HIGHESTMODSEQ n]" for the selected mailbox.
func (s *session) writeHighestModSeq() {
	w := s.w
	w.lock()
	w.raw("* OK [HIGHESTMODSEQ ")
	w.num64(s.sel.reportedModSeq())
	w.raw("] Highest\r\n")
	w.unlock()
}

// noteModSeq records a change of the selected mailbox at modseq.
func (v *selected) noteModSeq(modseq uint64) {
	v.hms = max(v.hms, modseq)
}

// noteGone records the MODSEQ of an expunge held back in gone (called
// before it is added).
func (v *selected) noteGone(modseq uint64) {
	if len(v.gone) == 0 || modseq < v.goneMod {
		v.goneMod = modseq
	}
}

// reportedModSeq is the HIGHESTMODSEQ the client may be told: below any
// expunge it has not been told of yet (held back while EXPUNGE responses
// are not allowed), so a client that stores it and goes away still hears
// of that expunge from VANISHED (EARLIER) next time.
func (v *selected) reportedModSeq() uint64 {
	if len(v.gone) > 0 && v.goneMod > 0 && v.goneMod-1 < v.hms {
		return max(v.goneMod-1, 1)
	}
	return v.hms
}

// selectModSeq sets the view's HIGHESTMODSEQ once SELECT built it (RFC
// 7162 section 3.1.2.1): the mailbox's as read before the event cursor, the
// changes replayed after the listing (replay has noted them), and never
// below a listed message's. A MODSEQ at or below it is then either older
// than the cursor (the listing reflects it) or was read by the replay
// (commits are in MODSEQ order), so the view lacks no change it covers.
func (s *session) selectModSeq(v *selected) error {
	v.hms = max(v.hms, v.mb.HighestModSeq, v.modseqs.highest(), 1)
	return nil
}

// writeSelectCodes writes the SELECT/EXAMINE response codes of RFC 7162
// (HIGHESTMODSEQ, sent always: it costs a line and spares CONDSTORE
// clients a round trip) and RFC 8474 (MAILBOXID). Lock held.
func (s *session) writeSelectCodes(w *respWriter, v *selected) {
	w.raw("* OK [HIGHESTMODSEQ ")
	w.num64(v.hms)
	w.raw("] Highest\r\n* OK [MAILBOXID (")
	w.raw(core.MailboxObjectID(v.mb))
	w.raw(")] Ok\r\n")
}

// selectParams are the SELECT/EXAMINE parameters (RFC 4466 section 2.1).
type selectParams struct {
	condstore bool
	qresync   *qresyncParams
}

// qresyncParams is "QRESYNC (uidvalidity modseq [known-uids [seq-match]])"
// (RFC 7162 section 3.2.5).
type qresyncParams struct {
	uidValidity uint32
	modseq      uint64
	known       imap.UIDSet // nil when not given
	seqs        imap.SeqSet // seq-match-data: known sequence numbers ...
	seqUIDs     imap.UIDSet // ... and their UIDs
}

// selectParam reads one select-param.
func (p *parser) selectParam(sp *selectParams) {
	switch name := strings.ToUpper(p.atom()); name {
	case "CONDSTORE":
		sp.condstore = true
	case "QRESYNC":
		if sp.qresync != nil {
			p.fail("QRESYNC given twice")
			return
		}
		q := &qresyncParams{}
		p.sp()
		p.expect('(')
		q.uidValidity = p.number()
		if q.uidValidity == 0 && p.err == nil {
			p.fail("UIDVALIDITY must not be 0")
		}
		p.sp()
		q.modseq = p.number64()
		if q.modseq == 0 && p.err == nil {
			p.fail("MODSEQ must not be 0")
		}
		if p.consume(' ') {
			if p.peek() != '(' {
				q.known = p.uidSetStrict()
				if !p.consume(' ') {
					p.expect(')')
					sp.qresync = q
					return
				}
			}
			p.expect('(')
			q.seqs, _ = p.numSet(false).(imap.SeqSet)
			p.sp()
			q.seqUIDs = p.uidSetStrict()
			p.expect(')')
			if a, b := expand(seqRanges(q.seqs)), expand(uidRanges(q.seqUIDs)); p.err == nil && a != nil && b != nil && len(a) != len(b) {
				p.fail("QRESYNC sequence match data of unequal lengths")
			}
		}
		p.expect(')')
		sp.qresync = q
	default:
		if p.err == nil {
			p.fail("Unsupported SELECT parameter %q", clip([]byte(name)))
		}
	}
}

// uidSetStrict reads a UID set without "*" or "$" (RFC 7162 known-uids,
// sequence-set of nz-numbers in practice; "*" is tolerated as the highest).
func (p *parser) uidSetStrict() imap.UIDSet {
	if p.peek() == '$' {
		p.fail("$ is not allowed here")
		return nil
	}
	set, _ := p.numSet(true).(imap.UIDSet)
	return set
}

// maxSeqMatch bounds how many numbers of seq-match data are expanded;
// longer data is ignored (it only narrows a full-resync answer).
const maxSeqMatch = 100000

// expand returns the numbers of ranges without "*" in order, or nil if
// there is a "*" or more than maxSeqMatch of them.
func expand(ranges [][2]uint32) []uint32 {
	var n uint64
	for _, r := range ranges {
		if r[0] == 0 || r[1] == 0 {
			return nil
		}
		n += uint64(max(r[0], r[1])-min(r[0], r[1])) + 1
		if n > maxSeqMatch {
			return nil
		}
	}
	out := make([]uint32, 0, n)
	for _, r := range ranges {
		for x := min(r[0], r[1]); ; x++ {
			out = append(out, x)
			if x == max(r[0], r[1]) {
				break
			}
		}
	}
	return out
}

func seqRanges(s imap.SeqSet) [][2]uint32 {
	out := make([][2]uint32, len(s))
	for i, r := range s {
		out[i] = [2]uint32{r.Start, r.Stop}
	}
	return out
}

func uidRanges(s imap.UIDSet) [][2]uint32 {
	out := make([][2]uint32, len(s))
	for i, r := range s {
		out[i] = [2]uint32{uint32(r.Start), uint32(r.Stop)}
	}
	return out
}

// checkSelectParams validates parameters against the session (RFC 7162
// section 3.2.5: QRESYNC before ENABLE QRESYNC is BAD) and enables
// CONDSTORE for either (section 3.1: SELECT (CONDSTORE) enables it; the
// HIGHESTMODSEQ code is in the SELECT response anyway).
func (s *session) checkSelectParams(sp *selectParams) error {
	if sp.qresync != nil && !s.cs.qresync {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "QRESYNC parameter before ENABLE QRESYNC"}
	}
	if sp.condstore || sp.qresync != nil {
		s.cs.condstore = true
	}
	return nil
}

// qresyncSelect answers SELECT/EXAMINE (QRESYNC ...) after the usual
// responses: VANISHED (EARLIER) for the known UIDs expunged since the
// client's MODSEQ, then a FETCH (UID FLAGS MODSEQ) for each message changed
// since (RFC 7162 section 3.2.5). A different UIDVALIDITY means the client
// must start over: the parameter is then ignored.
func (s *session) qresyncSelect(q *qresyncParams) error {
	v := s.sel
	if q == nil || q.uidValidity != v.mb.UIDValidity {
		return nil
	}
	if q.modseq >= v.hms {
		return nil // nothing changed
	}
	known := q.known
	if len(known) == 0 {
		known = imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	}
	if err := s.writeVanishedEarlier(q.modseq, known, q); err != nil {
		return err
	}
	// Messages appended since the client's MODSEQ are new to it, not
	// changed: it learns of them from EXISTS and fetches them by UID, and
	// a FETCH at a sequence number past the messages it knows would not
	// fit its view (imaptest's QRESYNC checks, like Dovecot, expect none).
	fresh := s.appendedSince(q.modseq)
	var idxs []int
	for i := range v.modseqs.len() {
		if u := v.uids[i]; v.modseqs.at(i) > q.modseq && uidContains(known, u, v.uidHigh) && (fresh == 0 || u < fresh) {
			idxs = append(idxs, i)
		}
	}
	return s.writeChanged(idxs)
}

// appendedSince returns the lowest UID the selected mailbox got after
// modseq, as the change log tells (UIDs and MODSEQs grow together, so
// every UID from it on is new since then); 0 when none is known. A log
// pruned past modseq, or too long to read, can only make it higher: a
// new message then gets a FETCH it did not need, never the reverse.
func (s *session) appendedSince(modseq uint64) uint32 {
	v := s.sel
	last, read, low := modseq, 0, uint32(0)
	for {
		page, err := s.srv.opts.Core.ChangesSince(s.ctx, s.user.ID, last, changesPage)
		if err != nil {
			return low
		}
		for _, c := range page {
			last = max(last, c.ModSeq)
			if c.MailboxID == v.mb.ID && c.Kind == core.ChangeNew && (low == 0 || c.UID < low) {
				low = c.UID
			}
		}
		read += len(page)
		if len(page) < changesPage || read >= viewCatchUpMax {
			return low
		}
	}
}

// writeVanishedEarlier writes "* VANISHED (EARLIER) uids": the UIDs of set
// expunged after modseq. When modseq is older than the change log's floor,
// it lists the UIDs of set (up to the highest UID this mailbox has had)
// that are not in the mailbox, narrowed by the seq-match data if given
// (RFC 7162 section 3.2.5.2).
func (s *session) writeVanishedEarlier(modseq uint64, set imap.UIDSet, q *qresyncParams) error {
	v := s.sel
	uids, complete, err := s.srv.opts.Core.VanishedSince(s.ctx, s.user.ID, v.mb.ID, modseq)
	if err != nil {
		return s.fail("vanished", err)
	}
	high := v.uidHigh
	if v.mb.UIDNext > 1 {
		high = max(high, v.mb.UIDNext-1)
	}
	var out [][2]uint32
	if complete {
		var nums []uint32
		for _, u := range uids {
			if uidContains(set, u, high) && v.index(u) < 0 {
				nums = append(nums, u)
			}
		}
		out = toRanges(nums)
	} else {
		from := uint32(1)
		if q != nil {
			from = seqMatchStart(v, q)
		}
		out = absentUIDs(v.uids, set, from, high)
	}
	if len(out) == 0 {
		return nil
	}
	w := s.w
	w.lock()
	defer w.unlock()
	w.raw("* VANISHED (EARLIER) ")
	writeRanges(w, out)
	w.crlf()
	return w.err
}

// seqMatchStart returns the UID from which the client's view may differ:
// the pairs of seq-match data that still agree with the view (same UID at
// that sequence number) prove nothing below them vanished (RFC 7162
// section 3.2.5.2). 1 when there is no such pair.
func seqMatchStart(v *selected, q *qresyncParams) uint32 {
	seqs, uids := expand(seqRanges(q.seqs)), expand(uidRanges(q.seqUIDs))
	if seqs == nil || len(seqs) != len(uids) {
		return 1
	}
	from := uint32(1)
	for k, seq := range seqs {
		if seq == 0 || int(seq) > len(v.uids) || v.uids[seq-1] != uids[k] {
			break
		}
		from = max(from, uids[k]+1)
	}
	return from
}

// absentUIDs returns, as ascending disjoint ranges, the numbers of set
// between from and high that are not in uids (ascending).
func absentUIDs(uids []uint32, set imap.UIDSet, from, high uint32) [][2]uint32 {
	var out [][2]uint32
	add := func(a, b uint32) {
		if n := len(out); n > 0 && out[n-1][1]+1 >= a {
			out[n-1][1] = max(out[n-1][1], b)
			return
		}
		out = append(out, [2]uint32{a, b})
	}
	rs := uidRanges(set)
	for k := range rs {
		rs[k][0], rs[k][1] = bounds(rs[k][0], rs[k][1], high)
	}
	slices.SortFunc(rs, func(x, y [2]uint32) int { return int(int64(x[0]) - int64(y[0])) })
	for _, r := range rs {
		a, b := max(r[0], from, 1), min(r[1], high)
		if a > b {
			continue
		}
		i, _ := slices.BinarySearch(uids, a)
		for a <= b {
			if i >= len(uids) || uids[i] > b {
				add(a, b)
				break
			}
			if uids[i] > a {
				add(a, uids[i]-1)
			}
			a = uids[i] + 1
			i++
			if a == 0 { // uids[i] was the largest UID
				break
			}
		}
	}
	return out
}

// toRanges turns ascending numbers into ranges.
func toRanges(nums []uint32) [][2]uint32 {
	var out [][2]uint32
	for _, n := range nums {
		if k := len(out); k > 0 && out[k-1][1]+1 == n {
			out[k-1][1] = n
		} else {
			out = append(out, [2]uint32{n, n})
		}
	}
	return out
}

// writeRanges writes ranges as a sequence set ("1:3,7").
func writeRanges(w *respWriter, rs [][2]uint32) {
	for k, r := range rs {
		if k > 0 {
			w.byte1(',')
		}
		w.num(r[0])
		if r[1] != r[0] {
			w.byte1(':')
			w.num(r[1])
		}
	}
}

// writeChanged writes "* n FETCH (UID u FLAGS (...) MODSEQ (m))" for view
// indexes, from the view.
func (s *session) writeChanged(idxs []int) error {
	v := s.sel
	w := s.w
	const batch = 256
	for start := 0; start < len(idxs); start += batch {
		w.lock()
		for _, i := range idxs[start:min(start+batch, len(idxs))] {
			w.raw("* ")
			w.num(uint32(i + 1))
			w.raw(" FETCH (UID ")
			w.num(v.uids[i])
			w.raw(" FLAGS ")
			w.flagList(s.flags(v.msg(i, v.mb.ID), s.rev2))
			w.raw(" MODSEQ (")
			w.num64(v.modseqs.at(i))
			w.raw("))\r\n")
		}
		err := w.err
		w.unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// fetchModifiers reads FETCH modifiers: "(CHANGEDSINCE n [VANISHED])"
// (RFC 7162 sections 3.1.4 and 3.2.6).
func (p *parser) fetchModifiers(r *fetchReq) {
	p.list(false, func() {
		switch name := strings.ToUpper(p.atom()); name {
		case "CHANGEDSINCE":
			p.sp()
			n := p.number64()
			r.changedSince = &n
		case "VANISHED":
			r.vanished = true
		default:
			if p.err == nil {
				p.fail("Unsupported FETCH modifier %q", clip([]byte(name)))
			}
		}
	})
}

// checkFetch validates a FETCH's CONDSTORE parts and enables CONDSTORE
// when they ask for MODSEQs (RFC 7162 section 3.1). VANISHED needs UID
// FETCH, CHANGEDSINCE and QRESYNC enabled (section 3.2.6).
func (s *session) checkFetch(r *fetchReq, uid bool) error {
	if r.vanished && (!uid || r.changedSince == nil || !s.cs.qresync) {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC"}
	}
	if r.changedSince != nil || r.has[fiModSeq] {
		s.enableCondStore()
		r.addExt(fiModSeq)
	}
	if s.cs.condstore && r.has[fiFlags] {
		r.addExt(fiModSeq)
	}
	return nil
}

// condFetch narrows a FETCH's view indexes to the messages changed since
// CHANGEDSINCE and writes VANISHED (EARLIER) first when asked (RFC 7162
// sections 3.1.4 and 3.2.6).
func (s *session) condFetch(set imap.NumSet, idxs []int, r *fetchReq) ([]int, error) {
	if r.changedSince == nil {
		return idxs, nil
	}
	v := s.sel
	n := *r.changedSince
	if r.vanished {
		us, _ := set.(imap.UIDSet)
		if imap.IsSearchRes(us) {
			us = savedSet(v.saved)
		}
		if err := s.writeVanishedEarlier(n, us, nil); err != nil {
			return nil, err
		}
	}
	out := idxs[:0]
	for _, i := range idxs {
		if v.modseqs.at(i) > n {
			out = append(out, i)
		}
	}
	return out, nil
}

// storeModifiers reads "(UNCHANGEDSINCE n)" (RFC 7162 section 3.1.3).
func (p *parser) storeModifiers() *uint64 {
	var unchanged *uint64
	p.list(false, func() {
		switch name := strings.ToUpper(p.atom()); name {
		case "UNCHANGEDSINCE":
			p.sp()
			n := p.number64()
			unchanged = &n
		default:
			if p.err == nil {
				p.fail("Unsupported STORE modifier %q", clip([]byte(name)))
			}
		}
	})
	return unchanged
}

// updateFlags runs a STORE's flag change, conditional on UNCHANGEDSINCE
// when given: messages whose MODSEQ is above it are left alone and returned
// in failed (RFC 7162 section 3.1.3).
func (s *session) updateFlags(ids []int64, op core.FlagOp, flags []string, unchanged *uint64) (changed []core.Message, failed []int64, err error) {
	v := s.sel
	if unchanged == nil {
		changed, err = s.srv.opts.Core.UpdateFlags(s.ctx, s.user.ID, v.mb.ID, ids, op, flags)
		return changed, nil, err
	}
	s.enableCondStore()
	return s.srv.opts.Core.UpdateFlagsUnchangedSince(s.ctx, s.user.ID, v.mb.ID, ids, op, flags, *unchanged)
}

// modified returns the tagged OK of a conditional STORE with failures:
// "[MODIFIED set]" by UID or sequence number (RFC 7162 section 3.1.3).
func (s *session) modified(failed []int64, uid bool) error {
	if len(failed) == 0 {
		return nil
	}
	v := s.sel
	bad := make(map[int64]bool, len(failed))
	for _, id := range failed {
		bad[id] = true
	}
	var nums []uint32
	for i, id := range v.ids {
		if bad[id] {
			if uid {
				nums = append(nums, v.uids[i])
			} else {
				nums = append(nums, uint32(i+1))
			}
		}
	}
	if len(nums) == 0 {
		return nil
	}
	code := render(func(w *respWriter) { writeSet(w, nums) })
	return okCode(imap.ResponseCode("MODIFIED "+string(code)), "Conditional STORE failed")
}

// writeStoreModSeq ends a STORE's FETCH line with the message's UID (when
// not already written) and MODSEQ once CONDSTORE is enabled (RFC 7162
// section 3.1: both in every FETCH caused by a flag change). Lock held.
func (s *session) writeStoreModSeq(w *respWriter, i int, uidWritten bool) {
	if !s.cs.condstore {
		return
	}
	v := s.sel
	if !uidWritten {
		w.raw(" UID ")
		w.num(v.uids[i])
	}
	w.raw(" MODSEQ (")
	w.num64(v.modseqs.at(i))
	w.byte1(')')
}

// writeSilentModSeq answers a .SILENT STORE under CONDSTORE: the changed
// messages' new MODSEQs still go out, without FLAGS (RFC 7162 section
// 3.1.3, example of STORE ... +FLAGS.SILENT).
func (s *session) writeSilentModSeq(changed []core.Message) error {
	if !s.cs.condstore {
		return nil
	}
	v := s.sel
	w := s.w
	w.lock()
	defer w.unlock()
	for _, m := range changed {
		i := v.index(m.UID)
		if i < 0 || v.ids[i] != m.ID {
			continue
		}
		w.raw("* ")
		w.num(uint32(i + 1))
		w.raw(" FETCH (UID ")
		w.num(m.UID)
		w.raw(" MODSEQ (")
		w.num64(v.modseqs.at(i))
		w.raw("))\r\n")
	}
	return w.err
}

// expungeModSeq returns the tagged OK of EXPUNGE/UID EXPUNGE once
// CONDSTORE is enabled: "[HIGHESTMODSEQ n]", so the client's cached value
// covers the expunges it was just told about (RFC 7162 section 3.2.10). The
// change log is read first, and what it holds reported, so the value never
// covers a change the client has not heard of.
func (s *session) expungeModSeq() error {
	if !s.cs.condstore || s.sel == nil {
		return nil
	}
	if err := s.sync(updates{s}, true, true); err != nil {
		return err
	}
	return okCode(imap.ResponseCode("HIGHESTMODSEQ "+strconv.FormatUint(s.sel.reportedModSeq(), 10)), "Expunged")
}

// writeVanished reports expunged UIDs (ascending, all in the view) as
// "* VANISHED uids" once QRESYNC is enabled, instead of one EXPUNGE each
// (RFC 7162 section 3.2.10), and drops them from the view.
func (s *session) writeVanished(uids []uint32) error {
	v := s.sel
	var out []uint32
	for _, u := range uids {
		if i := v.index(u); i >= 0 {
			v.remove(i)
			out = append(out, u)
		}
		delete(v.gone, u)
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	w := s.w
	w.lock()
	defer w.unlock()
	w.raw("* VANISHED ")
	writeSet(w, out)
	w.crlf()
	return w.err
}

// searchModSeq reads the SEARCH MODSEQ key's arguments:
// [entry-name entry-type-req] mod-sequence-valzer (RFC 7162 section 3.1.5).
// Flags have no MODSEQs of their own here, so the entry is checked and the
// message's MODSEQ used, as the RFC allows.
func (p *parser) searchModSeq(c *imap.SearchCriteria) {
	p.sp()
	ms := &imap.SearchCriteriaModSeq{}
	if p.peek() == '"' {
		ms.MetadataName = p.quoted()
		p.sp()
		switch t := strings.ToLower(p.atom()); t {
		case "priv", "shared", "all":
			ms.MetadataType = imap.SearchCriteriaMetadataType(t)
		default:
			if p.err == nil {
				p.fail("Expected priv, shared or all")
			}
		}
		p.sp()
	}
	ms.ModSeq = p.number64()
	if c.ModSeq == nil || ms.ModSeq > c.ModSeq.ModSeq {
		c.ModSeq = ms
	}
}

// hasModSeq reports whether the criteria use MODSEQ anywhere.
func hasModSeq(c *imap.SearchCriteria) bool {
	if c.ModSeq != nil {
		return true
	}
	for i := range c.Not {
		if hasModSeq(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if hasModSeq(&c.Or[i][0]) || hasModSeq(&c.Or[i][1]) {
			return true
		}
	}
	return false
}

// matchModSeq applies SEARCH MODSEQ: the message changed at or after n.
func matchModSeq(m *core.Message, c *imap.SearchCriteria) bool {
	return c.ModSeq == nil || m.ModSeq >= c.ModSeq.ModSeq
}

// searchResultModSeq returns the MODSEQ a SEARCH with a MODSEQ key reports
// (RFC 7162 section 3.1.5; RFC 7162 section 3.1.6 for ESEARCH): the highest
// of the messages returned, which for ESEARCH MIN or MAX alone is that
// message's; 0 when nothing matched.
func searchResultModSeq(r *searchReq, mods []uint64) uint64 {
	if len(mods) == 0 {
		return 0
	}
	if r.esearch && !r.all && !r.count {
		var m uint64
		if r.min {
			m = mods[0]
		}
		if r.max {
			m = max(m, mods[len(mods)-1])
		}
		return m
	}
	return slices.Max(mods)
}
