package smtp_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
)

// pythonClient exercises the servers with Python's smtplib: an MX delivery,
// refusals, and a submission with STARTTLS and AUTH.
const pythonClient = `
import smtplib, ssl, sys
mx_host, mx_port, sub_port, password = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out = []
s = smtplib.SMTP(mx_host, mx_port, timeout=20)
s.ehlo("py.client.test")
out.append("mx-features " + ",".join(sorted(k for k in s.esmtp_features)))
s.sendmail("py@remote.example", ["a@example.test"], "From: py@remote.example\r\nTo: a@example.test\r\nSubject: from python\r\n\r\nhi\r\n")
out.append("mx-delivered")
for rcpt in ["nobody@example.test", "x@elsewhere.example"]:
    try:
        s.sendmail("py@remote.example", [rcpt], "Subject: x\r\n\r\nx\r\n")
        out.append("accepted " + rcpt)
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients[rcpt]
        out.append("refused %s %d %s" % (rcpt, code, text.decode().split()[0]))
s.quit()
s = smtplib.SMTP(mx_host, sub_port, timeout=20)
s.ehlo("py.client.test")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.ehlo("py.client.test")
try:
    s.login("a@example.test", "wrong password")
    out.append("wrong password accepted")
except smtplib.SMTPAuthenticationError as e:
    out.append("auth-refused %d" % e.smtp_code)
s.login("a@example.test", password)
s.sendmail("a@example.test", ["b@example.test"], "From: a@example.test\r\nTo: b@example.test\r\nSubject: py submit\r\n\r\nhi\r\n")
out.append("submitted")
out.append("sub-tls-features " + ",".join(sorted(k for k in s.esmtp_features)))
s.sendmail("a@example.test", ["far@remote.example"], "From: a@example.test\r\nTo: far@remote.example\r\nSubject: py requiretls\r\n\r\nhi\r\n", mail_options=["REQUIRETLS"])
out.append("submitted-requiretls")
s.quit()
print("\n".join(out))
`

func TestPythonSmtplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIPPING: python3 not installed")
	}
	svc, us := newService(t)
	mxo := mxOpts(svc)
	mxo.TLSConfig = testTLS(t)
	mx, _ := start(t, mxo)
	sub, _ := start(t, submissionOpts(t, svc))
	script := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(script, []byte(pythonClient), 0o600); err != nil {
		t.Fatal(err)
	}
	_, mxPort, _ := net.SplitHostPort(mx)
	_, subPort, _ := net.SplitHostPort(sub)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, script, "127.0.0.1", mxPort, subPort, coretest.Password).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{"8bitmime", "enhancedstatuscodes", "pipelining", "smtputf8", "size", "starttls", "mx-delivered",
		"refused nobody@example.test 550 5.1.1", "refused x@elsewhere.example 554 5.7.1", "auth-refused 535", "submitted",
		"requiretls,", "submitted-requiretls"} {
		if !strings.Contains(got, want) {
			t.Errorf("python output: missing %q in:\n%s", want, got)
		}
	}
	if n := len(inbox(t, svc, us[0])); n != 1 {
		t.Errorf("INBOX of a: got %d, want 1", n)
	}
	if n := len(inbox(t, svc, us[1])); n != 1 {
		t.Errorf("INBOX of b: got %d, want 1", n)
	}
	if n := len(mailbox(t, svc, us[0], storage.RoleSent)); n != 2 {
		t.Errorf("Sent of a: got %d, want 2", n)
	}
	if strings.Contains(got[:strings.Index(got, "mx-delivered")], "requiretls") {
		t.Errorf("MX EHLO in clear offers REQUIRETLS:\n%s", got)
	}
	// RFC 8689: the REQUIRETLS submission is queued with it.
	if q, err := svc.ListQueue(context.Background()); err != nil || len(q) != 1 || !q[0].RequireTLS {
		t.Errorf("queue after MAIL FROM ... REQUIRETLS: got %+v, %v, want one item with RequireTLS", q, err)
	}
}

func TestSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		t.Skip("SKIPPING: swaks not installed (apt-get install -y swaks)")
	}
	svc, us := newService(t)
	mx, _ := start(t, mxOpts(svc))
	sub, _ := start(t, submissionOpts(t, svc))
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, swaks, args...).CombinedOutput()
		return string(out), err
	}
	tests := []struct {
		name string
		args []string
		want string // a line of swaks' transcript
		ok   bool
	}{
		{"mx delivery", []string{"--server", mx, "--from", "sw@remote.example", "--to", "a@example.test", "--helo", "swaks.test"}, "250 2.0.0 OK", true},
		{"relay refused", []string{"--server", mx, "--from", "sw@remote.example", "--to", "x@elsewhere.example"}, "554 5.7.1", false},
		{"unknown user", []string{"--server", mx, "--from", "sw@remote.example", "--to", "zz@example.test"}, "550 5.1.1", false},
		{"submission tls auth", []string{"--server", sub, "--tls", "--auth", "PLAIN", "--auth-user", "a@example.test", "--auth-password", coretest.Password,
			"--from", "a@example.test", "--to", "b@example.test", "--header", "From: a@example.test"}, "250 2.0.0 OK", true},
		{"submission wrong password", []string{"--server", sub, "--tls", "--auth", "LOGIN", "--auth-user", "a@example.test", "--auth-password", "nope nope",
			"--from", "a@example.test", "--to", "b@example.test"}, "535 5.7.8", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(tc.args...)
			if (err == nil) != tc.ok {
				t.Errorf("%s: swaks exit error %v, want success %v\n%s", tc.name, err, tc.ok, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("%s: transcript lacks %q:\n%s", tc.name, tc.want, out)
			}
		})
	}
	if n := len(inbox(t, svc, us[0])); n != 1 {
		t.Errorf("INBOX of a: got %d, want 1", n)
	}
	if n := len(inbox(t, svc, us[1])); n != 1 {
		t.Errorf("INBOX of b: got %d, want 1", n)
	}
}
