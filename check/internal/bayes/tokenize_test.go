package bayes

import (
	"bytes"
	"testing"
)

// loadMessage is a message like the ones `stamp load smtp` sends: about
// size bytes of plain text.
func loadMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: <load@sender.example>\r\nTo: <bench@bench.test>\r\nSubject: load 1\r\n" +
		"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@sender.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
	for b.Len() < size {
		b.WriteString("The quick brown fox jumps over the lazy dog. Stamp load generator text line.\r\n")
	}
	return b.Bytes()
}

// BenchmarkTokenizeLoad measures tokenizing the load generator's 10 KB
// plain-text message, the SMTP benchmark's per-message Bayes cost.
func BenchmarkTokenizeLoad(b *testing.B) {
	raw := loadMessage(10 << 10)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		Tokenize(raw)
	}
}

// TestHashMatchesTokenizer: Hash of a token's text is the value Tokenize
// yields for it, with and without a prefix.
func TestHashMatchesTokenizer(t *testing.T) {
	got := Tokenize(loadMessage(400))
	for _, want := range []string{"quick", "The", "the", "bi:quick brown", "subject:load", "from:dom:example", "hdr:subject"} {
		found := false
		for _, g := range got {
			found = found || g == Hash(want)
		}
		if !found {
			t.Errorf("token %q: got none, want Hash(%q) among %d tokens", want, want, len(got))
		}
	}
}

// TestLooksHTML: plain text is HTML when its first 4 KB hold a telltale
// tag in any case.
func TestLooksHTML(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"hello <b>world</b>", false},
		{"x <HTML><BODY>", true},
		{"<Font color=red>", true},
		{"click <A HREF=\"x\">", true},
		{"<a  href>", false},
		{"<htm", false},
		{string(bytes.Repeat([]byte("a"), 4093)) + "<html", false},
		{string(bytes.Repeat([]byte("a"), 4091)) + "<html", true},
		{"\u212a <body>", true},
	} {
		if got := looksHTML([]byte(c.in)); got != c.want {
			t.Errorf("looksHTML(%.20q...): got %v, want %v", c.in, got, c.want)
		}
	}
}

func TestShape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Mon, 1 Jul 2002 12:00:00 -0700", "a, 9 a 9 9:9:9 -9"},
		{"20020701120000.GA1234@example.com", "9.A9@a.a"},
		{"Sáb, 01 Jul 2002", "a, 9 a 9"}, // non-ASCII letters are letters: no script is told apart
		{"ABC  def", "A a"},
	} {
		if got := shape(c.in, 40); got != c.want {
			t.Errorf("shape(%q): got %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ name, addr, want string }{
		{"JOHN SMITH", "js@example.com", "caps:2"},
		{"john", "john@example.com", "islocal"},
		{"Anna Meyer 2", "a@example.com", "mixed+digits:3"},
		{"김민수", "k@example.com", ""}, // no case: no shape token
	} {
		if got := nameShape(c.name, c.addr); got != c.want {
			t.Errorf("nameShape(%q, %q): got %q, want %q", c.name, c.addr, got, c.want)
		}
	}
}
