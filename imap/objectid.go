package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// OBJECTID (RFC 8474): EMAILID and THREADID fetch items, MAILBOXID in
// STATUS and in the SELECT/EXAMINE and CREATE response codes, SEARCH
// EMAILID/THREADID. The ids are core's (core.EmailID and friends): a
// message keeps its id and thread across MOVE, a mailbox its id across
// RENAME.

// Fetch items of the extensions (after the engine's own kinds).
const (
	fiModSeq   = fiBinarySize + 1 + iota // MODSEQ (RFC 7162)
	fiEmailID                            // EMAILID (RFC 8474)
	fiThreadID                           // THREADID (RFC 8474)
	fiKinds                              // number of kinds
)

// addExt adds an extension item once.
func (r *fetchReq) addExt(kind int) {
	if !r.has[kind] {
		r.has[kind] = true
		r.items = append(r.items, fetchItem{kind: kind})
	}
}

// fetchAttExt reads the extension fetch attributes; false if word is none.
func (p *parser) fetchAttExt(word string, r *fetchReq) bool {
	switch word {
	case "MODSEQ":
		r.addExt(fiModSeq)
	case "EMAILID":
		r.addExt(fiEmailID)
	case "THREADID":
		r.addExt(fiThreadID)
	default:
		return false
	}
	return true
}

// viewItem reports whether an extension item is answered from the view.
func viewItem(kind int) bool { return kind == fiModSeq || kind == fiEmailID }

// writeExtItem writes an extension item of m (lock held).
func writeExtItem(w *respWriter, kind int, m *core.Message) {
	switch kind {
	case fiModSeq:
		w.raw("MODSEQ (")
		w.num64(m.ModSeq)
		w.byte1(')')
	case fiEmailID:
		w.raw("EMAILID (")
		w.raw(core.EmailID(*m))
		w.byte1(')')
	case fiThreadID:
		// RFC 8474 section 5.2: NIL when the server has no thread for it.
		if m.ThreadID == 0 {
			w.raw("THREADID NIL")
			return
		}
		w.raw("THREADID (")
		w.raw(core.ThreadID(*m))
		w.byte1(')')
	}
}

// writeExtItemView writes a view extension item of view index i (lock held).
func (v *selected) writeExtItemView(w *respWriter, kind int, i int) {
	m := core.Message{ID: v.ids[i], ModSeq: v.modseqs.at(i)}
	writeExtItem(w, kind, &m)
}

// statusOptions is STATUS's items: go-imap's and MAILBOXID (RFC 8474
// section 4.2).
type statusOptions struct {
	imap.StatusOptions
	MailboxID bool
}

// statusData is STATUS's answer: go-imap's and MAILBOXID.
type statusData struct {
	imap.StatusData
	MailboxID string
}

// statusAttExt reads the extension STATUS items; false if name is none.
func (p *parser) statusAttExt(name string, o *statusOptions) bool {
	switch name {
	case "HIGHESTMODSEQ":
		o.HighestModSeq = true
	case "MAILBOXID":
		o.MailboxID = true
	default:
		return false
	}
	return true
}

// statusDataExt fills the extension STATUS items. STATUS HIGHESTMODSEQ
// enables CONDSTORE (RFC 7162 section 3.1).
func (s *session) statusDataExt(mb core.Mailbox, o *statusOptions, d *statusData) {
	if o.HighestModSeq {
		s.enableCondStore()
		d.HighestModSeq = max(mb.HighestModSeq, 1)
	}
	if o.MailboxID {
		d.MailboxID = core.MailboxObjectID(mb)
	}
}

// writeStatusExt writes the extension STATUS items (lock held); sep is
// what goes before an item.
func writeStatusExt(w *respWriter, d *statusData, sep string) {
	if d.HighestModSeq != 0 {
		w.raw(sep + "HIGHESTMODSEQ ")
		w.num64(d.HighestModSeq)
		sep = " "
	}
	if d.MailboxID != "" {
		w.raw(sep + "MAILBOXID (")
		w.raw(d.MailboxID)
		w.byte1(')')
	}
}

// createdCode is CREATE's tagged OK with MAILBOXID (RFC 8474 section 4.1).
func createdCode(mb core.Mailbox) error {
	return okCode(imap.ResponseCode("MAILBOXID ("+core.MailboxObjectID(mb)+")"), "Created")
}

// Object ids searched for are kept as header criteria with names no header
// field has (a NUL, which quoted strings cannot carry), so the engine's
// row loading and AND/OR/NOT logic apply unchanged.
const (
	searchEmailID  = "\x00EMAILID"
	searchThreadID = "\x00THREADID"
)

// searchObjectID reads SEARCH EMAILID/THREADID objectid (RFC 8474 section 6).
func (p *parser) searchObjectID(c *imap.SearchCriteria, key string) {
	p.sp()
	id := p.atom()
	k := searchEmailID
	if key == "THREADID" {
		k = searchThreadID
	}
	c.Header = append(c.Header, imap.SearchCriteriaHeaderField{Key: k, Value: id})
}
