package compress

import (
	"bufio"
	"bytes"
	"github.com/klauspost/compress/flate"
	"io"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// peer is the client side, in python3's zlib (raw deflate, wbits -15): it
// sends commands one at a time, each ended with a flush of the mode given,
// and waits for the server's tagged answer before the next, so a reader
// that waits for more input than a flush point gives would hang it. It
// then idles: the server writes unprompted and the peer must decode it
// without sending anything.
const peer = `
import socket, sys, zlib
mode = {"sync": zlib.Z_SYNC_FLUSH, "partial": zlib.Z_PARTIAL_FLUSH}[sys.argv[2]]
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
c = zlib.compressobj(6, zlib.DEFLATED, -15)
d = zlib.decompressobj(-15)
buf = b""
def send(line):
    s.sendall(c.compress(line) + c.flush(mode))
def until(token):
    global buf
    while token not in buf:
        data = s.recv(65536)
        if not data:
            raise SystemExit("closed before " + token.decode())
        buf += d.decompress(data)
    i = buf.index(token) + len(token)
    out, buf = buf[:i], buf[i:]
    return out
for i in range(50):
    send(b"a%d NOOP\r\n" % i)
    until(b"a%d OK\r\n" % i)
send(b"big FETCH\r\n")
got = until(b"big OK\r\n")
if got.count(b"x") != 200000:
    raise SystemExit("big: got %d x" % got.count(b"x"))
send(b"i1 IDLE\r\n")
until(b"+ idling\r\n")
until(b"* 7 EXISTS\r\n")
send(b"DONE\r\n")
until(b"i1 OK\r\n")
send(b"z LOGOUT\r\n")
until(b"z OK\r\n")
print("peer ok")
`

// serve answers the peer's commands over a compressed connection.
func serve(t *testing.T, ln net.Listener, done chan<- error) {
	c, err := ln.Accept()
	if err != nil {
		done <- err
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	zc := New(c, nil)
	r := bufio.NewReader(zc)
	w := bufio.NewWriter(zc)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			done <- err
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd {
		case "FETCH":
			w.WriteString("* 1 FETCH (BODY[] {200000}\r\n" + strings.Repeat("x", 200000) + ")\r\n")
		case "IDLE":
			w.WriteString("+ idling\r\n")
			w.Flush()
			time.Sleep(100 * time.Millisecond)
			w.WriteString("* 7 EXISTS\r\n") // unprompted, as IDLE does
			w.Flush()
			if l, err := r.ReadString('\n'); err != nil || strings.TrimSpace(l) != "DONE" {
				done <- err
				return
			}
		}
		w.WriteString(tag + " OK\r\n")
		if err := w.Flush(); err != nil {
			done <- err
			return
		}
		if cmd == "LOGOUT" {
			done <- nil
			return
		}
	}
}

// TestPythonPeer runs the interactive exchange over a real TCP socket
// with both flush modes a client may use.
func TestPythonPeer(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIP: python3 not installed: the zlib peer cannot run")
	}
	for _, mode := range []string{"sync", "partial"} {
		t.Run(mode, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done := make(chan error, 1)
			go serve(t, ln, done)
			port := ln.Addr().(*net.TCPAddr).Port
			out, err := exec.Command("python3", "-c", peer, itoa(port), mode).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "peer ok") {
				t.Fatalf("python peer: %v\n%s", err, out)
			}
			if err := <-done; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
}

// TestBuffered: bytes read past the COMPRESS command before the switch are
// the start of the compressed stream.
func TestBuffered(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, 6)
	fw.Write([]byte("a1 NOOP\r\na2 NOOP\r\n"))
	fw.Flush()
	stream := z.Bytes()
	go func() {
		b.Write(stream[5:]) // the rest arrives on the wire
	}()
	c := New(a, stream[:5])
	r := bufio.NewReader(c)
	for _, want := range []string{"a1 NOOP\r\n", "a2 NOOP\r\n"} {
		got, err := r.ReadString('\n')
		if err != nil || got != want {
			t.Fatalf("got %q, %v, want %q", got, err, want)
		}
	}
	b.Close()
}

// TestRoundTrip: what one side writes the other reads, with writes from
// several goroutines kept whole.
func TestRoundTrip(t *testing.T) {
	a, b := net.Pipe()
	ca, cb := New(a, nil), New(b, nil)
	defer ca.Close()
	defer cb.Close()
	const n = 100
	go func() {
		for i := range n {
			go ca.Write([]byte(strings.Repeat(string(rune('a'+i%26)), 100) + "\n"))
		}
	}()
	r := bufio.NewReader(cb)
	for range n {
		l, err := r.ReadString('\n')
		if err != nil || len(l) != 101 || strings.Count(l, l[:1]) != 100 {
			t.Fatalf("line %q, %v: want 100 equal letters (writes interleaved?)", l, err)
		}
	}
	// A peer closing mid-stream is io.EOF to the reader.
	cb2 := New(b, nil)
	a.Close()
	if _, err := io.ReadAll(cb2); err != nil {
		t.Errorf("read after close: %v, want EOF", err)
	}
}

// TestMemory logs what one compressed connection holds (the figure quoted
// in the note): the writer's state dominates.
func TestMemory(t *testing.T) {
	const n = 50
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	conns := make([]*Conn, n)
	for i := range conns {
		a, _ := net.Pipe()
		conns[i] = New(a, nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("about %d KiB per compressed connection (flate level %d)", (after.HeapAlloc-before.HeapAlloc)/n/1024, Level)
	runtime.KeepAlive(conns)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// FuzzInflate: whatever compress/flate writes (any level, flushed at a
// point the input chooses) this package's inflater reads back unchanged;
// and arbitrary bytes never panic or hang it.
func FuzzInflate(f *testing.F) {
	f.Add([]byte("hello hello hello, IMAP"), uint8(6), uint16(5))
	f.Add(bytes.Repeat([]byte("abc"), 30000), uint8(1), uint16(700))
	f.Add([]byte{0x4b, 0x4c, 0x4a, 0x06, 0x00}, uint8(0), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, level uint8, cut uint16) {
		var z bytes.Buffer
		w, err := flate.NewWriter(&z, int(level%10))
		if err != nil {
			t.Fatal(err)
		}
		k := min(int(cut), len(data))
		w.Write(data[:k])
		w.Flush()
		w.Write(data[k:])
		w.Close()
		got, err := io.ReadAll(newInflateReader(bytes.NewReader(z.Bytes())))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip of %d bytes (level %d): got %d bytes, %v", len(data), level%10, len(got), err)
		}
		// The input itself as a compressed stream: an error or data, no panic.
		io.ReadAll(newInflateReader(bytes.NewReader(data)))
	})
}

// BenchmarkInflate measures the inflater on 1 MiB of mail-like text.
func BenchmarkInflate(b *testing.B) {
	var raw bytes.Buffer
	for i := 0; raw.Len() < 1<<20; i++ {
		raw.WriteString("a" + itoa(i) + " UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject Date)])\r\n")
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, 6)
	w.Write(raw.Bytes())
	w.Close()
	b.SetBytes(int64(raw.Len()))
	for b.Loop() {
		io.Copy(io.Discard, newInflateReader(bytes.NewReader(z.Bytes())))
	}
}
