package message

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// rebuild concatenates the ranges and checks they are contiguous.
func rebuild(t testing.TB, raw []byte, rs []Range) []byte {
	t.Helper()
	var out []byte
	pos := int64(0)
	for _, r := range rs {
		if r.Start != pos || r.End <= r.Start {
			t.Fatalf("range %v after %d: not contiguous or empty", r, pos)
		}
		out = append(out, raw[r.Start:r.End]...)
		pos = r.End
	}
	if pos != int64(len(raw)) {
		t.Fatalf("ranges end at %d, want %d", pos, len(raw))
	}
	return out
}

// genMessage builds a random MIME message: nesting, encodings, line endings,
// sometimes broken.
func genMessage(r *rand.Rand, attachment []byte) []byte {
	eol := "\r\n"
	if r.Intn(4) == 0 {
		eol = "\n"
	}
	var b strings.Builder
	var part func(depth int)
	part = func(depth int) {
		switch k := r.Intn(6); {
		case depth < 3 && k < 2:
			bd := fmt.Sprintf("b%d_%d", depth, r.Intn(1000))
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"%s%s", bd, eol, eol)
			if r.Intn(2) == 0 {
				b.WriteString("preamble" + eol)
			}
			n := 1 + r.Intn(3)
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, "--%s%s", bd, eol)
				part(depth + 1)
				b.WriteString(eol)
			}
			if r.Intn(8) != 0 {
				fmt.Fprintf(&b, "--%s--%s", bd, eol)
			}
		case k == 2:
			fmt.Fprintf(&b, "Content-Type: application/octet-stream%sContent-Transfer-Encoding: base64%sContent-Disposition: attachment; filename=a.bin%s%s", eol, eol, eol, eol)
			b.Write(attachment)
		case k == 3:
			fmt.Fprintf(&b, "Content-Type: text/plain; charset=iso-8859-1%sContent-Transfer-Encoding: quoted-printable%s%scaf=E9 =%s%d", eol, eol, eol, eol, r.Int())
		case k == 4 && depth < 3:
			fmt.Fprintf(&b, "Content-Type: message/rfc822%s%sSubject: inner%s", eol, eol, eol)
			part(depth + 1)
		default:
			fmt.Fprintf(&b, "%stext %d%s", eol, r.Int(), eol)
		}
	}
	fmt.Fprintf(&b, "From: a@b.c%sSubject: gen%s", eol, eol)
	part(0)
	return []byte(b.String())
}

func TestSegmentsRebuild(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	att := []byte(strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n", 40))
	for i := 0; i < 500; i++ {
		raw := genMessage(r, att)
		p := Parse(raw)
		checkTree(t, fmt.Sprint("generated ", i), raw, p)
		for _, min := range []int{0, 1, 100, 1 << 20} {
			rs := Segments(raw, p, min)
			if got := rebuild(t, raw, rs); !bytes.Equal(got, raw) {
				t.Fatalf("message %d min %d: rebuilt differs", i, min)
			}
		}
	}
}

func TestSegmentsAttachmentRange(t *testing.T) {
	att := strings.Repeat("QUJD", 300) // 1200 bytes of base64
	mk := func(text string) []byte {
		return []byte(crlf("From: a@b.c\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\n" + text +
			"\n--x\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n" + att + "\n--x\nContent-Type: image/gif\n\nsmall\n--x--\n"))
	}
	a, b := mk("hello"), mk("a different text")
	ra, rb := Segments(a, nil, 1000), Segments(b, nil, 1000)
	if len(ra) != 3 || len(rb) != 3 {
		t.Fatalf("got %d and %d ranges, want 3 each: %v %v", len(ra), len(rb), ra, rb)
	}
	if got := string(a[ra[1].Start:ra[1].End]); got != att {
		t.Errorf("attachment range: got %.20q..., want the encoded body", got)
	}
	if !bytes.Equal(a[ra[1].Start:ra[1].End], b[rb[1].Start:rb[1].End]) {
		t.Errorf("same attachment in two messages gave different segments")
	}
	if got := Segments(a, nil, 0); len(got) != 5 {
		t.Errorf("minSize 0: got %d ranges, want 5 (both attachments cut out)", len(got))
	}
	if got := Segments(nil, nil, 0); len(got) != 0 {
		t.Errorf("empty message: got %v, want no ranges", got)
	}
}
