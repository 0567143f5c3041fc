package message

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are messages that exercise the scanner's corners.
var fuzzSeeds = []string{
	nested,
	"Subject: x\r\n\r\nbody",
	"Subject: x",
	"",
	"\n\n\n",
	"From nobody Mon Jan 1 00:00:00 2001\nSubject: mbox\n\nx",
	"Content-Type: multipart/mixed; boundary=a\n\n--a\n--a\n--a--",
	"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=a\n\n--a--\n--a--",
	"Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: q\n\nx\n--d--",
	"Content-Transfer-Encoding: base64\n\n====",
	"Content-Transfer-Encoding: quoted-printable\n\n=\n=4\n=ZZ",
	"Content-Type: text/html\n\n<<<>>><!--<script>",
	"Subject: =?utf-8?b?w6k=?= =?bogus?q?x?= =?utf-8?q?",
	"To: \"unterminated <a@b>, (comment <c@d>, e@f\nDate: garbage",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := Parse(raw)
		checkTree(t, "fuzz", raw, p)
		if !utf8.ValidString(p.Text) || !utf8.ValidString(p.Subject) || !utf8.ValidString(p.Snippet) {
			t.Errorf("invalid UTF-8 in output")
		}
		if len(p.Text) > maxText {
			t.Errorf("Text of %d bytes, want at most %d", len(p.Text), maxText)
		}
		for _, a := range p.Attachments {
			if _, err := DecodePart(raw, a.Part); err != nil && !strings.Contains(err.Error(), "base64") {
				t.Errorf("DecodePart: %v", err)
			}
		}
	})
}

func FuzzSegments(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), 0)
		f.Add([]byte(s), 5)
	}
	f.Fuzz(func(t *testing.T, raw []byte, min int) {
		rs := Segments(raw, nil, min)
		if got := rebuild(t, raw, rs); !bytes.Equal(got, raw) {
			t.Errorf("rebuilt message differs")
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"a@b.c", "A.B+c@[1.2.3.4]", `"x y"@z.org`, "jörg@bücher.de", "@", "a@b..c", "a@-b.c", strings.Repeat("a", 65) + "@b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAddress(s)
		if err != nil {
			return
		}
		if again, err := ParseAddress(got); err != nil || again != got {
			t.Errorf("ParseAddress(%q) = %q, but re-parsing gives %q, %v", s, got, again, err)
		}
		if i := strings.LastIndexByte(got, '@'); i < 1 || i > 64 || len(got)-i-1 > 255 {
			t.Errorf("ParseAddress(%q) = %q breaks the length limits", s, got)
		}
		list, err := ParseAddressList(s)
		_ = list
		_ = err
	})
}
