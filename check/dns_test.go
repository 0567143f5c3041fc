package check

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// testDNS is a dnsmasq answering for the zone "test" on 127.0.0.1.
type testDNS struct {
	Addr string
}

// dnsRec is one record for startDNS: Type "TXT", "MX" (Value "pref host")
// or "A".
type dnsRec struct{ Name, Type, Value string }

// startDNS runs dnsmasq in the foreground with recs, authoritative for
// "test" (unknown names there get NXDOMAIN), or skips loudly without it.
func startDNS(t *testing.T, recs []dnsRec) *testDNS {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: dnsmasq not installed (apt-get install -y dnsmasq-base)")
	}
	port := freeUDPPort(t)
	args := []string{"--no-daemon", "--conf-file=/dev/null", fmt.Sprintf("--port=%d", port),
		"--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
		"--local=/test/", "--pid-file=", "--log-facility=-"}
	for _, r := range recs {
		switch r.Type {
		case "TXT":
			a := "--txt-record=" + r.Name
			for v := r.Value; ; {
				n := min(len(v), 255)
				a += "," + v[:n]
				v = v[n:]
				if v == "" {
					break
				}
			}
			args = append(args, a)
		case "MX":
			pref, host, _ := strings.Cut(r.Value, " ")
			args = append(args, "--mx-host="+r.Name+","+host+","+pref)
		case "A":
			args = append(args, "--host-record="+r.Name+","+r.Value)
		default:
			t.Fatalf("startDNS: unknown type %q", r.Type)
		}
	}
	cmd := exec.Command(bin, args...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq output:\n%s", logs.String())
		}
	})
	d := &testDNS{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	c := newDNSClient(Config{DNSServer: d.Addr, DNSTimeout: 200 * time.Millisecond})
	for i := 0; ; i++ {
		_, err := c.LookupTXT(context.Background(), "ready-probe.test")
		if err == nil || isNotFound(err) {
			return d
		}
		if i == 100 {
			t.Fatalf("dnsmasq not answering: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	// dnsmasq also wants the TCP port; check it is free too.
	port := pc.LocalAddr().(*net.UDPAddr).Port
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return freeUDPPort(t)
	}
	ln.Close()
	return port
}

// blackHoleDNS is a DNS server that reads queries and never answers.
func blackHoleDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}
