package imap

import "github.com/stamp-mail/stamp/message/structure"

// writeEnvelope writes an ENVELOPE (lock held). Values are the raw header
// text, as RFC 9051 requires (no RFC 2047 decoding); Sender and Reply-To
// default to From.
func (w *respWriter) writeEnvelope(e *structure.Envelope) {
	if e == nil {
		e = &structure.Envelope{}
	}
	w.byte1('(')
	w.nstr(e.Date)
	w.sp()
	w.nstr(e.Subject)
	w.sp()
	w.addrList(e.From)
	for _, l := range [][]structure.Addr{e.Sender, e.ReplyTo} {
		w.sp()
		if len(l) > 0 {
			w.addrList(l)
		} else {
			w.addrList(e.From)
		}
	}
	for _, l := range [][]structure.Addr{e.To, e.Cc, e.Bcc} {
		w.sp()
		w.addrList(l)
	}
	w.sp()
	w.nstr(e.InReplyTo)
	w.sp()
	w.nstr(e.MessageID)
	w.byte1(')')
}

func (w *respWriter) addrList(as []structure.Addr) {
	if len(as) == 0 {
		w.raw("NIL")
		return
	}
	w.byte1('(')
	for _, a := range as {
		w.byte1('(')
		switch {
		case a.GroupEnd:
			w.raw("NIL NIL NIL NIL")
		case a.GroupStart:
			w.raw("NIL NIL ")
			w.nstr(a.Mailbox)
			w.raw(" NIL")
		default:
			w.nstr(a.Name)
			w.sp()
			w.nstr(a.ADL)
			w.sp()
			w.nstr(a.Mailbox)
			w.sp()
			w.nstr(a.Host)
		}
		w.byte1(')')
	}
	w.byte1(')')
}
