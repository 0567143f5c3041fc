package imap

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// idleResync is how often an idling session catches up from the change log
// even without an event, in case a notification between nodes was lost.
// RFC 2177 sets no floor; events make the usual latency far lower.
const idleResync = time.Minute

// changesPage is how many change log entries one catch-up query reads.
const changesPage = 1000

// flagRecent is the IMAP4rev1 \Recent flag (removed by RFC 9051).
const flagRecent imap.Flag = `\Recent`

// systemFlags are the flags every mailbox supports (RFC 9051 section 2.3.2).
var systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft}

// selected is a session's view of its selected mailbox: the UIDs (and
// message ids) in sequence-number order, as the client knows them.
type selected struct {
	mb       core.Mailbox
	readOnly bool
	sub      *core.Subscription

	view
	uidHigh uint32 // highest UID ever in the view

	gone   map[uint32]bool // expunged elsewhere, EXPUNGE not sent yet
	recent imap.UIDSet     // UIDs that are \Recent for this session
	modseq uint64          // change log cursor
	hms    uint64          // the mailbox's HIGHESTMODSEQ as far as the log was read (RFC 7162)
	// goneMod is the lowest MODSEQ of the expunges in gone (not reported yet).
	goneMod uint64
	own     map[uint64]bool // MODSEQs of our own flag changes (already reported)
	saved   []uint32        // SEARCHRES result (RFC 5182), by UID

	keywords     map[string]string // keywords announced in FLAGS, lower case -> spelling
	flagsChanged bool              // a new keyword needs a FLAGS update
	// unrecorded: keywords learnt here that the mailbox's keyword list
	// (core.Keywords) may lack; registerKeywords records them.
	unrecorded []string
}

// noteFlags records keywords the client has not been told about yet
// (RFC 9051 section 7.3.5: FLAGS is sent again when the set grows).
func (v *selected) noteFlags(fs []string) {
	for _, f := range fs {
		if _, ok := v.keywords[strings.ToLower(f)]; !ok && !strings.HasPrefix(f, `\`) {
			v.keywords[strings.ToLower(f)] = f
			v.flagsChanged = true
			v.unrecorded = append(v.unrecorded, f)
		}
	}
}

// knowKeywords adds the mailbox's recorded keywords (core.Keywords), the
// ones every session of it lists, Dovecot-like, whether or not a message
// has them now: sessions that saw different messages still agree on FLAGS.
func (v *selected) knowKeywords(kws []string) {
	for _, k := range kws {
		if _, ok := v.keywords[strings.ToLower(k)]; !ok {
			v.keywords[strings.ToLower(k)] = k
			v.flagsChanged = true
		}
	}
}

// registerKeywords records the keywords this session learnt in the
// mailbox's keyword list, before the change that uses them commits, so
// that the sessions its event wakes find them there. A failure only
// leaves FLAGS of other sessions shorter: it is logged, not returned.
func (s *session) registerKeywords() {
	v := s.sel
	if len(v.unrecorded) == 0 {
		return
	}
	if err := s.srv.opts.Core.AddKeywords(s.ctx, s.user.ID, v.mb.ID, v.unrecorded); err != nil {
		s.log.Warn("record keywords failed", "mailbox", v.mb.ID, "err", err)
		return
	}
	v.unrecorded = v.unrecorded[:0]
}

// mailboxFlags lists the system flags and the known keywords.
func mailboxFlags(keywords map[string]string) []imap.Flag {
	flags := slices.Clone(systemFlags)
	kw := make([]string, 0, len(keywords))
	for _, k := range keywords {
		kw = append(kw, k)
	}
	sort.Strings(kw)
	for _, k := range kw {
		flags = append(flags, imap.Flag(k))
	}
	return flags
}

func (v *selected) close() {
	if v.sub != nil {
		v.sub.Close()
	}
}

// index returns the index of uid in the view, or -1.
func (v *selected) index(uid uint32) int {
	i, ok := slices.BinarySearch(v.uids, uid)
	if !ok {
		return -1
	}
	return i
}

func (v *selected) maxUID() uint32 {
	if len(v.uids) == 0 {
		return 0
	}
	return v.uids[len(v.uids)-1]
}

// claimRecent makes the view's new UIDs \Recent for this session if no
// session anywhere had them (the mark lives in storage, so once per
// cluster: RFC 3501 section 2.3.2).
func (s *session) claimRecent(v *selected) error {
	if v.uidHigh == 0 {
		return nil
	}
	prev, err := s.srv.opts.Core.ClaimRecent(s.ctx, s.user.ID, v.mb.ID, v.uidHigh)
	if err != nil {
		return err
	}
	if prev < v.uidHigh {
		v.recent.AddRange(imap.UID(prev+1), imap.UID(v.uidHigh))
	}
	return nil
}

// cmdSelect: SELECT and EXAMINE (RFC 9051 sections 6.3.2 and 6.3.3).
// Select parameters (RFC 4466): CONDSTORE and QRESYNC (condstore.go).
func cmdSelect(s *session, c *command, p *parser) error {
	name := p.mailbox()
	var sp selectParams
	if p.consume(' ') {
		p.list(true, func() { p.selectParam(&sp) })
	}
	if p.end(); p.err != nil {
		return p.err
	}
	if err := s.checkSelectParams(&sp); err != nil {
		return err
	}
	readOnly := c.name == "EXAMINE"
	if s.sel != nil {
		s.sel.close()
		s.sel = nil
		if s.rev2 || s.cs.qresync { // RFC 9051 section 7.1, RFC 7162 section 3.2.11
			s.untagged("OK [CLOSED] Previous mailbox closed")
		}
	}
	svc := s.srv.opts.Core
	mb, err := svc.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return s.fail("select", err)
	}
	v := &selected{mb: mb, readOnly: readOnly, gone: map[uint32]bool{}, own: map[uint64]bool{}}
	// Subscribe before reading the cursor, and read the cursor before the
	// listing: whatever happens in between is seen again, and catching up is
	// idempotent.
	v.sub = svc.Subscribe(s.user.ID)
	if v.modseq, err = svc.HighestModSeq(s.ctx, s.user.ID); err != nil {
		v.close()
		return s.fail("select", err)
	}
	hit, err := s.viewFromCache(v) // viewcache.go
	if err != nil {
		v.close()
		return s.fail("select", err)
	}
	var ms []core.ViewRow
	if !hit {
		if ms, err = svc.MailboxView(s.ctx, s.user.ID, mb.ID, 1); err != nil {
			v.close()
			return s.fail("select", err)
		}
	}
	if !hit {
		v.uids = make([]uint32, 0, len(ms))
		v.ids = make([]int64, 0, len(ms))
		v.flags = make([]uint32, 0, len(ms))
		v.sizes = make([]int64, 0, len(ms))
		v.dates = make([]int64, 0, len(ms))
		v.modseqs.grow(len(ms))
		for _, m := range ms {
			v.addRow(m)
		}
		// Changes committed while listing are applied now, so the
		// HIGHESTMODSEQ below covers nothing the view lacks (condstore.go).
		if _, err := s.replay(v, &v.view, v.modseq); err != nil {
			v.close()
			return s.fail("select", err)
		}
	}
	firstUnseen, keywords := v.flagSummary()
	v.keywords = keywords
	recorded, err := svc.Keywords(s.ctx, s.user.ID, mb.ID)
	if err != nil {
		v.close()
		return s.fail("select", err)
	}
	for _, k := range keywords {
		if !slices.ContainsFunc(recorded, func(r string) bool { return strings.EqualFold(r, k) }) {
			v.unrecorded = append(v.unrecorded, k) // on messages, from before keywords were recorded
		}
	}
	v.knowKeywords(recorded)
	v.flagsChanged = false // FLAGS follows
	v.uidHigh = v.maxUID()
	s.cacheView(v)
	if err := s.selectModSeq(v); err != nil {
		v.close()
		return s.fail("select", err)
	}
	if readOnly {
		mark, err := svc.RecentMark(s.ctx, s.user.ID, mb.ID)
		if err != nil {
			v.close()
			return s.fail("select", err)
		}
		if v.uidHigh > mark {
			v.recent.AddRange(imap.UID(mark+1), imap.UID(v.uidHigh))
		}
	} else if err := s.claimRecent(v); err != nil {
		v.close()
		return s.fail("select", err)
	}
	flags := mailboxFlags(v.keywords)
	perm := []imap.Flag{}
	if !readOnly {
		perm = append(slices.Clone(flags), imap.FlagWildcard)
	}
	uidNext := max(mb.UIDNext, v.uidHigh+1)
	s.sel = v
	s.registerKeywords()
	w := s.w
	w.lock()
	w.raw("* ")
	w.num(uint32(len(v.uids)))
	w.raw(" EXISTS\r\n")
	if !s.rev2 {
		w.raw("* ")
		w.num(v.countRecent())
		w.raw(" RECENT\r\n")
		if firstUnseen > 0 {
			w.raw("* OK [UNSEEN ")
			w.num(firstUnseen)
			w.raw("] First unseen\r\n")
		}
	}
	w.raw("* FLAGS ")
	w.flagList(flags)
	w.raw("\r\n* OK [PERMANENTFLAGS ")
	w.flagList(perm)
	w.raw("] Flags permitted\r\n* OK [UIDVALIDITY ")
	w.num(mb.UIDValidity)
	w.raw("] UIDs valid\r\n* OK [UIDNEXT ")
	w.num(uidNext)
	w.raw("] Predicted next UID\r\n")
	s.writeSelectCodes(w, v)
	if s.rev2 {
		w.raw("* LIST (")
		for i, a := range specialUse(mb.Role) {
			if i > 0 {
				w.sp()
			}
			w.raw(string(a))
		}
		w.raw(") \"/\" ")
		w.mailbox(mb.Name)
		w.crlf()
	}
	w.unlock()
	if err := s.qresyncSelect(sp.qresync); err != nil {
		return err
	}
	if readOnly {
		return okCode(imap.ResponseCode("READ-ONLY"), "Examined")
	}
	return okCode(imap.ResponseCode("READ-WRITE"), "Selected")
}

func (v *selected) countRecent() uint32 {
	if len(v.recent) == 0 {
		return 0
	}
	n := uint32(0)
	for _, r := range v.recent {
		lo := sort.Search(len(v.uids), func(i int) bool { return v.uids[i] >= uint32(r.Start) })
		hi := sort.Search(len(v.uids), func(i int) bool { return v.uids[i] > uint32(r.Stop) })
		n += uint32(hi - lo)
	}
	return n
}

// cmdClose: CLOSE (RFC 9051 section 6.4.1: expunges silently unless
// read-only) and UNSELECT (RFC 3691).
func cmdClose(s *session, c *command, p *parser) error {
	if p.end(); p.err != nil {
		return p.err
	}
	var err error
	if c.name == "CLOSE" && !s.sel.readOnly {
		err = s.expunge(nil, false)
	}
	s.sel.close()
	s.sel = nil
	return err
}

// sync catches the view up with the change log and reports the differences:
// EXPUNGE (when allowed), EXISTS and RECENT, FETCH FLAGS. Without force it
// queries storage only when an event woke it up.
// poll reports what changed in the selected mailbox after a command.
func (s *session) poll(allowExpunge bool) error {
	return s.sync(updates{s}, allowExpunge, false)
}

func (s *session) sync(w updates, allowExpunge, force bool) error {
	v := s.sel
	woke, kwsChanged := force, force
drain:
	for {
		select {
		case ev := <-v.sub.C:
			if ev.MailboxID == v.mb.ID || ev.Kind == core.EventMailbox {
				woke = true
				kwsChanged = kwsChanged || ev.Kind == core.EventKeywords
			}
		default:
			break drain
		}
	}
	if v.sub.Missed() > 0 {
		woke, kwsChanged = true, true
	}
	if !woke && !v.flagsChanged && (len(v.gone) == 0 || !allowExpunge) {
		return nil
	}
	svc := s.srv.opts.Core
	if kwsChanged {
		// Keywords another session defined, perhaps on messages since
		// expunged or with a STORE that changed nothing (knowKeywords).
		kws, err := svc.Keywords(s.ctx, s.user.ID, v.mb.ID)
		if err != nil {
			return s.fail("poll", err)
		}
		v.knowKeywords(kws)
	}
	hasNew := false
	type flagChange struct {
		uid uint32
		id  int64
	}
	var flagged []flagChange
	if woke {
		for {
			cs, err := svc.ChangesSince(s.ctx, s.user.ID, v.modseq, changesPage)
			if err != nil {
				return s.fail("poll", err)
			}
			for _, c := range cs {
				v.modseq = max(v.modseq, c.ModSeq)
				if c.MailboxID != v.mb.ID {
					continue
				}
				v.noteModSeq(c.ModSeq)
				switch c.Kind {
				case core.ChangeNew:
					hasNew = true
				case core.ChangeExpunge:
					if v.index(c.UID) >= 0 {
						v.noteGone(c.ModSeq)
						v.gone[c.UID] = true
					}
				case core.ChangeFlags:
					if v.own[c.ModSeq] {
						delete(v.own, c.ModSeq)
						continue
					}
					flagged = append(flagged, flagChange{c.UID, c.MessageID})
				}
			}
			if len(cs) < changesPage {
				break
			}
		}
	}
	if allowExpunge && len(v.gone) > 0 {
		gone := make([]uint32, 0, len(v.gone))
		for u := range v.gone {
			gone = append(gone, u)
		}
		slices.Sort(gone)
		if err := s.expunged(w, gone); err != nil {
			return err
		}
	}
	if hasNew {
		ms, err := svc.MailboxView(s.ctx, s.user.ID, v.mb.ID, v.uidHigh+1)
		if err != nil {
			return s.fail("poll", err)
		}
		if len(ms) > 0 {
			for _, m := range ms {
				if m.UID > v.uidHigh {
					v.noteFlags(m.Flags)
					v.addRow(m)
					v.uidHigh = m.UID
				}
			}
			if !v.readOnly {
				if err := s.claimRecent(v); err != nil {
					return s.fail("poll", err)
				}
			}
			if err := s.writeFlagsUpdate(w); err != nil {
				return err
			}
			if err := w.WriteNumMessages(uint32(len(v.uids))); err != nil {
				return err
			}
			if err := w.WriteNumRecent(v.countRecent()); err != nil {
				return err
			}
		}
	}
	if err := s.writeFlagsUpdate(w); err != nil { // keywords added by our own STORE
		return err
	}
	if len(flagged) > 0 {
		rev2 := s.rev2
		for _, fc := range flagged {
			i := v.index(fc.uid)
			if i < 0 || v.gone[fc.uid] {
				continue
			}
			m, err := svc.GetMessage(s.ctx, s.user.ID, fc.id)
			if err != nil || m.MailboxID != v.mb.ID || m.UID != fc.uid {
				continue // moved or expunged since: the change log will say so
			}
			v.update(i, m.Flags, m.ModSeq)
			v.noteFlags(m.Flags)
			if err := s.writeFlagsUpdate(w); err != nil {
				return err
			}
			if err := w.WriteMessageFlags(uint32(i+1), imap.UID(m.UID), s.flags(m, rev2)); err != nil {
				return err
			}
		}
	}
	s.registerKeywords() // seen on messages stored without them being recorded
	return nil
}

// writeFlagsUpdate sends FLAGS when new keywords appeared.
func (s *session) writeFlagsUpdate(w updates) error {
	v := s.sel
	if !v.flagsChanged {
		return nil
	}
	v.flagsChanged = false
	return w.WriteMailboxFlags(mailboxFlags(v.keywords))
}

// flags returns a message's flags as IMAP flags, with \Recent for IMAP4rev1.
func (s *session) flags(m core.Message, rev2 bool) []imap.Flag {
	out := make([]imap.Flag, 0, len(m.Flags)+1)
	for _, f := range m.Flags {
		out = append(out, imap.Flag(f))
	}
	if !rev2 && s.sel != nil && s.sel.recent.Contains(imap.UID(m.UID)) {
		out = append(out, flagRecent)
	}
	return out
}

// resolve turns a sequence or UID set into ascending view indexes. Numbers
// that do not exist are left out (RFC 9051 section 6.4.8 for UIDs).
func (s *session) resolve(numSet imap.NumSet) []int {
	v := s.sel
	var out []int
	add := func(lo, hi int) { // index range [lo, hi)
		for i := lo; i < hi; i++ {
			out = append(out, i)
		}
	}
	switch set := numSet.(type) {
	case imap.SeqSet:
		n := uint32(len(v.uids))
		for _, r := range set {
			a, b := bounds(r.Start, r.Stop, n)
			if a == 0 {
				a = 1
			}
			b = min(b, n)
			if a <= b {
				add(int(a-1), int(b))
			}
		}
	case imap.UIDSet:
		if imap.IsSearchRes(set) {
			for _, u := range v.saved {
				if i := v.index(u); i >= 0 {
					out = append(out, i)
				}
			}
			break
		}
		high := v.maxUID()
		for _, r := range set {
			a, b := bounds(uint32(r.Start), uint32(r.Stop), high)
			lo := sort.Search(len(v.uids), func(i int) bool { return v.uids[i] >= a })
			hi := sort.Search(len(v.uids), func(i int) bool { return v.uids[i] > b })
			add(lo, hi)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// maxRuns is how many separate UID runs load queries one by one before it
// reads the whole span instead.
const maxRuns = 16

// load reads the messages at the given view indexes (ascending), in order.
// Messages expunged meanwhile are absent from the result.
func (s *session) load(idxs []int) ([]core.Message, error) {
	v := s.sel
	if len(idxs) == 0 {
		return nil, nil
	}
	type run struct{ a, b int }
	var runs []run
	for _, i := range idxs {
		if n := len(runs); n > 0 && runs[n-1].b == i-1 {
			runs[n-1].b = i
		} else {
			runs = append(runs, run{i, i})
		}
	}
	if len(runs) > maxRuns {
		runs = []run{{idxs[0], idxs[len(idxs)-1]}}
	}
	want := make(map[uint32]bool, len(idxs))
	for _, i := range idxs {
		want[v.uids[i]] = true
	}
	out := make([]core.Message, 0, len(idxs))
	for _, r := range runs {
		ms, err := s.srv.opts.Core.MessagesByUID(s.ctx, s.user.ID, v.mb.ID, v.uids[r.a], v.uids[r.b])
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if want[m.UID] {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// updates writes untagged status updates (RFC 9051 section 7.4, 7.5).
type updates struct{ s *session }

// numbered writes "* n" and rest, one untagged response.
func (u updates) numbered(n uint32, rest string) error {
	w := u.s.w
	w.lock()
	defer w.unlock()
	w.raw("* ")
	w.num(n)
	w.raw(rest)
	return w.err
}

func (u updates) WriteExpunge(seq uint32) error {
	return u.numbered(seq, " EXPUNGE\r\n")
}

func (u updates) WriteNumMessages(n uint32) error {
	return u.numbered(n, " EXISTS\r\n")
}

func (u updates) WriteNumRecent(n uint32) error {
	if u.s.rev2 {
		return nil
	}
	return u.numbered(n, " RECENT\r\n")
}

func (u updates) WriteMailboxFlags(fs []imap.Flag) error {
	w := u.s.w
	w.lock()
	defer w.unlock()
	w.raw("* FLAGS ")
	w.flagList(fs)
	w.crlf()
	return w.err
}

func (u updates) WriteMessageFlags(seq uint32, uid imap.UID, fs []imap.Flag) error {
	w := u.s.w
	w.lock()
	defer w.unlock()
	w.raw("* ")
	w.num(seq)
	w.raw(" FETCH (UID ")
	w.num(uint32(uid))
	w.raw(" FLAGS ")
	w.flagList(fs)
	if u.s.cs.condstore && seq > 0 && int(seq) <= u.s.sel.modseqs.len() {
		w.raw(" MODSEQ (")
		w.num64(u.s.sel.modseqs.at(int(seq) - 1))
		w.byte1(')')
	}
	w.raw(")\r\n")
	return w.err
}
