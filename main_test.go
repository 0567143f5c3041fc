package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/server"
	"github.com/stamp-mail/stamp/storage"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// stampBinary builds the stamp binary once per test run.
func stampBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stamp-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "stamp")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// running is a `stamp serve` child process.
type running struct {
	cmd    *exec.Cmd
	addrs  map[string]string
	stderr *logBuffer
	done   chan error
}

// serve starts `stamp serve` in dir and waits for its "ready" line.
func serve(t *testing.T, dir string, args ...string) *running {
	t.Helper()
	cmd := exec.Command(stampBinary(t), append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, addrs: map[string]string{}, stderr: &logBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); <-r.done })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		r.done <- cmd.Wait()
	}()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stamp serve exited before ready:\n%s", r.stderr)
			}
			if l == "ready" {
				go func() {
					for range lines {
					}
				}()
				return r
			}
			if f := strings.Fields(l); len(f) == 2 && strings.HasPrefix(l, "  ") {
				r.addrs[f[0]] = f[1]
			}
		case <-deadline:
			t.Fatalf("stamp serve not ready after 60s:\n%s", r.stderr)
		}
	}
}

// logBuffer collects a child process's output: written by exec's copying
// goroutines (one per stream when stdout and stderr share it) and read by
// the test when it fails, so both sides take the lock.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func stamp(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(stampBinary(t), args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("stamp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func sendMail(addr, from, to string, raw []byte) error {
	c, err := gosmtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, []string{to}, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

// TestServeOnEmptyFolder is the README's first command: `stamp serve` with no
// config and no database server, a user added by the CLI while it runs, mail
// in over SMTP and read over IMAP, then a graceful SIGTERM.
func TestServeOnEmptyFolder(t *testing.T) {
	for _, p := range []string{"2525", "2143", "8080", "24190"} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			t.Skipf("SKIPPED: default port %s is busy on this machine: %v", p, err)
		}
		ln.Close()
	}
	dir := t.TempDir()
	r := serve(t, dir)
	if r.addrs["smtp"] != "127.0.0.1:2525" || r.addrs["imap"] != "127.0.0.1:2143" || r.addrs["http"] != "127.0.0.1:8080" {
		t.Fatalf("listeners: got %v", r.addrs)
	}
	for _, f := range []string{"stamp-data/stamp.db", "stamp-data/tls/cert.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	out := stamp(t, dir, "a long password\n", "user", "add", "me@example.com", "--password-stdin")
	if !strings.Contains(out, "created user me@example.com") {
		t.Fatalf("user add: %q", out)
	}
	raw := []byte("From: x@remote.example\r\nTo: me@example.com\r\nSubject: first\r\n\r\nhello\r\n")
	if err := sendMail(r.addrs["smtp"], "x@remote.example", "me@example.com", raw); err != nil {
		t.Fatalf("smtp: %v", err)
	}
	c, err := imapclient.DialInsecure(r.addrs["imap"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("me@example.com", "a long password").Wait(); err != nil {
		t.Fatalf("imap login: %v", err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 1 {
		t.Errorf("INBOX over IMAP: got %d messages, want 1", sel.NumMessages)
	}
	c.Logout().Wait()

	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("stamp serve exited with %v after SIGTERM:\n%s", err, r.stderr)
		}
		r.done <- nil
	case <-time.After(20 * time.Second):
		t.Fatalf("stamp serve did not stop within 20s of SIGTERM")
	}
}

// TestKill9LosesNothing kills the server with SIGKILL while clients stream
// messages; after a restart every message that got 250 is in the mailbox,
// byte for byte.
func TestKill9LosesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "stamp.yaml")
	os.WriteFile(cfg, []byte(`hostname: crash.test
listen: {smtp: "127.0.0.1:0", submission: "", submissions: "", imap: "", imaps: "", pop3: "", pop3s: "", http: "", managesieve: ""}
limits: {smtp_rate_per_minute: 100000}
`), 0o600)
	stamp(t, dir, "a long password\n", "user", "add", "crash@example.test", "--password-stdin", "--config", cfg)
	r := serve(t, dir, "--config", cfg)

	var (
		mu    sync.Mutex
		acked = map[[32]byte]bool{}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				raw := []byte(fmt.Sprintf("X-Crash-ID: %d-%d\r\nFrom: s@remote.example\r\nTo: crash@example.test\r\nSubject: m %d %d\r\n\r\n%s\r\n",
					w, i, w, i, strings.Repeat(fmt.Sprintf("line %d %d\r\n", w, i), 50)))
				if err := sendMail(r.addrs["smtp"], "s@remote.example", "crash@example.test", raw); err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[sha256.Sum256(raw)] = true
				mu.Unlock()
				count.Add(1)
			}
		}(w)
	}
	deadline := time.Now().Add(20 * time.Second)
	for count.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	<-r.done
	r.done <- nil
	if len(acked) == 0 {
		t.Fatalf("no message was accepted before the kill:\n%s", r.stderr)
	}

	c, err := server.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir = filepath.Join(dir, c.DataDir)
	c.Storage.DSN = filepath.Join(dir, c.Storage.DSN)
	c.Storage.BlobDir = filepath.Join(dir, c.Storage.BlobDir)
	ctx := context.Background()
	app, err := server.Open(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	u, err := app.Service.LookupUser(ctx, "crash@example.test")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := app.Service.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := app.Service.MessagesByUID(ctx, u.ID, mb.ID, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[[32]byte]bool{}
	for _, m := range ms {
		b, err := app.Service.ReadMessage(ctx, core.Message(m))
		if err != nil {
			t.Fatalf("message %d unreadable after restart: %v", m.ID, err)
		}
		i := bytes.Index(b, []byte("X-Crash-ID: "))
		if i < 0 {
			t.Fatalf("message %d lost its content", m.ID)
		}
		stored[sha256.Sum256(b[i:])] = true
	}
	missing := 0
	for h := range acked {
		if !stored[h] {
			missing++
		}
	}
	t.Logf("acknowledged %d, stored %d after kill -9", len(acked), len(stored))
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged messages lost after kill -9", missing, len(acked))
	}
}

// TestCLIBadInput runs the administrative commands with bad input: each
// fails with a clear message and a non-zero exit, and no data changes.
func TestCLIBadInput(t *testing.T) {
	dir := t.TempDir()
	stamp(t, dir, "a long password\n", "user", "add", "first@example.test", "--password-stdin")
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"duplicate user", "another password\n", []string{"user", "add", "FIRST@example.test", "--password-stdin"}, "already exists"},
		{"invalid address", "a long password\n", []string{"user", "add", "not-an-address", "--password-stdin"}, "invalid"},
		{"short password", "short\n", []string{"user", "add", "second@example.test", "--password-stdin"}, "at least 8"},
		{"no terminal", "", []string{"user", "add", "second@example.test"}, "--password-stdin"},
		{"unknown user", "a long password\n", []string{"user", "passwd", "nobody@example.test", "--password-stdin"}, "not found"},
		{"bad queue id", "", []string{"queue", "retry", "x"}, "not a number"},
		{"missing config", "", []string{"user", "list", "--config", "absent.yaml"}, "absent.yaml"},
		{"bad domain", "", []string{"domain", "add", "bad domain"}, "invalid domain"},
		{"extra argument", "", []string{"user", "list", "extra"}, "unknown command"},
	}
	for _, c := range cases {
		cmd := exec.Command(stampBinary(t), c.args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(c.stdin)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%s: exit 0, want failure (output %q)", c.name, out)
			continue
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("%s: got %q, want it to say %q", c.name, out, c.want)
		}
	}
	if got := stamp(t, dir, "", "user", "list"); strings.Count(got, "@") != 1 || !strings.Contains(got, "first@example.test") {
		t.Errorf("users after bad input: got %q, want only first@example.test", got)
	}
}
