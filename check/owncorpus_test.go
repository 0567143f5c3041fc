package check

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/check/internal/corpus"
)

// ownCorpusFigures judges every message of the project's own test set
// (check/internal/corpus) for a fresh user with no training, with a DNS
// server that has no answers (the cold start of a new server), and returns
// per part the ham sent to Junk and the spam caught.
func ownCorpusFigures(t *testing.T, j *Judge, show bool) map[string][2][2]int {
	ctx := context.Background()
	out := map[string][2][2]int{} // part -> [ham junk, ham total], [spam junk, spam total]
	var misses []string
	for _, m := range corpus.Generate() {
		// Each message arrives a minute after it was written.
		v, err := j.Judge(ctx, Input{RemoteIP: []byte{192, 0, 2, 10}, Helo: "mail.sender.example",
			MailFrom: authorAddress(m.Raw), Raw: m.Raw, Recipients: []int64{1}, Arrived: writtenAt(t, m.Raw).Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		part := "dev"
		if m.HeldOut {
			part = "heldout"
		}
		f := out[part]
		uv := v.PerUser[1]
		k := 0
		if m.Spam {
			k = 1
		}
		f[k][1]++
		if uv.Junk {
			f[k][0]++
		}
		out[part] = f
		if show && !m.HeldOut && uv.Junk != m.Spam {
			misses = append(misses, fmt.Sprintf("%s %s: %s", m.Name, m.Charset, strings.ReplaceAll(string(uv.Header), "\r\n\t", " ")))
		}
	}
	sort.Strings(misses)
	for _, s := range misses {
		t.Log(s)
	}
	return out
}

// writtenAt is a message's Date.
func writtenAt(t *testing.T, raw []byte) time.Time {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Header.Date()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestOwnCorpus reports the filter on the project's own multilingual set
// (held-out part only; STAMP_SPAM_SHOW_DEV=1 lists the development part's
// mistakes, which tuning may look at).
func TestOwnCorpus(t *testing.T) {
	dns := startDNS(t, nil)
	j, err := New(Config{DNSServer: dns.Addr, DNSTimeout: time.Second}, newMemKV(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := ownCorpusFigures(t, j, os.Getenv("STAMP_SPAM_SHOW_DEV") != "")
	for _, part := range []string{"dev", "heldout"} {
		x := f[part]
		t.Logf("%s: ham to Junk %d of %d (%.2f%%), spam caught %d of %d (%.1f%%)", part,
			x[0][0], x[0][1], 100*float64(x[0][0])/float64(x[0][1]), x[1][0], x[1][1], 100*float64(x[1][0])/float64(x[1][1]))
	}
}

// TestCorpusFilesCurrent: the committed copy of the set in testdata/corpus
// (read by the end-to-end tests in server/) is the generator's output;
// regenerate with `go generate ./check`.
func TestCorpusFilesCurrent(t *testing.T) {
	ms := corpus.Generate()
	n := 0
	for _, m := range ms {
		b, err := os.ReadFile(filepath.Join("testdata", "corpus", filepath.FromSlash(m.Name)))
		if err != nil || !bytes.Equal(b, m.Raw) {
			n++
			if n < 5 {
				t.Errorf("testdata/corpus/%s: missing or different from the generator's output (%v)", m.Name, err)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "corpus", "*", "*", "*.eml"))
	if len(files) != len(ms) {
		t.Errorf("testdata/corpus: got %d files, want the generator's %d", len(files), len(ms))
	}
	if n > 0 {
		t.Errorf("%d files differ: run go generate ./check", n)
	}
}
