package message

import (
	"bytes"
	"testing"
)

func BenchmarkParseNested(b *testing.B) {
	raw := []byte(crlf(nested))
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		Parse(raw)
	}
}

func BenchmarkParseAttachment1MB(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 750<<10)
	raw, err := Compose(Composition{From: Address{"", "a@b.c"}, Text: "hi", HTML: "<p>hi</p>",
		Attachments: []ComposeAttachment{{Filename: "a.bin", Data: data}}}, "h")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		p := Parse(raw)
		Segments(raw, p, 1024)
	}
}
