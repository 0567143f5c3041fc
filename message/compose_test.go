package message

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCompose(t *testing.T) {
	date := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	pdf := bytes.Repeat([]byte("%PDF binary \x00\xff "), 100)
	cases := []struct {
		name     string
		c        Composition
		rootType string
		text     string
		html     string
		attach   []string // filename + " " + type
	}{
		{"text only", Composition{Text: "hello\nworld"}, "text/plain", "hello\nworld\n", "", nil},
		{"html only", Composition{HTML: "<p>hi</p>"}, "text/html", "hi", "<p>hi</p>\r\n", nil},
		{"alternative", Composition{Text: "hi", HTML: "<b>hi</b>"}, "multipart/alternative", "hi", "<b>hi</b>", nil},
		{"attachments", Composition{Text: "see attached", Attachments: []ComposeAttachment{
			{Filename: "report.pdf", ContentType: "application/pdf", Data: pdf},
			{Filename: "naïve €.txt", Data: []byte("x")},
		}}, "multipart/mixed", "see attached", "", []string{"report.pdf application/pdf", "naïve €.txt application/octet-stream"}},
		{"empty", Composition{}, "text/plain", "", "", nil},
	}
	for _, tc := range cases {
		c := tc.c
		c.From = Address{"Jörg Müller", "jorg@example.org"}
		c.To = []Address{{"Bob", "bob@example.net"}, {"", "carol@example.net"}}
		c.Cc = []Address{{"Dave", "dave@example.net"}}
		c.Bcc = []Address{{"Secret", "secret@example.net"}}
		c.Subject = "Grüße – test"
		c.InReplyTo = "parent@example.org"
		c.References = []string{"root@example.org", "<parent@example.org>"}
		c.Date = date
		c.Headers = map[string]string{"X-Mailer": "Stamp"}
		raw, err := Compose(c, "mail.example.org")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("%s: bare LF in output", tc.name)
		}
		hdr := raw[:bytes.Index(raw, []byte("\r\n\r\n"))]
		for _, b := range hdr {
			if b >= 0x80 {
				t.Errorf("%s: 8-bit byte in header", tc.name)
				break
			}
		}
		if bytes.Contains(raw, []byte("secret@")) || bytes.Contains(bytes.ToLower(hdr), []byte("bcc:")) {
			t.Errorf("%s: Bcc leaked into the message", tc.name)
		}
		p := Parse(raw)
		if p.Malformed != nil {
			t.Errorf("%s: Malformed: %v", tc.name, p.Malformed)
		}
		checks := []struct {
			what      string
			got, want any
		}{
			{"subject", p.Subject, c.Subject},
			{"from", p.From, []Address{c.From}},
			{"to", p.To, c.To},
			{"cc", p.Cc, c.Cc},
			{"date", p.Date.UTC(), date},
			{"in-reply-to", p.InReplyTo, []string{"parent@example.org"}},
			{"references", p.References, []string{"root@example.org", "parent@example.org"}},
			{"message-id host", strings.HasSuffix(p.MessageID, "@mail.example.org") && len(p.MessageID) > 20, true},
			{"root type", p.Root.ContentType, tc.rootType},
			{"text", p.Text, tc.text},
			{"html", p.HTML, tc.html},
			{"x-mailer", p.Root.header.get("X-Mailer"), "Stamp"},
		}
		for _, ch := range checks {
			if !reflect.DeepEqual(ch.got, ch.want) {
				t.Errorf("%s: %s: got %#v, want %#v", tc.name, ch.what, ch.got, ch.want)
			}
		}
		var got []string
		for _, a := range p.Attachments {
			got = append(got, a.Filename+" "+a.ContentType)
		}
		if !reflect.DeepEqual(got, tc.attach) {
			t.Errorf("%s: attachments: got %q, want %q", tc.name, got, tc.attach)
		}
		if len(tc.attach) > 0 {
			data, err := DecodePart(raw, p.Attachments[0].Part)
			if err != nil || !bytes.Equal(data, pdf) {
				t.Errorf("%s: attachment round trip: got %d bytes, %v; want %d bytes", tc.name, len(data), err, len(pdf))
			}
		}
	}
}

func TestComposeDefaultsAndErrors(t *testing.T) {
	from := Address{"", "a@example.org"}
	raw, err := Compose(Composition{From: from, Text: "x", MessageID: "<given@host>"}, "h")
	if err != nil {
		t.Fatal(err)
	}
	p := Parse(raw)
	if p.MessageID != "given@host" {
		t.Errorf("MessageID: got %q, want %q", p.MessageID, "given@host")
	}
	if time.Since(p.Date) > time.Hour || p.Date.IsZero() {
		t.Errorf("Date: got %v, want about now", p.Date)
	}
	bad := []struct {
		name string
		c    Composition
	}{
		{"no from", Composition{}},
		{"bad to", Composition{From: from, To: []Address{{"", "nope"}}}},
		{"subject injection", Composition{From: from, Subject: "x\r\nBcc: evil@x.org"}},
		{"name injection", Composition{From: Address{"a\nb", "a@example.org"}}},
		{"header injection", Composition{From: from, Headers: map[string]string{"X-A": "1\r\nX-B: 2"}}},
		{"reserved header", Composition{From: from, Headers: map[string]string{"content-type": "text/html"}}},
		{"bad header name", Composition{From: from, Headers: map[string]string{"X A": "1"}}},
	}
	for _, b := range bad {
		if _, err := Compose(b.c, "h"); !errors.Is(err, ErrBadComposition) {
			t.Errorf("%s: got %v, want ErrBadComposition", b.name, err)
		}
	}
}

func TestDSN(t *testing.T) {
	orig, err := Compose(Composition{From: Address{"", "sender@example.org"}, To: []Address{{"", "gone@example.net"}},
		Subject: "Grüße", Text: "body text", MessageID: "orig@example.org"}, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	d := DSN{
		OriginalSender: "sender@example.org",
		Arrival:        time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Recipients: []DSNRecipient{
			{Address: "gone@example.net", Action: "failed", Status: "5.1.1", DiagnosticCode: "smtp; 550 5.1.1 no such user", RemoteMTA: "mx.example.net"},
			{Address: "slow@example.com", Action: "delayed", Status: "4.4.1", DiagnosticCode: "smtp; 421 try later"},
		},
		Original: orig,
	}
	raw, err := BuildDSN(d, "mail.example.org")
	if err != nil {
		t.Fatal(err)
	}
	p := Parse(raw)
	if p.Malformed != nil {
		t.Errorf("Malformed: %v", p.Malformed)
	}
	if got, want := p.From, []Address{{"Mail Delivery System", "MAILER-DAEMON@mail.example.org"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("From: got %v, want %v", got, want)
	}
	if p.Root.ContentType != "multipart/report" || p.Root.Params["report-type"] != "delivery-status" {
		t.Errorf("root: got %s %v, want multipart/report; report-type=delivery-status", p.Root.ContentType, p.Root.Params)
	}
	var types []string
	for _, c := range p.Root.Children {
		types = append(types, c.ContentType)
	}
	if want := []string{"text/plain", "message/delivery-status", "text/rfc822-headers"}; !reflect.DeepEqual(types, want) {
		t.Errorf("parts: got %v, want %v", types, want)
	}
	if p.Root.header.get("Auto-Submitted") != "auto-replied" {
		t.Errorf("Auto-Submitted missing")
	}
	if bytes.Contains(raw, []byte("body text")) {
		t.Errorf("original body was returned, want only its header")
	}
	rep, err := ParseDSN(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := &DSNReport{ReportingMTA: "mail.example.org", OriginalMessageID: "orig@example.org", Recipients: d.Recipients}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("ParseDSN: got %+v, want %+v", rep, want)
	}

	if _, err := ParseDSN(orig); !errors.Is(err, ErrNotDSN) {
		t.Errorf("ParseDSN(plain message): got %v, want ErrNotDSN", err)
	}
	bad := []DSN{
		{Recipients: d.Recipients},
		{OriginalSender: "s@x.org"},
		{OriginalSender: "s@x.org", Recipients: []DSNRecipient{{Address: "a@b.c", Action: "exploded", Status: "5.0.0"}}},
		{OriginalSender: "s@x.org", Recipients: []DSNRecipient{{Address: "a@b.c", Action: "failed", Status: "550"}}},
		{OriginalSender: "s@x.org", Recipients: []DSNRecipient{{Address: "a@b.c", Action: "failed", Status: "5.0.0", DiagnosticCode: "x\r\ny"}}},
	}
	for i, b := range bad {
		if _, err := BuildDSN(b, "h"); !errors.Is(err, ErrBadComposition) {
			t.Errorf("bad DSN %d: got %v, want ErrBadComposition", i, err)
		}
	}
}

func TestParseDSNForeign(t *testing.T) {
	// A bounce in the shape other MTAs send, LF endings, nested in multipart/mixed.
	raw := `From: MAILER-DAEMON@mx.example
Content-Type: multipart/mixed; boundary=m

--m
Content-Type: multipart/report; report-type=delivery-status; boundary=r

--r

Mail failed.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns;mx.example
X-Postfix-Queue-ID: 123

Final-Recipient: RFC822; <Nobody@Example.COM>
Original-Recipient: rfc822;nobody@example.com
Action: Failed
Status: 5.1.1 (user unknown)
Diagnostic-Code: X-Postfix; host said: 550
 5.1.1 unknown

--r--
--m--
`
	rep, err := ParseDSN([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []DSNRecipient{{Address: "Nobody@Example.COM", Action: "failed", Status: "5.1.1", DiagnosticCode: "X-Postfix; host said: 550 5.1.1 unknown"}}
	if rep.ReportingMTA != "mx.example" || !reflect.DeepEqual(rep.Recipients, want) {
		t.Errorf("got %+v, want mx.example and %+v", rep, want)
	}
}
