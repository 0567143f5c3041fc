package imap

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// storeFlags converts client flags for storage: \Recent cannot be set
// (RFC 3501 section 2.3.2) and \* is not a flag.
func storeFlags(fs []imap.Flag) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if strings.EqualFold(string(f), string(flagRecent)) || f == imap.FlagWildcard {
			continue
		}
		c := canonicalFlag(string(f))
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, c) }) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// canonicalFlag spells system flags the way storage does (flags are
// case-insensitive, RFC 9051 section 2.3.2).
func canonicalFlag(f string) string {
	for _, sf := range systemFlags {
		if strings.EqualFold(f, string(sf)) {
			return string(sf)
		}
	}
	return f
}

// cmdAppend: RFC 9051 section 6.3.12 with UIDPLUS APPENDUID (RFC 4315)
// and BINARY literal8 (RFC 3516). The message goes through core.Append,
// which commits it before we answer OK. The reader already refused a
// literal over AppendLimit (NO [TOOBIG]) before reading it.
func cmdAppend(s *session, c *command, p *parser) error {
	name := p.mailbox()
	p.sp()
	var flags []imap.Flag
	var date time.Time
	if p.peek() == '(' {
		flags = p.flagList()
		p.sp()
	}
	if p.peek() == '"' {
		date = p.dateTime()
		p.sp()
	}
	raw, bin := p.literal(true)
	if p.end(); p.err != nil {
		return p.err
	}
	if bin {
		raw = convertBinary(raw)
	}
	svc := s.srv.opts.Core
	mb, err := svc.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return s.failDest("append", err)
	}
	if int64(len(raw)) > s.srv.opts.AppendLimit {
		return errTooBig
	}
	if len(raw) == 0 {
		return imapErr(imap.ResponseCodeCannot, "Empty message")
	}
	fs := storeFlags(flags)
	if err := s.recordKeywords(mb.ID, fs); err != nil {
		return s.fail("append", err)
	}
	m, err := svc.Append(s.ctx, s.user.ID, mb.ID, fs, date, raw)
	if err != nil {
		return s.fail("append", err)
	}
	return okCode(imap.ResponseCode(fmt.Sprintf("APPENDUID %d %d", mb.UIDValidity, m.UID)), "Append completed")
}

// cmdStore: RFC 9051 section 6.4.6. Store modifiers (RFC 4466, e.g.
// CONDSTORE's UNCHANGEDSINCE) are parsed here.
func cmdStore(s *session, c *command, p *parser) error {
	uid := c.name == "UID STORE"
	set := p.numSet(uid)
	p.sp()
	var unchanged *uint64 // UNCHANGEDSINCE (condstore.go)
	if p.peek() == '(' {
		unchanged = p.storeModifiers()
		p.sp()
	}
	var f imap.StoreFlags
	item := strings.ToUpper(p.atom())
	switch {
	case strings.HasPrefix(item, "+"):
		f.Op, item = imap.StoreFlagsAdd, item[1:]
	case strings.HasPrefix(item, "-"):
		f.Op, item = imap.StoreFlagsDel, item[1:]
	default:
		f.Op = imap.StoreFlagsSet
	}
	switch item {
	case "FLAGS":
	case "FLAGS.SILENT":
		f.Silent = true
	default:
		p.fail("Expected FLAGS, +FLAGS or -FLAGS")
	}
	p.sp()
	f.Flags = p.flags()
	if p.end(); p.err != nil {
		return p.err
	}
	return s.store(set, &f, uid, unchanged)
}

func (s *session) store(numSet imap.NumSet, flags *imap.StoreFlags, uid bool, unchanged *uint64) error {
	v := s.sel
	if v.readOnly {
		return errReadOnly
	}
	op := core.FlagsSet
	switch flags.Op {
	case imap.StoreFlagsAdd:
		op = core.FlagsAdd
	case imap.StoreFlagsDel:
		op = core.FlagsRemove
	}
	want := storeFlags(flags.Flags)
	// A keyword the client names in STORE exists from now on, whether
	// or not a message changed (it may have had it already, or be
	// expunged, or it is being removed): FLAGS announces it before the
	// tagged OK, as Dovecot does, and is recorded for the other sessions.
	v.noteFlags(want)
	s.registerKeywords()
	idxs := s.resolve(numSet)
	if len(idxs) == 0 {
		return s.writeFlagsUpdate(updates{s})
	}
	ids := make([]int64, len(idxs))
	for k, i := range idxs {
		ids[k] = v.ids[i]
	}
	changed, failed, err := s.updateFlags(ids, op, want, unchanged)
	if err != nil {
		return s.fail("store", err)
	}
	for _, m := range changed {
		v.own[m.ModSeq] = true
		v.noteFlags(m.Flags)
		if i := v.index(m.UID); i >= 0 && v.ids[i] == m.ID {
			v.update(i, m.Flags, m.ModSeq)
		}
	}
	if err := s.writeFlagsUpdate(updates{s}); err != nil { // new keywords first (RFC 9051 section 7.3.5)
		return err
	}
	if flags.Silent {
		if err := s.writeSilentModSeq(changed); err != nil {
			return err
		}
		return s.modified(failed, uid)
	}
	skip := make(map[int64]bool, len(failed))
	for _, id := range failed {
		skip[id] = true
	}
	for _, m := range changed {
		skip[m.ID] = false
	}
	ms := make([]core.Message, 0, len(idxs))
	for _, i := range idxs {
		done, ok := skip[v.ids[i]]
		if done {
			continue
		}
		m := v.msg(i, v.mb.ID)
		if !ok {
			// Not changed: it had the flags already, as far as this
			// STORE goes, though perhaps through another session's
			// change this view has not caught up with (the change log
			// will report the rest), or it is expunged meanwhile (the
			// EXPUNGE follows). Either way the FETCH shows the STORE
			// done, never the flags it replaced.
			m.Flags = core.ApplyFlags(m.Flags, op, want)
			v.update(i, m.Flags, 0)
		}
		ms = append(ms, m)
	}
	rev2 := s.rev2
	for _, m := range ms {
		i := v.index(m.UID)
		if i < 0 {
			continue
		}
		w := s.w
		w.lock()
		w.raw("* ")
		w.num(uint32(i + 1))
		w.raw(" FETCH (")
		if uid {
			w.raw("UID ")
			w.num(m.UID)
			w.sp()
		}
		w.raw("FLAGS ")
		w.flagList(s.flags(m, rev2))
		s.writeStoreModSeq(w, i, uid)
		w.raw(")\r\n")
		w.unlock()
	}
	return s.modified(failed, uid)
}

// dest finds the target of COPY or MOVE.
func (s *session) dest(op, name string) (core.Mailbox, error) {
	mb, err := s.srv.opts.Core.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return core.Mailbox{}, s.failDest(op, err)
	}
	return mb, nil
}

// recordKeywords records the keywords among flags in mailbox mb's list
// before messages with them are stored there (APPEND, COPY, MOVE): into
// the selected mailbox through the session, which knows what is recorded.
func (s *session) recordKeywords(mb int64, flags []string) error {
	if v := s.sel; v != nil && v.mb.ID == mb {
		v.noteFlags(flags)
		s.registerKeywords()
		return nil
	}
	known := s.recorded[mb]
	var todo []string
	for _, f := range core.KeywordsOf(flags) {
		if !known[strings.ToLower(f)] {
			todo = append(todo, f)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if err := s.srv.opts.Core.AddKeywords(s.ctx, s.user.ID, mb, todo); err != nil {
		return err
	}
	if known == nil {
		if s.recorded == nil {
			s.recorded = map[int64]map[string]bool{}
		}
		known = map[string]bool{}
		s.recorded[mb] = known
	}
	for _, f := range todo {
		known[strings.ToLower(f)] = true
	}
	return nil
}

// keywordsAt returns the keywords of the messages at view indexes idxs.
func (s *session) keywordsAt(idxs []int) []string {
	v := s.sel
	var all []string
	done := map[uint32]bool{}
	for _, i := range idxs {
		if fi := v.flags[i]; !done[fi] {
			done[fi] = true
			all = append(all, v.fsets[fi]...)
		}
	}
	return core.KeywordsOf(all)
}

func (s *session) idsOf(idxs []int) []int64 {
	ids := make([]int64, len(idxs))
	for k, i := range idxs {
		ids[k] = s.sel.ids[i]
	}
	return ids
}

// copyUID returns the COPYUID response code (RFC 4315 section 3).
func copyUID(d *imap.CopyData) imap.ResponseCode {
	return imap.ResponseCode(fmt.Sprintf("COPYUID %d %s %s", d.UIDValidity, d.SourceUIDs.String(), d.DestUIDs.String()))
}

func copyData(mb core.Mailbox, moved []core.Moved) *imap.CopyData {
	if len(moved) == 0 {
		return nil
	}
	d := &imap.CopyData{UIDValidity: mb.UIDValidity}
	for _, m := range moved {
		d.SourceUIDs.AddNum(imap.UID(m.OldUID))
		d.DestUIDs.AddNum(imap.UID(m.NewUID))
	}
	return d
}

// cmdCopy: RFC 9051 section 6.4.7 with COPYUID.
func cmdCopy(s *session, c *command, p *parser) error {
	set := p.numSet(c.name == "UID COPY")
	p.sp()
	name := p.mailbox()
	if p.end(); p.err != nil {
		return p.err
	}
	mb, err := s.dest("copy", name)
	if err != nil {
		return err
	}
	idxs := s.resolve(set)
	if len(idxs) == 0 {
		return nil
	}
	if err := s.recordKeywords(mb.ID, s.keywordsAt(idxs)); err != nil {
		return s.fail("copy", err)
	}
	copied, err := s.srv.opts.Core.Copy(s.ctx, s.user.ID, s.sel.mb.ID, s.idsOf(idxs), mb.ID)
	if err != nil {
		return s.fail("copy", err)
	}
	if d := copyData(mb, copied); d != nil {
		return okCode(copyUID(d), "Copy completed")
	}
	return nil
}

// cmdMove: RFC 6851. core.Move records spam training when messages enter
// or leave Junk. A move into the selected mailbox itself gives the
// messages new UIDs (a copy, then an expunge of the originals).
func cmdMove(s *session, c *command, p *parser) error {
	set := p.numSet(c.name == "UID MOVE")
	p.sp()
	name := p.mailbox()
	if p.end(); p.err != nil {
		return p.err
	}
	mb, err := s.dest("move", name)
	if err != nil {
		return err
	}
	v := s.sel
	if v.readOnly {
		return errReadOnly
	}
	idxs := s.resolve(set)
	if len(idxs) == 0 {
		return nil
	}
	svc := s.srv.opts.Core
	if err := s.recordKeywords(mb.ID, s.keywordsAt(idxs)); err != nil {
		return s.fail("move", err)
	}
	var moved []core.Moved
	if mb.ID == v.mb.ID {
		ids := s.idsOf(idxs)
		if moved, err = svc.Copy(s.ctx, s.user.ID, v.mb.ID, ids, mb.ID); err != nil {
			return s.fail("move", err)
		}
		if _, err := svc.Expunge(s.ctx, s.user.ID, v.mb.ID, ids); err != nil {
			return s.fail("move", err)
		}
	} else if moved, err = svc.Move(s.ctx, s.user.ID, v.mb.ID, s.idsOf(idxs), mb.ID); err != nil {
		return s.fail("move", err)
	}
	if d := copyData(mb, moved); d != nil {
		s.untagged("OK [" + string(copyUID(d)) + "] Moved")
	}
	return s.expunged(updates{s}, moved2uids(moved))
}

func moved2uids(ms []core.Moved) []uint32 {
	out := make([]uint32, len(ms))
	for i, m := range ms {
		out[i] = m.OldUID
	}
	return out
}

// expunged drops UIDs from the view, writing EXPUNGE for each (from the
// highest sequence number down, so the numbers written stay valid).
func (s *session) expunged(w interface{ WriteExpunge(uint32) error }, uids []uint32) error {
	if s.cs.qresync {
		return s.writeVanished(uids)
	}
	v := s.sel
	var idx []int
	for _, u := range uids {
		if i := v.index(u); i >= 0 {
			idx = append(idx, i)
		}
		delete(v.gone, u)
	}
	sortDesc(idx)
	for _, i := range idx {
		v.remove(i)
		if err := w.WriteExpunge(uint32(i + 1)); err != nil {
			return err
		}
	}
	return nil
}

func sortDesc(a []int) { sort.Sort(sort.Reverse(sort.IntSlice(a))) }

// cmdExpunge: EXPUNGE (RFC 9051 section 6.4.3) and UID EXPUNGE (RFC 4315
// section 2.1).
func cmdExpunge(s *session, c *command, p *parser) error {
	var set *imap.UIDSet
	if c.name == "UID EXPUNGE" {
		us, _ := p.numSet(true).(imap.UIDSet)
		if imap.IsSearchRes(us) {
			us = savedSet(s.sel.saved)
		}
		set = &us
	}
	if p.end(); p.err != nil {
		return p.err
	}
	if err := s.expunge(set, true); err != nil {
		return err
	}
	return s.expungeModSeq()
}

// savedSet is the SEARCHRES result as a UID set.
func savedSet(uids []uint32) imap.UIDSet {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	if set == nil {
		set = imap.UIDSet{}
	}
	return set
}

// expunge removes the messages flagged \Deleted (within uids when given);
// report says whether EXPUNGE responses are written (not for CLOSE).
func (s *session) expunge(uids *imap.UIDSet, report bool) error {
	v := s.sel
	if v.readOnly {
		return nil
	}
	var ids []int64
	for i, uid := range v.uids {
		if uids != nil && !uidContains(*uids, uid, v.maxUID()) {
			continue
		}
		if slices.Contains(v.flagsAt(i), core.FlagDeleted) {
			ids = append(ids, v.ids[i])
		}
	}
	if len(ids) == 0 {
		return nil
	}
	gone, err := s.srv.opts.Core.Expunge(s.ctx, s.user.ID, v.mb.ID, ids)
	if err != nil {
		return s.fail("expunge", err)
	}
	if !report {
		for _, u := range gone {
			if i := v.index(u); i >= 0 {
				v.remove(i)
			}
		}
		return nil
	}
	return s.expunged(updates{s}, gone)
}
