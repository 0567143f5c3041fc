package smtp_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects log output from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FuzzSession sends arbitrary command sequences to a real submission server
// (insecure auth allowed on loopback, so AUTH and MAIL paths are reachable)
// and checks that no command panics and the server keeps answering.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"MAIL FROM:<x@r.example>\r\nRCPT TO:<a@example.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n",
		"AUTH PLAIN AGFAZXhhbXBsZS50ZXN0AGNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nFrom: a@example.test\r\n\r\nx\r\n.\r\n",
		"AUTH LOGIN\r\nYUBleGFtcGxlLnRlc3Q=\r\nd3Jvbmc=\r\n",
		"AUTH LOGIN YUBleGFtcGxlLnRlc3Q=\r\n*\r\n",
		"MAIL FROM:<>\r\nRCPT TO:<@x:a@example.test>\r\nRSET\r\nBDAT 3 LAST\r\nabc",
		"RCPT TO:<a@example.test>\r\nMAIL FROM:<a@\xff>\r\n",
	} {
		f.Add(seed)
	}
	svc, _ := newService(f)
	var logs lockedBuffer
	opts := submissionOpts(f, svc)
	opts.TLSConfig = nil
	opts.AllowInsecureAuth = true
	opts.MaxMessageBytes = 4096
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	addr, _ := start(f, opts)
	f.Fuzz(func(t *testing.T, input string) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(3 * time.Second))
		go func() {
			io.WriteString(nc, "EHLO fuzz.test\r\n"+input+"\r\nQUIT\r\n")
		}()
		io.Copy(io.Discard, nc)
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("server panicked:\n%s", logs.String())
		}
		// Still serving.
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatalf("server stopped answering: %v", err)
		}
		c.Close()
	})
}
