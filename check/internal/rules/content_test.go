package rules

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/check/internal/corpus"
	sacorpus "github.com/stamp-mail/stamp/message/corpus"
)

// The content checks (check's contentChecks: bayes.TokenizeParts feeding a
// Checker) are pinned, message by message, to what they gave before they
// were made faster: testdata/content.golden holds, for every message of
// the SpamAssassin training groups and of the own set, a digest of the
// message and a digest of everything the checks derive from it (the Bayes
// tokens in order, the general-model tokens, the rules that fired, the
// phrases found and the rules' counters). Regenerate it only from code
// whose verdicts are the reference:
//
//	go test ./check/internal/rules -run TestContentGolden -update-golden

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/content.golden from the current code")

const goldenFile = "testdata/content.golden"

// goldenRules are the rules the golden file covers (Names when it was
// written); rules added later do not change the digests.
var goldenRules = []string{
	DatePast, DateFuture, DateMissing, DateMalformed, MsgIDMissing, MsgIDMalformed,
	ToMissing, ToUndisclosed, FromNameAddr, SubjAllCaps, SubjShout, SubjUniqID,
	MimeMissing, HTMLOnly, HTMLTinyText, HTMLForm, HTMLScript, HTMLSplitWord,
	HTMLBigFont, HTMLHidden, URLIP, URLMismatch, URLUserinfo, URLPort,
	URLShortener, URLNumericHost, URLManyDomains, URLEscapedHost, BodyCaps,
	BodyObfuscated, PhraseOne, PhraseMany, RemovePhrase, PriorityHigh, ReplyToElsewise,
	SubjPadded, FromMissing, FromRandomLocal, FromNameGlued, CTMalformed,
	FromLocalNoise, MUAForged, ToIsFrom, SubjMissing, HTMLNoMime, HTMLOnlyNoList, QPObfuscated,
	ReplyToFreemail,
}

// contentMsg is one message of the benchmark and golden sets.
type contentMsg struct {
	name string
	raw  []byte
}

// trainingGroups are the SpamAssassin groups tests may look at freely.
var trainingGroups = []string{"easy-ham-1", "hard-ham-1", "spam-1"}

// spamAssassinTraining returns the messages of the SpamAssassin training
// groups, nil when the corpus is not installed.
func spamAssassinTraining(tb testing.TB) []contentMsg {
	dir := sacorpus.Dir()
	if dir == "" {
		return nil
	}
	var out []contentMsg
	for _, g := range trainingGroups {
		files, _ := filepath.Glob(filepath.Join(dir, "data", g, "*.txt"))
		if len(files) == 0 {
			tb.Fatalf("no messages in %s/data/%s", dir, g)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, contentMsg{name: g + "/" + filepath.Base(f), raw: raw})
		}
	}
	return out
}

// ownSet returns the own corpus (development part only when dev).
func ownSet(dev bool) []contentMsg {
	var out []contentMsg
	for _, m := range corpus.Generate() {
		if !dev || !m.HeldOut {
			out = append(out, contentMsg{name: m.Name, raw: m.Raw})
		}
	}
	return out
}

// loadMessage is a message like the ones `stamp load smtp` (and so
// scripts/bench.sh) sends: about size bytes of plain text.
func loadMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: <load@sender.example>\r\nTo: <bench@bench.test>\r\nSubject: load 1\r\n" +
		"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@sender.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
	for b.Len() < size {
		b.WriteString("The quick brown fox jumps over the lazy dog. Stamp load generator text line.\r\n")
	}
	return b.Bytes()
}

// contentChecks is check's contentChecks: one MIME walk for the Bayes
// tokens and the rules. It returns the Checker for its counters.
func contentChecks(raw []byte, arrived time.Time) ([]uint64, []string, *Checker) {
	c := NewChecker(arrived)
	tokens, _ := bayes.TokenizeParts(raw, time.Time{}, c.Header, c.Part)
	return tokens, c.Hits(), c
}

// contentDigest digests everything the content checks derive from raw.
func contentDigest(raw []byte) string {
	at := TraceTime(raw)
	if at.IsZero() {
		at = arrived
	}
	tokens, hits, c := contentChecks(raw, at)
	h := sha256.New()
	put := func(v uint64) { h.Write(binary.LittleEndian.AppendUint64(nil, v)) }
	put(uint64(len(tokens)))
	for _, t := range tokens {
		put(t)
	}
	general := bayes.TokenizeFiltered(raw, bayes.GeneralTokens)
	put(uint64(len(general)))
	for _, t := range general {
		put(t)
	}
	for _, n := range hits {
		if slices.Contains(goldenRules, n) {
			fmt.Fprintf(h, "hit %s\n", n)
		}
	}
	var found []string
	for p := range c.r.phrases {
		found = append(found, p)
	}
	sort.Strings(found)
	fmt.Fprintf(h, "phrases %q\n", found)
	r := &c.r
	fmt.Fprintf(h, "counts %d %d %d %d %d %d %d %d %v %v\n", r.links, len(r.domains), r.htmlText, r.imgs,
		r.plainText, r.upper, r.cased, len(r.phrases), r.hasPlain, r.hasHTML)
	return b64(h.Sum(nil)[:9])
}

func rawDigest(raw []byte) string {
	s := sha256.Sum256(raw)
	return b64(s[:6])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// goldenSet is every message the golden file covers.
func goldenSet(tb testing.TB) []contentMsg {
	return append(spamAssassinTraining(tb), ownSet(false)...)
}

// TestContentGolden: on every message of the SpamAssassin training groups
// and of the own set, the content checks give exactly the tokens, rules,
// phrases and counters recorded in testdata/content.golden. A message
// whose bytes differ from the recorded ones (the own set regenerated) is
// not compared.
func TestContentGolden(t *testing.T) {
	msgs := goldenSet(t)
	if *updateGolden {
		var b strings.Builder
		b.WriteString("# raw-digest content-digest (see content_test.go)\n")
		for _, m := range msgs {
			fmt.Fprintf(&b, "%s %s\n", rawDigest(m.raw), contentDigest(m.raw))
		}
		if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d digests", len(msgs))
		return
	}
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if raw, content, ok := strings.Cut(sc.Text(), " "); ok && !strings.HasPrefix(raw, "#") {
			want[raw] = content
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	compared, unknown, sa := 0, 0, 0
	for i, m := range msgs {
		if raceEnabled && i%20 != 0 {
			continue // a twentieth under -race; scripts/test.sh runs the whole set
		}
		w, ok := want[rawDigest(m.raw)]
		if !ok {
			unknown++
			continue
		}
		compared++
		if !strings.Contains(m.name, ".eml") {
			sa++
		}
		if got := contentDigest(m.raw); got != w {
			t.Errorf("%s: content checks digest %s, want %s", m.name, got, w)
		}
	}
	if sa == 0 {
		t.Logf("SKIPPED LOUDLY: SpamAssassin corpus not installed; compared the own set only")
	}
	if unknown > 0 {
		t.Logf("%d messages not in the golden file (regenerated corpus?)", unknown)
	}
	if compared < 100 {
		t.Fatalf("compared %d messages, want at least 100", compared)
	}
	t.Logf("compared %d messages (%d SpamAssassin)", compared, sa)
}

// BenchmarkContentChecks: check's content checks (tokenizer and rules on
// one MIME walk) per message, on the load generator's 10 KB message, the
// SpamAssassin training groups and the own set's development part.
func BenchmarkContentChecks(b *testing.B) {
	sets := []struct {
		name string
		msgs func() []contentMsg
	}{
		{"load10k", func() []contentMsg { return []contentMsg{{"load", loadMessage(10 << 10)}} }},
		{"spamassassin", func() []contentMsg { return spamAssassinTraining(b) }},
		{"own", func() []contentMsg { return ownSet(true) }},
	}
	for _, s := range sets {
		b.Run(s.name, func(b *testing.B) {
			msgs := s.msgs()
			if len(msgs) == 0 {
				b.Skip("SpamAssassin corpus not installed")
			}
			size := 0
			for _, m := range msgs {
				size += len(m.raw)
			}
			b.SetBytes(int64(size / len(msgs)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				contentChecks(msgs[i%len(msgs)].raw, arrived)
			}
		})
	}
}
