package check

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"testing"

	"github.com/stamp-mail/stamp/check/internal/bayes"
)

// encodeStringCounts writes training in the older string-keyed encoding
// ("SB1"), which stored user training may still use: sorted tokens with
// shared prefixes elided, then the two counts, as uvarints, gzipped.
func encodeStringCounts(spam, ham uint32, sorted []string, pairs []bayes.Pair) []byte {
	var raw []byte
	raw = binary.AppendUvarint(raw, uint64(spam))
	raw = binary.AppendUvarint(raw, uint64(ham))
	raw = binary.AppendUvarint(raw, uint64(len(sorted)))
	prev := ""
	for i, k := range sorted {
		common := 0
		for common < len(prev) && common < len(k) && prev[common] == k[common] {
			common++
		}
		raw = binary.AppendUvarint(raw, uint64(common))
		raw = binary.AppendUvarint(raw, uint64(len(k)-common))
		raw = append(raw, k[common:]...)
		raw = binary.AppendUvarint(raw, uint64(pairs[i].Spam))
		raw = binary.AppendUvarint(raw, uint64(pairs[i].Ham))
		prev = k
	}
	var out bytes.Buffer
	out.WriteString("SB1\n")
	zw := gzip.NewWriter(&out)
	zw.Write(raw)
	zw.Close()
	return out.Bytes()
}

// TestDecodeStringTraining: training stored in the older string-keyed
// encoding decodes to the hashes the tokenizer now yields, so users keep
// their training; Learn rewrites it in the current encoding.
func TestDecodeStringTraining(t *testing.T) {
	old := encodeStringCounts(3, 4, []string{"alpha", "alphabet", "bi:free money"}, []bayes.Pair{{Spam: 1, Ham: 0}, {Spam: 2, Ham: 1}, {Spam: 3, Ham: 0}})
	c, err := bayes.Decode(old)
	if err != nil {
		t.Fatalf("Decode(SB1): got %v, want nil", err)
	}
	if c.Spam != 3 || c.Ham != 4 {
		t.Errorf("totals: got %d/%d, want 3/4", c.Spam, c.Ham)
	}
	for tok, want := range map[string]bayes.Pair{"alpha": {Spam: 1, Ham: 0}, "alphabet": {Spam: 2, Ham: 1}, "bi:free money": {Spam: 3, Ham: 0}} {
		if got := c.Tokens[bayes.Hash(tok)]; got != want {
			t.Errorf("token %q: got %+v, want %+v", tok, got, want)
		}
	}
	kv := newMemKV()
	ctx := context.Background()
	kv.PutKV(ctx, userKey(7), old)
	j, err := New(Config{}, kv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Learn(ctx, 7, testMessage("a@b.test", "free money", "free money now"), true); err != nil {
		t.Fatalf("Learn over SB1 training: got %v, want nil", err)
	}
	b, _ := kv.GetKV(ctx, userKey(7))
	if !bytes.HasPrefix(b, []byte("SB2\n")) {
		t.Errorf("stored training after Learn: got prefix %q, want SB2", b[:min(4, len(b))])
	}
	c2, err := bayes.Decode(b)
	if err != nil {
		t.Fatalf("Decode(after Learn): got %v, want nil", err)
	}
	if c2.Spam != 4 || c2.Tokens[bayes.Hash("alphabet")] != (bayes.Pair{Spam: 2, Ham: 1}) {
		t.Errorf("after Learn: got spam %d, alphabet %+v, want 4 and {2 1}", c2.Spam, c2.Tokens[bayes.Hash("alphabet")])
	}
	if got := c2.Tokens[bayes.Hash("bi:free money")]; got.Spam != 4 {
		t.Errorf("bigram after Learn: got %+v, want spam 4 (3 old + 1)", got)
	}
}

// TestEncodeRoundTrip: Encode and Decode agree, and Encode is deterministic.
func TestEncodeRoundTrip(t *testing.T) {
	c := bayes.NewCounts()
	c.Add([]uint64{0, 1, 5, 1 << 63, ^uint64(0)}, true)
	c.Add([]uint64{1, 7}, false)
	b := c.Encode()
	if again := c.Encode(); !bytes.Equal(b, again) {
		t.Errorf("Encode twice: got different bytes, want equal")
	}
	d, err := bayes.Decode(b)
	if err != nil {
		t.Fatalf("Decode: got %v, want nil", err)
	}
	if d.Spam != 1 || d.Ham != 1 || len(d.Tokens) != len(c.Tokens) {
		t.Fatalf("decoded: got %d/%d with %d tokens, want 1/1 with %d", d.Spam, d.Ham, len(d.Tokens), len(c.Tokens))
	}
	for k, p := range c.Tokens {
		if d.Tokens[k] != p {
			t.Errorf("token %#x: got %+v, want %+v", k, d.Tokens[k], p)
		}
	}
}
