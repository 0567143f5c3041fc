package imap

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

var (
	benchBig     = flag.Int("imap.big", 100000, "messages in the folder of BenchmarkBigFolder")
	benchDovecot = flag.Bool("imap.dovecot", true, "BenchmarkBigFolder: measure Dovecot too (false: Stamp only, for profiling)")
)

// bigMessage is message i of the benchmark folder: one in ten subjects has
// each word, one in a thousand bodies has "needle", one in ten is unseen.
func bigMessage(i int) (string, bool) {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
	msg := fmt.Sprintf("From: Sender %d <s%d@remote.example>\r\nTo: Bob <bob@example.test>\r\nSubject: message %d %s\r\nDate: Mon, 02 Mar 2026 10:%02d:00 +0000\r\nMessage-ID: <m%d@remote.example>\r\n\r\nHello, this is body number %d about %s.\r\n%s\r\n",
		i%100, i%100, i, words[i%10], i%60, i, i, words[(i/10)%10], strings.Repeat("lorem ipsum dolor sit amet ", 8))
	if i%1000 == 0 {
		msg += "the needleword appears here\r\n"
	}
	return msg, i%10 == 0
}

// imapClient is a minimal line client for timing whole commands.
type imapClient struct {
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func dialIMAP(tb testing.TB, addr, user, pass string) *imapClient {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	ic := &imapClient{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := ic.r.ReadString('\n'); err != nil {
		tb.Fatal(err)
	}
	if n, st := ic.run(fmt.Sprintf("LOGIN %q %q", user, pass)); !strings.Contains(st, "OK") {
		tb.Fatalf("login: %q (%d lines)", st, n)
	}
	return ic
}

// run sends a command and reads to its tagged reply, skipping literals;
// it returns the number of untagged lines and the status line.
func (ic *imapClient) run(cmd string) (int, string) {
	ic.tag++
	tag := "t" + strconv.Itoa(ic.tag)
	ic.c.SetDeadline(time.Now().Add(10 * time.Minute))
	fmt.Fprintf(ic.c, "%s %s\r\n", tag, cmd)
	n := 0
	for {
		l, err := ic.r.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			_, err = ic.r.ReadSlice('\n')
		}
		if err != nil {
			return n, "read error: " + err.Error()
		}
		if t := strings.TrimRight(string(l), "\r\n"); strings.HasSuffix(t, "}") {
			if i := strings.LastIndexByte(t, '{'); i >= 0 {
				if size, err := strconv.Atoi(strings.TrimSuffix(t[i+1:len(t)-1], "+")); err == nil {
					ic.r.Discard(size)
					continue
				}
			}
		}
		if strings.HasPrefix(string(l), tag+" ") {
			return n, strings.TrimSpace(string(l))
		}
		if !strings.HasPrefix(string(l), "* OK") { // Dovecot's progress notes
			n++
		}
	}
}

// dovecot starts a throwaway Dovecot on a loopback port serving maildir
// as user bench (password "pw"). It skips when Dovecot is not installed.
func dovecot(tb testing.TB, dir string) string {
	tb.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/dovecot"); err != nil {
			tb.Skip("SKIPPED LOUDLY: dovecot not installed (apt-get install dovecot-imapd)")
		}
		bin = "/usr/sbin/dovecot"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:%[1]s/Maildir
first_valid_uid = 0
mail_uid = dovecot
mail_gid = dovecot
passdb {
  driver = passwd-file
  args = %[1]s/passwd
}
userdb {
  driver = static
  args = home=%[1]s
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service imap {
  process_limit = 2000
}
protocol imap {
  mail_max_userip_connections = 2000
}
default_process_limit = 2000
default_client_limit = 4000
`, dir, port)
	if err := os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte("bench:{PLAIN}pw\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	exec.Command("chown", "-R", "dovecot:dovecot", dir).Run()
	cmd := exec.Command(bin, "-F", "-c", filepath.Join(dir, "dovecot.conf"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if i > 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			tb.Fatalf("dovecot did not start: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeMaildir writes the benchmark folder as a Maildir INBOX.
func writeMaildir(tb testing.TB, dir string, n int) {
	tb.Helper()
	cur := filepath.Join(dir, "Maildir", "cur")
	for _, d := range []string{cur, filepath.Join(dir, "Maildir", "new"), filepath.Join(dir, "Maildir", "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		msg, unseen := bigMessage(i)
		info := ":2,S"
		if unseen {
			info = ":2,"
		}
		name := fmt.Sprintf("%d.M%dP1.bench,S=%d%s", 1700000000+i, i, len(msg), info)
		if err := os.WriteFile(filepath.Join(cur, name), []byte(msg), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// fillBig appends the benchmark folder to a Stamp user's INBOX.
func fillBig(tb testing.TB, svc *core.Service, userID int64, n int) {
	tb.Helper()
	ctx := context.Background()
	mb, err := svc.GetMailboxByName(ctx, userID, "INBOX")
	if err != nil {
		tb.Fatal(err)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var failed sync.Once
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				msg, unseen := bigMessage(i)
				var flags []string
				if !unseen {
					flags = []string{core.FlagSeen}
				}
				if _, err := svc.Append(ctx, userID, mb.ID, flags, time.Unix(int64(1700000000+i), 0), []byte(msg)); err != nil {
					failed.Do(func() { tb.Error(err) })
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}

// bigCommands are the commands BenchmarkBigFolder times, with the number
// of untagged lines each must give on the benchmark folder.
func bigCommands(n int) []struct {
	name, cmd string
	lines     int
} {
	return []struct {
		name, cmd string
		lines     int
	}{
		{"UID_FETCH_1:*_(FLAGS)", "UID FETCH 1:* (FLAGS)", n},
		{"FETCH_1:*_(ENVELOPE)", "FETCH 1:* (ENVELOPE)", n},
		{"UID_SEARCH_UNSEEN", "UID SEARCH UNSEEN", 1},
		{"SEARCH_SUBJECT_foxtrot", "SEARCH SUBJECT foxtrot", 1},
		{"SEARCH_BODY_eedlewor", "SEARCH BODY eedlewor", 1},
	}
}

// BenchmarkBigFolder times the same commands on a -imap.big message INBOX
// in Stamp and in a throwaway Dovecot (Maildir) started in the same run.
// Each command runs once untimed first (Dovecot builds its index and
// cache then; Stamp warms its caches).
func BenchmarkBigFolder(b *testing.B) {
	n := *benchBig
	// 1,000 idle connections need 2,000 descriptors here (both ends).
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < 8192 {
		lim.Cur = min(lim.Max, 8192)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	dir := memDir(b)
	os.Chmod(dir, 0o755)
	e := newEnvIn(b, filepath.Join(mkdir(b, dir, "stamp")), Options{AllowInsecureAuth: true})
	u := coretest.User(b, e.svc, "bob@example.test")
	start := time.Now()
	fillBig(b, e.svc, u.ID, n)
	b.Logf("stamp: filled %d messages in %v", n, time.Since(start).Round(time.Millisecond))
	servers := []struct{ name, addr, user, pass string }{
		{"stamp", e.addr, "bob@example.test", coretest.Password},
	}
	daddr := ""
	if *benchDovecot {
		ddir := mkdir(b, dir, "dovecot")
		start = time.Now()
		writeMaildir(b, ddir, n)
		b.Logf("dovecot: wrote %d Maildir files in %v", n, time.Since(start).Round(time.Millisecond))
		daddr = dovecot(b, ddir)
		servers = append(servers, struct{ name, addr, user, pass string }{"dovecot", daddr, "bench", "pw"})
	}
	for _, srv := range servers {
		ic := dialIMAP(b, srv.addr, srv.user, srv.pass)
		start := time.Now()
		if _, st := ic.run("SELECT INBOX"); !strings.Contains(st, "OK") {
			b.Fatalf("%s: SELECT: %s", srv.name, st)
		}
		b.Logf("%s: first SELECT of %d messages: %v", srv.name, n, time.Since(start).Round(time.Millisecond))
		for _, c := range bigCommands(n) {
			start := time.Now()
			lines, st := ic.run(c.cmd)
			if !strings.Contains(st, "OK") || lines != c.lines {
				b.Fatalf("%s: %s: %d lines, %q; want %d lines and OK", srv.name, c.cmd, lines, st, c.lines)
			}
			b.Logf("%s: first %s: %v", srv.name, c.cmd, time.Since(start).Round(time.Millisecond))
			b.Run(srv.name+"/"+c.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if lines, st := ic.run(c.cmd); lines != c.lines || !strings.Contains(st, "OK") {
						b.Fatalf("%s: %d lines, %q", c.cmd, lines, st)
					}
				}
			})
		}
	}
	b.Run("stamp/RSS_1000_idle", func(b *testing.B) { idleRSS(b, "stamp", e.addr, "bob@example.test", coretest.Password, 1000) })
	if daddr != "" {
		b.Run("dovecot/RSS_1000_idle", func(b *testing.B) { idleRSS(b, "dovecot", daddr, "bench", "pw", 1000) })
	}
}

func mkdir(tb testing.TB, parent, name string) string {
	d := filepath.Join(parent, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		tb.Fatal(err)
	}
	return d
}

// idleRSS opens n logged-in (authenticated, idle) connections and reports
// the server's memory growth: for Stamp this process's RSS (the clients'
// sockets included), for Dovecot the proportional set size of its imap
// processes (one per connection).
func idleRSS(b *testing.B, name, addr, user, pass string, n int) {
	for i := 0; i < b.N; i++ {
		before := serverMem(name)
		var conns []*imapClient
		for j := 0; j < n; j++ {
			conns = append(conns, dialIMAP(b, addr, user, pass))
		}
		time.Sleep(time.Second)
		after := serverMem(name)
		b.ReportMetric(float64(after-before)/float64(n)/1024, "KB/conn")
		b.ReportMetric(float64(after-before)/(1<<20), "MB_total")
		for _, ic := range conns {
			ic.c.Close()
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// serverMem returns bytes: this process's RSS for Stamp, the PSS sum of
// the dovecot imap processes for Dovecot.
func serverMem(name string) int64 {
	if name == "stamp" {
		runtime.GC()
		debug.FreeOSMemory()
		return statusKB("/proc/self/status", "VmRSS:") * 1024
	}
	var total int64
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + pid + "/comm")
		if strings.TrimSpace(string(comm)) != "imap" {
			continue
		}
		total += statusKB("/proc/"+pid+"/smaps_rollup", "Pss:") * 1024
	}
	return total
}

func statusKB(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key) {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}
