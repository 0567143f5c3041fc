package pop3

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
)

// poplibScript drives the server with Python's poplib, an independent
// client: STLS with certificate verification, then USER/PASS or AUTH PLAIN,
// then every transaction command. It prints one JSON object.
const poplibScript = `
import base64, json, poplib, ssl, sys

host, port, user, password, cafile, mode = sys.argv[1:7]
out = {}
p = poplib.POP3(host, int(port), timeout=20)
out["capa_plain"] = sorted(p.capa().keys())
ctx = ssl.create_default_context(cafile=cafile)
p.stls(context=ctx)
out["capa_tls"] = sorted(p.capa().keys())
if mode == "user":
    p.user(user)
    out["pass"] = p.pass_(password).decode()
else:
    cred = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    out["pass"] = p._shortcmd("AUTH PLAIN " + cred).decode()
out["stat"] = list(p.stat())
out["list"] = [l.decode() for l in p.list()[1]]
out["uidl"] = [l.decode() for l in p.uidl()[1]]
out["retr"] = []
for i in range(1, out["stat"][0] + 1):
    resp, lines, octets = p.retr(i)
    out["retr"].append({"text": b"".join(l + b"\r\n" for l in lines).decode("latin-1"), "octets": octets})
resp, lines, octets = p.top(1, 1)
out["top"] = b"".join(l + b"\r\n" for l in lines).decode("latin-1")
try:
    p.retr(out["stat"][0] + 1)
    out["retr_missing"] = "accepted"
except poplib.error_proto as e:
    out["retr_missing"] = str(e)
if mode == "user":
    p.dele(1)
p.quit()
print(json.dumps(out))
`

type poplibResult struct {
	CapaPlain []string `json:"capa_plain"`
	CapaTLS   []string `json:"capa_tls"`
	Pass      string   `json:"pass"`
	Stat      []int    `json:"stat"`
	List      []string `json:"list"`
	UIDL      []string `json:"uidl"`
	Retr      []struct {
		Text   string `json:"text"`
		Octets int    `json:"octets"`
	} `json:"retr"`
	Top         string `json:"top"`
	RetrMissing string `json:"retr_missing"`
}

func TestPythonPoplib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	e := newEnv(t, envOptions{tls: true})
	a, ia := e.user(t, "a@example.test")
	b, ib := e.user(t, "b@example.test")
	stored := []string{
		"Subject: one\nFrom: x@example.test\n\n.first body line\nsecond\n..\n",
		"Subject: two\r\n\r\nbody\r\n.\r\nno final newline",
	}
	for _, s := range stored {
		e.add(t, a, ia, s)
	}
	e.add(t, b, ib, "Subject: b only\r\n\r\nnot for a\r\n")
	script := writeScript(t, "poplib_client.py", poplibScript)
	cafile := writeScript(t, "ca.pem", string(e.certPEM))
	host, port, _ := strings.Cut(e.addr, ":")

	run := func(user, mode string) poplibResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, py, script, host, port, user, coretest.Password, cafile, mode)
		cmd.Stderr = os.Stderr
		outb, err := cmd.Output()
		if err != nil {
			t.Fatalf("poplib %s %s: %v", user, mode, err)
		}
		var r poplibResult
		if err := json.Unmarshal(outb, &r); err != nil {
			t.Fatalf("poplib output %q: %v", outb, err)
		}
		return r
	}

	r := run("a@example.test", "user")
	if !slices.Contains(r.CapaPlain, "STLS") || slices.Contains(r.CapaPlain, "USER") {
		t.Errorf("CAPA before TLS: got %v, want STLS without USER", r.CapaPlain)
	}
	for _, want := range []string{"USER", "SASL", "TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", "IMPLEMENTATION"} {
		if !slices.Contains(r.CapaTLS, want) {
			t.Errorf("CAPA after TLS: got %v, want %s", r.CapaTLS, want)
		}
	}
	if len(r.Stat) != 2 || r.Stat[0] != len(stored) {
		t.Fatalf("STAT: got %v, want %d messages (isolation from b)", r.Stat, len(stored))
	}
	total := 0
	for i, s := range stored {
		got := r.Retr[i]
		if got.Text != wire(s) {
			t.Errorf("RETR %d: got %q, want %q", i+1, got.Text, wire(s))
		}
		if want := fmt.Sprintf("%d %d", i+1, got.Octets); r.List[i] != want {
			t.Errorf("LIST %d: got %q, want %q (octets poplib received)", i+1, r.List[i], want)
		}
		total += got.Octets
	}
	if r.Stat[1] != total {
		t.Errorf("STAT size: got %d, want %d", r.Stat[1], total)
	}
	if want := "Subject: one\r\nFrom: x@example.test\r\n\r\n.first body line\r\n"; r.Top != want {
		t.Errorf("TOP 1 1: got %q, want %q", r.Top, want)
	}
	if !strings.Contains(r.RetrMissing, "-ERR") {
		t.Errorf("RETR of a missing message: got %q, want -ERR", r.RetrMissing)
	}
	left := e.inbox(t, a, ia)
	if len(left) != 1 || !strings.Contains(r.UIDL[1], fmt.Sprintf(".%d", left[0].UID)) {
		t.Errorf("after DELE 1 and QUIT: INBOX %d messages, UIDL %v; want only message 2", len(left), r.UIDL)
	}

	firstUIDL := r.UIDL
	r = run("a@example.test", "plain")
	if !strings.HasPrefix(r.Pass, "+OK") || len(r.Stat) != 2 || r.Stat[0] != 1 {
		t.Errorf("AUTH PLAIN session: got pass %q stat %v, want +OK and 1 message", r.Pass, r.Stat)
	}
	if _, id, _ := strings.Cut(firstUIDL[1], " "); len(r.UIDL) != 1 || r.UIDL[0] != "1 "+id {
		t.Errorf("UIDL in the second session: got %v, want [\"1 %s\"] (stable id of the old message 2)", r.UIDL, id)
	}
}
