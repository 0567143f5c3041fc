package imap

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
)

// FuzzCommands sends arbitrary command lines to a logged-in session with a
// mailbox selected; the server must answer the following NOOP (or end the
// connection) and never crash or hang.
func FuzzCommands(f *testing.F) {
	for _, seed := range []string{
		"FETCH 1:* (BODY.PEEK[1.2.MIME]<0.10> BINARY[3] BODYSTRUCTURE ENVELOPE)",
		"UID FETCH 4294967295:* (FLAGS)",
		"FETCH 0 FLAGS",
		"SEARCH OR (BODY x) NOT (HEADER X-A \"\") UID $ LARGER 0 SMALLER 1",
		"SEARCH RETURN (SAVE MIN MAX) SENTON 1-Jan-2020 KEYWORD $x",
		"STORE 1:* +FLAGS (\\Recent \\* kw)",
		"UID MOVE 1:* \"../x\"",
		"COPY * INBOX",
		"LIST (SUBSCRIBED RECURSIVEMATCH) \"a/\" (\"%/%\" \"*\") RETURN (STATUS (MESSAGES SIZE DELETED RECENT) CHILDREN)",
		"CREATE \"a//b\"",
		"RENAME INBOX/x \"\"",
		"STATUS \"\" (MESSAGES)",
		"APPEND INBOX (\\Seen) \"01-Jan-2020 00:00:00 +0000\" {0+}",
		"UID EXPUNGE 1:*",
		"UID FETCH 1:* (FLAGS MODSEQ EMAILID THREADID) (CHANGEDSINCE 1 VANISHED)",
		"STORE 1:* (UNCHANGEDSINCE 1) +FLAGS.SILENT (x)",
		"SEARCH RETURN (MIN MAX) MODSEQ \"/flags/\\\\seen\" all 1 OR EMAILID M1 THREADID T1",
		"EXAMINE INBOX (QRESYNC (1 1 1:* (1:2 1,3)))",
		"STATUS INBOX (HIGHESTMODSEQ MAILBOXID)",
	} {
		f.Add(seed)
	}
	e := newEnv(f, Options{AllowInsecureAuth: true})
	coretest.User(f, e.svc, "bob@example.test")
	e.deliver(f, "bob@example.test", attachMsg)
	e.deliver(f, "bob@example.test", plainMsg)
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") {
			return
		}
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A line with an open quote or literal makes the server wait for
		// more input: give up on this connection after a short while and
		// check that the server still serves new ones.
		c.SetDeadline(time.Now().Add(2 * time.Second))
		r := bufio.NewReader(c)
		fmt.Fprintf(c, "a LOGIN bob@example.test %q\r\nb SELECT INBOX\r\nc %s\r\n", coretest.Password, line)
		fmt.Fprintf(c, "y NOOP\r\nz NOOP\r\n") // y may be eaten as the rest of a literal command
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				alive(t, e.addr)
				return // the server may end the connection on garbage
			}
			if strings.Contains(l, "[SERVERBUG]") {
				t.Errorf("command %q: got %q, want no SERVERBUG for client input", line, l)
			}
			if strings.HasPrefix(l, "z ") {
				return
			}
			if strings.HasPrefix(l, "+ ") {
				// A literal was announced: feed an empty line.
				fmt.Fprintf(c, "\r\n")
			}
		}
	})
}

// alive checks that the server greets a new connection.
func alive(t *testing.T, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("server gone: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(l, "* OK") {
		t.Fatalf("server does not greet: %q %v", l, err)
	}
}
