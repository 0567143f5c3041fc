package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// opsConfig writes a stamp.yaml in dir with every listener on a free
// loopback port and returns its path; extra is appended verbatim.
func opsConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	cfg := filepath.Join(dir, "stamp.yaml")
	body := `hostname: ops.test
listen: {smtp: "127.0.0.1:0", submission: "127.0.0.1:0", submissions: "", imap: "127.0.0.1:0", imaps: "", pop3: "", pop3s: "", http: "127.0.0.1:0", managesieve: ""}
limits: {smtp_rate_per_minute: 100000}
` + extra
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fetchAll returns the full bytes of every message of a folder over IMAP.
func fetchFolder(t *testing.T, addr, user, pass, folder string) [][]byte {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	return readFolder(t, c, user, pass, folder)
}

// readFolder logs in on c and returns the full bytes of every message of a folder.
func readFolder(t *testing.T, c *imapclient.Client, user, pass, folder string) [][]byte {
	t.Helper()
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("imap login: %v", err)
	}
	sel, err := c.Select(folder, nil).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", folder, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	var out [][]byte
	for _, m := range msgs {
		for _, b := range m.BodySection {
			out = append(out, b.Bytes)
		}
	}
	c.Logout().Wait()
	return out
}

// TestLongLineMXAndSubmission sends a message with a 5,000-character line
// to the MX listener and through submission (AUTH PLAIN over STARTTLS),
// and reads both back over IMAP with the line unchanged.
func TestLongLineMXAndSubmission(t *testing.T) {
	dir := t.TempDir()
	cfg := opsConfig(t, dir, "")
	stamp(t, dir, "a long password\n", "user", "add", "long@example.test", "--password-stdin", "--config", cfg)
	r := serve(t, dir, "--config", cfg)
	line := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 139)[:5000]

	mx := []byte("From: far@remote.example\r\nTo: long@example.test\r\nSubject: mx long line\r\n\r\n" + line + "\r\nend\r\n")
	if err := sendMail(r.addrs["smtp"], "far@remote.example", "long@example.test", mx); err != nil {
		t.Fatalf("MX: got %v, want the 5,000-character line accepted", err)
	}

	c, err := gosmtp.DialStartTLS(r.addrs["submission"], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "long@example.test", "a long password")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	sub := []byte("From: long@example.test\r\nTo: long@example.test\r\nSubject: submission long line\r\n\r\n" + line + "\r\nend\r\n")
	if err := c.SendMail("long@example.test", []string{"long@example.test"}, bytes.NewReader(sub)); err != nil {
		t.Fatalf("submission: got %v, want the 5,000-character line accepted", err)
	}
	c.Quit()

	got := fetchFolder(t, r.addrs["imap"], "long@example.test", "a long password", "INBOX")
	if len(got) != 2 {
		t.Fatalf("INBOX: got %d messages, want 2", len(got))
	}
	for i, b := range got {
		if !bytes.Contains(b, []byte("\r\n"+line+"\r\nend\r\n")) {
			t.Errorf("message %d: the 5,000-character line did not come back unchanged (%s)", i+1, describeLines(b))
		}
	}
}

func describeLines(b []byte) string {
	longest := 0
	for _, l := range bytes.Split(b, []byte("\n")) {
		longest = max(longest, len(l))
	}
	return fmt.Sprintf("%d bytes, longest line %d", len(b), longest)
}
