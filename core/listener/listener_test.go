package listener

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer starts a server whose sessions greet, then wait for either a
// line (answered "ok") or the shutdown context (answered "bye").
func echoServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Handle == nil {
		opts.Handle = func(ctx context.Context, c net.Conn) {
			io.WriteString(c, "hello\n")
			lines := make(chan string)
			go func() {
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						close(lines)
						return
					}
					lines <- l
				}
			}()
			for {
				select {
				case <-ctx.Done():
					io.WriteString(c, "bye\n")
					return
				case _, ok := <-lines:
					if !ok {
						return
					}
					io.WriteString(c, "ok\n")
				}
			}
		}
	}
	if opts.Refuse == nil {
		opts.Refuse = func(c net.Conn, r Reason) { io.WriteString(c, "refused "+r.String()+"\n") }
	}
	s := New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: got %v, want ErrServerClosed", err)
		}
	})
	return s, ln.Addr().String()
}

// dialFrom connects to addr from the local IP from and returns the first line.
func dialFrom(t *testing.T, from, addr string) (net.Conn, string) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read greeting from %s: %v", from, err)
	}
	return c, strings.TrimSpace(line)
}

func TestGlobalCapIsExact(t *testing.T) {
	s, addr := echoServer(t, Options{Name: "test", MaxConnections: 3})
	for i := range 3 {
		if _, got := dialFrom(t, "", addr); got != "hello" {
			t.Fatalf("connection %d: got %q, want hello", i+1, got)
		}
	}
	if _, got := dialFrom(t, "", addr); got != "refused too many connections" {
		t.Fatalf("connection 4: got %q, want the refusal", got)
	}
	if n := s.Count(); n != 3 {
		t.Errorf("Count: got %d, want 3", n)
	}
}

func TestCapFreesOnClose(t *testing.T) {
	s, addr := echoServer(t, Options{Name: "test", MaxConnections: 1})
	c, _ := dialFrom(t, "", addr)
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.Count() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, got := dialFrom(t, "", addr); got != "hello" {
		t.Fatalf("after close: got %q, want hello", got)
	}
}

func TestPerIPCap(t *testing.T) {
	_, addr := echoServer(t, Options{Name: "test", MaxConnections: 10, MaxPerIP: 2})
	for i := range 2 {
		if _, got := dialFrom(t, "127.0.0.1", addr); got != "hello" {
			t.Fatalf("127.0.0.1 connection %d: got %q, want hello", i+1, got)
		}
	}
	if _, got := dialFrom(t, "127.0.0.1", addr); got != "refused too many connections from this address" {
		t.Fatalf("127.0.0.1 connection 3: got %q, want the per-IP refusal", got)
	}
	// Another address is still served while the first is at its cap.
	if _, got := dialFrom(t, "127.0.0.2", addr); got != "hello" {
		t.Fatalf("127.0.0.2: got %q, want hello", got)
	}
}

func TestShutdownTellsSessions(t *testing.T) {
	s, addr := echoServer(t, Options{Name: "test"})
	c, _ := dialFrom(t, "", addr)
	r := bufio.NewReader(c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: got %v, want nil", err)
	}
	line, err := r.ReadString('\n')
	if err != nil || line != "bye\n" {
		t.Fatalf("after Shutdown: got %q, %v; want bye", line, err)
	}
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Errorf("after bye: got %v, want EOF (connection closed)", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("dial after Shutdown: got a connection, want refused")
	}
}

func TestShutdownForceCloses(t *testing.T) {
	started := make(chan struct{})
	s, addr := echoServer(t, Options{Name: "test", Handle: func(ctx context.Context, c net.Conn) {
		io.WriteString(c, "hello\n")
		close(started)
		io.Copy(io.Discard, c) // ignores ctx: only closing the connection ends it
	}})
	c, _ := dialFrom(t, "", addr)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: got %v, want DeadlineExceeded", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after forced close: got %v, want EOF", err)
	}
	if n := s.Count(); n != 0 {
		t.Errorf("Count after Shutdown: got %d, want 0", n)
	}
}

func TestPanicClosesOnlyThatConnection(t *testing.T) {
	_, addr := echoServer(t, Options{Name: "test", Handle: func(ctx context.Context, c net.Conn) {
		io.WriteString(c, "hello\n")
		panic("boom")
	}})
	c, _ := dialFrom(t, "", addr)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after panic: got %v, want EOF", err)
	}
	if _, got := dialFrom(t, "", addr); got != "hello" {
		t.Errorf("next connection: got %q, want hello", got)
	}
}

func TestLimitListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := NewLimiter(0, 1)
	l := LimitListener(ln, lim, func(c net.Conn, r Reason) { io.WriteString(c, "no\n") })
	defer l.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hello\n")
			accepted <- c
		}
	}()
	if _, got := dialFrom(t, "127.0.0.1", ln.Addr().String()); got != "hello" {
		t.Fatalf("first: got %q, want hello", got)
	}
	if _, got := dialFrom(t, "127.0.0.1", ln.Addr().String()); got != "no" {
		t.Fatalf("second from the same IP: got %q, want no", got)
	}
	(<-accepted).Close()
	if n := lim.Count(); n != 0 {
		t.Fatalf("Count after close: got %d, want 0", n)
	}
	if _, got := dialFrom(t, "127.0.0.1", ln.Addr().String()); got != "hello" {
		t.Fatalf("third, after the first closed: got %q, want hello", got)
	}
}

func TestHostOf(t *testing.T) {
	cases := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}, "192.0.2.1"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 1}, "2001:db8:1:2::"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::1"), Port: 1}, "2001:db8:1:2::"},
		{&net.UnixAddr{Name: "@", Net: "unix"}, ""},
		{nil, ""},
	}
	for _, c := range cases {
		if got := hostOf(c.addr); got != c.want {
			t.Errorf("hostOf(%v): got %q, want %q", c.addr, got, c.want)
		}
	}
}
