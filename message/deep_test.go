package message

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// nestedMessage builds a message nested depth levels deep. Bits of shape
// pick, level by level, a multipart or a message/rfc822 wrapper, a boundary
// reused from the level above, or a missing closing delimiter; leaf is the
// innermost body.
func nestedMessage(depth int, shape uint64, leaf []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nSubject: nested\r\nMIME-Version: 1.0\r\n")
	bound := make([]string, depth)
	for i := 0; i < depth; i++ {
		bits := shape >> (uint(i) % 60)
		bound[i] = fmt.Sprintf("b%d", i)
		if bits&2 != 0 && i > 0 {
			bound[i] = bound[i-1] // the same boundary as the enclosing part
		}
		if bits&1 != 0 {
			b.WriteString("Content-Type: message/rfc822\r\n\r\n")
			bound[i] = ""
			continue
		}
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n--%s\r\n", bound[i], bound[i])
	}
	b.WriteString("Content-Type: text/plain\r\n\r\n")
	b.Write(leaf)
	b.WriteString("\r\n")
	for i := depth - 1; i >= 0; i-- {
		if bound[i] != "" && (shape>>(uint(i)%60))&4 == 0 {
			fmt.Fprintf(&b, "--%s--\r\n", bound[i])
		}
	}
	return b.Bytes()
}

// FuzzParseDeep: deeply nested messages of every shape parse without
// panics, with a tree no deeper than the nesting limit, and in time linear
// in their size: within 50 times a flat message of the same size (with a
// floor of a second for machine noise).
func FuzzParseDeep(f *testing.F) {
	f.Add(uint16(10000), uint64(0), []byte("text"))
	f.Add(uint16(5000), uint64(0xAAAAAAAAAAAAAAAA), []byte("--b1\r\n"))
	f.Add(uint16(3000), uint64(0x5555555555555555), []byte("x"))
	f.Add(uint16(20000), uint64(0xFFFFFFFFFFFFFFFF), []byte("=?utf-8?b?w6k=?="))
	f.Add(uint16(101), uint64(6), []byte("Content-Type: multipart/mixed; boundary=b0\r\n"))
	f.Fuzz(func(t *testing.T, depth uint16, shape uint64, leaf []byte) {
		raw := nestedMessage(int(depth), shape, leaf)
		flat := append([]byte("Subject: flat\r\n\r\n"), bytes.Repeat([]byte("flat text line\r\n"), len(raw)/16+1)...)
		start := time.Now()
		Parse(flat)
		flatTime := time.Since(start)
		start = time.Now()
		p := Parse(raw)
		el := time.Since(start)
		checkTree(t, "deep", raw, p)
		if el > time.Second && el > 50*flatTime {
			t.Errorf("depth %d, %d bytes: parse took %v, flat message of the same size %v: want at most 50x", depth, len(raw), el, flatTime)
		}
	})
}

// TestParseDepthLimit: nesting stops at maxDepth with ErrTooComplex
// recorded, and the innermost parts past it are not descended into.
func TestParseDepthLimit(t *testing.T) {
	p := Parse(nestedMessage(maxDepth+50, 0, []byte("inner")))
	if p.Malformed == nil {
		t.Fatalf("Malformed: got nil, want ErrTooComplex")
	}
	depth := 0
	for part := p.Root; len(part.Children) > 0; part = part.Children[0] {
		depth++
	}
	if depth > maxDepth+1 {
		t.Errorf("tree depth: got %d, want at most %d", depth, maxDepth+1)
	}
	if p := Parse(nestedMessage(maxDepth-1, 0, []byte("inner text"))); p.Text != "inner text" {
		t.Errorf("nesting within the limit: Text %q, want %q", p.Text, "inner text")
	}
}
