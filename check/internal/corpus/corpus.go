// Package corpus generates Stamp's own spam-filter test set: legitimate
// mail and spam in Korean, Japanese, Chinese, German, French, Spanish and
// English, in UTF-8 and the legacy charsets still seen (EUC-KR,
// ISO-2022-JP, GB2312, ISO-8859-1), in the shapes real mail has (short
// personal notes, replies with quoted text, HTML newsletters, receipts with
// PDF attachments, calendar invitations, inline images, emoji) and the
// kinds of spam seen (phishing, advance-fee fraud, pharmacy, fake
// invoices, stock promotion, loans, dating, shop offers, crypto
// investment, work at home, lotteries, web promotion, malware parcels,
// casinos).
//
// Every sentence is written for this package (lang_*.go); nothing is taken
// from a real mailbox or another corpus. Generate is deterministic.
//
// The set is split in two: every phrase pool alternates its entries
// between a development part (which the shared model may train on and
// tuning may look at) and a held-out part (never trained or tuned on), so
// held-out messages are made of sentences the development part never
// contains. Figures are reported on the held-out part only.
package corpus

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"golang.org/x/text/encoding"
)

// Message is one generated message.
type Message struct {
	Name    string // "heldout/ham/ko-note-007.eml"
	Spam    bool
	HeldOut bool
	Lang    string // ko ja zh de fr es en
	Shape   string // note, reply, newsletter, receipt, invite, image; phish, fee, pharma, invoice, stock, loan, dating, shop, crypto, work, lottery, seo, parcel, casino
	Charset string
	Raw     []byte
}

// lang is one language's phrase pools. Pools hold whole sentences or
// phrases; %s marks where a name goes.
type lang struct {
	code    string
	legacy  string            // legacy charset name, "" for none
	enc     encoding.Encoding // its encoder
	first   []string
	last    []string
	fullFmt string // how a full name is written: "%[1]s %[2]s" or "%[2]s%[1]s"
	domains []string

	hello, bye        []string
	noteSubj, note    []string
	replyBody         []string
	wrote             string // "On %s, %s wrote:"
	newsOrg, newsSubj []string
	news              []string
	unsub             string
	shops, items      []string
	receiptSubj       []string
	receipt           []string // lines; %s = order number
	total             string
	inviteSubj        []string
	invite            []string
	emoji             []string

	phishSubj, phish     []string
	feeSubj, fee         []string
	pharmaSubj, pharma   []string
	invoiceSubj, invoice []string
}

// gen draws from pools for one part (development or held-out).
type gen struct {
	r       *rand.Rand
	heldOut bool
	l       *lang
	n       int
}

// pick returns a random entry of the part's half of pool (pools of fewer
// than four entries are shared by both parts).
func (g *gen) pick(pool []string) string {
	if len(pool) == 0 {
		return ""
	}
	if len(pool) < 4 {
		return pool[g.r.IntN(len(pool))]
	}
	off := 0
	if g.heldOut {
		off = 1
	}
	n := (len(pool) - off + 1) / 2
	return pool[off+2*g.r.IntN(n)]
}

// picks returns k distinct entries (at most the half's size).
func (g *gen) picks(pool []string, k int) []string {
	var out []string
	seen := map[string]bool{}
	for tries := 0; len(out) < k && tries < 8*k; tries++ {
		s := g.pick(pool)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (g *gen) name() (first, full string) {
	f, l := g.pick(g.l.first), g.pick(g.l.last)
	return f, fmt.Sprintf(g.l.fullFmt, f, l)
}

var asciiNames = []string{"min", "yuki", "wei", "jonas", "claire", "lucia", "sam", "jiho", "haruto", "lin", "lena", "hugo", "pablo", "kate"}

func (g *gen) address(domain string) string {
	return fmt.Sprintf("%s.%s%d@%s", g.pickAny(asciiNames), g.pickAny(asciiNames), g.r.IntN(90)+10, domain)
}

func (g *gen) pickAny(pool []string) string { return pool[g.r.IntN(len(pool))] }

// base is the date every message is dated from (fixed: the output is deterministic).
var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func (g *gen) date() time.Time {
	return base.Add(time.Duration(g.r.IntN(200*24*60)) * time.Minute)
}

// part is one MIME leaf or container being written.
type part struct {
	ctype   string // with parameters other than charset
	text    string // text parts: UTF-8 text
	data    []byte // binary parts
	headers []string
	parts   []*part // multipart containers
}

// writer renders a message in one charset and transfer encoding choice.
type writer struct {
	g       *gen
	charset string // "utf-8" or the legacy one
	cte     string // for text parts: 8bit, quoted-printable, base64, 7bit
	seq     int
}

func (w *writer) encodeText(s string) []byte {
	if w.charset == "utf-8" || w.g.l.enc == nil {
		return []byte(s)
	}
	b, err := w.g.l.enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		// A character the legacy charset lacks: keep the message honest by
		// writing it in UTF-8 instead.
		w.charset = "utf-8"
		return []byte(s)
	}
	return b
}

func (w *writer) encodeWord(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == 0x1b {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	if w.charset == "utf-8" {
		return mime.BEncoding.Encode("UTF-8", s)
	}
	b := w.encodeText(s)
	return "=?" + strings.ToUpper(w.charset) + "?B?" + base64.StdEncoding.EncodeToString(b) + "?="
}

func (w *writer) boundary() string {
	w.seq++
	return fmt.Sprintf("=_stamp_%d_%08x", w.seq, w.g.r.Uint32())
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteString("\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}

func (w *writer) render(b *bytes.Buffer, p *part) {
	for _, h := range p.headers {
		b.WriteString(h + "\r\n")
	}
	if len(p.parts) > 0 {
		bd := w.boundary()
		fmt.Fprintf(b, "Content-Type: %s; boundary=\"%s\"\r\n\r\n", p.ctype, bd)
		if w.g.r.IntN(2) == 0 {
			b.WriteString("This is a multi-part message in MIME format.\r\n")
		}
		for _, c := range p.parts {
			fmt.Fprintf(b, "\r\n--%s\r\n", bd)
			w.render(b, c)
		}
		fmt.Fprintf(b, "\r\n--%s--\r\n", bd)
		return
	}
	if p.data != nil {
		fmt.Fprintf(b, "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n\r\n", p.ctype)
		b.WriteString(wrap76(base64.StdEncoding.EncodeToString(p.data)))
		return
	}
	body := w.encodeText(strings.ReplaceAll(p.text, "\n", "\r\n"))
	cte := w.cte
	if w.charset == "iso-2022-jp" {
		cte = "7bit" // ISO-2022-JP is 7-bit by design (RFC 1468)
	}
	ascii := !bytes.ContainsFunc(body, func(r rune) bool { return r >= 0x80 || r == 0xfffd })
	if cte == "8bit" && ascii {
		cte = "7bit"
	}
	fmt.Fprintf(b, "Content-Type: %s; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n", p.ctype, w.charset, cte)
	switch cte {
	case "base64":
		b.WriteString(wrap76(base64.StdEncoding.EncodeToString(body)))
	case "quoted-printable":
		qw := quotedprintable.NewWriter(b)
		qw.Write(body)
		qw.Close()
		b.WriteString("\r\n")
	default:
		b.Write(body)
		b.WriteString("\r\n")
	}
}

// envelope is the header of one message.
type envelope struct {
	fromName, from string
	toName, to     string
	subject        string
	date           time.Time
	extra          []string
}

func (w *writer) message(e envelope, body *part) []byte {
	var b bytes.Buffer
	from := e.from
	if e.fromName != "" {
		from = w.encodeWord(e.fromName) + " <" + e.from + ">"
	}
	to := e.to
	if e.toName != "" {
		to = w.encodeWord(e.toName) + " <" + e.to + ">"
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n", from, to, w.encodeWord(e.subject), e.date.Format(time.RFC1123Z))
	dom := e.from[strings.LastIndexByte(e.from, '@')+1:]
	fmt.Fprintf(&b, "Message-ID: <%d.%08x@%s>\r\nMIME-Version: 1.0\r\n", e.date.Unix(), w.g.r.Uint32(), dom)
	for _, h := range e.extra {
		b.WriteString(h + "\r\n")
	}
	w.render(&b, body)
	return b.Bytes()
}

// Recipient is the address every generated message is sent to.
const Recipient = "reader@stamp.test"

// RecipientName is its display name.
const RecipientName = "Reader"

// Generate returns the whole set: for each language, hamPerLang legitimate
// messages and spamPerLang spam in each of the two parts.
func Generate() []Message {
	const hamPerLang, spamPerLang = 70, 45
	var out []Message
	for li, l := range languages() {
		for _, held := range []bool{false, true} {
			seed := uint64(li*2 + 1)
			if held {
				seed++
			}
			g := &gen{r: rand.New(rand.NewPCG(seed, 0x5eed)), heldOut: held, l: l}
			for i := 0; i < hamPerLang; i++ {
				shape := hamShapes[i%len(hamShapes)]
				out = append(out, g.make(shape, false, i))
			}
			for i := 0; i < spamPerLang; i++ {
				shape := spamShapes[i%len(spamShapes)]
				out = append(out, g.make(shape, true, i))
			}
		}
	}
	return out
}

var (
	hamShapes  = []string{"note", "reply", "newsletter", "receipt", "invite", "image", "note"}
	spamShapes = []string{"phish", "fee", "pharma", "invoice", "stock", "loan", "dating", "shop", "crypto",
		"work", "lottery", "seo", "parcel", "casino"}
)

func (g *gen) make(shape string, spam bool, i int) Message {
	w := &writer{g: g, charset: "utf-8", cte: []string{"8bit", "quoted-printable", "base64"}[g.r.IntN(3)]}
	// About a third of the mail is in the language's legacy charset.
	if g.l.legacy != "" && g.r.IntN(3) == 0 {
		w.charset = g.l.legacy
	}
	var raw []byte
	switch shape {
	case "note":
		raw = g.note(w)
	case "reply":
		raw = g.reply(w)
	case "newsletter":
		raw = g.newsletter(w)
	case "receipt":
		raw = g.receipt(w)
	case "invite":
		raw = g.invite(w)
	case "image":
		raw = g.image(w)
	case "phish":
		raw = g.phish(w)
	case "fee":
		raw = g.fee(w)
	case "pharma":
		raw = g.pharma(w)
	case "invoice":
		raw = g.invoice(w)
	case "stock":
		raw = g.stock(w)
	case "loan":
		raw = g.loan(w)
	case "dating":
		raw = g.dating(w)
	case "shop":
		raw = g.shop(w)
	case "crypto":
		raw = g.crypto(w)
	case "work":
		raw = g.work(w)
	case "lottery":
		raw = g.lottery(w)
	case "seo":
		raw = g.seo(w)
	case "parcel":
		raw = g.parcel(w)
	case "casino":
		raw = g.casino(w)
	}
	kind, part := "ham", "dev"
	if spam {
		kind = "spam"
	}
	if g.heldOut {
		part = "heldout"
	}
	return Message{
		Name: fmt.Sprintf("%s/%s/%s-%s-%03d.eml", part, kind, g.l.code, shape, i),
		Spam: spam, HeldOut: g.heldOut, Lang: g.l.code, Shape: shape, Charset: w.charset, Raw: raw,
	}
}

func languages() []*lang {
	return []*lang{korean_, japanese_, chinese, german, french, spanish, english}
}
