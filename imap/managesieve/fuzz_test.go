package managesieve

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReadCommand: the command reader never panics, never returns more
// than the input holds, and what it reads as a quoted string survives
// quote and a second read.
func FuzzReadCommand(f *testing.F) {
	for _, s := range []string{
		"PUTSCRIPT \"x\" {5+}\r\nkeep;\r\n", "AUTHENTICATE \"PLAIN\" \"AGFsaWNlAHB3\"\r\n", "LISTSCRIPTS\r\n",
		"HAVESPACE \"a\\\"b\" 100\r\n", "{3}\r\nabc\r\n", "\"unterminated\r\n", "{99999999999}\r\n", "X {2+} y\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := &reader{br: bufio.NewReader(strings.NewReader(in))}
		for range 20 {
			toks, err := r.readCommand()
			if err != nil {
				if !errors.Is(err, errSyntax) && !errors.Is(err, errTooBig) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("readCommand(%q): unexpected error %v", in, err)
				}
				return
			}
			total := 0
			for _, tk := range toks {
				total += len(tk.value)
				if !tk.atom && !strings.ContainsAny(tk.value, "\r\n\x00") {
					back := &reader{br: bufio.NewReader(strings.NewReader(quote(tk.value) + "\r\n"))}
					again, err := back.readCommand()
					if err != nil || len(again) != 1 || again[0].value != tk.value {
						t.Fatalf("quote(%q) read back as %+v, %v", tk.value, again, err)
					}
				}
			}
			if total > len(in) {
				t.Fatalf("readCommand(%q): %d bytes of tokens from %d of input", in, total, len(in))
			}
		}
	})
}
