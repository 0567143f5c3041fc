package corpus

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

// TestGenerate: the set is deterministic, large enough, split into two
// parts of distinct messages, and every message parses as MIME.
func TestGenerate(t *testing.T) {
	a, b := Generate(), Generate()
	if len(a) != len(b) {
		t.Fatalf("two runs: got %d and %d messages, want the same", len(a), len(b))
	}
	count := map[string]int{}
	charsets := map[string]int{}
	for i, m := range a {
		if !bytes.Equal(m.Raw, b[i].Raw) || m.Name != b[i].Name {
			t.Fatalf("message %d differs between runs", i)
		}
		key := "ham"
		if m.Spam {
			key = "spam"
		}
		count[key]++
		charsets[m.Charset]++
		e, err := message.Read(bytes.NewReader(m.Raw))
		if err != nil && !message.IsUnknownCharset(err) {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if err := e.Walk(func(path []int, p *message.Entity, err error) error { return err }); err != nil {
			t.Errorf("%s: walk: %v", m.Name, err)
		}
		if d := os.Getenv("STAMP_CORPUS_DUMP"); d != "" {
			p := filepath.Join(d, m.Name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, m.Raw, 0o644)
		}
	}
	if count["ham"] < 600 || count["spam"] < 300 {
		t.Errorf("got %d ham and %d spam, want at least 600 and 300", count["ham"], count["spam"])
	}
	for _, cs := range []string{"utf-8", "euc-kr", "iso-2022-jp", "gb2312", "iso-8859-1"} {
		if charsets[cs] == 0 {
			t.Errorf("charset %s: got no message, want some", cs)
		}
	}
	t.Logf("%d ham, %d spam; charsets %v", count["ham"], count["spam"], charsets)
}
