package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestStatus runs `stamp status` beside a running server: its listeners are
// up, a stopped one is down, and the queue, storage and certificate are shown.
func TestStatus(t *testing.T) {
	dir := t.TempDir()
	smtpAddr, imapAddr, downAddr := freePort(t), freePort(t), freePort(t)
	cfg := opsConfig(t, dir, "")
	// Fixed ports so that status can check them; pop3 is configured but its
	// port is taken by nothing: a second config says so.
	writeCfg := func(pop3 string) string {
		return fmt.Sprintf(`hostname: ops.test
listen: {smtp: %q, submission: "", submissions: "", imap: %q, imaps: "", pop3: %q, pop3s: "", http: ""}
`, smtpAddr, imapAddr, pop3)
	}
	mustWrite(t, cfg, writeCfg(""))
	stamp(t, dir, "a long password\n", "user", "add", "st@example.test", "--password-stdin", "--config", cfg)
	serve(t, dir, "--config", cfg)
	mustWrite(t, cfg, writeCfg(downAddr))
	out := stamp(t, dir, "", "status", "--no-dns", "--config", cfg)
	t.Log("\n" + out)
	for _, want := range []string{"smtp", smtpAddr, "QUEUE", "0 waiting", "STORAGE", "stamp.db", "CERTIFICATE", "expires", "RECENT ERRORS"} {
		if !strings.Contains(out, want) {
			t.Errorf("status: lacks %q", want)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && (f[0] == "smtp" || f[0] == "imap") && f[2] != "up" {
			t.Errorf("status: %s is %q, want up", f[0], strings.Join(f[2:], " "))
		}
		if len(f) >= 3 && f[0] == "pop3" && f[2] != "DOWN:" {
			t.Errorf("status: pop3 (nothing listening) is %q, want DOWN", strings.Join(f[2:], " "))
		}
	}
}

func mustWrite(t *testing.T, path, body string) {
	t.Helper()
	if err := writeFile(path, body); err != nil {
		t.Fatal(err)
	}
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }
