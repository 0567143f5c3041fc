package server_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/server"
)

// TestHTTPPerIPCap: one address holding its share of HTTP connections
// (4 x limits.max_connections_per_ip) gets 503 for more, while another
// address is served.
func TestHTTPPerIPCap(t *testing.T) {
	dir := t.TempDir()
	cfgText := fmt.Sprintf("hostname: mail.test\ndata_dir: %q\nlisten:\n  smtp: \"\"\n  submission: \"\"\n  submissions: \"\"\n"+
		"  imap: \"\"\n  imaps: \"\"\n  pop3: \"\"\n  pop3s: \"\"\n  http: 127.0.0.1:0\n  https: \"\"\n  managesieve: \"\"\n"+
		"limits:\n  max_connections_per_ip: 1\n", filepath.Join(dir, "data"))
	path := filepath.Join(dir, "stamp.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	ready := make(chan []server.Listening, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(runCtx, cfg, slog.New(slog.DiscardHandler), func(l []server.Listening) { ready <- l })
	}()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	for _, l := range <-ready {
		if l.Name == "http" {
			addr = l.Addr
		}
	}
	from := func(ip string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// Four idle connections from one address fill its share...
	for i := 0; i < 4; i++ {
		c := from("127.0.3.1")
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d from the first address: %v %v, want 200", i+1, resp, err)
		}
	}
	// ...the fifth is refused...
	c := from("127.0.3.1")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 503 {
		t.Errorf("fifth connection from the first address: got %v %v, want 503", resp, err)
	}
	// ...and another address is served.
	c = from("127.0.3.2")
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("another address: got %v %v, want 200", resp, err)
	}
}
