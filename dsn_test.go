package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDSNHonouredInBounces sends three messages through submission with
// python's smtplib and the RFC 3461 parameters, to a recipient that the
// relay refuses for good: RET=HDRS with ENVID and ORCPT bounces with the
// header only and both identifiers; RET=FULL bounces with the whole
// message; NOTIFY=NEVER bounces not at all. swaks sees DSN in EHLO.
func TestDSNHonouredInBounces(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIPPED: python3 not installed")
	}
	dirB := t.TempDir()
	relay := serve(t, dirB, "--config", opsConfig(t, dirB, ""))
	dir := t.TempDir()
	cfg := opsConfig(t, dir, fmt.Sprintf("outbound: {relay: %q}\n", relay.addrs["smtp"]))
	stamp(t, dir, "a long password\n", "user", "add", "s@example.test", "--password-stdin", "--config", cfg)
	a := serve(t, dir, "--config", cfg)

	if sw, err := exec.LookPath("swaks"); err == nil {
		out, _ := exec.Command(sw, "--server", a.addrs["submission"], "--quit-after", "EHLO").CombinedOutput()
		if !bytes.Contains(out, []byte("250-DSN")) && !bytes.Contains(out, []byte("250 DSN")) {
			t.Errorf("swaks EHLO: DSN not advertised:\n%s", out)
		}
	}

	host, port, _ := strings.Cut(a.addrs["submission"], ":")
	script := `import smtplib, sys
host, port = sys.argv[1], int(sys.argv[2])
def send(subject, rcpt, mail_opts, rcpt_opts):
    s = smtplib.SMTP(host, port)
    s.ehlo("python.test")
    assert s.has_extn("dsn"), "no DSN in EHLO"
    s.login("s@example.test", "a long password")
    msg = "From: s@example.test\r\nTo: %s\r\nSubject: %s\r\n\r\nbody of %s\r\n" % (rcpt, subject, subject)
    s.sendmail("s@example.test", [rcpt], msg, mail_options=mail_opts, rcpt_options=rcpt_opts)
    s.quit()
# One recipient each: a hard bounce puts its address on the suppression list.
send("never", "x1@far.example", [], ["NOTIFY=NEVER"])
send("headers only", "x2@far.example", ["RET=HDRS", "ENVID=env-hdrs-1"], ["NOTIFY=FAILURE", "ORCPT=rfc822;orig-x@far.example"])
send("full return", "x3@far.example", ["RET=FULL"], ["NOTIFY=FAILURE,DELAY"])
print("sent")
`
	out, err := exec.Command("python3", "-c", script, host, port).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sent") {
		t.Fatalf("python smtplib: %v\n%s", err, out)
	}

	var bounces [][]byte
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		q := stamp(t, dir, "", "queue", "list", "--config", cfg)
		if strings.Count(q, "failed") >= 3 {
			bounces = fetchFolder(t, a.addrs["imap"], "s@example.test", "a long password", "INBOX")
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(bounces) != 2 {
		t.Fatalf("bounces in the sender's INBOX: got %d, want 2 (none for NOTIFY=NEVER)", len(bounces))
	}
	var hdrs, full []byte
	for _, b := range bounces {
		switch {
		case bytes.Contains(b, []byte("Subject: headers only")):
			hdrs = b
		case bytes.Contains(b, []byte("Subject: full return")):
			full = b
		}
	}
	if hdrs == nil || full == nil {
		t.Fatalf("bounces: want one for each of RET=HDRS and RET=FULL")
	}
	for _, want := range []string{"Original-Envelope-Id: env-hdrs-1", "Original-Recipient: rfc822;orig-x@far.example", "text/rfc822-headers", "Action: failed"} {
		if !bytes.Contains(hdrs, []byte(want)) {
			t.Errorf("RET=HDRS bounce: lacks %q", want)
		}
	}
	if bytes.Contains(hdrs, []byte("body of headers only")) {
		t.Errorf("RET=HDRS bounce: returns the body, want the header only")
	}
	if !bytes.Contains(full, []byte("message/rfc822")) || !bytes.Contains(full, []byte("body of full return")) {
		t.Errorf("RET=FULL bounce: want the whole message as message/rfc822")
	}
}
