package imap

import (
	"io"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// storeFlags converts client flags for storage: \Recent cannot be set
// (RFC 3501 section 2.3.2) and \* is not a flag.
func storeFlags(fs []imap.Flag) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if strings.EqualFold(string(f), string(flagRecent)) || f == imap.FlagWildcard {
			continue
		}
		out = append(out, canonicalFlag(string(f)))
	}
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

// Append implements imapserver.Session (RFC 9051 section 6.3.12 with
// UIDPLUS APPENDUID). The message goes through core.Append, which commits
// it before we answer OK.
func (s *session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	defer s.enter()()
	svc := s.srv.opts.Core
	mb, err := svc.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return nil, s.failDest("append", err)
	}
	if r.Size() > s.srv.opts.AppendLimit {
		return nil, errTooBig
	}
	raw, err := io.ReadAll(io.LimitReader(r, r.Size()))
	if err != nil {
		return nil, err
	}
	m, err := svc.Append(s.ctx, s.user.ID, mb.ID, storeFlags(options.Flags), options.Time, raw)
	if err != nil {
		return nil, s.fail("append", err)
	}
	return &imap.AppendData{UID: imap.UID(m.UID), UIDValidity: mb.UIDValidity}, nil
}

// Store implements imapserver.Session (RFC 9051 section 6.4.6).
func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	defer s.enter()()
	v := s.sel
	if v == nil {
		return errNoSelected
	}
	if v.readOnly {
		return errReadOnly
	}
	idxs := s.resolve(numSet)
	if len(idxs) == 0 {
		return nil
	}
	ids := make([]int64, len(idxs))
	for k, i := range idxs {
		ids[k] = v.ids[i]
	}
	op := core.FlagsSet
	switch flags.Op {
	case imap.StoreFlagsAdd:
		op = core.FlagsAdd
	case imap.StoreFlagsDel:
		op = core.FlagsRemove
	}
	changed, err := s.srv.opts.Core.UpdateFlags(s.ctx, s.user.ID, v.mb.ID, ids, op, storeFlags(flags.Flags))
	if err != nil {
		return s.fail("store", err)
	}
	for _, m := range changed {
		v.own[m.ModSeq] = true
		v.noteFlags(m.Flags)
	}
	if flags.Silent {
		return nil
	}
	ms, err := s.load(idxs)
	if err != nil {
		return s.fail("store", err)
	}
	rev2 := s.rev2()
	for _, m := range ms {
		i := v.index(m.UID)
		if i < 0 {
			continue
		}
		rw := w.CreateMessage(uint32(i + 1))
		rw.WriteUID(imap.UID(m.UID))
		rw.WriteFlags(s.flags(m, rev2))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// dest finds the target of COPY or MOVE.
func (s *session) dest(op, name string) (core.Mailbox, error) {
	if s.sel == nil {
		return core.Mailbox{}, errNoSelected
	}
	mb, err := s.srv.opts.Core.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return core.Mailbox{}, s.failDest(op, err)
	}
	return mb, nil
}

func (s *session) idsOf(idxs []int) []int64 {
	ids := make([]int64, len(idxs))
	for k, i := range idxs {
		ids[k] = s.sel.ids[i]
	}
	return ids
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

// Copy implements imapserver.Session (RFC 9051 section 6.4.7, COPYUID).
func (s *session) Copy(numSet imap.NumSet, name string) (*imap.CopyData, error) {
	defer s.enter()()
	mb, err := s.dest("copy", name)
	if err != nil {
		return nil, err
	}
	idxs := s.resolve(numSet)
	if len(idxs) == 0 {
		return nil, nil
	}
	copied, err := s.srv.opts.Core.Copy(s.ctx, s.user.ID, s.sel.mb.ID, s.idsOf(idxs), mb.ID)
	if err != nil {
		return nil, s.fail("copy", err)
	}
	return copyData(mb, copied), nil
}

// Move implements imapserver.SessionMove (RFC 6851). core.Move records spam
// training when messages enter or leave Junk.
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, name string) error {
	defer s.enter()()
	mb, err := s.dest("move", name)
	if err != nil {
		return err
	}
	v := s.sel
	if v.readOnly {
		return errReadOnly
	}
	if mb.ID == v.mb.ID {
		return errSameMailbox
	}
	idxs := s.resolve(numSet)
	if len(idxs) == 0 {
		return nil
	}
	moved, err := s.srv.opts.Core.Move(s.ctx, s.user.ID, v.mb.ID, s.idsOf(idxs), mb.ID)
	if err != nil {
		return s.fail("move", err)
	}
	if d := copyData(mb, moved); d != nil {
		if err := w.WriteCopyData(d); err != nil {
			return err
		}
	}
	return s.expunged(w, moved2uids(moved))
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

// Expunge implements imapserver.Session: EXPUNGE, UID EXPUNGE (UIDPLUS) and
// the silent expunge of CLOSE. In a read-only mailbox it does nothing.
func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	defer s.enter()()
	v := s.sel
	if v == nil {
		return errNoSelected
	}
	if v.readOnly {
		return nil
	}
	all := make([]int, len(v.uids))
	for i := range all {
		all[i] = i
	}
	ms, err := s.load(all)
	if err != nil {
		return s.fail("expunge", err)
	}
	var ids []int64
	for _, m := range ms {
		if uids != nil && !uids.Contains(imap.UID(m.UID)) {
			continue
		}
		for _, f := range m.Flags {
			if f == storage.FlagDeleted {
				ids = append(ids, m.ID)
				break
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	gone, err := s.srv.opts.Core.Expunge(s.ctx, s.user.ID, v.mb.ID, ids)
	if err != nil {
		return s.fail("expunge", err)
	}
	return s.expunged(w, gone)
}
