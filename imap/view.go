package imap

import (
	"slices"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// view is the compact per-message state of a selected mailbox, in
// sequence-number order: parallel arrays, not rows, so that a 100,000
// message folder costs a few megabytes and FETCH of UID, FLAGS,
// INTERNALDATE, RFC822.SIZE and SEARCH over flags, dates, sizes and UIDs
// need no query. Flag lists are interned per session. It is kept current
// from the change log (sync) and from the session's own commands.
type view struct {
	uids    []uint32 // ascending; sequence number = index + 1
	ids     []int64  // message id
	flags   []uint32 // index into fsets
	sizes   []int64
	dates   []int64 // internal date, Unix seconds (UTC)
	modseqs modSeqs // MODSEQ of the last change (RFC 7162, condstore.go), compact

	fsets  [][]string
	findex map[string]uint32
}

// flagSet interns a sorted flag list.
func (v *view) flagSet(fs []string) uint32 {
	if v.findex == nil {
		v.findex = map[string]uint32{}
	}
	key := strings.Join(fs, " ")
	if i, ok := v.findex[key]; ok {
		return i
	}
	i := uint32(len(v.fsets))
	v.fsets = append(v.fsets, slices.Clone(fs))
	v.findex[key] = i
	return i
}

// add appends a message (its UID above every other).
func (v *view) add(m core.Message) {
	v.uids = append(v.uids, m.UID)
	v.ids = append(v.ids, m.ID)
	v.flags = append(v.flags, v.flagSet(m.Flags))
	v.sizes = append(v.sizes, m.Size)
	v.dates = append(v.dates, m.InternalDate.Unix())
	v.modseqs.append(m.ModSeq)
}

// addRow appends a message from a view row.
func (v *view) addRow(r core.ViewRow) {
	v.uids = append(v.uids, r.UID)
	v.ids = append(v.ids, r.ID)
	v.flags = append(v.flags, v.flagSet(r.Flags))
	v.sizes = append(v.sizes, r.Size)
	v.dates = append(v.dates, r.InternalDate.Unix())
	v.modseqs.append(r.ModSeq)
}

// remove drops the message at index i.
func (v *view) remove(i int) {
	v.uids = slices.Delete(v.uids, i, i+1)
	v.ids = slices.Delete(v.ids, i, i+1)
	v.flags = slices.Delete(v.flags, i, i+1)
	v.sizes = slices.Delete(v.sizes, i, i+1)
	v.dates = slices.Delete(v.dates, i, i+1)
	v.modseqs.delete(i)
}

// update records new flags (and MODSEQ) of the message at index i.
func (v *view) update(i int, fs []string, modseq uint64) {
	v.flags[i] = v.flagSet(fs)
	if modseq > v.modseqs.at(i) {
		v.modseqs.set(i, modseq)
	}
}

// flagsAt returns the flags of the message at index i (shared: do not modify).
func (v *view) flagsAt(i int) []string { return v.fsets[v.flags[i]] }

// msg returns what the view knows of the message at index i as a
// core.Message (no header, segments or addresses).
func (v *view) msg(i int, mailboxID int64) core.Message {
	return core.Message{
		ID: v.ids[i], UID: v.uids[i], MailboxID: mailboxID, Flags: v.flagsAt(i),
		Size: v.sizes[i], InternalDate: time.Unix(v.dates[i], 0).UTC(), ModSeq: v.modseqs.at(i),
	}
}
