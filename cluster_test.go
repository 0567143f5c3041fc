package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/storage/blob/s3"
	"github.com/stamp-mail/stamp/storage/blob/s3/s3test"
)

// Cluster test timings.
const (
	clusterLease    = 6 * time.Second // outbound.lease of the nodes
	loadBeforeKill  = 4 * time.Second // SMTP load through HAProxy before kill -9
	loadAfterKill   = 4 * time.Second // and after
	clusterPassword = "a long cluster password"
)

// TestClusterFailover runs three `stamp serve` nodes on one PostgreSQL
// database and one S3 store (SeaweedFS) behind HAProxy (deploy/haproxy.cfg,
// unchanged), and kills one node with SIGKILL under SMTP load:
//   - every message acknowledged with 250 is readable afterwards through
//     HAProxy's IMAP, byte for byte;
//   - a 300 KB attachment sent many times is one object in S3;
//   - IDLE and WebSocket clients on the surviving nodes see mail delivered
//     through any node;
//   - outbound queue items the dead node had claimed (stalled at a fake MX)
//     are taken over by the others once their lease ends, and delivered once.
//
// It prints messages acknowledged, time to fail over and cross-node IDLE
// latency (BENCHMARKS.md records them).
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test: not in -short mode")
	}
	haproxy := "/usr/sbin/haproxy"
	if _, err := os.Stat(haproxy); err != nil {
		p, err := exec.LookPath("haproxy")
		if err != nil {
			t.Skip("SKIPPED LOUDLY: haproxy not installed (apt-get install -y haproxy): the cluster test needs a real load balancer")
		}
		haproxy = p
	}
	dsn := freshDatabase(t)
	weed := s3test.Start(t)
	const deadHost = "node1.cluster.test"
	mx := startStallingMX(t, deadHost)
	testStart := time.Now()

	// Three nodes sharing the database and the bucket.
	shared := t.TempDir()
	cfgs := make([]string, 3)
	dirs := make([]string, 3)
	for i := range cfgs {
		dirs[i] = filepath.Join(shared, fmt.Sprintf("node%d", i+1))
		os.MkdirAll(dirs[i], 0o700)
		cfgs[i] = filepath.Join(dirs[i], "stamp.yaml")
		os.WriteFile(cfgs[i], []byte(fmt.Sprintf(`hostname: node%d.cluster.test
storage:
  database: postgres
  dsn: %q
  partitions: 4
  blobs: s3
  s3: {endpoint: %q, bucket: %q, access_key: %q, secret_key: %q, path_style: true, prefix: "cluster/"}
listen: {smtp: "127.0.0.1:0", submission: "127.0.0.1:0", submissions: "", imap: "127.0.0.1:0", imaps: "", pop3: "127.0.0.1:0", pop3s: "", http: "127.0.0.1:0", managesieve: ""}
limits: {smtp_rate_per_minute: 10000000, max_connections: 10000, max_connections_per_ip: 10000}
outbound: {relay: %q, workers: 2, lease: %s}
log: {level: warn}
`, i+1, dsn, weed.Endpoint, s3test.Bucket, s3test.AccessKey, s3test.SecretKey, mx.addr, clusterLease)), 0o600)
	}
	for _, u := range []string{"load@example.test", "probe@example.test", "sender@example.test"} {
		stamp(t, dirs[0], clusterPassword+"\n", "user", "add", u, "--password-stdin", "--config", cfgs[0])
	}
	nodes := make([]*running, 3)
	for i := range nodes {
		nodes[i] = serve(t, dirs[i], "--config", cfgs[i])
	}
	lb := startHAProxy(t, haproxy, nodes)
	t.Logf("cluster up in %v: 3 nodes, PostgreSQL, SeaweedFS, HAProxy", time.Since(testStart).Round(time.Millisecond))

	// Listeners on the surviving nodes (2 and 3), open before the kill.
	idle2 := dialIdle(t, nodes[1].addrs["imap"], "probe@example.test")
	idle3 := dialIdle(t, nodes[2].addrs["imap"], "probe@example.test")
	ws3 := dialEvents(t, nodes[2].addrs["http"], "probe@example.test")
	var latencies []time.Duration
	probes := 0
	probe := func(via, name string) {
		t.Helper()
		probes++
		raw := []byte(fmt.Sprintf("From: p@remote.example\r\nTo: probe@example.test\r\nSubject: probe %d via %s\r\n\r\nprobe\r\n", probes, name))
		if err := sendMail(via, "p@remote.example", "probe@example.test", raw); err != nil {
			t.Fatalf("probe via %s: %v", name, err)
		}
		acked := time.Now()
		for _, l := range []*idleClient{idle2, idle3} {
			if !l.waitFor(uint32(probes), 10*time.Second) {
				t.Fatalf("IDLE on %s saw %d messages 10s after probe %d via %s", l.addr, l.exists.Load(), probes, name)
			}
			if l.addr != via {
				latencies = append(latencies, l.seenAt(uint32(probes)).Sub(acked))
			}
		}
		if !ws3.waitFor(probes, 10*time.Second) {
			t.Fatalf("WebSocket on node 3 saw %d new messages 10s after probe %d via %s", ws3.count.Load(), probes, name)
		}
	}
	for i, n := range nodes {
		probe(n.addrs["smtp"], fmt.Sprintf("node %d", i+1))
	}

	// SMTP load through HAProxy; every tenth message carries the same 300 KB attachment.
	attachment := make([]byte, 300<<10)
	rnd := rand.NewChaCha8([32]byte{42})
	rnd.Read(attachment)
	var (
		mu       sync.Mutex
		acked    = map[string][32]byte{} // X-Cluster-ID -> hash of the message
		ackTimes []time.Time
		failed   []time.Time
		wg       sync.WaitGroup
		withAtt  atomic.Int64
	)
	stop := make(chan struct{})
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("%d-%d", w, i)
				raw := loadMessage(id, i%10 == 9, attachment)
				err := sendMail(lb.smtp, "s@remote.example", "load@example.test", raw)
				mu.Lock()
				if err == nil {
					acked[id] = sha256.Sum256(raw)
					ackTimes = append(ackTimes, time.Now())
					if i%10 == 9 {
						withAtt.Add(1)
					}
				} else {
					failed = append(failed, time.Now())
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(loadBeforeKill - 1500*time.Millisecond)

	// Outbound mail submitted on node 1: its two workers claim two items
	// and stall at the fake MX; the other nodes deliver the rest.
	outIDs := []string{"out-1", "out-2", "out-3", "out-4"}
	for _, id := range outIDs {
		raw := []byte(fmt.Sprintf("From: sender@example.test\r\nTo: rcpt@remote.test\r\nSubject: outbound %s\r\nX-Out-ID: %s\r\n\r\nto a remote domain\r\n", id, id))
		if err := submit(nodes[0].addrs["submission"], "sender@example.test", "rcpt@remote.test", raw); err != nil {
			t.Fatalf("submission on node 1: %v", err)
		}
	}
	if !mx.waitStalled(2, 10*time.Second) {
		t.Fatalf("node 1 did not start delivering its claimed items (stalled: %d)", mx.stalledCount())
	}
	mu.Lock()
	ackedBeforeKill := len(acked)
	mu.Unlock()

	// kill -9 node 1.
	killedAt := time.Now()
	if err := nodes[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	mx.release()
	downAfter := lb.waitDown(t, "n1", 20*time.Second)
	time.Sleep(loadAfterKill)
	close(stop)
	wg.Wait()
	mu.Lock()
	var firstAckAfterKill time.Duration = -1
	for _, at := range ackTimes {
		if at.After(killedAt) && (firstAckAfterKill < 0 || at.Sub(killedAt) < firstAckAfterKill) {
			firstAckAfterKill = at.Sub(killedAt)
		}
	}
	var lastFailure time.Duration
	failedAfter := 0
	for _, f := range failed {
		if f.After(killedAt) {
			failedAfter++
			lastFailure = max(lastFailure, f.Sub(killedAt))
		}
	}
	mu.Unlock()
	if len(acked) == 0 || ackedBeforeKill == 0 {
		t.Fatalf("no message acknowledged (%d before the kill)", ackedBeforeKill)
	}

	// IDLE and WebSocket on the survivors still see mail through any node.
	probe(nodes[1].addrs["smtp"], "node 2")
	probe(nodes[2].addrs["smtp"], "node 3")
	probe(lb.smtp, "HAProxy")

	// Outbound: the dead node's items are delivered once, after its lease.
	if !mx.waitDelivered(outIDs, 3*clusterLease) {
		t.Fatalf("outbound after the kill: delivered %v, want each of %v once", mx.deliveredCounts(), outIDs)
	}
	takeover := mx.lastDelivery().Sub(killedAt)
	time.Sleep(clusterLease / 2) // a duplicate would come from the next scan
	for _, id := range outIDs {
		if n := mx.deliveredCounts()[id]; n != 1 {
			t.Errorf("outbound %s: delivered %d times, want once", id, n)
		}
	}

	// Every acknowledged message, through HAProxy's IMAP, byte for byte.
	stored, inInbox := fetchAll(t, lb.imap, "load@example.test")
	missing := 0
	for id, h := range acked {
		if got, ok := stored[id]; !ok || got != h {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged message %s: stored %v, content equal %v", id, ok, got == h)
			}
		}
	}
	// A POP3 session through HAProxy sees the same INBOX.
	if n := pop3Stat(t, lb.pop3, "load@example.test"); n != inInbox {
		t.Errorf("POP3 STAT through HAProxy: %d messages, want the %d IMAP shows in INBOX", n, inInbox)
	}

	// The attachment is one object in S3: nothing else is above the inline limit.
	st, err := s3.Open(context.Background(), weed.Config("cluster/"))
	if err != nil {
		t.Fatal(err)
	}
	objects, err := st.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if withAtt.Load() < 2 || objects != 1 {
		t.Errorf("S3 objects after %d messages with the same 300 KB attachment: got %d, want 1", withAtt.Load(), objects)
	}

	slices.Sort(latencies)
	t.Logf("CLUSTER FIGURES (2 shared cores; 3 nodes + PostgreSQL + SeaweedFS + HAProxy + load on one machine):")
	t.Logf("  messages acknowledged: %d (%d before the kill), %d with the 300 KB attachment; stored %d (%d in INBOX, the rest in Junk); lost: %d",
		len(acked), ackedBeforeKill, withAtt.Load(), len(stored), inInbox, missing)
	t.Logf("  failed SMTP sessions after the kill: %d, the last %v after it", failedAfter, lastFailure.Round(time.Millisecond))
	t.Logf("  time to fail over: HAProxy marked the node DOWN after %v; first 250 after the kill after %v", downAfter.Round(time.Millisecond), firstAckAfterKill.Round(time.Millisecond))
	t.Logf("  cross-node IDLE latency (250 to EXISTS on another node, %d samples): median %v, max %v",
		len(latencies), latencies[len(latencies)/2].Round(time.Microsecond*100), latencies[len(latencies)-1].Round(time.Microsecond*100))
	t.Logf("  outbound: dead node's claimed items delivered by the others %v after the kill (lease %v); every item once", takeover.Round(time.Millisecond), clusterLease)
	t.Logf("  S3 objects: %d; whole test %v", objects, time.Since(testStart).Round(time.Second))
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged messages lost after kill -9", missing, len(acked))
	}
}

// loadMessage is one load message; with att it carries the shared attachment.
func loadMessage(id string, att bool, attachment []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "X-Cluster-ID: %s\r\nFrom: s@remote.example\r\nTo: load@example.test\r\nSubject: load %s\r\nMessage-ID: <%s@remote.example>\r\n", id, id, id)
	if !att {
		fmt.Fprintf(&b, "\r\n%s", strings.Repeat("a line of the message body "+id+"\r\n", 30))
		return b.Bytes()
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n--b0\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n--b0\r\n")
	b.WriteString("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=report.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(attachment)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b0--\r\n")
	return b.Bytes()
}

func submit(addr, from, to string, raw []byte) error {
	c, err := gosmtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.cluster.test"); err != nil {
		return err
	}
	if err := c.Auth(sasl.NewPlainClient("", from, clusterPassword)); err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	if err := c.SendMail(from, []string{to}, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

// lbAddrs are HAProxy's frontends.
type lbAddrs struct {
	smtp, imap, pop3, http string
	stats                  string // unix socket
}

// startHAProxy runs deploy/haproxy.cfg with the nodes' addresses and waits
// until every server is UP.
func startHAProxy(t *testing.T, bin string, nodes []*running) *lbAddrs {
	t.Helper()
	dir := t.TempDir()
	lb := &lbAddrs{stats: filepath.Join(dir, "stats.sock")}
	env := append(os.Environ(), "STAMP_LB_STATS="+lb.stats)
	for _, name := range []string{"smtp", "submission", "imap", "pop3", "http"} {
		addr := freeAddr(t)
		env = append(env, "STAMP_LB_"+strings.ToUpper(name)+"="+addr)
		switch name {
		case "smtp":
			lb.smtp = addr
		case "imap":
			lb.imap = addr
		case "pop3":
			lb.pop3 = addr
		case "http":
			lb.http = addr
		}
		for i, n := range nodes {
			env = append(env, fmt.Sprintf("STAMP_NODE%d_%s=%s", i+1, strings.ToUpper(name), n.addrs[name]))
		}
	}
	out := &logBuffer{}
	cmd := exec.Command(bin, "-db", "-f", filepath.Join("deploy", "haproxy.cfg"))
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := lbStatus(lb.stats)
		up := 0
		for k, v := range st {
			if strings.Contains(k, "/n") && v == "UP" {
				up++
			}
		}
		if err == nil && up == 15 {
			return lb
		}
		select {
		case <-done:
			t.Fatalf("haproxy exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy servers not all UP after 20s: %v (%v)\n%s", st, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitDown returns how long after now-ish server became DOWN in the smtp
// backend (polled every 20 ms).
func (lb *lbAddrs) waitDown(t *testing.T, server string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		st, err := lbStatus(lb.stats)
		if err == nil && strings.HasPrefix(st["smtp/"+server], "DOWN") {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("HAProxy did not mark %s DOWN within %v", server, timeout)
	return 0
}

// lbStatus asks HAProxy's stats socket for every backend server's status,
// keyed "backend/server".
func lbStatus(sock string) (map[string]string, error) {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(c)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("# "))))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, fmt.Errorf("show stat: %v %q", err, data)
	}
	col := slices.Index(recs[0], "status")
	out := map[string]string{}
	for _, rec := range recs[1:] {
		if col >= 0 && len(rec) > col && len(rec) > 1 {
			out[rec[0]+"/"+rec[1]] = rec[col]
		}
	}
	return out, nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// idleClient is an IMAP session IDLE in INBOX, recording when each EXISTS count arrived.
type idleClient struct {
	addr   string
	exists atomic.Uint32
	mu     sync.Mutex
	seen   map[uint32]time.Time
	wake   chan struct{}
}

func dialIdle(t *testing.T, addr, user string) *idleClient {
	t.Helper()
	ic := &idleClient{addr: addr, seen: map[uint32]time.Time{}, wake: make(chan struct{}, 1)}
	c, err := imapclient.DialInsecure(addr, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages == nil {
					return
				}
				n := *d.NumMessages
				ic.mu.Lock()
				if _, ok := ic.seen[n]; !ok {
					ic.seen[n] = time.Now()
				}
				ic.mu.Unlock()
				ic.exists.Store(n)
				select {
				case ic.wake <- struct{}{}:
				default:
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, clusterPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Idle(); err != nil {
		t.Fatal(err)
	}
	return ic
}

func (ic *idleClient) waitFor(n uint32, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for ic.exists.Load() < n {
		select {
		case <-ic.wake:
		case <-deadline:
			return false
		}
	}
	return true
}

// seenAt is when the client first saw EXISTS n (or more).
func (ic *idleClient) seenAt(n uint32) time.Time {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	var best time.Time
	for k, at := range ic.seen {
		if k >= n && (best.IsZero() || at.Before(best)) {
			best = at
		}
	}
	return best
}

// eventsClient is a WebSocket stream of /v1/events counting message.new events.
type eventsClient struct {
	count atomic.Int64
	wake  chan struct{}
}

func dialEvents(t *testing.T, addr, user string) *eventsClient {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": clusterPassword})
	resp, err := http.Post("http://"+addr+"/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != 200 || login.Token == "" {
		t.Fatalf("login on %s: HTTP %d", addr, resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/v1/events", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + login.Token}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	ec := &eventsClient{wake: make(chan struct{}, 1)}
	go func() {
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			var ev struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(data, &ev) == nil && ev.Type == "message.new" {
				ec.count.Add(1)
				select {
				case ec.wake <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ec
}

func (ec *eventsClient) waitFor(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for ec.count.Load() < int64(n) {
		select {
		case <-ec.wake:
		case <-deadline:
			return false
		}
	}
	return true
}

// fetchAll reads every message of user's INBOX and Junk (where the spam
// filter may file mail) over IMAP and returns the hash of each one's bytes
// from its X-Cluster-ID header on (what the load generator sent; the server
// prepends its trace headers), by that id, and how many are in INBOX.
func fetchAll(t *testing.T, addr, user string) (map[string][32]byte, int) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, clusterPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	inbox := 0
	for _, mbox := range []string{"INBOX", "Junk"} {
		sel, err := c.Select(mbox, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if mbox == "INBOX" {
			inbox = int(sel.NumMessages)
		}
		if sel.NumMessages == 0 {
			continue
		}
		section := &imap.FetchItemBodySection{Peek: true}
		var all imap.SeqSet
		all.AddRange(1, 0)
		got, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			t.Fatalf("FETCH 1:* BODY.PEEK[] in %s: %v", mbox, err)
		}
		for _, m := range got {
			b := m.FindBodySection(section)
			i := bytes.Index(b, []byte("X-Cluster-ID: "))
			if i < 0 {
				continue
			}
			line := b[i+len("X-Cluster-ID: "):]
			id := string(line[:bytes.IndexByte(line, '\r')])
			out[id] = sha256.Sum256(b[i:])
		}
	}
	return out, inbox
}

// pop3Stat logs in over POP3 and returns STAT's message count.
func pop3Stat(t *testing.T, addr, user string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	line := func() string { l, _ := r.ReadString('\n'); return strings.TrimSpace(l) }
	cmd := func(s string) string { fmt.Fprintf(c, "%s\r\n", s); return line() }
	if g := line(); !strings.HasPrefix(g, "+OK") {
		t.Fatalf("POP3 greeting through HAProxy: %q", g)
	}
	cmd("USER " + user)
	if r := cmd("PASS " + clusterPassword); !strings.HasPrefix(r, "+OK") {
		t.Fatalf("POP3 PASS through HAProxy: %q", r)
	}
	var n int
	fmt.Sscanf(strings.TrimPrefix(cmd("STAT"), "+OK "), "%d", &n)
	cmd("QUIT")
	return n
}

// stallingMX is the remote MX of the outbound test: sessions from the
// host that will die stall after DATA until release (their 250 never
// reaches the dead node), the others are accepted and counted by X-Out-ID.
type stallingMX struct {
	addr  string
	stall string // EHLO name whose sessions stall

	mu        sync.Mutex
	stalled   int
	delivered map[string]int
	last      time.Time
	released  chan struct{}
	wake      chan struct{}
}

func startStallingMX(t *testing.T, stallHost string) *stallingMX {
	t.Helper()
	mx := &stallingMX{stall: stallHost, delivered: map[string]int{}, released: make(chan struct{}), wake: make(chan struct{}, 1)}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &stallSession{mx: mx, conn: c}, nil
	}))
	srv.Domain = "mx.remote.test"
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mx.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { mx.release(); srv.Close() })
	return mx
}

func (mx *stallingMX) release() {
	mx.mu.Lock()
	defer mx.mu.Unlock()
	select {
	case <-mx.released:
	default:
		close(mx.released)
	}
}

func (mx *stallingMX) notify() {
	select {
	case mx.wake <- struct{}{}:
	default:
	}
}

func (mx *stallingMX) stalledCount() int {
	mx.mu.Lock()
	defer mx.mu.Unlock()
	return mx.stalled
}

func (mx *stallingMX) waitStalled(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for mx.stalledCount() < n {
		select {
		case <-mx.wake:
		case <-deadline:
			return false
		}
	}
	return true
}

func (mx *stallingMX) deliveredCounts() map[string]int {
	mx.mu.Lock()
	defer mx.mu.Unlock()
	out := map[string]int{}
	for k, v := range mx.delivered {
		out[k] = v
	}
	return out
}

func (mx *stallingMX) lastDelivery() time.Time {
	mx.mu.Lock()
	defer mx.mu.Unlock()
	return mx.last
}

func (mx *stallingMX) waitDelivered(ids []string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		got := mx.deliveredCounts()
		all := true
		for _, id := range ids {
			if got[id] == 0 {
				all = false
			}
		}
		if all {
			return true
		}
		select {
		case <-mx.wake:
		case <-deadline:
			return false
		}
	}
}

type stallSession struct {
	mx   *stallingMX
	conn *gosmtp.Conn
}

func (s *stallSession) Reset()                                 {}
func (s *stallSession) Logout() error                          { return nil }
func (s *stallSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *stallSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *stallSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	id := ""
	if i := bytes.Index(b, []byte("X-Out-ID: ")); i >= 0 {
		rest := b[i+len("X-Out-ID: "):]
		id = string(rest[:bytes.IndexByte(rest, '\r')])
	}
	mx := s.mx
	if s.conn.Hostname() == mx.stall {
		mx.mu.Lock()
		mx.stalled++
		mx.mu.Unlock()
		mx.notify()
		<-mx.released
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "stalled until the sender died"}
	}
	mx.mu.Lock()
	mx.delivered[id]++
	mx.last = time.Now()
	mx.mu.Unlock()
	mx.notify()
	return nil
}
