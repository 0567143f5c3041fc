package outbound

import (
	"bytes"
	"strings"
	"testing"
)

func TestFoldLongLines(t *testing.T) {
	long := strings.Repeat("abcdefghij", 500) // 5,000 characters, no blank
	words := strings.TrimSpace(strings.Repeat("word ", 1000))
	tests := []struct {
		name string
		in   string
		same bool
	}{
		{"short lines untouched", "Subject: hi\r\n\r\nbody\r\n", true},
		{"998 is the limit", "Subject: hi\r\n\r\n" + strings.Repeat("x", 998) + "\r\n", true},
		{"long body line", "Subject: hi\r\n\r\n" + long + "\r\nend\r\n", false},
		{"long header with blanks", "X-Long: " + words + "\r\n\r\nbody\r\n", false},
		{"long header without blanks", "X-Long: " + long + "\r\n\r\nbody\r\n", false},
		{"no final newline", "Subject: hi\r\n\r\n" + long, false},
	}
	for _, tc := range tests {
		got := foldLongLines([]byte(tc.in))
		if tc.same {
			if string(got) != tc.in {
				t.Errorf("%s: got changed, want untouched", tc.name)
			}
			continue
		}
		for _, l := range bytes.Split(got, []byte("\r\n")) {
			if len(l) > maxLine {
				t.Errorf("%s: got a %d-octet line, want at most %d", tc.name, len(l), maxLine)
			}
		}
		// What was removed is only the inserted line breaks (and the
		// space that starts a folded header continuation).
		flat := strings.NewReplacer("\r\n ", "", "\r\n", "").Replace(string(got))
		want := strings.NewReplacer("\r\n ", "", "\r\n", "").Replace(tc.in)
		if flat != want && strings.ReplaceAll(flat, " ", "") != strings.ReplaceAll(want, " ", "") {
			t.Errorf("%s: content changed beyond line breaks", tc.name)
		}
		hdr, _, _ := strings.Cut(string(got), "\r\n\r\n")
		for _, l := range strings.Split(hdr, "\r\n")[1:] {
			if l != "" && l[0] != ' ' && l[0] != '\t' && !strings.Contains(l, ":") {
				t.Errorf("%s: header line %.20q is not a continuation", tc.name, l)
			}
		}
	}
}

func FuzzFoldLongLines(f *testing.F) {
	f.Add([]byte("Subject: " + strings.Repeat("a ", 700) + "\r\n\r\n" + strings.Repeat("b", 3000) + "\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := foldLongLines(raw)
		for _, l := range bytes.Split(got, []byte("\n")) {
			if len(bytes.TrimRight(l, "\r")) > maxLine {
				t.Fatalf("line of %d octets left", len(l))
			}
		}
	})
}
