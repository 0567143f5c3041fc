package imap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message/structure"
)

// fetch item kinds.
const (
	fiUID = iota
	fiFlags
	fiInternalDate
	fiSize
	fiEnvelope
	fiBody          // BODY (non-extensible structure)
	fiBodyStructure // BODYSTRUCTURE
	fiSection       // BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT
	fiBinary        // BINARY[...], BINARY.PEEK[...]
	fiBinarySize    // BINARY.SIZE[...]
)

type fetchItem struct {
	kind int
	name string // response name for sections ("BODY[1.MIME]", "RFC822")
	sec  *imap.FetchItemBodySection
}

// fetchReq is a parsed FETCH: its items in request order. Fetch modifiers
// (RFC 4466, e.g. CONDSTORE's CHANGEDSINCE) are parsed in cmdFetch.
type fetchReq struct {
	items   []fetchItem
	setSeen bool
	has     [fiKinds]bool

	changedSince *uint64 // CHANGEDSINCE (RFC 7162 section 3.1.4)
	vanished     bool    // VANISHED (RFC 7162 section 3.2.6)
}

// viewOnly reports whether every item is answered by the view.
func (r *fetchReq) viewOnly() bool {
	for _, it := range r.items {
		switch it.kind {
		case fiUID, fiFlags, fiInternalDate, fiSize:
		default:
			if !viewItem(it.kind) {
				return false
			}
		}
	}
	return true
}

func (r *fetchReq) add(it fetchItem) {
	if it.kind < fiSection && r.has[it.kind] {
		return
	}
	r.has[it.kind] = true
	r.items = append(r.items, it)
}

// fetchAtt parses one fetch attribute.
func (p *parser) fetchAtt(r *fetchReq) {
	if p.err != nil {
		return
	}
	start := p.pos
	for p.pos < len(p.b) && p.b[p.pos] != '[' && p.b[p.pos] != ' ' && p.b[p.pos] != ')' && p.b[p.pos] != '<' {
		p.pos++
	}
	word := strings.ToUpper(string(p.b[start:p.pos]))
	switch word {
	case "ALL", "FAST", "FULL":
		r.add(fetchItem{kind: fiFlags})
		r.add(fetchItem{kind: fiInternalDate})
		r.add(fetchItem{kind: fiSize})
		if word != "FAST" {
			r.add(fetchItem{kind: fiEnvelope})
		}
		if word == "FULL" {
			r.add(fetchItem{kind: fiBody})
		}
	case "UID":
		r.add(fetchItem{kind: fiUID})
	case "FLAGS":
		r.add(fetchItem{kind: fiFlags})
	case "INTERNALDATE":
		r.add(fetchItem{kind: fiInternalDate})
	case "RFC822.SIZE":
		r.add(fetchItem{kind: fiSize})
	case "ENVELOPE":
		r.add(fetchItem{kind: fiEnvelope})
	case "BODYSTRUCTURE":
		r.add(fetchItem{kind: fiBodyStructure})
	case "RFC822":
		r.setSeen = true
		r.add(fetchItem{kind: fiSection, name: "RFC822", sec: &imap.FetchItemBodySection{}})
	case "RFC822.HEADER":
		r.add(fetchItem{kind: fiSection, name: "RFC822.HEADER", sec: &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}})
	case "RFC822.TEXT":
		r.setSeen = true
		r.add(fetchItem{kind: fiSection, name: "RFC822.TEXT", sec: &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText}})
	case "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE":
		if p.peek() != '[' {
			if word == "BODY" {
				r.add(fetchItem{kind: fiBody})
				return
			}
			p.fail("%s needs a section", word)
			return
		}
		p.pos++
		secStart := p.pos
		part, spec, fieldsList, not := p.section()
		if p.err != nil {
			return
		}
		sec := &imap.FetchItemBodySection{Part: part, Specifier: spec, Peek: strings.HasSuffix(word, ".PEEK")}
		if fieldsList != nil {
			if not {
				sec.HeaderFieldsNot = fieldsList
			} else {
				sec.HeaderFields = fieldsList
			}
		}
		kind := fiSection
		base := "BODY"
		if strings.HasPrefix(word, "BINARY") {
			kind, base = fiBinary, "BINARY"
			if spec != imap.PartSpecifierNone {
				p.fail("BINARY takes part numbers only")
				return
			}
			if word == "BINARY.SIZE" {
				kind, base = fiBinarySize, "BINARY.SIZE"
			}
		}
		name := base + "[" + strings.ToUpper(string(p.b[secStart:p.pos-1])) + "]"
		if p.consume('<') {
			off := p.number()
			p.expect('.')
			n := p.number()
			if n == 0 && p.err == nil {
				p.fail("Partial length must not be 0")
			}
			p.expect('>')
			sec.Partial = &imap.SectionPartial{Offset: int64(off), Size: int64(n)}
			name += "<" + strconv.FormatUint(uint64(off), 10) + ">"
			if kind == fiBinarySize {
				p.fail("BINARY.SIZE takes no partial")
			}
		}
		if !sec.Peek && kind != fiBinarySize {
			r.setSeen = true
		}
		r.add(fetchItem{kind: kind, name: name, sec: sec})
	default:
		if !p.fetchAttExt(word, r) {
			p.fail("Unknown FETCH item %q", clip([]byte(word)))
		}
	}
}

// cmdFetch: FETCH and UID FETCH (RFC 9051 section 6.4.5, RFC 3516 BINARY).
func cmdFetch(s *session, c *command, p *parser) error {
	uid := c.name == "UID FETCH"
	set := p.numSet(uid)
	p.sp()
	r := &fetchReq{}
	if uid {
		r.add(fetchItem{kind: fiUID})
	}
	if p.peek() == '(' {
		p.list(false, func() { p.fetchAtt(r) })
	} else {
		p.fetchAtt(r)
	}
	if p.consume(' ') {
		p.fetchModifiers(r)
	}
	if p.end(); p.err != nil {
		return p.err
	}
	if err := s.checkFetch(r, uid); err != nil {
		return err
	}
	return s.fetch(set, r)
}

// msgData loads a message's bytes lazily, once per message.
type msgData struct {
	s    *session
	m    core.Message
	hdr  []byte
	raw  []byte
	root *part
}

func (d *msgData) header() ([]byte, error) {
	if d.hdr == nil {
		if d.raw != nil {
			d.hdr = d.raw[:min(int64(len(d.raw)), d.m.HeaderSize)]
			return d.hdr, nil
		}
		h, err := d.s.srv.opts.Core.ReadHeader(d.s.ctx, d.m)
		if err != nil {
			return nil, err
		}
		d.hdr = h
	}
	return d.hdr, nil
}

func (d *msgData) full() ([]byte, error) {
	if d.raw == nil {
		b, err := d.s.srv.opts.Core.ReadMessage(d.s.ctx, d.m)
		if err != nil {
			return nil, err
		}
		d.raw = b
	}
	return d.raw, nil
}

func (d *msgData) tree() (*part, error) {
	if d.root == nil {
		raw, err := d.full()
		if err != nil {
			return nil, err
		}
		d.root = parseMIME(raw)
	}
	return d.root, nil
}

func (s *session) fetch(set imap.NumSet, r *fetchReq) error {
	v := s.sel
	idxs, err := s.condFetch(set, s.resolve(set), r)
	if err != nil {
		return err
	}
	if r.viewOnly() && !r.setSeen {
		return s.fetchView(idxs, r)
	}
	var ms []core.Message
	loaded := !r.structOnly() // rows read now, not the view's copy
	if !loaded {
		// UID, FLAGS, INTERNALDATE and RFC822.SIZE come from the view,
		// ENVELOPE and BODY[STRUCTURE] from the stored structures.
		ms = make([]core.Message, 0, len(idxs))
		for _, i := range idxs {
			ms = append(ms, v.msg(i, v.mb.ID))
		}
	} else {
		var err error
		if ms, err = s.load(idxs); err != nil {
			return s.fail("fetch", err)
		}
	}
	// Non-PEEK body fetches set \Seen (RFC 9051 section 6.4.5); the new
	// flags are then part of the response.
	if r.setSeen && !v.readOnly {
		var ids []int64
		pos := map[int64]int{}
		for k, m := range ms {
			if !hasFlag(m.Flags, core.FlagSeen) {
				ids = append(ids, m.ID)
				pos[m.ID] = k
			}
		}
		if len(ids) > 0 {
			changed, err := s.srv.opts.Core.UpdateFlags(s.ctx, s.user.ID, v.mb.ID, ids, core.FlagsAdd, []string{core.FlagSeen})
			if err != nil {
				return s.fail("fetch", err)
			}
			for _, c := range changed {
				v.own[c.ModSeq] = true
				if k, ok := pos[c.ID]; ok {
					ms[k].Flags, ms[k].ModSeq = c.Flags, c.ModSeq
				}
				if i := v.index(c.UID); i >= 0 && v.ids[i] == c.ID {
					v.update(i, c.Flags, c.ModSeq)
				}
			}
			r.add(fetchItem{kind: fiFlags})
			if s.cs.condstore { // RFC 7162 section 3.1: UID and MODSEQ with changed flags
				r.add(fetchItem{kind: fiUID})
				r.addExt(fiModSeq)
			}
		}
	}
	for start := 0; start < len(ms); start += structChunk {
		chunk := ms[start:min(start+structChunk, len(ms))]
		var trees map[int64]*part
		if r.needsStruct() {
			var err error
			if trees, err = s.loadStructures(chunk); err != nil {
				return s.fail("fetch", err)
			}
		}
		for _, m := range chunk {
			i := v.index(m.UID)
			if i < 0 {
				continue
			}
			if loaded && m.ModSeq > v.modseqs.at(i) {
				// A row loaded fresh, changed by another session since
				// the view learnt of it: the view takes it, so that no
				// later response shows an older MODSEQ or flags (RFC
				// 7162 section 3.1.2), and keywords new to the client
				// are announced in FLAGS before they are used (RFC
				// 9051 section 7.3.5).
				v.update(i, m.Flags, m.ModSeq)
				v.noteFlags(m.Flags)
				if err := s.writeFlagsUpdate(updates{s}); err != nil {
					return err
				}
			}
			if err := s.fetchOne(uint32(i+1), m, r, trees[m.ID]); err != nil {
				return err
			}
			if err := s.w.failed(); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasFlag(fs []string, f string) bool {
	for _, x := range fs {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

// section is prepared data for one section item.
type section struct {
	data   []byte
	nilVal bool
	stream bool  // BODY[] or BODY[TEXT] of a message not in memory
	skip   int64 // stream: bytes to skip
	size   int64 // stream: bytes to copy
	bin    bool  // literal8
}

// fetchOne reads what the items need, then writes one FETCH response;
// tree is the message's stored structure (nil: built from its bytes). A
// storage error before writing becomes NO; one while streaming ends the
// connection (the literal has started).
func (s *session) fetchOne(seq uint32, m core.Message, r *fetchReq, tree *part) error {
	d := &msgData{s: s, m: m}
	secs := make([]section, len(r.items))
	if tree == nil && r.needsStruct() {
		if d.m.Segments == nil {
			// Built from the view: load the row.
			row, err := s.srv.opts.Core.GetMessage(s.ctx, s.user.ID, m.ID)
			if errors.Is(err, core.ErrNotFound) {
				// Expunged by another session since this one's view:
				// omitted, as the loaded path omits it (RFC 2180
				// section 4.1.1), until the EXPUNGE is reported.
				return nil
			}
			if err != nil {
				return s.fail("fetch", err)
			}
			d.m = row
		}
		raw, err := d.full()
		if err != nil {
			return s.fail("fetch", err)
		}
		tree = structure.Build(raw)
	}
	for k, it := range r.items {
		switch it.kind {
		case fiSection:
			sec, err := s.prepareSection(d, it.sec)
			if err != nil {
				return s.fail("fetch", err)
			}
			secs[k] = sec
		case fiBinary, fiBinarySize:
			root, err := d.tree()
			if err != nil {
				return s.fail("fetch", err)
			}
			data, ok, err := binarySection(d.raw, root, it.sec.Part)
			if err != nil {
				return imapErr(imap.ResponseCodeUnknownCTE, "Cannot decode this part's transfer encoding")
			}
			if !ok {
				secs[k] = section{nilVal: true}
				continue
			}
			if it.sec.Partial != nil {
				data = partial(data, it.sec.Partial)
			}
			secs[k] = section{data: data, bin: bytes.IndexByte(data, 0) >= 0}
		}
	}
	w := s.w
	w.lock()
	defer w.unlock()
	w.raw("* ")
	w.num(seq)
	w.raw(" FETCH (")
	for k, it := range r.items {
		if k > 0 {
			w.sp()
		}
		switch it.kind {
		case fiUID:
			w.raw("UID ")
			w.num(m.UID)
		case fiFlags:
			w.raw("FLAGS ")
			w.flagList(s.flags(m, s.rev2))
		case fiInternalDate:
			w.raw(`INTERNALDATE "`)
			w.raw(m.InternalDate.Format("_2-Jan-2006 15:04:05 -0700"))
			w.byte1('"')
		case fiSize:
			w.raw("RFC822.SIZE ")
			w.num64(uint64(m.Size))
		case fiEnvelope:
			w.raw("ENVELOPE ")
			w.writeEnvelope(tree.Env)
		case fiBody:
			w.raw("BODY ")
			w.writeBodyStructure(tree, false)
		case fiBodyStructure:
			w.raw("BODYSTRUCTURE ")
			w.writeBodyStructure(tree, true)
		case fiBinarySize:
			w.raw(it.name)
			w.sp()
			if secs[k].nilVal {
				w.raw("NIL")
			} else {
				w.num64(uint64(len(secs[k].data)))
			}
		case fiModSeq, fiEmailID, fiThreadID:
			writeExtItem(w, it.kind, &m)
		case fiSection, fiBinary:
			w.raw(it.name)
			w.sp()
			sec := secs[k]
			switch {
			case sec.nilVal:
				w.raw("NIL")
			case sec.stream:
				if err := s.streamSection(d, sec.skip, sec.size); err != nil {
					return err
				}
			default:
				if sec.bin {
					w.byte1('~')
				}
				w.literal(int64(len(sec.data)))
				w.bytes(sec.data)
			}
		}
	}
	w.raw(")\r\n")
	return w.err
}

func partial(data []byte, pr *imap.SectionPartial) []byte {
	off := min(pr.Offset, int64(len(data)))
	data = data[off:]
	return data[:min(pr.Size, int64(len(data)))]
}

// prepareSection gets a BODY[...] ready: header-only sections read the
// header, BODY[] and BODY[TEXT] stream, others parse the message.
func (s *session) prepareSection(d *msgData, item *imap.FetchItemBodySection) (section, error) {
	m := d.m
	var sec section
	switch {
	case len(item.Part) == 0 && item.Specifier == imap.PartSpecifierNone:
		sec.stream, sec.skip, sec.size = true, 0, m.Size
	case len(item.Part) == 0 && item.Specifier == imap.PartSpecifierText:
		sec.stream, sec.skip, sec.size = true, min(m.HeaderSize, m.Size), m.Size-min(m.HeaderSize, m.Size)
	case len(item.Part) == 0 && item.Specifier == imap.PartSpecifierHeader:
		h, err := d.header()
		if err != nil {
			return sec, err
		}
		root := &part{Hdr: 0, Body: len(h), End: len(h)}
		sec.data = bodySection(h, root, item)
	default:
		root, err := d.tree()
		if err != nil {
			return sec, err
		}
		sec.data = bodySection(d.raw, root, item)
		if sec.data == nil {
			sec.data = []byte{}
		}
	}
	if item.Partial != nil {
		if sec.stream {
			off := min(item.Partial.Offset, sec.size)
			sec.skip += off
			sec.size = min(item.Partial.Size, sec.size-off)
		} else {
			sec.data = partial(sec.data, item.Partial)
		}
	}
	return sec, nil
}

// streamSection writes a literal of size bytes of the message starting at
// skip (lock held). Messages already in memory are sliced; others stream
// from the blob store.
func (s *session) streamSection(d *msgData, skip, size int64) error {
	w := s.w
	if d.raw != nil {
		if skip+size > int64(len(d.raw)) {
			return fmt.Errorf("imap: message %d is %d bytes, its row says %d", d.m.ID, len(d.raw), d.m.Size)
		}
		w.literal(size)
		w.bytes(d.raw[skip : skip+size])
		return w.err
	}
	r, err := s.srv.opts.Core.OpenMessage(s.ctx, d.m)
	if err != nil {
		// Nothing of the literal is written yet, but the FETCH line is:
		// the connection cannot recover.
		return fmt.Errorf("imap: open message %d: %w", d.m.ID, err)
	}
	defer r.Close()
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, r, skip); err != nil {
			return fmt.Errorf("imap: read message %d: %w", d.m.ID, err)
		}
	}
	if err := w.copyLiteral(size, r); err != nil {
		return fmt.Errorf("imap: read message %d: %w", d.m.ID, err)
	}
	return nil
}

// render encodes a response fragment into bytes (for the cache). Strings
// that need UTF-8 are written as literals, valid in either mode.
func render(f func(w *respWriter)) []byte {
	var buf bytes.Buffer
	w := &respWriter{bw: newBufWriter(&buf)}
	f(w)
	w.flush()
	return buf.Bytes()
}

// fetchView answers a FETCH of view items only (UID, FLAGS, INTERNALDATE,
// RFC822.SIZE) straight from the view's arrays: no query, no per-message
// allocation; the writer lock is taken once per batch of lines.
func (s *session) fetchView(idxs []int, r *fetchReq) error {
	v := s.sel
	w := s.w
	const batch = 256
	for start := 0; start < len(idxs); start += batch {
		w.lock()
		for _, i := range idxs[start:min(start+batch, len(idxs))] {
			w.raw("* ")
			w.num(uint32(i + 1))
			w.raw(" FETCH (")
			for k, it := range r.items {
				if k > 0 {
					w.sp()
				}
				switch it.kind {
				case fiUID:
					w.raw("UID ")
					w.num(v.uids[i])
				case fiFlags:
					w.raw("FLAGS (")
					fs := v.flagsAt(i)
					for j, f := range fs {
						if j > 0 {
							w.sp()
						}
						w.raw(f)
					}
					if !s.rev2 && v.recent.Contains(imap.UID(v.uids[i])) {
						if len(fs) > 0 {
							w.sp()
						}
						w.raw(string(flagRecent))
					}
					w.byte1(')')
				case fiInternalDate:
					w.raw(`INTERNALDATE "`)
					w.raw(time.Unix(v.dates[i], 0).UTC().Format("_2-Jan-2006 15:04:05 -0700"))
					w.byte1('"')
				case fiSize:
					w.raw("RFC822.SIZE ")
					w.num64(uint64(v.sizes[i]))
				default:
					v.writeExtItemView(w, it.kind, i)
				}
			}
			w.raw(")\r\n")
		}
		err := w.err
		w.unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
