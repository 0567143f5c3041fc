package imap

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// writeBodyStructure writes BODY (ext false) or BODYSTRUCTURE of p (RFC
// 9051 section 7.5.2), a tree from structure.Build or the stored one: no
// message bytes are read. Recursion follows the part tree, which the
// parser bounds at maxMIMEDepth.
func (w *respWriter) writeBodyStructure(p *part, ext bool) {
	if p.Type == "multipart" {
		w.byte1('(')
		if len(p.Children) == 0 {
			// RFC 9051 requires at least one part: show an empty text part.
			w.raw(`("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)`)
		}
		for _, c := range p.Children {
			w.writeBodyStructure(c, ext)
		}
		w.sp()
		w.str(p.Sub)
		if ext {
			w.sp()
			w.params(p.Params)
			w.extTail(p)
		}
		w.byte1(')')
		return
	}
	w.byte1('(')
	w.str(p.Type)
	w.sp()
	w.str(p.Sub)
	w.sp()
	w.params(p.Params)
	w.sp()
	w.nstr(p.ID)
	w.sp()
	w.nstr(p.Desc)
	w.sp()
	enc := p.Enc
	if enc == "" {
		enc = "7bit"
	}
	w.str(enc)
	w.sp()
	w.num64(uint64(p.End - p.Body))
	if p.Msg != nil {
		w.sp()
		w.writeEnvelope(p.Msg.Env)
		w.sp()
		w.writeBodyStructure(p.Msg, ext)
		w.sp()
		w.num64(uint64(p.Lines))
	} else if p.Type == "text" {
		w.sp()
		w.num64(uint64(p.Lines))
	}
	if ext {
		w.sp()
		w.nstr(p.MD5)
		w.extTail(p)
	}
	w.byte1(')')
}

// extTail writes the extension data every part ends with: disposition,
// language and location (RFC 9051 section 7.5.2, body-ext-1part/mpart).
func (w *respWriter) extTail(p *part) {
	w.sp()
	w.disposition(p)
	w.sp()
	w.lang(p.Lang)
	w.sp()
	w.nstr(p.Location)
}

func (w *respWriter) params(ps []kv) {
	if len(ps) == 0 {
		w.raw("NIL")
		return
	}
	w.byte1('(')
	for i, p := range ps {
		if i > 0 {
			w.sp()
		}
		w.str(p.K)
		w.sp()
		w.str(p.V)
	}
	w.byte1(')')
}

func (w *respWriter) disposition(p *part) {
	if p.Disp == "" {
		w.raw("NIL")
		return
	}
	w.byte1('(')
	w.str(p.Disp)
	w.sp()
	w.params(p.DispParams)
	w.byte1(')')
}

func (w *respWriter) lang(l []string) {
	switch len(l) {
	case 0:
		w.raw("NIL")
	case 1:
		w.str(l[0])
	default:
		w.byte1('(')
		for i, x := range l {
			if i > 0 {
				w.sp()
			}
			w.str(x)
		}
		w.byte1(')')
	}
}

// bodySection returns the bytes of a BODY[section] (RFC 9051 section
// 6.4.5), or nil when the part does not exist.
func bodySection(raw []byte, root *part, item *imap.FetchItemBodySection) []byte {
	p := root
	if len(item.Part) > 0 {
		if p = root.Find(item.Part); p == nil {
			return nil
		}
	}
	// HEADER, HEADER.FIELDS and TEXT of a part apply to its encapsulated
	// message (message/rfc822); of the top level, to the message.
	msg := p
	if len(item.Part) > 0 && item.Specifier != imap.PartSpecifierMIME && item.Specifier != imap.PartSpecifierNone {
		if p.Msg == nil {
			return nil
		}
		msg = p.Msg
	}
	switch item.Specifier {
	case imap.PartSpecifierNone:
		if len(item.Part) == 0 {
			return raw
		}
		return raw[p.Body:p.End]
	case imap.PartSpecifierMIME:
		return raw[p.Hdr:p.Body]
	case imap.PartSpecifierText:
		return raw[msg.Body:msg.End]
	case imap.PartSpecifierHeader:
		h := raw[msg.Hdr:msg.Body]
		if item.HeaderFields == nil && item.HeaderFieldsNot == nil {
			return h
		}
		return filterHeader(h, item.HeaderFields, item.HeaderFieldsNot)
	}
	return nil
}

// filterHeader keeps (or drops, for HEADER.FIELDS.NOT) the named fields,
// folded lines included, and ends with the blank line.
func filterHeader(h []byte, keep, drop []string) []byte {
	var out []byte
	in := false
	for len(h) > 0 {
		j := bytes.IndexByte(h, '\n')
		var line []byte
		if j < 0 {
			line, h = h, nil
		} else {
			line, h = h[:j+1], h[j+1:]
		}
		t := bytes.TrimRight(line, "\r\n")
		if len(t) == 0 {
			break
		}
		if t[0] != ' ' && t[0] != '\t' {
			name := t
			if c := bytes.IndexByte(t, ':'); c >= 0 {
				name = bytes.TrimSpace(t[:c])
			}
			if keep != nil {
				in = hasField(keep, string(name))
			} else {
				in = !hasField(drop, string(name))
			}
		}
		if in {
			out = append(out, t...)
			out = append(out, '\r', '\n')
		}
	}
	return append(out, '\r', '\n')
}

func hasField(list []string, name string) bool {
	for _, f := range list {
		if strings.EqualFold(f, name) {
			return true
		}
	}
	return false
}

// errUnknownCTE is a part whose transfer encoding BINARY cannot decode
// (RFC 3516 section 4.3: NO [UNKNOWN-CTE]).
var errUnknownCTE = errors.New("unknown content transfer encoding")

// binarySection decodes the part's content transfer encoding (RFC 3516).
// ok is false when the part does not exist.
func binarySection(raw []byte, root *part, path []int) ([]byte, bool, error) {
	if len(path) == 0 {
		return raw, true, nil
	}
	p := root.Find(path)
	if p == nil {
		return nil, false, nil
	}
	if p.Type == "multipart" {
		return raw[p.Body:p.End], true, nil
	}
	out, err := decodePartBody(raw, p)
	return out, true, err
}

// decodePartBody undoes a leaf part's content transfer encoding.
func decodePartBody(raw []byte, p *part) ([]byte, error) {
	body := raw[p.Body:p.End]
	switch strings.ToLower(strings.TrimSpace(p.Enc)) {
	case "", "7bit", "8bit", "binary":
		return body, nil
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				clean = append(clean, c)
			}
		}
		// Tolerate missing padding and trailing junk as other servers do.
		if i := bytes.IndexByte(clean, '='); i >= 0 {
			clean = clean[:i]
		}
		out, err := base64.RawStdEncoding.DecodeString(string(clean))
		if err != nil {
			var ce base64.CorruptInputError
			if errors.As(err, &ce) {
				out, _ = base64.RawStdEncoding.DecodeString(string(clean[:int(ce)/4*4]))
			}
		}
		return out, nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil && len(out) == 0 {
			return body, nil
		}
		return out, nil
	}
	return nil, errUnknownCTE
}

// convertBinary rewrites the leaf parts whose body holds NUL bytes (sent
// with BINARY's literal8, RFC 3516 section 4.4) as base64, so that the
// stored message is valid RFC 5322 and BODY[] keeps working. Other bytes
// are left as they are.
func convertBinary(raw []byte) []byte {
	if bytes.IndexByte(raw, 0) < 0 {
		return raw
	}
	root := parseMIME(raw)
	var leaves []*part
	var walk func(p *part)
	walk = func(p *part) {
		switch {
		case p.Type == "multipart" && len(p.Children) > 0:
			for _, c := range p.Children {
				walk(c)
			}
		case p.Msg != nil:
			walk(p.Msg)
		default:
			if bytes.IndexByte(raw[p.Body:p.End], 0) >= 0 {
				leaves = append(leaves, p)
			}
		}
	}
	walk(root)
	var out []byte
	at := 0
	for _, p := range leaves {
		body, err := decodePartBody(raw, p)
		if err != nil {
			body = raw[p.Body:p.End]
		}
		// The header without its Content-Transfer-Encoding, then ours.
		hdr := raw[p.Hdr:p.Body]
		out = append(out, raw[at:p.Hdr]...)
		out = append(out, dropField(hdr, "Content-Transfer-Encoding")...)
		out = append(out, "Content-Transfer-Encoding: base64\r\n\r\n"...)
		enc := base64.StdEncoding.EncodeToString(body)
		for len(enc) > 76 {
			out = append(out, enc[:76]...)
			out = append(out, '\r', '\n')
			enc = enc[76:]
		}
		out = append(out, enc...)
		out = append(out, '\r', '\n')
		at = p.End
	}
	return append(out, raw[at:]...)
}

// dropField returns the header without the named field and without its
// blank line (the lines as filterHeader writes them, CRLF-terminated).
func dropField(h []byte, name string) []byte {
	out := filterHeader(h, nil, []string{name})
	return out[:len(out)-2]
}
