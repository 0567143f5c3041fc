package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDSNSuccessLocal sends three messages through submission with
// python's smtplib to a local recipient: NOTIFY=SUCCESS with ENVID and
// ORCPT gets a "delivered" notice (RFC 3461 section 6.2.1, RFC 3464) in the
// sender's INBOX; NOTIFY=NEVER and no NOTIFY get none.
func TestDSNSuccessLocal(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIPPED: python3 not installed")
	}
	dir := t.TempDir()
	cfg := opsConfig(t, dir, "")
	stamp(t, dir, "a long password\n", "user", "add", "s@example.test", "--password-stdin", "--config", cfg)
	stamp(t, dir, "another password\n", "user", "add", "r@example.test", "--password-stdin", "--config", cfg)
	a := serve(t, dir, "--config", cfg)

	host, port, _ := strings.Cut(a.addrs["submission"], ":")
	script := `import smtplib, sys
host, port = sys.argv[1], int(sys.argv[2])
def send(subject, mail_opts, rcpt_opts):
    s = smtplib.SMTP(host, port)
    s.ehlo("python.test")
    s.login("s@example.test", "a long password")
    msg = "From: s@example.test\r\nTo: r@example.test\r\nSubject: %s\r\n\r\nbody of %s\r\n" % (subject, subject)
    s.sendmail("s@example.test", ["r@example.test"], msg, mail_options=mail_opts, rcpt_options=rcpt_opts)
    s.quit()
send("tell me", ["ENVID=env-ok-1", "RET=HDRS"], ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;R@example.test"])
send("never", [], ["NOTIFY=NEVER"])
send("default", [], [])
print("sent")
`
	out, err := exec.Command("python3", "-c", script, host, port).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sent") {
		t.Fatalf("python smtplib: %v\n%s", err, out)
	}
	if got := len(fetchFolder(t, a.addrs["imap"], "r@example.test", "another password", "INBOX")); got != 3 {
		t.Fatalf("recipient INBOX: got %d messages, want 3", got)
	}
	var notices [][]byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if notices = fetchFolder(t, a.addrs["imap"], "s@example.test", "a long password", "INBOX"); len(notices) > 0 {
			break
		}
	}
	if len(notices) != 1 {
		t.Fatalf("sender INBOX: got %d messages, want 1 success notice (none for NEVER or the default)", len(notices))
	}
	for _, want := range []string{"Subject: Successful Mail Delivery Report", "Action: delivered", "Status: 2.0.0",
		"Final-Recipient: rfc822; r@example.test", "Original-Recipient: rfc822;R@example.test", "Original-Envelope-Id: env-ok-1",
		"Subject: tell me", "text/rfc822-headers"} {
		if !bytes.Contains(notices[0], []byte(want)) {
			t.Errorf("success notice lacks %q:\n%s", want, notices[0])
		}
	}
	if bytes.Contains(notices[0], []byte("body of tell me")) {
		t.Errorf("success notice with RET=HDRS returns the body")
	}
}
