package rules

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/check/internal/corpus"
)

var arrived = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

func msg(header, body string) []byte {
	h := "From: Ana <ana@example.com>\r\nTo: bo@example.org\r\nSubject: lunch\r\n" +
		"Date: Mon, 04 May 2026 11:58:00 +0000\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n"
	for _, f := range strings.Split(header, "\n") {
		if f == "" {
			continue
		}
		name, _, _ := strings.Cut(f, ":")
		var kept []string
		for _, l := range strings.Split(strings.TrimSuffix(h, "\r\n"), "\r\n") {
			if !strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)+":") {
				kept = append(kept, l)
			}
		}
		h = strings.Join(kept, "\r\n") + "\r\n"
		if !strings.HasSuffix(f, ":") {
			h += f + "\r\n"
		}
	}
	return []byte(h + "\r\n" + body)
}

func TestRulesFire(t *testing.T) {
	html := "Content-Type: text/html; charset=utf-8"
	for _, c := range []struct {
		rule, header, body string
	}{
		{DatePast, "Date: Fri, 03 Jan 1997 17:24:47 -0700", "hi"},
		{DateFuture, "Date: Mon, 11 May 2026 11:58:00 +0000", "hi"},
		{DateMissing, "Date:", "hi"},
		{DateMalformed, "Date: yesterday at noon", "hi"},
		{MsgIDMissing, "Message-ID:", "hi"},
		{MsgIDMalformed, "Message-ID: 12345", "hi"},
		{ToMissing, "To:", "hi"},
		{ToUndisclosed, "To: undisclosed-recipients:;", "hi"},
		{FromNameAddr, `From: "service@bank.example" <x@elsewhere.example>`, "hi"},
		{SubjAllCaps, "Subject: YOUR ACCOUNT NEEDS ATTENTION", "hi"},
		{SubjShout, "Subject: Save $500 today", "hi"},
		{SubjUniqID, "Subject: great news        a8Fk29", "hi"},
		{MimeMissing, "MIME-Version:\nContent-Type: text/plain", "hi"},
		{HTMLOnly, html, "<html><body><p>hello there friend</p></body></html>"},
		{HTMLTinyText, html, `<html><body><img src="http://img.example/a.gif"></body></html>`},
		{HTMLForm, html, `<html><form action="http://x.example/p"><input name=pw></form></html>`},
		{HTMLScript, html, `<html><script>alert(1)</script>text</html>`},
		{HTMLSplitWord, html, `<html>V<!-- x -->iagra</html>`},
		{HTMLBigFont, html, `<html><font size=6>BIG</font></html>`},
		{HTMLHidden, html, `<html><div style="display:none">hidden words</div></html>`},
		{URLIP, "", "see http://192.0.2.7/login now"},
		{URLMismatch, html, `<html><a href="http://evil.example/x">www.bank.example</a></html>`},
		{URLUserinfo, "", "see http://www.bank.example@evil.example/ now"},
		{URLPort, "", "see http://shop.example:8081/ now"},
		{URLShortener, "", "see https://bit.ly/abc now"},
		{URLNumericHost, "", "see http://www.4523891.com/ now"},
		{URLManyDomains, "", "a http://a1.example/ http://b.example/ http://c.example/ http://d.example/ http://e.example/ http://f.example/ http://g.example/ http://h.example/"},
		{URLEscapedHost, "", "see http://%77%77%77.example.com/ now"},
		{BodyCaps, "", strings.Repeat("BUY THIS NOW AND SAVE BIG ON EVERYTHING ", 10)},
		{BodyObfuscated, "", "get v1agra here"},
		{BodyObfuscated, "", "it is f.r.e.e.e for you"},
		{BodyObfuscated, "", "pay with p\u0430ypal"},
		{PhraseOne, "", "Act now, this is for you"},
		{PhraseMany, "", "Act now! 100% free, no obligation."},
		{PhraseMany, "", "Jetzt bestellen: 100% kostenlos und risikofrei."},
		{PhraseOne, "", "期間限定のお知らせです"},
		{RemovePhrase, "", "To be removed from this list reply with REMOVE"},
		{PriorityHigh, "X-Priority: 1 (Highest)", "hi"},
		{ReplyToElsewise, "Reply-To: <collect@other.example>", "hi"},
		{ReplyToFreemail, "Reply-To: <claims.dept@gmail.com>", "hi"},
		{SubjPadded, "Subject: Info you requested                    KCC", "hi"},
		{FromMissing, "From:", "hi"},
		{FromRandomLocal, "From: <63rlfplk4@shop.example>", "hi"},
		{FromNameGlued, "From: igvAndrea Madison <a@shop.example>", "hi"},
		{CTMalformed, "Content-Type: text/html;;;;;;charset", "hi"},
		{FromLocalNoise, "From: <nwgpnkm@shop.example>", "hi"},
		{MUAForged, "X-Mailer: Microsoft Outlook Express 6.00.2600.0000", "hi"},
		{ToIsFrom, "To: Ana <ana@example.com>", "hi"},
		{SubjMissing, "Subject:", "hi"},
		{HTMLNoMime, "MIME-Version:\nContent-Type: text/html", "<html>hi</html>"},
		{HTMLOnlyNoList, html, "<html><body><p>hello there friend</p></body></html>"},
		{QPObfuscated, "Content-Type: text/html\nContent-Transfer-Encoding: quoted-printable", "=3Chtml=3E=3Cbody=3E=48=65=6C=6C=6F=3C/body=3E=3C/html=3E"},
	} {
		got := Check(msg(c.header, c.body), arrived, time.Time{})
		if !slices.Contains(got, c.rule) {
			t.Errorf("%s: header %q body %.40q: got %v, want it to fire", c.rule, c.header, c.body, got)
		}
	}
}

// TestRulesQuietOnPlainMail: a plain note, a reply, a mailing list post
// with a Reply-To and a newsletter with both parts fire nothing.
func TestRulesQuietOnPlainMail(t *testing.T) {
	for _, raw := range [][]byte{
		msg("", "Shall we meet at noon? U.S.A. trip is on. See https://www.example.com/menu"),
		msg("Subject: Re: lunch", "> Shall we meet?\r\nYes, at 12:30.\r\n"),
		msg("List-Id: <dev.lists.example>\nReply-To: dev@lists.example", "The build is green again."),
		msg("Subject: 안녕하세요 회의 일정", "다음 주 화요일 회의는 3시입니다."),
		msg("Subject: ORDER 4711 SHIPPED", "Your order shipped."),
	} {
		if got := Check(raw, arrived, time.Time{}); len(got) > 0 {
			t.Errorf("%.60q: got %v, want no rule", raw, got)
		}
	}
}

// TestRulesOnOwnHam: on the project's own legitimate set (every language
// and shape, both parts), no rule with points fires on more than 1% of
// the messages, and the points add up to at most 1.5 on any message.
func TestRulesOnOwnHam(t *testing.T) {
	fired := map[string]int{}
	n := 0
	for _, m := range corpus.Generate() {
		if m.Spam {
			continue
		}
		n++
		hits := Check(m.Raw, time.Time{}, time.Time{})
		for _, h := range hits {
			fired[h]++
		}
		if pts, why := Score(hits, Points, MaxTotal); pts > 1.5 {
			t.Errorf("%s: rules give %.1f points (%s), want at most 1.5", m.Name, pts, why)
		}
	}
	for r, c := range fired {
		if Points[r] > 0 && c*100 > n {
			t.Errorf("%s fires on %d of %d legitimate messages, want at most 1%%", r, c, n)
		}
	}
}

func TestTraceTime(t *testing.T) {
	raw := []byte("Received: from a.example by b.example; Tue, 05 May 2026 10:00:00 +0000\r\nReceived: from c by a.example; Tue, 05 May 2026 09:59:00 +0000\r\nSubject: x\r\n\r\nbody")
	if got, want := TraceTime(raw), time.Date(2026, 5, 5, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("TraceTime: got %v, want %v", got, want)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add(msg("", "hi http://1.2.3.4/ f.r.e.e.e"))
	f.Add(msg("Content-Type: multipart/alternative; boundary=b", "--b\r\nContent-Type: text/html\r\n\r\n<a href='http://x@y:99/'>www.z.com</a><!--c--><font size=7>\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		hits := Check(raw, arrived, time.Time{})
		for _, h := range hits {
			if !slices.Contains(Names, h) {
				t.Fatalf("unknown rule %q", h)
			}
		}
	})
}

// BenchmarkCheck: the rules on every message of the own set in turn.
func BenchmarkCheck(b *testing.B) {
	ms := corpus.Generate()
	size := 0
	for _, m := range ms {
		size += len(m.Raw)
	}
	b.SetBytes(int64(size / len(ms)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Check(ms[i%len(ms)].Raw, arrived, time.Time{})
	}
}

// collapseSpace is how the phrase rules see white space: when a text has
// line breaks, tabs or double spaces, every run of white space is one
// space and none is left at the ends.
func collapseSpace(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") && !strings.Contains(s, "  ") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// phraseScanNaive is phraseScan written plainly (as it was before the
// automaton): lower the text, collapse its white space, search for each
// phrase.
func phraseScanNaive(text string) (found map[string]bool, remove bool) {
	found = map[string]bool{}
	lower := collapseSpace(strings.ToLower(text))
	for _, p := range phrases {
		if strings.Contains(lower, p) {
			found[p] = true
		}
	}
	for _, p := range removePhrases {
		if strings.Contains(lower, p) {
			remove = true
		}
	}
	return found, remove
}

func samePhrases(t *testing.T, text string) {
	t.Helper()
	var r result
	r.hits = map[string]bool{}
	r.phraseScan(text)
	want, remove := phraseScanNaive(text)
	if !maps.Equal(r.phrases, want) || r.hits[RemovePhrase] != remove {
		t.Fatalf("%.60q: phrases %v remove %v, want %v remove %v", text, r.phrases, r.hits[RemovePhrase], want, remove)
	}
}

// TestPhraseScan: the one-pass phrase scan finds what a search per phrase
// finds, on every own-set message and on each phrase at a text's edges.
func TestPhraseScan(t *testing.T) {
	for _, m := range corpus.Generate() {
		samePhrases(t, string(m.Raw))
	}
	for _, p := range append(slices.Clone(phrases), removePhrases...) {
		samePhrases(t, p)
		samePhrases(t, "x "+p)
		samePhrases(t, p[:len(p)-1])
		samePhrases(t, "Hello, "+strings.ToUpper(p)+"\r\n  and  "+p+" again")
		// White space other than a space: collapsed only when the text
		// has a line break, a tab or two spaces somewhere.
		for _, sp := range []string{"\u00a0", "\v", "\f", "\u2003", "\u0085", " \r\n\t ", "\n"} {
			q := strings.ReplaceAll(p, " ", sp)
			samePhrases(t, q)
			samePhrases(t, "a\r\n"+q)
			samePhrases(t, "a  "+q+" ")
		}
		// Bytes strings.ToLower turns into others: the Kelvin sign, a
		// dotted capital I, invalid UTF-8.
		samePhrases(t, strings.NewReplacer("k", "\u212a", "i", "\u0130", "s", "\u017f").Replace(p))
		samePhrases(t, "\xff"+p+"\xe3\x81")
		samePhrases(t, p[:len(p)/2]+"\xff"+p[len(p)/2:])
	}
}

// TestPhrasesShape: phraseScan's reading of white space relies on no
// phrase beginning or ending with white space.
func TestPhrasesShape(t *testing.T) {
	for _, p := range append(slices.Clone(phrases), removePhrases...) {
		if p == "" || strings.TrimSpace(p) != p || collapseSpace(p) != p || strings.ToLower(p) != p {
			t.Errorf("phrase %q: want it lower case, trimmed, single-spaced", p)
		}
	}
}

func FuzzPhraseScan(f *testing.F) {
	f.Add("act now! reply with remove in the subject")
	f.Add("今すぐ購入 100% 무료")
	f.Fuzz(func(t *testing.T, s string) { samePhrases(t, s) })
}

// BenchmarkPhraseScan: the one-pass scan against a search per phrase, on
// the own set's message texts.
func BenchmarkPhraseScan(b *testing.B) {
	var texts []string
	for _, m := range corpus.Generate() {
		texts = append(texts, string(m.Raw))
	}
	b.Run("one-pass", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			r := result{hits: map[string]bool{}}
			r.phraseScan(texts[i%len(texts)])
		}
	})
	b.Run("per-phrase", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			phraseScanNaive(texts[i%len(texts)])
		}
	})
}
