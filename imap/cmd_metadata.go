package imap

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// METADATA (RFC 5464) over core's entries (core/metadata.go): server
// entries (mailbox "") and per-mailbox entries, /private per user and
// /shared. The server's own /shared entries are set by the operator; a
// user's SETMETADATA on them is NO [NOPERM]. Stamp stores private entries
// for every user, so [METADATA NOPRIVATE] is never needed.

// metadataCaps: METADATA (server and mailbox entries) and METADATA-SERVER
// (server entries), RFC 5464 section 1.
const metadataCaps = "METADATA METADATA-SERVER"

// maxMetadataEntries bounds the entries of one GETMETADATA or SETMETADATA.
const maxMetadataEntries = 1000

// getMetadataReq is a parsed GETMETADATA.
type getMetadataReq struct {
	mailbox string
	server  bool // mailbox "": the server's entries
	entries []string
	depth   int   // 0, 1 or -1 (infinity)
	maxSize int64 // -1: no MAXSIZE
}

// metadataOptions reads "(" option *(SP option) ")" of GETMETADATA
// (RFC 5464 section 4.2): MAXSIZE number, DEPTH 0 / 1 / infinity.
func (p *parser) metadataOptions(r *getMetadataReq) {
	p.list(false, func() {
		switch strings.ToUpper(p.atom()) {
		case "MAXSIZE":
			p.sp()
			r.maxSize = int64(p.number())
		case "DEPTH":
			p.sp()
			switch strings.ToLower(p.atom()) {
			case "0":
				r.depth = 0
			case "1":
				r.depth = 1
			case "infinity":
				r.depth = -1
			default:
				p.fail("DEPTH must be 0, 1 or infinity")
			}
		default:
			p.fail("Unknown GETMETADATA option")
		}
	})
}

// metadataName reads an entry name (astring) and checks its form: a
// /private or /shared name (RFC 5464 section 3.2); prefix allows the bare
// "/private" and "/shared" roots that GETMETADATA may ask for with DEPTH.
func (p *parser) metadataName(prefix bool) string {
	n := p.astring()
	if p.err != nil {
		return ""
	}
	l := strings.ToLower(n)
	if prefix && (l == "/private" || l == "/shared") {
		return l
	}
	if !core.ValidMetadataName(n) {
		p.fail("Invalid entry name %q", clip([]byte(n)))
		return ""
	}
	return l
}

// parseGetMetadata reads the arguments of GETMETADATA. The options may
// come before the mailbox (RFC 5464's grammar) or after it (as go-imap's
// client sends them).
func (p *parser) parseGetMetadata() *getMetadataReq {
	r := &getMetadataReq{maxSize: -1}
	if p.peek() == '(' {
		p.metadataOptions(r)
		p.sp()
	}
	r.mailbox = p.mailbox()
	r.server = r.mailbox == ""
	p.sp()
	if p.peek() == '(' && p.pos+1 < len(p.b) && strings.ContainsRune("MmDd", rune(p.b[p.pos+1])) {
		p.metadataOptions(r)
		p.sp()
	}
	if p.peek() == '(' {
		p.list(false, func() { r.entries = append(r.entries, p.metadataName(true)) })
	} else {
		r.entries = append(r.entries, p.metadataName(true))
	}
	if len(r.entries) > maxMetadataEntries {
		p.fail("Too many entries")
	}
	p.end()
	return r
}

// parseSetMetadata reads SETMETADATA mailbox (entry value ...): a value is
// NIL (remove), a string or a literal8 (RFC 5464 section 4.3).
func (p *parser) parseSetMetadata() (string, []core.MetadataEntry) {
	mailbox := p.mailbox()
	p.sp()
	var es []core.MetadataEntry
	p.list(false, func() {
		name := p.metadataName(false)
		p.sp()
		var v []byte
		switch p.peek() {
		case '~', '{':
			b, _ := p.literal(true)
			v = bytes.Clone(b)
			if v == nil {
				v = []byte{}
			}
		default:
			if s, ok := p.nstring(); ok {
				v = []byte(s)
			}
		}
		es = append(es, core.MetadataEntry{Name: name, Value: v})
	})
	if len(es) > maxMetadataEntries {
		p.fail("Too many entries")
	}
	p.end()
	return mailbox, es
}

// literalRefusal is the wire reader's answer to a literal over its limit
// (maxLiteral, which is core.MetadataMaxValue) in a command of this file:
// SETMETADATA says NO [METADATA MAXSIZE n] (RFC 5464 section 4.3).
func literalRefusal(name string) (string, bool) {
	if name != "SETMETADATA" {
		return "", false
	}
	return "NO [METADATA MAXSIZE " + strconv.Itoa(core.MetadataMaxValue) + "] Value too large", true
}

// metadataMailbox resolves a METADATA mailbox argument: 0 for the server.
func (s *session) metadataMailbox(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	mb, err := s.srv.opts.Core.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return 0, err
	}
	return mb.ID, nil
}

// cmdGetMetadata: GETMETADATA (RFC 5464 section 4.2). A named entry that
// does not exist is answered with NIL; with MAXSIZE, longer values are left
// out and the tagged OK says [METADATA LONGENTRIES n], n the longest.
func cmdGetMetadata(s *session, c *command, p *parser) error {
	r := p.parseGetMetadata()
	if p.err != nil {
		return p.err
	}
	mbID, err := s.metadataMailbox(r.mailbox)
	if err != nil {
		return s.fail("getmetadata", err)
	}
	es, err := s.srv.opts.Core.GetMetadata(s.ctx, s.user.ID, mbID, r.entries, r.depth)
	if err != nil {
		return s.fail("getmetadata", err)
	}
	found := map[string]bool{}
	for _, e := range es {
		found[strings.ToLower(e.Name)] = true
	}
	var long int64
	w := s.w
	w.lock()
	defer w.unlock()
	n := 0
	item := func(name string, v []byte, nilValue bool) {
		if n == 0 {
			w.raw("* METADATA ")
			w.mailbox(r.mailbox)
			w.raw(" (")
		} else {
			w.sp()
		}
		n++
		w.atomOrString(name) // an entry name
		w.sp()
		if nilValue {
			w.raw("NIL")
			return
		}
		writeMetadataValue(w, v)
	}
	for _, e := range es {
		if r.maxSize >= 0 && int64(len(e.Value)) > r.maxSize {
			long = max(long, int64(len(e.Value)))
			continue
		}
		item(e.Name, e.Value, false)
	}
	for _, name := range r.entries {
		if !found[name] && name != "/private" && name != "/shared" {
			item(name, nil, true)
		}
	}
	if n > 0 {
		w.raw(")\r\n")
	}
	if long > 0 {
		return okCode(imap.ResponseCode("METADATA LONGENTRIES "+strconv.FormatInt(long, 10)), "Some values were left out")
	}
	return nil
}

// writeMetadataValue writes a value as a string, a literal, or a literal8
// when it holds NUL bytes (RFC 5464 section 5: value = nstring / literal8).
func writeMetadataValue(w *respWriter, v []byte) {
	if bytes.IndexByte(v, 0) >= 0 {
		w.byte1('~')
		w.literal(int64(len(v)))
		w.bytes(v)
		return
	}
	w.str(string(v))
}

// cmdSetMetadata: SETMETADATA (RFC 5464 section 4.3), all entries or none.
func cmdSetMetadata(s *session, c *command, p *parser) error {
	mailbox, es := p.parseSetMetadata()
	if p.err != nil {
		return p.err
	}
	mbID, err := s.metadataMailbox(mailbox)
	if err != nil {
		return s.fail("setmetadata", err)
	}
	err = s.srv.opts.Core.SetMetadata(s.ctx, s.user.ID, mbID, es)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, core.ErrMetadataTooLarge):
		return imapErr(imap.ResponseCode("METADATA MAXSIZE "+strconv.Itoa(core.MetadataMaxValue)), "Value too large")
	case errors.Is(err, core.ErrMetadataTooMany):
		return imapErr(imap.ResponseCode("METADATA TOOMANY"), "Too many entries")
	case errors.Is(err, core.ErrNotAllowed):
		return imapErr(imap.ResponseCodeNoPerm, "Server entries are set by the server's operator")
	}
	return s.fail("setmetadata", err)
}
