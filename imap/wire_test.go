package imap

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
)

// testReader reads commands from b with no connection behind it.
func testReader(b []byte) (*cmdReader, *bytes.Buffer) {
	var out bytes.Buffer
	r := &cmdReader{
		br:          bufio.NewReaderSize(bytes.NewReader(b), 4096),
		appendLimit: 1 << 20,
		cont:        func(text string) error { out.WriteString("+ " + text + "\r\n"); return nil },
		refuse:      func(tag, resp string) error { out.WriteString(tag + " " + resp + "\r\n"); return nil },
	}
	return r, &out
}

func TestReadCommand(t *testing.T) {
	cases := []struct {
		name, in      string
		tag, cmd, arg string
		bad, cont     bool
	}{
		{"simple", "a1 NOOP\r\n", "a1", "NOOP", "", false, false},
		{"bare LF", "a1 noop\n", "a1", "NOOP", "", false, false},
		{"uid", "x UID fetch 1:* FLAGS\r\n", "x", "UID FETCH", "1:* FLAGS", false, false},
		{"sync literal", "a LOGIN {3}\r\nbob x\r\n", "a", "LOGIN", "{3}\r\nbob x", false, true},
		{"literal+", "a LOGIN {3+}\r\nbob x\r\n", "a", "LOGIN", "{3}\r\nbob x", false, false},
		{"literal8", "a APPEND INBOX ~{2}\r\n\x00b\r\n", "a", "APPEND", "INBOX ~{2}\r\n\x00b", false, true},
		{"bad tag", "a+b NOOP\r\n", "*", "", "", true, false},
		{"no command", "a\r\n", "*", "", "", true, false},
		{"empty", "\r\n", "*", "", "", true, false},
	}
	for _, c := range cases {
		r, out := testReader([]byte(c.in))
		cmd, err := r.read()
		if err != nil {
			t.Errorf("%s: read: %v", c.name, err)
			continue
		}
		if (cmd.bad != "") != c.bad || cmd.tag != c.tag || (!c.bad && (cmd.name != c.cmd || string(cmd.args) != c.arg)) {
			t.Errorf("%s: got tag %q name %q args %q bad %q, want %q %q %q bad=%v", c.name, cmd.tag, cmd.name, cmd.args, cmd.bad, c.tag, c.cmd, c.arg, c.bad)
		}
		if got := strings.HasPrefix(out.String(), "+ "); got != c.cont {
			t.Errorf("%s: continuation sent: got %v, want %v", c.name, got, c.cont)
		}
	}
}

// TestLiteralLimitBeforeReading: an oversized literal is refused before any
// of it is read (RFC 7888 section 4).
func TestLiteralLimitBeforeReading(t *testing.T) {
	r, out := testReader([]byte("a APPEND INBOX {2000000}\r\nb NOOP\r\n"))
	cmd, err := r.read()
	if err != nil || !cmd.answered {
		t.Fatalf("got %+v, %v; want a refused command", cmd, err)
	}
	if got := out.String(); got != "a NO [TOOBIG] Message too large\r\n" {
		t.Errorf("refusal: got %q", got)
	}
	cmd, err = r.read()
	if err != nil || cmd.name != "NOOP" {
		t.Errorf("next command: got %+v, %v; want NOOP", cmd, err)
	}
	r, out = testReader([]byte("a LOGIN {70000}\r\n"))
	if cmd, _ := r.read(); !cmd.answered || !strings.Contains(out.String(), "a BAD") {
		t.Errorf("LOGIN literal over the limit: got %+v %q, want BAD", cmd, out.String())
	}
}

// FuzzReadCommand: any input gives a command, a BAD or an I/O error, never a
// panic, and the arguments never exceed the input.
func FuzzReadCommand(f *testing.F) {
	for _, s := range []string{"a NOOP\r\n", "a LOGIN {3}\r\nabc {2+}\r\nde\r\n", "a APPEND x ~{1}\r\n\x00\r\n", "a {99999999999999999999}\r\n", "a b {-1}\r\n", strings.Repeat("(", 70000) + "\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, _ := testReader(in)
		for range 5 {
			c, err := r.read()
			if err != nil {
				return
			}
			if len(c.args) > len(in)+64 {
				t.Fatalf("args of %d bytes from %d bytes of input", len(c.args), len(in))
			}
		}
	})
}

// FuzzParse runs every argument parser over arbitrary input: each must
// return or fail with a BAD error, never panic or recurse without bound.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1:*,4 (UID FLAGS BODY.PEEK[1.2.HEADER.FIELDS (A B)]<0.10> BINARY[1] BINARY.SIZE[2])",
		"RETURN (MIN MAX SAVE) CHARSET UTF-8 OR (FROM x SUBJECT {1}\r\ny) NOT UID $ SENTON 1-Jan-2020",
		"(SUBSCRIBED RECURSIVEMATCH) \"\" (\"%\" *) RETURN (CHILDREN STATUS (MESSAGES SIZE))",
		"INBOX (\\Seen $x) \" 1-Jan-2020 00:00:00 +0000\" ~{1}\r\nx",
		"1:3 +FLAGS.SILENT (\\Deleted)",
		"&AOQ-x&-",
		strings.Repeat("(", 10000) + "ALL" + strings.Repeat(")", 10000),
		strings.Repeat("NOT ", 5000) + "ALL",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		run := func(fn func(p *parser)) {
			p := newParser(in)
			fn(p)
			p.end()
			if p.err != nil {
				if _, ok := p.err.(badArgs); !ok {
					t.Fatalf("parser error %T, want badArgs", p.err)
				}
			}
		}
		run(func(p *parser) { r := &fetchReq{}; p.numSet(false); p.sp(); p.list(false, func() { p.fetchAtt(r) }) })
		run(func(p *parser) { var r searchReq; p.searchKeys(&r.criteria) })
		run(func(p *parser) { p.mailbox(); p.sp(); p.statusAtts() })
		run(func(p *parser) { p.flagList(); p.sp(); p.dateTime(); p.sp(); p.literal(true) })
		run(func(p *parser) { p.numSet(true); p.sp(); p.atom(); p.sp(); p.flags() })
		run(func(p *parser) { p.listMailbox(); p.sp(); p.nstring(); p.sp(); p.date() })
		if s, err := decodeMUTF7(string(in)); err == nil {
			if back := encodeMUTF7(s); back != string(in) && !strings.EqualFold(back, string(in)) {
				// Decoding accepted a non-canonical form: it must at least
				// round-trip through its own encoding.
				if s2, err := decodeMUTF7(back); err != nil || s2 != s {
					t.Fatalf("mUTF-7 %q -> %q -> %q (%v)", in, s, back, err)
				}
			}
		}
	})
}

// TestHostileInput: malformed or hostile commands get BAD or a closed
// connection, never NO [SERVERBUG], and the server stays up (issue 16).
func TestHostileInput(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", plainMsg)
	cases := []struct{ name, cmd string }{
		{"NUL in a quoted mailbox name", "SELECT \"IN\x00BOX\""},
		{"NUL in a literal mailbox name", "SELECT {6+}\r\nIN\x00BOX"},
		{"10,000 nested parentheses", "SEARCH " + strings.Repeat("(", 10000) + "ALL" + strings.Repeat(")", 10000)},
		{"10,000 NOTs", "SEARCH " + strings.Repeat("NOT ", 10000) + "ALL"},
		{"100 KB line", "SEARCH SUBJECT " + strings.Repeat("x", 100<<10)},
		{"bad UTF-8 mailbox", "CREATE \"\xff\xfe\""},
		{"deep FETCH list", "FETCH 1 " + strings.Repeat("(", 5000)},
	}
	for _, c := range cases {
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(testTimeout))
		r := bufio.NewReader(conn)
		fmt.Fprintf(conn, "a LOGIN bob@example.test %q\r\nb SELECT INBOX\r\nc %s\r\nd NOOP\r\n", coretest.Password, c.cmd)
		var got string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				got = "closed"
				break
			}
			if strings.HasPrefix(l, "c ") {
				got = strings.TrimSpace(l)
			}
			if strings.HasPrefix(l, "d ") || (got == "" && strings.HasPrefix(l, "* BYE")) {
				break
			}
		}
		conn.Close()
		if !strings.HasPrefix(got, "c BAD") && got != "closed" && !strings.HasPrefix(got, "c NO [NONEXISTENT]") && !strings.HasPrefix(got, "c NO [CANNOT]") {
			t.Errorf("%s: got %q, want BAD or a closed connection", c.name, got)
		}
		alive(t, e.addr)
	}
}

// TestUnterminatedLiteral: a literal that never arrives holds no more than
// the connection, and the server serves others meanwhile.
func TestUnterminatedLiteral(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testTimeout))
	r := bufio.NewReader(conn)
	r.ReadString('\n')
	fmt.Fprintf(conn, "a LOGIN {60000+}\r\nonly a few bytes")
	alive(t, e.addr)
}

// TestSubjectSearchAfterNewMail: a SUBJECT search after new mail arrived
// (and was announced) finds it.
func TestSubjectSearchAfterNewMail(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", "From: a@remote.example\r\nSubject: first quokka\r\n\r\nx\r\n")
	rc := e.raw(t)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	rc.ok("SELECT INBOX")
	if l := rc.ok("SEARCH SUBJECT quokka"); len(l) != 1 || l[0] != "* SEARCH 1" {
		t.Fatalf("first search: got %q, want * SEARCH 1", l)
	}
	e.deliver(t, "bob@example.test", "From: a@remote.example\r\nSubject: second QUOKKA\r\n\r\nx\r\n")
	rc.ok("NOOP")
	if l := grep(rc.ok("SEARCH SUBJECT quokka"), "* SEARCH"); len(l) != 1 || l[0] != "* SEARCH 1 2" {
		t.Fatalf("after new mail: got %q, want * SEARCH 1 2", l)
	}
	if l := grep(rc.ok("SEARCH SUBJECT second"), "* SEARCH"); len(l) != 1 || l[0] != "* SEARCH 2" {
		t.Fatalf("second subject search: got %q, want * SEARCH 2", l)
	}
}
