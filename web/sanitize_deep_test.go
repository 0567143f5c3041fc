package web

import (
	"strings"
	"testing"
	"time"
)

// TestSanitizeDeepLinear: 40,000 nested elements closed in the wrong
// order, plus as many stray end tags, sanitize in at most 20 times the time
// of flat markup of the same size, and the output nests no deeper than
// maxHTMLDepth. Best of three each; only the ratio is asserted.
func TestSanitizeDeepLinear(t *testing.T) {
	const n = 40000
	deep := strings.Repeat("<div><span>", n/2) + "x" + strings.Repeat("</b></div>", n/2) + strings.Repeat("</p>", n)
	flat := strings.Repeat("<p>x</p>", len(deep)/8+1)
	var out string
	best := func(in string) time.Duration {
		b := time.Duration(1 << 62)
		for i := 0; i < 3; i++ {
			start := time.Now()
			out, _ = Sanitize(in, SanitizeOptions{})
			b = min(b, time.Since(start))
		}
		return b
	}
	tf := best(flat)
	td := best(deep)
	t.Logf("%d bytes: deep %v, flat %v (%.1fx)", len(deep), td, tf, float64(td)/float64(tf))
	if td > 20*tf {
		t.Errorf("deep markup took %v, flat markup of the same size %v: want at most 20x", td, tf)
	}
	depth, most := 0, 0
	for i := 0; i < len(out); i++ {
		if out[i] != '<' {
			continue
		}
		if i+1 < len(out) && out[i+1] == '/' {
			depth--
		} else {
			depth++
			most = max(most, depth)
		}
	}
	if most > maxHTMLDepth {
		t.Errorf("output nests %d deep, want at most %d", most, maxHTMLDepth)
	}
	if depth != 0 {
		t.Errorf("output is not well nested: depth %d at the end", depth)
	}
}
