package message

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// crlf turns LF line endings into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParseHeaders(t *testing.T) {
	cases := []struct {
		name, header string
		check        func(p *Parsed) (got, want any)
	}{
		{"utf-8 Q subject", "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=",
			func(p *Parsed) (any, any) { return p.Subject, "Grüße aus Köln" }},
		{"iso-8859-1 B subject", "Subject: =?iso-8859-1?B?Q2Fm6Q==?=",
			func(p *Parsed) (any, any) { return p.Subject, "Café" }},
		{"adjacent words join", "Subject: =?utf-8?q?a?= =?utf-8?q?b?= c",
			func(p *Parsed) (any, any) { return p.Subject, "ab c" }},
		{"koi8-r subject", "Subject: =?koi8-r?B?8NLJ18XU?=",
			func(p *Parsed) (any, any) { return p.Subject, "Привет" }},
		{"windows-1252 subject", "Subject: =?windows-1252?Q?=93quoted=94_=80?=",
			func(p *Parsed) (any, any) { return p.Subject, "“quoted” €" }},
		{"unknown charset word kept readable", "Subject: =?x-bogus?Q?abc?=",
			func(p *Parsed) (any, any) { return p.Subject, "abc" }},
		{"raw latin-1 subject", "Subject: caf\xe9",
			func(p *Parsed) (any, any) { return p.Subject, "café" }},
		{"folded subject", "Subject: one\n two",
			func(p *Parsed) (any, any) { return p.Subject, "one two" }},
		{"from with encoded name", "From: =?utf-8?q?J=C3=B6rg?= <j@example.org>",
			func(p *Parsed) (any, any) { return p.From, []Address{{"Jörg", "j@example.org"}} }},
		{"broken list keeps the good ones", "To: a@x.org, <broken, \"B\" <b@y.org>, junk",
			func(p *Parsed) (any, any) {
				return p.To, []Address{{"", "a@x.org"}, {"B", "b@y.org"}}
			}},
		{"two To fields", "To: a@x.org\nTo: b@y.org",
			func(p *Parsed) (any, any) { return p.To, []Address{{"", "a@x.org"}, {"", "b@y.org"}} }},
		{"group", "To: undisclosed-recipients:;",
			func(p *Parsed) (any, any) { return len(p.To), 0 }},
		{"date", "Date: Tue, 1 Jul 2003 10:52:37 +0200",
			func(p *Parsed) (any, any) {
				return p.Date.UTC(), time.Date(2003, 7, 1, 8, 52, 37, 0, time.UTC)
			}},
		{"date with comment", "Date: Tue,  1 Jul 2003 10:52:37 -0000 (GMT)",
			func(p *Parsed) (any, any) { return p.Date.UTC(), time.Date(2003, 7, 1, 10, 52, 37, 0, time.UTC) }},
		{"date +-zone", "Date: Thu, 29 Aug 2002 15:36:58 +-0500",
			func(p *Parsed) (any, any) { return p.Date.UTC(), time.Date(2002, 8, 29, 20, 36, 58, 0, time.UTC) }},
		{"date zone name in words", "Date: Fri, 30 Aug 02 21:48:08 Eastern Daylight Time",
			func(p *Parsed) (any, any) { return p.Date.UTC(), time.Date(2002, 8, 30, 21, 48, 8, 0, time.UTC) }},
		{"date am/pm", "Date: 27 Jun 01 3:36:25 PM",
			func(p *Parsed) (any, any) { return p.Date.UTC(), time.Date(2001, 6, 27, 15, 36, 25, 0, time.UTC) }},
		{"date unpadded, no space after comma", "Date: Wed,29 May 2002 1:5:3 +0000",
			func(p *Parsed) (any, any) { return p.Date.UTC(), time.Date(2002, 5, 29, 1, 5, 3, 0, time.UTC) }},
		{"date unsigned zone", "Date: Fri, 02 Aug 2002 23:37:59 0530",
			func(p *Parsed) (any, any) { return p.Date.UTC(), time.Date(2002, 8, 2, 18, 7, 59, 0, time.UTC) }},
		{"date asctime", "Date: Sat Sep 21 08:18:08 2002",
			func(p *Parsed) (any, any) { return p.Date.UTC(), time.Date(2002, 9, 21, 8, 18, 8, 0, time.UTC) }},
		{"bad date", "Date: yesterday",
			func(p *Parsed) (any, any) { return p.Date.IsZero(), true }},
		{"message-id", "Message-ID:  <abc@host>  ",
			func(p *Parsed) (any, any) { return p.MessageID, "abc@host" }},
		{"message-id without brackets", "Message-ID: abc@host",
			func(p *Parsed) (any, any) { return p.MessageID, "abc@host" }},
		{"in-reply-to with junk", "In-Reply-To: message from X <a@b> of Monday",
			func(p *Parsed) (any, any) { return p.InReplyTo, []string{"a@b"} }},
		{"references folded", "References: <a@b>\n\t<c@d> <e@f>",
			func(p *Parsed) (any, any) { return p.References, []string{"a@b", "c@d", "e@f"} }},
	}
	for _, c := range cases {
		for _, eol := range []string{"\n", "\r\n"} {
			raw := strings.ReplaceAll(c.header+"\n\nbody\n", "\n", eol)
			p := Parse([]byte(raw))
			got, want := c.check(p)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (eol %q): got %#v, want %#v", c.name, eol, got, want)
			}
		}
	}
}

// nested is a message with nested multiparts, an embedded message and odd
// whitespace after a delimiter.
const nested = `From: a@x.org
To: b@y.org
Subject: nested
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

caf=E9 au lait=
 soft
--inner
Content-Type: text/html; charset=utf-8

<p>caf&eacute; <b>au</b> lait</p>
--inner--
--outer  
Content-Type: application/pdf; name="r=?utf-8?q?=C3=A9?=sum=?utf-8?q?=C3=A9?=.pdf"
Content-Transfer-Encoding: base64

SGVsbG8gUERG
--outer
Content-Type: message/rfc822

From: c@z.org
Subject: inner message
Content-Type: multipart/mixed; boundary=deep

--deep

deep text
--deep
Content-Type: image/png
Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.png

PNG
--deep--
--outer--
epilogue
`

func TestParseStructure(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		raw := []byte(strings.ReplaceAll(nested, "\n", eol))
		p := Parse(raw)
		if p.Malformed != nil {
			t.Errorf("eol %q: Malformed: %v", eol, p.Malformed)
		}
		type want struct {
			path, ctype, header, body string
		}
		wants := []want{
			{"", "multipart/mixed", "From: a@x.org", "preamble\n--outer\n"},
			{"1", "multipart/alternative", "Content-Type: multipart/alternative", "--inner\nContent-Type: text/plain"},
			{"1.1", "text/plain", "Content-Type: text/plain", "caf=E9 au lait=\n soft"},
			{"1.2", "text/html", "Content-Type: text/html", "<p>caf&eacute; <b>au</b> lait</p>"},
			{"2", "application/pdf", "Content-Type: application/pdf", "SGVsbG8gUERG"},
			{"3", "message/rfc822", "Content-Type: message/rfc822", "From: c@z.org\nSubject: inner message\n"},
			{"3.1", "text/plain", "\ndeep text", "deep text"},
			{"3.2", "image/png", "Content-Type: image/png", "PNG"},
		}
		for _, w := range wants {
			part := FindPart(p.Root, w.path)
			if part == nil {
				t.Errorf("eol %q: part %q not found", eol, w.path)
				continue
			}
			body := strings.ReplaceAll(string(raw[part.BodyStart:part.BodyEnd]), "\r\n", "\n")
			head := strings.ReplaceAll(string(raw[part.HeaderStart:]), "\r\n", "\n")
			if part.Path != w.path || part.ContentType != w.ctype {
				t.Errorf("eol %q: part %q: got path %q type %q, want type %q", eol, w.path, part.Path, part.ContentType, w.ctype)
			}
			if !strings.HasPrefix(head, w.header) {
				t.Errorf("eol %q: part %q header: got %.40q, want prefix %q", eol, w.path, head, w.header)
			}
			if w.path != "" && w.path != "1" && w.path != "3" && body != w.body {
				t.Errorf("eol %q: part %q body: got %q, want %q", eol, w.path, body, w.body)
			}
			if !strings.HasPrefix(body, w.body) {
				t.Errorf("eol %q: part %q body: got %.60q, want prefix %q", eol, w.path, body, w.body)
			}
		}
		if got, want := p.Root.BodyEnd, int64(len(raw)); got != want {
			t.Errorf("root BodyEnd: got %d, want %d", got, want)
		}
		if got, want := p.HeaderSize, int64(strings.Index(string(raw), "preamble")); got != want {
			t.Errorf("HeaderSize: got %d, want %d", got, want)
		}
		if got, want := p.Text, "café au lait soft"; got != want {
			t.Errorf("Text: got %q, want %q", got, want)
		}
		if got, want := p.HTML, "<p>caf&eacute; <b>au</b> lait</p>"; got != want {
			t.Errorf("HTML: got %q, want %q", got, want)
		}
		emb := FindPart(p.Root, "3")
		if emb.Message == nil || emb.Message.header.get("Subject") != "inner message" {
			t.Errorf("embedded message root missing or wrong: %+v", emb.Message)
		}
		var got []string
		for _, a := range p.Attachments {
			got = append(got, a.Part.Path+" "+a.ContentType+" "+a.Filename)
		}
		wantA := []string{"2 application/pdf résumé.pdf", "3 message/rfc822 "}
		if !reflect.DeepEqual(got, wantA) {
			t.Errorf("attachments: got %q, want %q", got, wantA)
		}
		if a := p.Attachments[0]; a.Size != 9 || a.Hash != sha("Hello PDF") {
			t.Errorf("pdf attachment: got size %d hash %s, want 9 and %s", a.Size, a.Hash, sha("Hello PDF"))
		}
		if f := FindPart(p.Root, "3.2").Filename; f != "€.png" {
			t.Errorf("RFC 2231 filename: got %q, want %q", f, "€.png")
		}
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParseBodies(t *testing.T) {
	cases := []struct {
		name, raw       string
		text, snippet   string
		malformed       error // nil means none expected
		attachmentCount int
	}{
		{"plain", "Subject: x\n\nhello\n  world\n", "hello\n  world\n", "hello world", nil, 0},
		{"no blank line", "Subject: x\nFrom: a@b.c", "", "", nil, 0},
		{"header then body without blank line", "Subject: x\nhello there\n", "hello there\n", "hello there", nil, 0},
		{"iso-8859-1", "Content-Type: text/plain; charset=iso-8859-1\n\ncaf\xe9\n", "café\n", "café", nil, 0},
		{"windows-1252", "Content-Type: text/plain; charset=windows-1252\n\n\x93hi\x94 \x80\n", "“hi” €\n", "“hi” €", nil, 0},
		{"koi8-r", "Content-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4\n", "Привет\n", "Привет", nil, 0},
		{"unknown charset latin", "Content-Type: text/plain; charset=x-unknown-thing\n\ncaf\xe9\n", "café\n", "café", nil, 0},
		{"us-ascii with 8bit", "Content-Type: text/plain; charset=us-ascii\n\ncaf\xe9\n", "café\n", "café", nil, 0},
		{"utf-8 broken", "Content-Type: text/plain; charset=utf-8\n\ncaf\xe9!\n", "caf\uFFFD!\n", "caf\uFFFD!", nil, 0},
		{"base64 text", "Content-Transfer-Encoding: base64\n\naGVsbG8g\nd29ybGQ=\n", "hello world", "hello world", nil, 0},
		{"bad base64", "Content-Transfer-Encoding: base64\n\naGVs!bG8=\n", "hello", "hello", ErrBadBase64, 0},
		{"qp", "Content-Transfer-Encoding: quoted-printable\n\na=3Db =\nc=XY\n", "a=b c=XY\n", "a=b c=XY", nil, 0},
		{"html only", "Content-Type: text/html\n\n<html><head><title>t</title><style>p{}</style></head><body><p>Hello&nbsp;<b>you</b></p><script>x()</script><div>two</div></body></html>",
			"Hello you\ntwo", "Hello you two", nil, 0},
		{"missing closing boundary", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n", "one\ntwo\n", "one two", ErrMissingBoundary, 0},
		{"no parts", "Content-Type: multipart/mixed; boundary=b\n\njust text\n", "just text\n", "just text", ErrNoParts, 0},
		{"no boundary param", "Content-Type: multipart/mixed\n\njust text\n", "just text\n", "just text", ErrNoParts, 0},
		{"text attachment not in text", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n--b\nContent-Disposition: attachment; filename=a.txt\n\nfile\n--b--\n", "body", "body", nil, 1},
		{"bad content type", "Content-Type: ;;;\n\nhi\n", "hi\n", "hi", ErrBadContentType, 0},
		{"content type missing semicolon", "Content-Type: TEXT/PLAIN charset=ISO-8859-1\n\ncaf\xe9\n", "café\n", "café", nil, 0},
		{"empty", "", "", "", nil, 0},
	}
	for _, c := range cases {
		p := Parse([]byte(c.raw))
		if p.Text != c.text {
			t.Errorf("%s: Text: got %q, want %q", c.name, p.Text, c.text)
		}
		if p.Snippet != c.snippet {
			t.Errorf("%s: Snippet: got %q, want %q", c.name, p.Snippet, c.snippet)
		}
		if c.malformed == nil && p.Malformed != nil || c.malformed != nil && !errors.Is(p.Malformed, c.malformed) {
			t.Errorf("%s: Malformed: got %v, want %v", c.name, p.Malformed, c.malformed)
		}
		if len(p.Attachments) != c.attachmentCount {
			t.Errorf("%s: got %d attachments, want %d", c.name, len(p.Attachments), c.attachmentCount)
		}
		checkTree(t, c.name, []byte(c.raw), p)
	}
}

// checkTree verifies the invariants of a Part tree: offsets ordered and in
// range, children inside their parent, IMAP numbering, leaf "1" for
// single-part messages.
func checkTree(t *testing.T, name string, raw []byte, p *Parsed) {
	t.Helper()
	if p.Root == nil {
		t.Fatalf("%s: nil Root", name)
	}
	if len(p.Root.Children) == 0 {
		t.Errorf("%s: root has no children, want at least part 1", name)
	}
	n := int64(len(raw))
	var walk func(part *Part, depth int)
	walk = func(part *Part, depth int) {
		if depth > maxDepth+2 {
			t.Fatalf("%s: tree too deep", name)
		}
		if !(0 <= part.HeaderStart && part.HeaderStart <= part.BodyStart && part.BodyStart <= part.BodyEnd && part.BodyEnd <= n) {
			t.Errorf("%s: part %q offsets out of order: %d %d %d (len %d)", name, part.Path, part.HeaderStart, part.BodyStart, part.BodyEnd, n)
		}
		prevEnd := part.BodyStart
		if part.Message != nil {
			prevEnd = part.Message.BodyStart
		}
		for i, c := range part.Children {
			if want := childPath(part.Path, i+1); c.Path != want {
				t.Errorf("%s: child path: got %q, want %q", name, c.Path, want)
			}
			if c.HeaderStart < prevEnd && !(part.Path == "" && i == 0 && len(part.Children) == 1 && c.HeaderStart == part.HeaderStart) &&
				!(part.Message != nil && len(part.Children) == 1 && c.HeaderStart == part.Message.HeaderStart) {
				t.Errorf("%s: child %q starts at %d before %d", name, c.Path, c.HeaderStart, prevEnd)
			}
			if c.BodyEnd > part.BodyEnd {
				t.Errorf("%s: child %q ends at %d past parent end %d", name, c.Path, c.BodyEnd, part.BodyEnd)
			}
			prevEnd = c.BodyEnd
			walk(c, depth+1)
		}
	}
	walk(p.Root, 0)
}

func TestSinglePartNumbering(t *testing.T) {
	raw := []byte("Subject: x\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsD\r\n")
	p := Parse(raw)
	one := FindPart(p.Root, "1")
	if one == nil || one.BodyStart != p.Root.BodyStart || one.BodyEnd != p.Root.BodyEnd || one.ContentType != "application/zip" {
		t.Fatalf("part 1: got %+v, want the body of the root", one)
	}
	if len(p.Attachments) != 1 || p.Attachments[0].Part != one || p.Attachments[0].Size != 3 {
		t.Errorf("attachments: got %+v, want part 1 of 3 bytes", p.Attachments)
	}
	for _, path := range []string{"2", "1.1", "0", "x", "1."} {
		if got := FindPart(p.Root, path); got != nil {
			t.Errorf("FindPart(%q): got %q, want nil", path, got.Path)
		}
	}
	if FindPart(p.Root, "") != p.Root {
		t.Errorf("FindPart(\"\"): want root")
	}
}

func TestEmbeddedSinglePart(t *testing.T) {
	raw := []byte(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: in\n\ninner body\n--b--\n"))
	p := Parse(raw)
	part := FindPart(p.Root, "1.1")
	if part == nil {
		t.Fatal("part 1.1 missing")
	}
	if got := string(raw[part.BodyStart:part.BodyEnd]); got != "inner body" {
		t.Errorf("1.1 body: got %q, want %q", got, "inner body")
	}
	checkTree(t, "embedded", raw, p)
}

func TestDecodePart(t *testing.T) {
	cases := []struct {
		enc, body, want string
		bad             bool
	}{
		{"base64", "aGVs\r\nbG8=\r\n", "hello", false},
		{"base64", "aGVsbG8", "hello", false},
		{"base64", "aGVs*bG8=", "hello", true},
		{"base64", "aGVsb", "hel", true},
		{"quoted-printable", "a=20b=\r\nc\r\n", "a bc\r\n", false},
		{"quoted-printable", "trailing   \r\n=C3=A9", "trailing\r\né", false},
		{"7bit", "as is", "as is", false},
		{"x-uuencode", "as is", "as is", false},
	}
	for _, c := range cases {
		raw := []byte("X: y\r\n\r\n" + c.body)
		part := &Part{Encoding: c.enc, BodyStart: 8, BodyEnd: int64(len(raw))}
		got, err := DecodePart(raw, part)
		if string(got) != c.want || (err != nil) != c.bad {
			t.Errorf("%s %q: got %q, %v; want %q, error %v", c.enc, c.body, got, err, c.want, c.bad)
		}
	}
	if _, err := DecodePart([]byte("x"), &Part{BodyStart: 0, BodyEnd: 5}); err == nil {
		t.Errorf("out of range part: got nil error, want one")
	}
}

func TestNormalizeSubject(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Hello", "hello"},
		{"Re: Hello", "hello"},
		{"RE: Fwd: re:  Hello   World ", "hello world"},
		{"[list] Re: [other] AW: WG: SV: Fw: topic", "topic"},
		{"Re[2]: topic", "topic"},
		{"Re(3): topic (fwd)", "topic"},
		{"Regarding: x", "regarding: x"},
		{"Re: ", ""},
		{"[unterminated topic", "[unterminated topic"},
	}
	for _, c := range cases {
		if got := NormalizeSubject(c.in); got != c.want {
			t.Errorf("NormalizeSubject(%q): got %q, want %q", c.in, got, c.want)
		}
	}
}
