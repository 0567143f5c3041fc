package managesieve_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/imap/managesieve"
)

func testTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func start(t *testing.T, opts managesieve.Options) (string, *core.Service, core.User) {
	t.Helper()
	svc := coretest.New(t, coretest.Options{})
	u := coretest.User(t, svc, "alice@example.test")
	opts.Core = svc
	srv := managesieve.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
	})
	return ln.Addr().String(), svc, u
}

// pythonSession is a ManageSieve client on a raw socket: it prints every
// response (through the final OK/NO/BYE line) prefixed by the command.
const pythonSession = `
import socket, sys, base64
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=20)
f = s.makefile("rb")
def response(label):
    out = []
    while True:
        line = f.readline()
        if not line:
            out.append("EOF"); break
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if line.endswith("}") and "{" in line:
            n = int(line[line.rindex("{")+1:-1].rstrip("+"))
            out.append(line); out.append(f.read(n).decode()); continue
        out.append(line)
        if line.startswith(("OK", "NO", "BYE")):
            break
    print("== " + label); print("\n".join(out)); sys.stdout.flush()
def cmd(label, data):
    s.sendall(data.encode())
    response(label)
def literal(text):
    b = text.encode()
    return "{%d+}\r\n" % len(b) + text
response("greeting")
cmd("putscript-before-auth", 'PUTSCRIPT "x" ' + literal("keep;") + "\r\n")
auth = base64.b64encode(b"\0alice@example.test\0correct horse battery").decode()
cmd("authenticate", 'AUTHENTICATE "PLAIN" "%s"\r\n' % auth)
broken = 'require ["fileinto"];\r\nif header :contains "subject" "x" {\r\n  fileinto "A"\r\n  keep;\r\n}\r\n'
cmd("putscript-broken", 'PUTSCRIPT "broken" ' + literal(broken) + "\r\n")
cmd("checkscript-broken", 'CHECKSCRIPT ' + literal("frobnicate;\r\n") + "\r\n")
good = 'require ["fileinto"];\r\nif header :contains "subject" "report" {\r\n  fileinto "Reports";\r\n}\r\n'
cmd("havespace", 'HAVESPACE "main" %d\r\n' % len(good))
cmd("putscript-good", 'PUTSCRIPT "main" ' + literal(good) + "\r\n")
cmd("putscript-other", 'PUTSCRIPT "other" ' + literal("keep;\r\n") + "\r\n")
cmd("setactive", 'SETACTIVE "main"\r\n')
cmd("listscripts", "LISTSCRIPTS\r\n")
cmd("getscript", 'GETSCRIPT "main"\r\n')
cmd("getscript-missing", 'GETSCRIPT "nope"\r\n')
cmd("deletescript-active", 'DELETESCRIPT "main"\r\n')
cmd("renamescript", 'RENAMESCRIPT "other" "spare"\r\n')
cmd("renamescript-taken", 'RENAMESCRIPT "spare" "main"\r\n')
cmd("deletescript", 'DELETESCRIPT "spare"\r\n')
cmd("capability", "CAPABILITY\r\n")
cmd("logout", "LOGOUT\r\n")
`

// TestPythonSession drives a whole ManageSieve session from python's raw
// socket: PUTSCRIPT of a broken script is NO with the line and column.
func TestPythonSession(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: python3 not installed; the ManageSieve session test needs it")
	}
	addr, svc, u := start(t, managesieve.Options{AllowInsecureAuth: true})
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(py, "-c", pythonSession, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("python session: %v\n%s", err, out)
	}
	got := map[string]string{}
	var label string
	for _, line := range strings.Split(string(out), "\n") {
		if l, ok := strings.CutPrefix(line, "== "); ok {
			label = l
			continue
		}
		got[label] += line + "\n"
	}
	checks := []struct{ label, want string }{
		{"greeting", `"SASL" "PLAIN"`},
		{"greeting", `"SIEVE" "fileinto`},
		{"greeting", "OK"},
		{"putscript-before-auth", "NO"},
		{"authenticate", "OK"},
		{"putscript-broken", `NO "line 4, column 3: expected \";\" after fileinto`},
		{"checkscript-broken", `NO "line 1, column 1: unknown command \"frobnicate\""`},
		{"havespace", "OK"},
		{"putscript-good", "OK"},
		{"setactive", "OK"},
		{"listscripts", "\"main\" ACTIVE\n\"other\"\nOK"},
		{"getscript", "fileinto \"Reports\";"},
		{"getscript-missing", "NO (NONEXISTENT)"},
		{"deletescript-active", "NO (ACTIVE)"},
		{"renamescript", "OK"},
		{"renamescript-taken", "NO (ALREADYEXISTS)"},
		{"deletescript", "OK"},
		{"capability", `"OWNER" "alice@example.test"`},
		{"logout", "OK"},
	}
	for _, c := range checks {
		if !strings.Contains(got[c.label], c.want) {
			t.Errorf("%s: got\n%s\nwant it to contain %q", c.label, got[c.label], c.want)
		}
	}
	// What was stored is what delivery will run.
	sc, err := svc.ActiveSieveScript(context.Background(), u.ID)
	if err != nil || sc.Name != "main" || !strings.Contains(sc.Script, `fileinto "Reports"`) {
		t.Errorf("active script: got %+v, %v, want main", sc, err)
	}
	list, _ := svc.ListSieveScripts(context.Background(), u.ID)
	if len(list) != 1 {
		t.Errorf("scripts left: got %d, want 1 (main)", len(list))
	}
}

// conn is a small Go client for the TLS test.
type conn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func (c *conn) until() string {
	c.t.Helper()
	var b strings.Builder
	for {
		c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		if strings.HasPrefix(line, "OK") || strings.HasPrefix(line, "NO") || strings.HasPrefix(line, "BYE") {
			return b.String()
		}
	}
}

func (c *conn) cmd(s string) string {
	c.t.Helper()
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
	return c.until()
}

// TestStartTLSRequired: without the loopback allowance, authentication
// waits for STARTTLS (ENCRYPT-NEEDED), after which the capabilities are
// sent again with SASL PLAIN and login works.
func TestStartTLSRequired(t *testing.T) {
	addr, _, _ := start(t, managesieve.Options{TLSConfig: testTLS(t)})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &conn{t: t, c: nc, br: bufio.NewReader(nc)}
	greet := c.until()
	if !strings.Contains(greet, `"STARTTLS"`) || !strings.Contains(greet, `"SASL" ""`) {
		t.Errorf("greeting before TLS: got %q, want STARTTLS and no SASL mechanism", greet)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("\x00alice@example.test\x00" + coretest.Password))
	if got := c.cmd(`AUTHENTICATE "PLAIN" "` + auth + "\"\r\n"); !strings.HasPrefix(got, "NO (ENCRYPT-NEEDED)") {
		t.Errorf("AUTHENTICATE before TLS: got %q, want NO (ENCRYPT-NEEDED)", got)
	}
	if got := c.cmd("STARTTLS\r\n"); !strings.HasPrefix(got, "OK") {
		t.Fatalf("STARTTLS: got %q", got)
	}
	tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c = &conn{t: t, c: tc, br: bufio.NewReader(tc)}
	caps := c.until()
	if !strings.Contains(caps, `"SASL" "PLAIN"`) || strings.Contains(caps, `"STARTTLS"`) {
		t.Errorf("capabilities after TLS: got %q, want SASL PLAIN and no STARTTLS", caps)
	}
	// Without an initial response: the server sends an empty challenge.
	tc.Write([]byte("AUTHENTICATE \"PLAIN\"\r\n"))
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, _ := c.br.ReadString('\n'); line != "\"\"\r\n" {
		t.Fatalf("SASL challenge: got %q, want an empty string", line)
	}
	if got := c.cmd(`"` + auth + "\"\r\n"); !strings.HasPrefix(got, "OK") {
		t.Errorf("AUTHENTICATE after TLS: got %q, want OK", got)
	}
	if got := c.cmd("LISTSCRIPTS\r\n"); got != "OK \"Listscripts completed\"\r\n" {
		t.Errorf("LISTSCRIPTS with none: got %q", got)
	}
}

// TestWrongPassword: a failed PLAIN login is NO, and commands stay refused.
func TestWrongPassword(t *testing.T) {
	addr, _, _ := start(t, managesieve.Options{AllowInsecureAuth: true})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &conn{t: t, c: nc, br: bufio.NewReader(nc)}
	c.until()
	wrong := base64.StdEncoding.EncodeToString([]byte("\x00alice@example.test\x00wrong password"))
	if got := c.cmd(`AUTHENTICATE "PLAIN" "` + wrong + "\"\r\n"); !strings.HasPrefix(got, "NO") {
		t.Errorf("wrong password: got %q, want NO", got)
	}
	if got := c.cmd("LISTSCRIPTS\r\n"); !strings.HasPrefix(got, "NO") {
		t.Errorf("LISTSCRIPTS unauthenticated: got %q, want NO", got)
	}
	if got := c.cmd("LOGOUT\r\n"); !strings.HasPrefix(got, "OK") {
		t.Errorf("LOGOUT: got %q", got)
	}
}

// TestShutdownSaysBye: an idle session gets BYE when the server shuts down.
func TestShutdownSaysBye(t *testing.T) {
	svc := coretest.New(t, coretest.Options{})
	srv := managesieve.New(managesieve.Options{Core: svc, AllowInsecureAuth: true})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &conn{t: t, c: nc, br: bufio.NewReader(nc)}
	c.until()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: got %v, want nil (the session ended by itself)", err)
	}
	if got := c.until(); !strings.HasPrefix(got, "BYE") {
		t.Errorf("after Shutdown: got %q, want BYE", got)
	}
	if err := <-done; !errors.Is(err, managesieve.ErrServerClosed) {
		t.Errorf("Serve: got %v, want ErrServerClosed", err)
	}
}
