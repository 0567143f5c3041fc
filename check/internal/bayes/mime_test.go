package bayes

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// nested is a message of depth multiparts, each inside the last, with a
// short text part at the bottom; its size grows linearly with depth.
func nested(depth int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: nested\r\nMIME-Version: 1.0\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nthe bottom of the well\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

// flat is a plain-text message of about size bytes.
func flat(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: flat\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n")
	for b.Len() < size {
		b.WriteString("plain words of an ordinary message that is long but flat, line after line\r\n")
	}
	return b.Bytes()
}

// TestWalkMIMEDepth: nesting is followed to MaxDepth levels and no deeper;
// the walk's work is linear in the message size whatever the nesting.
func TestWalkMIMEDepth(t *testing.T) {
	for _, depth := range []int{1, 10, MaxDepth - 1, MaxDepth, 10000} {
		raw := nested(depth)
		deepest, leaves := 0, 0
		ok, work := walkMIME(raw, func(p *mimePart) bool {
			deepest = max(deepest, p.depth)
			if !p.multipart {
				leaves++
			}
			return true
		})
		if !ok {
			t.Fatalf("depth %d: walk failed", depth)
		}
		if want := min(depth, MaxDepth); deepest != want {
			t.Errorf("depth %d: deepest part at %d, want %d", depth, deepest, want)
		}
		if leaves != 1 {
			t.Errorf("depth %d: got %d leaves, want 1 (the text part, or the opaque multipart below MaxDepth)", depth, leaves)
		}
		if work > 2*len(raw) {
			t.Errorf("depth %d: walk examined %d bytes of a %d-byte message, want at most twice its size", depth, work, len(raw))
		}
	}
	// The text at the bottom is tokenized when it is within reach.
	if toks := Tokenize(nested(10)); !contains(toks, Hash("bottom")) {
		t.Errorf("text under 10 levels: token \"bottom\" missing")
	}
}

func contains(toks []uint64, t uint64) bool {
	for _, x := range toks {
		if x == t {
			return true
		}
	}
	return false
}

// TestTokenizeDeepIsLinear: tokenizing a 10,000-deep message takes at most
// 20 times as long as a flat message of the same size (relative times, the
// best of several runs, so a shared machine's noise does not decide).
func TestTokenizeDeepIsLinear(t *testing.T) {
	deep := nested(10000)
	plain := flat(len(deep))
	best := func(raw []byte) time.Duration {
		b := time.Duration(1<<63 - 1)
		for range 5 {
			start := time.Now()
			Tokenize(raw)
			b = min(b, time.Since(start))
		}
		return b
	}
	d, f := best(deep), best(plain)
	t.Logf("%d-byte message: 10,000 levels deep %v, flat %v (%.1fx)", len(deep), d, f, float64(d)/float64(f))
	if d > 20*f {
		t.Errorf("deep message: got %v, want at most 20x the flat one's %v", d, f)
	}
}

// TestTokenizeDeadline: past its deadline the tokenizer stops and says the
// tokens are incomplete.
func TestTokenizeDeadline(t *testing.T) {
	raw := nested(50)
	if _, complete := TokenizeUntil(raw, time.Now().Add(-time.Second)); complete {
		t.Errorf("deadline in the past: got complete, want incomplete")
	}
	if _, complete := TokenizeUntil(raw, time.Time{}); !complete {
		t.Errorf("no deadline: got incomplete, want complete")
	}
}

// FuzzWalkMIME: any input, including deep and broken nesting, walks
// without panicking, within the depth bound and the linear work bound
// (the fuzz engine's own per-input timeout catches anything slower).
func FuzzWalkMIME(f *testing.F) {
	f.Add(nested(3))
	f.Add(nested(MaxDepth + 5))
	f.Add(nested(2000))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nbroken header\r\n--x\r\n\r\n--x--\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n--a--\r\n--a--\r\n"))
	f.Add([]byte(strings.Repeat("--x\r\n", 1000)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, work := walkMIME(raw, func(p *mimePart) bool {
			if p.depth > MaxDepth {
				t.Fatalf("part at depth %d, want at most %d", p.depth, MaxDepth)
			}
			return true
		})
		if limit := 2*len(raw) + maxParts*maxPartHeader; work > limit {
			t.Fatalf("walk examined %d bytes of a %d-byte input, want at most %d", work, len(raw), limit)
		}
		if n := len(Tokenize(raw)); n > maxTokens {
			t.Fatalf("tokens: got %d, want at most %d", n, maxTokens)
		}
	})
}
