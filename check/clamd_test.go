package check

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// eicar is the EICAR test file, assembled here so that the source file
// itself does not trip scanners.
var eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*"

// startClamd runs clamd in the foreground with a database holding only
// an EICAR signature, listening on a unix socket; skips loudly without it.
func startClamd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("clamd")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/clamd"); e != nil {
			t.Skip("SKIPPED LOUDLY: clamd not installed (apt-get install -y clamav-daemon)")
		}
		bin = "/usr/sbin/clamd"
	}
	dir, err := os.MkdirTemp("", "stamp-clamd-") // short path: unix socket names are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "db")
	os.Mkdir(db, 0o755)
	sig := "Eicar-Signature:0:*:" + hex.EncodeToString([]byte(eicar)) + "\n"
	if err := os.WriteFile(filepath.Join(db, "eicar.ndb"), []byte(sig), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "clamd.sock")
	conf := filepath.Join(dir, "clamd.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("DatabaseDirectory %s\nLocalSocket %s\nForeground yes\nLogFile %s\nLogVerbose no\n",
		db, sock, filepath.Join(dir, "clamd.log"))), 0o644)
	cmd := exec.Command(bin, "--config-file="+conf)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start clamd: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		if i == 600 {
			log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
			t.Fatalf("clamd did not open %s:\n%s\n%s", sock, out.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func withAttachment(content string) []byte {
	return []byte("From: a@example.test\r\nTo: b@example.test\r\nSubject: files\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
		"--b1\r\nContent-Type: application/octet-stream; name=file.com\r\n" +
		"Content-Disposition: attachment; filename=file.com\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(content)) + "\r\n--b1--\r\n")
}

func TestClamd(t *testing.T) {
	sock := startClamd(t)
	ctx := context.Background()
	dead := filepath.Join(t.TempDir(), "dead.sock")
	cases := []struct {
		name, clamd, mode string
		raw               []byte
		auth              bool
		wantReject        bool
		wantTemp          bool
		wantCode          int
		wantHeader        string
	}{
		{"eicar attachment", "unix:" + sock, "", withAttachment(eicar), true, true, false, 554, ""},
		{"eicar, unauthenticated", "unix:" + sock, "", withAttachment(eicar), false, true, false, 554, ""},
		{"clean", "unix:" + sock, "", withAttachment("just a file"), true, false, false, 0, ""},
		{"dead socket tempfails", "unix:" + dead, "tempfail", withAttachment("x"), true, false, true, 451, ""},
		{"dead socket accepts with header", "unix:" + dead, "accept", withAttachment("x"), true, false, false, 0,
			"X-Stamp-Virus: unchecked (clamd unavailable)\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, err := New(Config{Clamd: c.clamd, ClamdFailMode: c.mode, DNSServer: blackHoleDNS(t), DNSTimeout: 50 * time.Millisecond}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, err := j.Judge(ctx, Input{RemoteIP: net.ParseIP("127.0.0.1"), Helo: "h.test", MailFrom: "a@example.test",
				Raw: c.raw, Authenticated: c.auth, Recipients: []int64{1}})
			if err != nil {
				t.Fatal(err)
			}
			if v.Reject != c.wantReject || v.TempFail != c.wantTemp || v.Code != c.wantCode {
				t.Errorf("%s: got reject=%v tempfail=%v code=%d (%s), want reject=%v tempfail=%v code=%d",
					c.name, v.Reject, v.TempFail, v.Code, v.Message, c.wantReject, c.wantTemp, c.wantCode)
			}
			if c.wantReject && v.Enhanced != [3]int{5, 7, 0} {
				t.Errorf("%s: enhanced code: got %v, want 5.7.0", c.name, v.Enhanced)
			}
			if c.wantTemp && v.Enhanced != [3]int{4, 7, 1} {
				t.Errorf("%s: enhanced code: got %v, want 4.7.1", c.name, v.Enhanced)
			}
			if c.wantHeader != "" && !strings.Contains(string(v.Headers), c.wantHeader) {
				t.Errorf("%s: headers: got %q, want %q", c.name, v.Headers, c.wantHeader)
			}
			if c.wantReject {
				t.Logf("%s: %d %v %s", c.name, v.Code, v.Enhanced, v.Message)
			}
		})
	}
}
