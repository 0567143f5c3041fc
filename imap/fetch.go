package imap

import (
	"bufio"
	"bytes"
	"container/list"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// structCacheEntries bounds the cache of parsed BODYSTRUCTUREs.
const structCacheEntries = 4096

// structCache is an LRU of parsed body structures keyed by the message's
// blob hashes: blobs are immutable, so entries never go stale.
type structCache struct {
	max int

	mu    sync.Mutex
	ll    *list.List
	items map[string]*list.Element
}

type structEntry struct {
	key string
	bs  imap.BodyStructure
}

func newStructCache(n int) *structCache {
	return &structCache{max: n, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *structCache) get(k string) (imap.BodyStructure, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*structEntry).bs, true
	}
	return nil, false
}

func (c *structCache) put(k string, bs imap.BodyStructure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.ll.PushFront(&structEntry{k, bs})
	for c.ll.Len() > c.max {
		e := c.ll.Back()
		c.ll.Remove(e)
		delete(c.items, e.Value.(*structEntry).key)
	}
}

func blobKey(m core.Message) string {
	var b strings.Builder
	for _, s := range m.Segments {
		b.WriteString(s.Hash)
		b.WriteByte(',')
	}
	return b.String()
}

// msgData loads a message's bytes lazily, once per FETCH item set.
type msgData struct {
	s   *session
	m   core.Message
	hdr []byte
	raw []byte
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

// Fetch implements imapserver.Session (RFC 9051 section 6.4.5, RFC 3516
// BINARY). Header-only items read the header section only; BODY[] and
// BODY[TEXT] stream from core.OpenMessage; other sections parse the message.
func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	defer s.enter()()
	v := s.sel
	if v == nil {
		return errNoSelected
	}
	idxs := s.resolve(numSet)
	ms, err := s.load(idxs)
	if err != nil {
		return s.fail("fetch", err)
	}
	// Non-PEEK body fetches set \Seen (RFC 9051 section 6.4.5); the new
	// flags are then part of the response.
	setSeen := false
	if !v.readOnly {
		for _, bs := range options.BodySection {
			setSeen = setSeen || !bs.Peek
		}
		for _, bs := range options.BinarySection {
			setSeen = setSeen || !bs.Peek
		}
	}
	writeFlags := options.Flags
	if setSeen {
		var ids []int64
		pos := map[int64]int{}
		for k, m := range ms {
			if !hasFlag(m.Flags, storage.FlagSeen) {
				ids = append(ids, m.ID)
				pos[m.ID] = k
			}
		}
		if len(ids) > 0 {
			changed, err := s.srv.opts.Core.UpdateFlags(s.ctx, s.user.ID, v.mb.ID, ids, core.FlagsAdd, []string{storage.FlagSeen})
			if err != nil {
				return s.fail("fetch", err)
			}
			for _, c := range changed {
				v.own[c.ModSeq] = true
				if k, ok := pos[c.ID]; ok {
					ms[k].Flags = c.Flags
				}
			}
			writeFlags = true
		}
	}
	rev2 := s.rev2()
	for _, m := range ms {
		i := v.index(m.UID)
		if i < 0 {
			continue
		}
		if err := s.fetchOne(w, uint32(i+1), m, options, writeFlags, rev2); err != nil {
			return err
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

func (s *session) fetchOne(w *imapserver.FetchWriter, seq uint32, m core.Message, o *imap.FetchOptions, writeFlags, rev2 bool) error {
	d := &msgData{s: s, m: m}
	// Read what the items need before starting the response, so that a
	// storage error becomes a NO instead of a truncated FETCH.
	var env *imap.Envelope
	if o.Envelope {
		h, err := d.header()
		if err != nil {
			return s.fail("fetch", err)
		}
		env = imapserver.ExtractEnvelope(parseHeader(h))
	}
	var bs imap.BodyStructure
	if o.BodyStructure != nil {
		key := blobKey(m)
		var ok bool
		if bs, ok = s.srv.bs.get(key); !ok {
			raw, err := d.full()
			if err != nil {
				return s.fail("fetch", err)
			}
			bs = imapserver.ExtractBodyStructure(bytes.NewReader(raw))
			s.srv.bs.put(key, bs)
		}
	}
	type section struct {
		item   *imap.FetchItemBodySection
		data   []byte
		stream bool  // BODY[] or BODY[TEXT]: copied from OpenMessage
		skip   int64 // stream: bytes to skip
		size   int64 // stream: bytes to copy
	}
	secs := make([]section, 0, len(o.BodySection))
	for _, item := range o.BodySection {
		sec := section{item: item}
		switch {
		case len(item.Part) == 0 && item.Specifier == imap.PartSpecifierNone:
			sec.stream, sec.skip, sec.size = true, 0, m.Size
		case len(item.Part) == 0 && item.Specifier == imap.PartSpecifierText:
			sec.stream, sec.skip, sec.size = true, min(m.HeaderSize, m.Size), m.Size-min(m.HeaderSize, m.Size)
		case len(item.Part) == 0 && item.Specifier == imap.PartSpecifierHeader:
			h, err := d.header()
			if err != nil {
				return s.fail("fetch", err)
			}
			sec.data = imapserver.ExtractBodySection(bytes.NewReader(h), item)
		default:
			raw, err := d.full()
			if err != nil {
				return s.fail("fetch", err)
			}
			sec.data = imapserver.ExtractBodySection(bytes.NewReader(raw), item)
		}
		if sec.stream && item.Partial != nil {
			off := min(item.Partial.Offset, sec.size)
			sec.skip += off
			sec.size = min(item.Partial.Size, sec.size-off)
		}
		secs = append(secs, sec)
	}
	var bins [][]byte
	for _, item := range o.BinarySection {
		raw, err := d.full()
		if err != nil {
			return s.fail("fetch", err)
		}
		bins = append(bins, imapserver.ExtractBinarySection(bytes.NewReader(raw), item))
	}
	var binSizes []uint32
	for _, item := range o.BinarySectionSize {
		raw, err := d.full()
		if err != nil {
			return s.fail("fetch", err)
		}
		binSizes = append(binSizes, imapserver.ExtractBinarySectionSize(bytes.NewReader(raw), item))
	}

	rw := w.CreateMessage(seq)
	if o.UID {
		rw.WriteUID(imap.UID(m.UID))
	}
	if writeFlags {
		rw.WriteFlags(s.flags(m, rev2))
	}
	if o.InternalDate {
		rw.WriteInternalDate(m.InternalDate)
	}
	if o.RFC822Size {
		rw.WriteRFC822Size(m.Size)
	}
	if env != nil {
		rw.WriteEnvelope(env)
	}
	if bs != nil {
		rw.WriteBodyStructure(bs)
	}
	for _, sec := range secs {
		if !sec.stream {
			lw := rw.WriteBodySection(sec.item, int64(len(sec.data)))
			if _, err := lw.Write(sec.data); err != nil {
				lw.Close()
				rw.Close()
				return err
			}
			if err := lw.Close(); err != nil {
				rw.Close()
				return err
			}
			continue
		}
		if err := s.streamSection(rw, d, sec.item, sec.skip, sec.size); err != nil {
			rw.Close()
			return err
		}
	}
	for k, item := range o.BinarySection {
		lw := rw.WriteBinarySection(item, int64(len(bins[k])))
		if _, err := lw.Write(bins[k]); err != nil {
			lw.Close()
			rw.Close()
			return err
		}
		if err := lw.Close(); err != nil {
			rw.Close()
			return err
		}
	}
	for k, item := range o.BinarySectionSize {
		rw.WriteBinarySectionSize(item, binSizes[k])
	}
	return rw.Close()
}

// streamSection writes size bytes of the message starting at skip. Messages
// already in memory are sliced; others stream from the blob store.
func (s *session) streamSection(rw *imapserver.FetchResponseWriter, d *msgData, item *imap.FetchItemBodySection, skip, size int64) error {
	lw := rw.WriteBodySection(item, size)
	if d.raw != nil {
		if skip+size > int64(len(d.raw)) {
			lw.Close()
			return fmt.Errorf("imap: message %d is %d bytes, its row says %d", d.m.ID, len(d.raw), d.m.Size)
		}
		_, err := lw.Write(d.raw[skip : skip+size])
		if cerr := lw.Close(); err == nil {
			err = cerr
		}
		return err
	}
	r, err := s.srv.opts.Core.OpenMessage(s.ctx, d.m)
	if err != nil {
		// The literal has started: the connection cannot recover.
		lw.Close()
		return fmt.Errorf("imap: open message %d: %w", d.m.ID, err)
	}
	defer r.Close()
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, r, skip); err != nil {
			lw.Close()
			return fmt.Errorf("imap: read message %d: %w", d.m.ID, err)
		}
	}
	if _, err := io.CopyN(lw, r, size); err != nil {
		lw.Close()
		return fmt.Errorf("imap: read message %d: %w", d.m.ID, err)
	}
	return lw.Close()
}

func parseHeader(h []byte) textproto.Header {
	hdr, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(h)))
	if err != nil {
		return textproto.Header{}
	}
	return hdr
}
