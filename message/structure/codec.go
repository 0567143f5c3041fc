package structure

import (
	"encoding/binary"
	"errors"
)

// version is the first byte of an encoded tree. A reader that meets
// another version treats the structure as absent and recomputes it.
const version = 1

// ErrCorrupt is returned by Unmarshal for bytes it did not write.
var ErrCorrupt = errors.New("structure: corrupt encoding")

// part flags.
const (
	flHasType = 1 << iota
	flMsg
	flEnv
)

// address flags.
const (
	flGroupStart = 1 << iota
	flGroupEnd
)

// Marshal encodes a tree built by Build. shift is added to every offset but
// the root's header start: the tree of a message that is stored behind a
// prepended header block (the per-recipient Return-Path and Received
// fields) is the tree of its bytes with that block's length as shift.
func Marshal(root *Part, shift int) []byte {
	e := encoder{b: make([]byte, 0, 256), shift: shift}
	e.b = append(e.b, version)
	e.part(root, true)
	return e.b
}

type encoder struct {
	b     []byte
	shift int
}

func (e *encoder) uint(n uint64) { e.b = binary.AppendUvarint(e.b, n) }

func (e *encoder) off(n int) { e.uint(uint64(n + e.shift)) }

func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) kvs(l []KV) {
	e.uint(uint64(len(l)))
	for _, x := range l {
		e.str(x.K)
		e.str(x.V)
	}
}

func (e *encoder) part(p *Part, root bool) {
	if root {
		e.uint(uint64(p.Hdr))
	} else {
		e.off(p.Hdr)
	}
	e.off(p.Body)
	e.off(p.End)
	var fl byte
	if p.HasType {
		fl |= flHasType
	}
	if p.Msg != nil {
		fl |= flMsg
	}
	if p.Env != nil {
		fl |= flEnv
	}
	e.b = append(e.b, fl)
	e.str(p.Type)
	e.str(p.Sub)
	e.kvs(p.Params)
	e.str(p.ID)
	e.str(p.Desc)
	e.str(p.Enc)
	e.str(p.MD5)
	e.str(p.Disp)
	e.kvs(p.DispParams)
	e.uint(uint64(len(p.Lang)))
	for _, l := range p.Lang {
		e.str(l)
	}
	e.str(p.Location)
	e.uint(uint64(p.Lines))
	if p.Env != nil {
		e.env(p.Env)
	}
	e.uint(uint64(len(p.Children)))
	for _, c := range p.Children {
		e.part(c, false)
	}
	if p.Msg != nil {
		e.part(p.Msg, false)
	}
}

func (e *encoder) env(v *Envelope) {
	e.str(v.Date)
	e.str(v.Subject)
	for _, l := range [][]Addr{v.From, v.Sender, v.ReplyTo, v.To, v.Cc, v.Bcc} {
		e.uint(uint64(len(l)))
		for _, a := range l {
			var fl byte
			if a.GroupStart {
				fl |= flGroupStart
			}
			if a.GroupEnd {
				fl |= flGroupEnd
			}
			e.b = append(e.b, fl)
			e.str(a.Name)
			e.str(a.ADL)
			e.str(a.Mailbox)
			e.str(a.Host)
		}
	}
	e.str(v.InReplyTo)
	e.str(v.MessageID)
}

// Unmarshal decodes what Marshal wrote. It never panics and allocates at
// most in proportion to len(b); nesting is bounded by MaxDepth and parts by
// MaxParts, as Parse bounds them. The decoded strings share one copy of b
// (one allocation for all of them, which FETCH of a big folder feels).
func Unmarshal(b []byte) (*Part, error) {
	if len(b) == 0 || b[0] != version {
		return nil, ErrCorrupt
	}
	d := decoder{s: string(b[1:])}
	p := d.part(0)
	if d.bad || d.pos != len(d.s) {
		return nil, ErrCorrupt
	}
	return p, nil
}

type decoder struct {
	s     string
	pos   int
	bad   bool
	parts int
}

func (d *decoder) rest() int { return len(d.s) - d.pos }

func (d *decoder) uint() uint64 {
	if d.bad {
		return 0
	}
	var n uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.pos >= len(d.s) {
			break
		}
		c := d.s[d.pos]
		d.pos++
		if shift == 63 && c > 1 {
			break
		}
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return n
		}
	}
	d.bad = true
	return 0
}

// count reads a list length; each element takes at least min bytes.
func (d *decoder) count(min int) int {
	n := d.uint()
	if n > uint64(d.rest()/min) {
		d.bad = true
		return 0
	}
	return int(n)
}

func (d *decoder) int() int {
	n := d.uint()
	if n > 1<<40 {
		d.bad = true
		return 0
	}
	return int(n)
}

func (d *decoder) byte1() byte {
	if d.bad || d.pos >= len(d.s) {
		d.bad = true
		return 0
	}
	c := d.s[d.pos]
	d.pos++
	return c
}

func (d *decoder) str() string {
	n := d.uint()
	if d.bad || n > uint64(d.rest()) {
		d.bad = true
		return ""
	}
	s := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *decoder) kvs() []KV {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	out := make([]KV, n)
	for i := range out {
		out[i] = KV{d.str(), d.str()}
	}
	return out
}

func (d *decoder) part(depth int) *Part {
	d.parts++
	if depth > MaxDepth+1 || d.parts > MaxParts+1 {
		d.bad = true
	}
	if d.bad {
		return nil
	}
	p := &Part{Hdr: d.int(), Body: d.int(), End: d.int()}
	if p.Hdr > p.Body || p.Body > p.End {
		d.bad = true
		return nil
	}
	fl := d.byte1()
	p.HasType = fl&flHasType != 0
	p.Type = d.str()
	p.Sub = d.str()
	p.Params = d.kvs()
	p.ID = d.str()
	p.Desc = d.str()
	p.Enc = d.str()
	p.MD5 = d.str()
	p.Disp = d.str()
	p.DispParams = d.kvs()
	if n := d.count(1); n > 0 {
		p.Lang = make([]string, n)
		for i := range p.Lang {
			p.Lang[i] = d.str()
		}
	}
	p.Location = d.str()
	p.Lines = int64(d.int())
	if fl&flEnv != 0 {
		p.Env = d.env()
	}
	if n := d.count(4); n > 0 {
		p.Children = make([]*Part, 0, n)
		for range n {
			c := d.part(depth + 1)
			if d.bad {
				return nil
			}
			p.Children = append(p.Children, c)
		}
	}
	if fl&flMsg != 0 {
		p.Msg = d.part(depth + 1)
	}
	if d.bad {
		return nil
	}
	return p
}

func (d *decoder) env() *Envelope {
	v := &Envelope{Date: d.str(), Subject: d.str()}
	for _, l := range []*[]Addr{&v.From, &v.Sender, &v.ReplyTo, &v.To, &v.Cc, &v.Bcc} {
		n := d.count(5)
		if n == 0 {
			continue
		}
		as := make([]Addr, n)
		for i := range as {
			fl := d.byte1()
			as[i] = Addr{GroupStart: fl&flGroupStart != 0, GroupEnd: fl&flGroupEnd != 0,
				Name: d.str(), ADL: d.str(), Mailbox: d.str(), Host: d.str()}
		}
		*l = as
	}
	v.InReplyTo = d.str()
	v.MessageID = d.str()
	return v
}
