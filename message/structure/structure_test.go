package structure

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

const nested = "From: \"Ann B\" <ann@example.org>, team: bob@example.net, carl@example.com (c);\r\n" +
	"To: dora@example.org\r\nSubject: =?utf-8?q?caf=C3=A9?= report\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\n" +
	"Message-Id: <m1@example.org>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
	"preamble\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Language: en, fr\r\n\r\nhello\r\nworld\r\n" +
	"--b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"in.eml\"\r\n\r\n" +
	"From: inner@example.org\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n" +
	"--b2\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b2\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+PC9iPg==\r\n--b2--\r\n" +
	"\r\n--b1--\r\nepilogue\r\n"

func TestBuildNested(t *testing.T) {
	root := Build([]byte(nested))
	if root.Env == nil || root.Env.Subject != "=?utf-8?q?caf=C3=A9?= report" || root.Env.MessageID != "<m1@example.org>" {
		t.Fatalf("root envelope: %+v", root.Env)
	}
	from := root.Env.From
	if len(from) != 5 || from[0].Mailbox != "ann" || !from[1].GroupStart || from[1].Mailbox != "team" || !from[4].GroupEnd || from[3].Name != "c" {
		t.Fatalf("From with a group: %+v", from)
	}
	if root.Type != "multipart" || len(root.Children) != 2 {
		t.Fatalf("root: %s/%s with %d children", root.Type, root.Sub, len(root.Children))
	}
	msg := root.Children[1]
	if msg.Msg == nil || msg.Msg.Env == nil || msg.Msg.Env.Subject != "inner" || len(msg.Msg.Children) != 2 {
		t.Fatalf("message/rfc822 part: %+v", msg.Msg)
	}
	if root.Children[0].Env != nil {
		t.Fatal("a text part got an envelope")
	}
	if got := root.Children[0].Lang; !reflect.DeepEqual(got, []string{"en", "fr"}) {
		t.Fatalf("Content-Language: %q", got)
	}
}

// TestMarshalShift checks that the stored tree of a message behind a
// prepended header block equals the tree of the whole bytes.
func TestMarshalShift(t *testing.T) {
	head := "Return-Path: <a@b>\r\nReceived: from x\r\n\tby y; Tue, 1 Dec 2026 10:00:00 +0000\r\n"
	for _, raw := range []string{nested, "Subject: x\r\n\r\nbody", "no header at all", "\r\nempty header\r\n"} {
		got, err := Unmarshal(Marshal(Build([]byte(raw)), len(head)))
		if err != nil {
			t.Fatal(err)
		}
		want := Build([]byte(head + raw))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%.20q: shifted tree differs:\n got %+v\nwant %+v", raw, got, want)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good := Marshal(Build([]byte(nested)), 0)
	for i := 0; i < len(good); i++ {
		if _, err := Unmarshal(good[:i]); err == nil {
			t.Fatalf("truncated at %d of %d: no error", i, len(good))
		}
	}
	if _, err := Unmarshal(append(bytes.Clone(good), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	// A claimed count far beyond the input must not allocate it.
	if _, err := Unmarshal([]byte{version, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Fatal("huge count accepted")
	}
}

func TestDeepNestingBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 500; i++ {
		b.WriteString("Content-Type: message/rfc822\r\n\r\n")
	}
	root := Build([]byte(b.String()))
	enc := Marshal(root, 0)
	if _, err := Unmarshal(enc); err != nil {
		t.Fatalf("a tree Build made (depth bounded at %d) does not decode: %v", MaxDepth, err)
	}
}

func FuzzStructure(f *testing.F) {
	f.Add([]byte(nested), 0)
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n--x--"), 7)
	f.Fuzz(func(t *testing.T, raw []byte, shift int) {
		if shift < 0 || shift > 1<<20 {
			shift = 0
		}
		enc := Marshal(Build(raw), shift)
		if shift == 0 {
			got, err := Unmarshal(enc)
			if err != nil {
				t.Fatalf("round trip: %v", err)
			}
			if !reflect.DeepEqual(got, Build(raw)) {
				t.Fatal("round trip differs")
			}
		}
		// Arbitrary bytes: never a panic.
		Unmarshal(raw)
		Unmarshal(append([]byte{version}, raw...))
	})
}
