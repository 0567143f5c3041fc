// Package rules finds the shapes of a message that spam has and
// legitimate mail rarely has: how its header is formed, where its links
// go, how its HTML hides or shouts, and phrases of money and urgency.
// Each rule is a yes/no test with a name; check turns the rules that fire
// into points of one signal ("rules" in X-Stamp-Spam). No rule is about a
// language, a script or a charset: a rule on letter case applies to
// scripts that have case and is silent on the others, and the phrase
// lists have the same kinds of phrase in each of seven languages.
//
// The rules are in the spirit of SpamAssassin's header, body and URI rules
// (the names are Stamp's own and the tests written here; none of
// SpamAssassin's rule text is used).
package rules

import (
	"mime"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"golang.org/x/net/publicsuffix"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/check/internal/htmltext"
)

// Rule names, in the order Check reports them.
const (
	DatePast        = "DATE_IN_PAST"      // Date more than 4 days before arrival
	DateFuture      = "DATE_IN_FUTURE"    // Date more than 1 day after arrival
	DateMissing     = "DATE_MISSING"      // no Date (RFC 5322 section 3.6 requires one)
	DateMalformed   = "DATE_MALFORMED"    // a Date that does not parse
	MsgIDMissing    = "MSGID_MISSING"     // no Message-ID
	MsgIDMalformed  = "MSGID_MALFORMED"   // a Message-ID without <local@domain> shape
	ToMissing       = "TO_MISSING"        // no To and no Cc
	ToUndisclosed   = "TO_UNDISCLOSED"    // To names "undisclosed recipients" or is an empty group
	FromNameAddr    = "FROM_NAME_ADDRESS" // the From display name is an address of another domain
	SubjAllCaps     = "SUBJECT_ALL_CAPS"  // a subject of several words, all capitals
	SubjShout       = "SUBJECT_SHOUTS"    // "!!", "$$" or a $ amount in the subject
	SubjUniqID      = "SUBJECT_TAG_ID"    // a random tag after spaces at the end of the subject
	MimeMissing     = "MIME_VERSION_MISSING"
	HTMLOnly        = "HTML_ONLY"          // HTML with no plain-text alternative
	HTMLTinyText    = "HTML_IMAGE_TEXT"    // images with almost no text
	HTMLForm        = "HTML_FORM"          // a form in the message
	HTMLScript      = "HTML_SCRIPT"        // script in the message
	HTMLSplitWord   = "HTML_COMMENT_SPLIT" // a comment hiding inside a word
	HTMLBigFont     = "HTML_FONT_LARGE"    // <font size=5..7 or +3..>
	HTMLHidden      = "HTML_HIDDEN_TEXT"   // text styled invisible
	URLIP           = "URL_IP_HOST"        // a link to a numeric host
	URLMismatch     = "URL_TEXT_MISMATCH"  // link text shows one domain, href another
	URLUserinfo     = "URL_USERINFO"       // http://anything@host
	URLPort         = "URL_ODD_PORT"       // a link to a port other than 80/443
	URLShortener    = "URL_SHORTENER"      // a link through a shortener or open redirector
	URLNumericHost  = "URL_NUMERIC_NAME"   // a link host name that is mostly digits
	URLManyDomains  = "URL_MANY_DOMAINS"   // links to 8 or more registered domains
	URLEscapedHost  = "URL_ESCAPED_HOST"   // %-escapes in a link's host
	BodyCaps        = "BODY_MOSTLY_CAPS"   // most cased letters of the text are capitals
	BodyObfuscated  = "BODY_OBFUSCATED"    // s.p.e.l.l.e.d out words, digits for letters, mixed scripts in a word
	PhraseOne       = "SPAM_PHRASE"        // one money/urgency phrase
	PhraseMany      = "SPAM_PHRASES"       // three or more distinct ones
	RemovePhrase    = "REMOVE_TO_OPT_OUT"  // "reply with remove", "this is not spam"
	PriorityHigh    = "PRIORITY_HIGH"      // X-Priority 1 or X-MSMail-Priority High
	ReplyToElsewise = "REPLY_TO_ELSEWHERE" // Reply-To at another domain than From, no mailing list
	SubjPadded      = "SUBJECT_PADDED"     // a run of six or more spaces in the subject
	FromMissing     = "FROM_MISSING"       // no From, or one that does not parse
	FromRandomLocal = "FROM_RANDOM_LOCAL"  // a local part of letters and digits interleaved (x63rlfp4)
	FromNameGlued   = "FROM_NAME_GLUED"    // a display name word glued to random letters (hetfTurn)
	CTMalformed     = "CONTENT_TYPE_BAD"   // a top-level Content-Type that does not parse
	FromLocalNoise  = "FROM_LOCAL_NOISE"   // a local part with six consonants in a row or no vowel in six letters
	MUAForged       = "MUA_OUTLOOK_FORGED" // X-Mailer says Outlook Express (or Outlook 5-2003) without the X-MimeOLE it adds
	ToIsFrom        = "TO_IS_FROM"         // sent to its own From address, nobody else
	SubjMissing     = "SUBJECT_MISSING"    // no Subject field at all
	HTMLNoMime      = "HTML_WITHOUT_MIME"  // HTML or multipart content without MIME-Version
	HTMLOnlyNoList  = "HTML_ONLY_UNLISTED" // HTML only, and no List-Unsubscribe or List-Id
	QPObfuscated    = "QP_HIDES_ASCII"     // quoted-printable that encodes letters, digits or tags
	ReplyToFreemail = "REPLY_TO_FREEMAIL"  // replies go to a free mailbox, the From is elsewhere
)

// Names lists every rule, in report order.
var Names = []string{
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

// Limits of the work one message costs.
const (
	maxLinks       = 200 // links looked at
	pastLimit      = 96 * time.Hour
	futureLimit    = 24 * time.Hour
	manyDomains    = 8
	minCapsLetters = 200
)

// Check returns the rules raw fires, in Names order. arrived is when the
// message reached us (the Date rules compare with it; zero skips them).
// The deadline (zero: none) bounds the MIME walk.
func Check(raw []byte, arrived, deadline time.Time) []string {
	c := NewChecker(arrived)
	bayes.Parts(raw, deadline, c.Header, c.Part)
	return c.Hits()
}

// A Checker is Check fed by someone else's MIME walk: Header with the
// message's header, Part with each leaf part (as bayes.Parts and
// bayes.TokenizeParts hand them out), then Hits. check's judge uses it
// with bayes.TokenizeParts, so that the tokenizer and the rules decode
// the message once between them.
type Checker struct {
	r       result
	arrived time.Time
	seen    bool
}

// NewChecker returns a Checker for a message that arrived at arrived
// (zero skips the Date rules).
func NewChecker(arrived time.Time) *Checker {
	return &Checker{arrived: arrived, r: result{hits: map[string]bool{}, domains: map[string]bool{}}}
}

// Header takes the message's top-level header.
func (c *Checker) Header(h *message.Header) {
	c.seen = true
	c.r.header(h, c.arrived)
}

// Part takes one leaf part; it always returns true (go on).
func (c *Checker) Part(p bayes.Part) bool { return c.r.part(p) }

// Hits returns the rules that fired, in Names order; none when no header
// was given (the message's header did not parse).
func (c *Checker) Hits() []string {
	if !c.seen {
		return nil
	}
	c.r.finish()
	var out []string
	for _, n := range Names {
		if c.r.hits[n] {
			out = append(out, n)
		}
	}
	return out
}

type result struct {
	hits               map[string]bool
	domains            map[string]bool
	links              int
	hasPlain, hasHTML  bool
	htmlText, imgs     int
	plainText          int
	upper, cased       int
	phrases            map[string]bool
	listMail           bool
	replyToOtherDomain bool
}

func (r *result) hit(n string) { r.hits[n] = true }

func (r *result) header(h *message.Header, arrived time.Time) {
	get := func(k string) string {
		v, err := h.Text(k)
		if err != nil {
			v = h.Get(k)
		}
		if len(v) > 2048 {
			v = v[:2048]
		}
		return strings.TrimSpace(v)
	}
	r.listMail = h.Has("List-Id") || h.Has("List-Unsubscribe") || h.Has("List-Post") || h.Has("Mailing-List")
	switch d := get("Date"); {
	case d == "":
		r.hit(DateMissing)
	default:
		t, err := mail.ParseDate(d)
		if err != nil {
			r.hit(DateMalformed)
		} else if !arrived.IsZero() {
			if arrived.Sub(t) > pastLimit {
				r.hit(DatePast)
			} else if t.Sub(arrived) > futureLimit {
				r.hit(DateFuture)
			}
		}
	}
	switch id := get("Message-Id"); {
	case id == "":
		r.hit(MsgIDMissing)
	default:
		i := strings.LastIndexByte(id, '@')
		if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || i < 2 || i > len(id)-3 || strings.ContainsAny(id, " \t") {
			r.hit(MsgIDMalformed)
		}
	}
	to, cc := get("To"), get("Cc")
	if to == "" && cc == "" {
		r.hit(ToMissing)
	}
	if l := strings.ToLower(to); strings.Contains(l, "undisclosed") || strings.Contains(l, "recipient list suppressed") ||
		(strings.HasSuffix(l, ":;") && !strings.Contains(l, "@")) {
		r.hit(ToUndisclosed)
	}
	fromDomain := ""
	a := parseAddr(get("From"))
	if a == nil {
		r.hit(FromMissing)
	}
	if a != nil {
		fromDomain = regDomain(domainOf(a.Address))
		local, _, _ := strings.Cut(a.Address, "@")
		if randomLocal(local) {
			r.hit(FromRandomLocal)
		}
		if noiseLocal(local) {
			r.hit(FromLocalNoise)
		}
		if t := parseAddr(to); t != nil && cc == "" && !strings.Contains(to, ",") && strings.EqualFold(t.Address, a.Address) {
			r.hit(ToIsFrom)
		}
		if gluedName(a.Name) {
			r.hit(FromNameGlued)
		}
		if n := strings.Trim(a.Name, `"' `); strings.Contains(n, "@") {
			if nd := regDomain(domainOf(strings.Trim(n, "<>"))); nd != "" && fromDomain != "" && nd != fromDomain {
				r.hit(FromNameAddr)
			}
		}
	}
	if a := parseAddr(get("Reply-To")); a != nil && fromDomain != "" && !r.listMail {
		if d := regDomain(domainOf(a.Address)); d != "" && d != fromDomain {
			r.hit(ReplyToElsewise)
			if freemail[d] && !freemail[fromDomain] {
				r.hit(ReplyToFreemail)
			}
		}
	}
	if !h.Has("Subject") {
		r.hit(SubjMissing)
	}
	if m := strings.ToLower(get("X-Mailer")); !h.Has("X-Mimeole") && (strings.Contains(m, "outlook express") ||
		strings.Contains(m, "microsoft outlook, build 10") || strings.Contains(m, "microsoft outlook imo") ||
		strings.Contains(m, "microsoft outlook 8.5") || strings.Contains(m, "microsoft outlook 11.0")) {
		r.hit(MUAForged)
	}
	subj := get("Subject")
	if caseWords(subj) >= 3 {
		if _, up, cased := letterCounts(subj); cased >= 10 && up == cased {
			r.hit(SubjAllCaps)
		}
	}
	if strings.Contains(subj, "!!") || strings.Contains(subj, "$$") || hasDollarAmount(subj) {
		r.hit(SubjShout)
	}
	if uniqTag(subj) {
		r.hit(SubjUniqID)
	}
	if strings.Contains(strings.ReplaceAll(subj, "\t", " "), "      ") {
		r.hit(SubjPadded)
	}
	if ct := h.Get("Content-Type"); ct != "" {
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			r.hit(CTMalformed)
		}
	}
	if h.Has("Content-Type") && !h.Has("Mime-Version") {
		r.hit(MimeMissing)
		if ct, _, _ := h.ContentType(); ct == "text/html" || strings.HasPrefix(ct, "multipart/") {
			r.hit(HTMLNoMime)
		}
	}
	if p := get("X-Priority"); strings.HasPrefix(p, "1") {
		r.hit(PriorityHigh)
	}
	if strings.EqualFold(get("X-MSMail-Priority"), "high") {
		r.hit(PriorityHigh)
	}
	r.phraseScan(subj)
}

func (r *result) part(p bayes.Part) bool {
	if p.Attachment || !strings.HasPrefix(p.ContentType, "text/") {
		return true
	}
	if p.Encoding == "quoted-printable" && qpHidesASCII(p.Raw) {
		r.hit(QPObfuscated)
	}
	text := p.Text
	html := p.ContentType == "text/html" || (p.ContentType == "text/plain" && looksHTML(text))
	if html {
		r.hasHTML = true
		text = r.html(text)
	} else if p.ContentType == "text/plain" {
		r.hasPlain = true
		r.plainURLs(text)
	} else {
		return true
	}
	visible, up, cased := letterCounts(text)
	if html {
		r.htmlText += visible
	} else {
		r.plainText += visible
	}
	r.upper += up
	r.cased += cased
	r.phraseScan(text)
	if obfuscated(text) {
		r.hit(BodyObfuscated)
	}
	return true
}

func (r *result) finish() {
	if r.hasHTML && !r.hasPlain {
		r.hit(HTMLOnly)
		if !r.listMail {
			r.hit(HTMLOnlyNoList)
		}
	}
	if r.hasHTML && r.imgs > 0 && r.htmlText+r.plainText < 200 { // text in a picture
		r.hit(HTMLTinyText)
	}
	if r.cased >= minCapsLetters && r.upper*2 > r.cased {
		r.hit(BodyCaps)
	}
	if len(r.domains) >= manyDomains {
		r.hit(URLManyDomains)
	}
	switch n := len(r.phrases); {
	case n >= 3:
		r.hit(PhraseMany)
		r.hit(PhraseOne)
	case n >= 1:
		r.hit(PhraseOne)
	}
}

// html scans an HTML part's tags and links and returns its text.
func (r *result) html(s string) string {
	var text strings.Builder
	inAnchor, anchorHref := false, ""
	var anchorText strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			text.WriteString(s)
			if inAnchor {
				anchorText.WriteString(s)
			}
			break
		}
		text.WriteString(s[:i])
		if inAnchor {
			anchorText.WriteString(s[:i])
		}
		s = s[i:]
		if strings.HasPrefix(s, "<!--") {
			j := strings.Index(s, "-->")
			if j < 0 {
				break
			}
			if i > 0 && len(s) > j+3 && isWordByte(s[j+3]) && text.Len() > 0 {
				if t := text.String(); isWordByte(t[len(t)-1]) {
					r.hit(HTMLSplitWord)
				}
			}
			s = s[j+3:]
			continue
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		tag := s[1:j]
		s = s[j+1:]
		name, attrs, _ := strings.Cut(tag, " ")
		name = strings.ToLower(strings.TrimRight(name, "\r\n\t/"))
		lattrs := strings.ToLower(attrs)
		switch name {
		case "script":
			r.hit(HTMLScript)
		case "form":
			r.hit(HTMLForm)
		case "img":
			// Remote images only: a picture sent inline (cid:) is a
			// photo someone shares, a remote one is fetched on display.
			if src := htmltext.Attr(lattrs, "src"); strings.HasPrefix(src, "http") {
				r.imgs++
			}
		case "font":
			if sz := htmltext.Attr(lattrs, "size"); sz != "" {
				switch strings.TrimSpace(sz) {
				case "5", "6", "7", "+3", "+4", "+5", "+6", "+7":
					r.hit(HTMLBigFont)
				}
			}
		case "a":
			inAnchor, anchorHref = true, htmltext.Attr(lattrs, "href")
			anchorText.Reset()
			r.link(anchorHref)
		case "/a":
			if inAnchor {
				r.anchor(anchorHref, anchorText.String())
			}
			inAnchor = false
		}
		if name == "style" || name == "script" {
			if k := indexFold(s, "</"+name); k >= 0 {
				s = s[k:]
			}
			continue
		}
		if strings.Contains(lattrs, "display:none") || strings.Contains(lattrs, "visibility:hidden") ||
			strings.Contains(strings.ReplaceAll(lattrs, " ", ""), "font-size:0") || strings.Contains(lattrs, "font-size:1px") {
			r.hit(HTMLHidden)
		}
		for _, a := range []string{"src", "action", "background"} {
			if v := htmltext.Attr(lattrs, a); v != "" && a == "action" {
				r.link(v)
			}
		}
		text.WriteByte(' ')
	}
	return htmltext.DecodeEntities(text.String())
}

// plainURLs finds links written out in plain text.
func (r *result) plainURLs(s string) {
	for n := 0; n < maxLinks; n++ {
		i := indexFold(s, "http")
		if i < 0 {
			return
		}
		s = s[i:]
		end := strings.IndexAny(s, " \t\r\n<>\"'()[]")
		if end < 0 {
			end = len(s)
		}
		u := s[:end]
		s = s[end:]
		if hasPrefixFold(u, "http://") || hasPrefixFold(u, "https://") {
			r.link(strings.TrimRight(u, ".,;:!?"))
		}
	}
}

// link looks at one link target.
func (r *result) link(href string) {
	if r.links >= maxLinks {
		return
	}
	href = strings.TrimSpace(href)
	l := strings.ToLower(href)
	var rest string
	switch {
	case strings.HasPrefix(l, "http://"):
		rest = href[7:]
	case strings.HasPrefix(l, "https://"):
		rest = href[8:]
	default:
		return
	}
	r.links++
	host, path := rest, ""
	if i := strings.IndexAny(rest, "/?#\\"); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		r.hit(URLUserinfo)
		host = host[i+1:]
	}
	if strings.Contains(host, "%") {
		r.hit(URLEscapedHost)
		if u, err := url.PathUnescape(host); err == nil {
			host = u
		}
	}
	if h, port, err := net.SplitHostPort(host); err == nil {
		host = h
		if port != "80" && port != "443" && port != "" {
			r.hit(URLPort)
		}
	}
	host = strings.Trim(strings.ToLower(host), ".[]")
	if host == "" {
		return
	}
	if net.ParseIP(host) != nil || strings.Trim(host, "0123456789.") == "" || strings.HasPrefix(host, "0x") {
		r.hit(URLIP)
		return
	}
	d := regDomain(host)
	if d != "" {
		r.domains[d] = true
	}
	if shorteners[d] || shorteners[host] {
		r.hit(URLShortener)
	}
	lp := strings.ToLower(path)
	if i := strings.Index(lp, "http:"); i >= 0 && !strings.Contains(lp[:i], "unsub") {
		r.hit(URLShortener) // an open redirect: a link carrying another link in its path
	}
	if label, _, _ := strings.Cut(strings.TrimSuffix(d, "."), "."); len(label) >= 4 {
		if digits := countDigits(label); digits*2 > len(label) {
			r.hit(URLNumericHost)
		}
	}
}

// anchor compares what a link says with where it goes.
func (r *result) anchor(href, text string) {
	text = strings.TrimSpace(htmltext.DecodeEntities(text))
	if text == "" || strings.ContainsAny(text, " \t\r\n") {
		return
	}
	lt := strings.ToLower(text)
	lt = strings.TrimPrefix(strings.TrimPrefix(lt, "http://"), "https://")
	host, _, _ := strings.Cut(lt, "/")
	if !strings.Contains(host, ".") || strings.Contains(host, "@") {
		return
	}
	td := regDomain(host)
	hh := strings.ToLower(href)
	hh = strings.TrimPrefix(strings.TrimPrefix(hh, "http://"), "https://")
	hhost, _, _ := strings.Cut(hh, "/")
	if i := strings.LastIndexByte(hhost, '@'); i >= 0 {
		hhost = hhost[i+1:]
	}
	hd := regDomain(hhost)
	if td != "" && hd != "" && td != hd {
		r.hit(URLMismatch)
	}
}

// shorteners are link shorteners and redirectors whose links hide where
// they go (their registered domains).
var shorteners = map[string]bool{
	"bit.ly": true, "tinyurl.com": true, "goo.gl": true, "ow.ly": true, "t.co": true, "is.gd": true,
	"buff.ly": true, "rebrand.ly": true, "cutt.ly": true, "shorturl.at": true, "tiny.cc": true,
	"rb.gy": true, "v.gd": true, "x.co": true, "tr.im": true, "snipurl.com": true, "shorl.com": true,
	"qr.net": true, "0rz.tw": true, "s.id": true, "u.to": true, "clck.ru": true,
	"rd.yahoo.com": true,
}

// freemail are registered domains where anyone gets a mailbox for free:
// replies sent there from mail that claims to be from elsewhere go to
// someone who need not be that sender (advance-fee and phishing mail).
var freemail = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "yahoo.com": true, "yahoo.co.uk": true, "yahoo.co.jp": true,
	"yahoo.fr": true, "yahoo.de": true, "yahoo.es": true, "hotmail.com": true, "hotmail.fr": true,
	"outlook.com": true, "live.com": true, "msn.com": true, "aol.com": true, "mail.com": true,
	"gmx.com": true, "gmx.de": true, "gmx.net": true, "web.de": true, "mail.ru": true, "yandex.ru": true,
	"yandex.com": true, "qq.com": true, "163.com": true, "126.com": true, "sina.com": true, "naver.com": true,
	"daum.net": true, "hanmail.net": true, "proton.me": true, "protonmail.com": true, "icloud.com": true,
	"zoho.com": true, "rediffmail.com": true, "libero.it": true, "laposte.net": true,
}

// phrases are money and urgency phrases that spam uses in each of seven
// languages (lower case; written for Stamp). Each distinct phrase found
// counts once.
var phrases = []string{
	// English
	"100% free", "act now", "limited time offer", "risk free", "risk-free", "no obligation",
	"satisfaction guaranteed", "money back guarantee", "earn extra cash", "make money fast",
	"work from home", "be your own boss", "financial freedom", "double your income",
	"no credit check", "lowest rates", "lowest price", "cash bonus", "you have been selected",
	"you are a winner", "claim your prize", "order now", "call now", "apply now", "buy now",
	"click below", "click here to order", "while supplies last", "special promotion",
	"once in a lifetime", "million dollars", "cheap meds", "online pharmacy", "lose weight",
	"no prescription", "verify your account", "account will be suspended", "urgent response",
	"dear friend", "winning notification", "100% guaranteed", "extra income", "home based business",
	"for free!", "free gift", "mortgage rates", "debt free", "consolidate your debt",
	// German
	"jetzt bestellen", "nur heute", "100% kostenlos", "gratis testen", "geld verdienen",
	"von zu hause arbeiten", "risikofrei", "ohne rezept", "sie haben gewonnen", "ihr konto wird gesperrt",
	"konto bestätigen", "sofort handeln", "einmaliges angebot",
	// French
	"commandez maintenant", "offre limitée", "100% gratuit", "sans risque", "gagner de l'argent",
	"travail à domicile", "sans ordonnance", "vous avez gagné", "votre compte sera suspendu",
	"vérifiez votre compte", "agissez maintenant", "offre exceptionnelle",
	// Spanish
	"compre ahora", "oferta limitada", "100% gratis", "sin riesgo", "gane dinero",
	"trabaje desde casa", "sin receta", "usted ha ganado", "su cuenta será suspendida",
	"verifique su cuenta", "actúe ahora", "oferta exclusiva",
	// Japanese
	"今すぐ購入", "期間限定", "完全無料", "今だけ", "簡単に稼げ", "在宅で稼", "当選しました",
	"アカウントが停止", "本人確認のため", "至急ご確認",
	// Korean
	"지금 구매", "기간 한정", "완전 무료", "100% 무료", "쉽게 돈", "재택 부업", "당첨되었습니다",
	"계정이 정지", "본인 확인을 위해", "긴급 확인",
	// Chinese
	"立即购买", "限时优惠", "完全免费", "轻松赚钱", "在家赚钱", "恭喜您中奖", "账户将被冻结",
	"验证您的账户", "无需处方", "紧急通知",
}

// removePhrases are opt-out instructions of bulk mail that has no
// List-Unsubscribe, and the claim that a message is not spam.
var removePhrases = []string{
	"this is not spam", "this is not a spam", "not unsolicited", "reply with remove", "with remove in the subject",
	"type remove in the subject", "send a blank email to remove", "to be removed from our", "to be removed from this",
	"to be taken off", "you received this email because you", "one time mailing", "one-time mailing",
	"under bill s.", "removal instructions",
	"keine werbung? antworten sie mit", "ceci n'est pas un spam", "esto no es spam", "これはスパムではありません",
	"이것은 스팸이 아닙니다", "这不是垃圾邮件",
}

// obfuscated reports words spelled out with separators (f.r.e.e, at
// least five single letters; V I A G R A, six single-letter words in a
// row), words with digits standing for letters (v1agra, m0ney: 0, 1 or 3
// between lower-case letters in a word of letters) and words mixing Latin
// with Cyrillic or Greek letters (homoglyphs).
func obfuscated(s string) bool {
	if len(s) > 64<<10 {
		s = s[:64<<10]
	}
	singles := 0
	for len(s) > 0 {
		f := nextField(s)
		w := s[f.start:f.end]
		s = s[f.end:]
		if w == "" {
			break
		}
		if r, size := utf8.DecodeRuneInString(w); size == len(w) && isLatinLetter(r) {
			singles++
			if singles >= 6 {
				return true
			}
			continue
		}
		singles = 0
		// (Each test is false on a word without what it looks for.)
		if len(w) >= 9 && spelledOut(w) || f.digits && digitsForLetters(w) || !f.ascii && mixedScripts(w) {
			return true
		}
	}
	return false
}

// Kinds of byte for nextField.
const (
	wordByte  = iota // ASCII, not white space (and none of the below)
	spaceByte        // ASCII white space (as unicode.IsSpace)
	digitByte        // '0', '1' or '3', the digits that stand for letters
	multiByte        // part of a non-ASCII rune (or invalid)
)

var byteKind = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = multiByte
		case unicode.IsSpace(rune(c)):
			t[c] = spaceByte
		case c == '0' || c == '1' || c == '3':
			t[c] = digitByte
		}
	}
	return t
}()

// field is one field of a text, as nextField finds it.
type field struct {
	start, end int  // where it is
	ascii      bool // it is all ASCII
	digits     bool // it has a digit 0, 1 or 3
}

// nextField finds the first field of s as strings.Fields splits (runs of
// anything but unicode.IsSpace), empty (start == end) when there is none.
func nextField(s string) field {
	i := 0
	for i < len(s) { // leading white space
		k := byteKind[s[i]]
		if k == spaceByte {
			i++
			continue
		}
		if k == multiByte {
			if r, n := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
				i += n
				continue
			}
		}
		break
	}
	f := field{start: i, ascii: true}
	for i < len(s) {
		if i = asciiWordEnd(s, i); i == len(s) {
			break
		}
		switch byteKind[s[i]] {
		case spaceByte:
			f.end = i
			return f
		case digitByte:
			f.digits = true
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			break
		}
		f.ascii = false
		i += n
	}
	f.end = i
	return f
}

// asciiWordEnd returns the index of the first byte from i on in s that is
// not a wordByte, len(s) if none is. (The loop that does most of
// nextField's work, apart from its rare paths.)
func asciiWordEnd(s string, i int) int {
	for i < len(s) && byteKind[s[i]] == wordByte {
		i++
	}
	return i
}

func isLatinLetter(c rune) bool { return c < 0x250 && unicode.IsLetter(c) }

// spelledOut: letter (sep letter){4,} with one separator from ".-*_".
func spelledOut(w string) bool {
	// Trimming only shortens w and keeps w[1] when 9 bytes are left, so
	// most words are told apart before it.
	if len(w) < 9 || w[1] != '.' && w[1] != '-' && w[1] != '*' && w[1] != '_' {
		return false
	}
	w = strings.TrimRight(w, ".,!?:;")
	if len(w) < 9 {
		return false
	}
	sep := w[1]
	n := 0
	for i := 0; i < len(w); i++ {
		if i%2 == 0 {
			if !isWordByte(w[i]) {
				return false
			}
			n++
		} else if w[i] != sep {
			return false
		}
	}
	return n >= 5 && len(w)%2 == 1
}

func digitsForLetters(w string) bool {
	if len(w) < 5 || len(w) > 20 {
		return false
	}
	letters, between := 0, false // a digit between letters
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
			letters++
		case c == '0' || c == '1' || c == '3':
			between = between || i > 0 && i+1 < len(w) && w[i-1] >= 'a' && w[i+1] >= 'a'
		default:
			return false
		}
	}
	return letters >= 4 && between
}

func mixedScripts(w string) bool {
	ascii := true
	for i := 0; i < len(w) && ascii; i++ {
		ascii = w[i] < utf8.RuneSelf
	}
	if ascii {
		return false // no Cyrillic or Greek letter
	}
	var latin, other bool
	for _, c := range w {
		switch {
		case c < 0x80 && unicode.IsLetter(c):
			latin = true
		case unicode.Is(unicode.Cyrillic, c) || unicode.Is(unicode.Greek, c):
			other = true
		}
	}
	return latin && other
}

// helpers

func parseAddr(v string) *mail.Address {
	if v == "" {
		return nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		if l, lerr := mail.ParseAddressList(v); lerr == nil && len(l) > 0 {
			return l[0]
		}
		return nil
	}
	return a
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// regDomain is the registered domain (public suffix plus one) of a host.
func regDomain(host string) string {
	host = strings.Trim(strings.ToLower(host), ". ")
	if host == "" || !strings.Contains(host, ".") {
		return ""
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

// letterCounts measures text in one pass: visible is its length in UTF-8
// bytes of letters and digits (not white space, not punctuation), so that
// a script that says more per character (a Han or Hangul character is
// about a word) is not counted as less text; upper and cased count the
// upper-case letters among the letters that have case.
func letterCounts(s string) (visible, upper, cased int) {
	for i := 0; i < len(s); {
		var v, u, c int
		if i, v, u, c = letterCountsASCII(s, i); i == len(s) {
			return visible + v, upper + u, cased + c
		}
		visible, upper, cased = visible+v, upper+u, cased+c
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !unicode.IsSpace(r) && !unicode.IsPunct(r) {
			visible += utf8.RuneLen(r) // 3 for an invalid byte, as for U+FFFD
		}
		switch {
		case unicode.IsUpper(r):
			upper++
			cased++
		case unicode.IsLower(r):
			cased++
		}
	}
	return visible, upper, cased
}

// letterCountsASCII is letterCounts of s from i on up to its first byte
// that is not ASCII (or 1 MB further on), where it returns. The three
// counts of the run are added up in one word, 21 bits each (asciiLetter).
func letterCountsASCII(s string, i int) (end, visible, upper, cased int) {
	var sum uint64
	for stop := min(len(s), i+1<<20); i < stop && s[i] < utf8.RuneSelf; i++ {
		sum += asciiLetter[s[i]]
	}
	const mask = 1<<21 - 1
	return i, int(sum & mask), int(sum >> 21 & mask), int(sum >> 42)
}

// asciiLetter is letterCounts's test for ASCII bytes: 1 in bits 0, 21
// and 42 for visible, upper case and cased (and 0 for bytes past ASCII,
// not looked at).
var asciiLetter = func() (t [256]uint64) {
	for c := range utf8.RuneSelf {
		r := rune(c)
		if !unicode.IsSpace(r) && !unicode.IsPunct(r) {
			t[c] |= 1
		}
		switch {
		case unicode.IsUpper(r):
			t[c] |= 1<<21 | 1<<42
		case unicode.IsLower(r):
			t[c] |= 1 << 42
		}
	}
	return t
}()

// caseWords counts words that contain a cased letter.
func caseWords(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		for _, c := range w {
			if unicode.IsUpper(c) || unicode.IsLower(c) {
				n++
				break
			}
		}
	}
	return n
}

func hasDollarAmount(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && s[i+1] >= '0' && s[i+1] <= '9' {
			return true
		}
	}
	return false
}

// uniqTag reports a subject ending in a tag that only a mass mailer would
// add: at least three spaces, then a word of 5 or more letters and digits
// mixed, or a word mixing upper, lower and digits after any space.
func uniqTag(s string) bool {
	s = strings.TrimRight(s, " \t")
	i := strings.LastIndexAny(s, " \t")
	if i < 0 {
		return false
	}
	w := strings.Trim(s[i+1:], "[]()#-_.:")
	if len(w) < 5 || len(w) > 40 {
		return false
	}
	var up, low, dig bool
	for _, c := range w {
		switch {
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= 'a' && c <= 'z':
			low = true
		case c >= '0' && c <= '9':
			dig = true
		case c == '-' || c == '_' || c == '.':
		default:
			return false
		}
	}
	spaces := 0
	for j := i; j >= 0 && (s[j] == ' ' || s[j] == '\t'); j-- {
		spaces++
	}
	if spaces >= 3 && dig && (up || low) {
		return true
	}
	return up && low && dig && !dateLike(w)
}

// randomLocal reports a local part whose letters and digits interleave
// as generated names do: digits, letters, digits (63rlfplk4, 20143p85), or
// letters, three or more digits, letters (jnoqpe9783l); or eight digits.
func randomLocal(l string) bool {
	var runs []bool // true: a digit run
	digits := 0
	for i := 0; i < len(l); i++ {
		c := l[i]
		var d bool
		switch {
		case c >= '0' && c <= '9':
			d = true
			digits++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		default:
			return false // dots, dashes: a name someone chose
		}
		if len(runs) == 0 || runs[len(runs)-1] != d {
			runs = append(runs, d)
		}
	}
	if digits >= 8 {
		return true
	}
	if len(runs) >= 3 && runs[0] && !runs[1] && runs[2] {
		return true
	}
	return len(runs) >= 3 && !runs[0] && digits >= 3 && !runs[len(runs)-1]
}

// qpHidesASCII reports quoted-printable that encodes, ten times or more,
// characters that never need it: letters, digits and the characters of
// HTML tags and links (< > / :). Encoders encode "=", spaces and bytes
// outside ASCII, and some the characters EBCDIC lacks; only a message
// that wants to be unreadable to a filter encodes "<html>".
func qpHidesASCII(b []byte) bool {
	if len(b) > 256<<10 {
		b = b[:256<<10]
	}
	n := 0
	for i := 0; i+2 < len(b); i++ {
		if b[i] != '=' {
			continue
		}
		v, ok := unhex2(b[i+1], b[i+2])
		if !ok {
			continue
		}
		if v >= '0' && v <= '9' || v >= 'A' && v <= 'Z' || v >= 'a' && v <= 'z' || v == '<' || v == '>' || v == '/' || v == ':' {
			n++
			if n >= 10 {
				return true
			}
		}
		i += 2
	}
	return false
}

func unhex2(a, b byte) (byte, bool) {
	h := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		}
		return 0, false
	}
	x, ok1 := h(a)
	y, ok2 := h(b)
	return x<<4 | y, ok1 && ok2
}

// noiseLocal reports a local part of letters only that no one typed: six
// consonants in a row, or six or more letters without a vowel (a, e, i,
// o, u, y). (Bounce addresses of mailing services, with digits and
// punctuation, are not looked at.)
func noiseLocal(l string) bool {
	run, letters, vowels := 0, 0, 0
	for i := 0; i < len(l); i++ {
		c := l[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
		letters++
		if strings.IndexByte("aeiouy", c) >= 0 {
			vowels++
			run = 0
			continue
		}
		run++
		if run >= 6 {
			return true
		}
	}
	return letters >= 6 && vowels == 0
}

// gluedName reports a display name with a word that starts with three or
// more lower-case letters glued to a capitalised word (igvAndrea).
func gluedName(n string) bool {
	for _, w := range strings.Fields(n) {
		low := 0
		for i, c := range w {
			switch {
			case c >= 'a' && c <= 'z':
				low++
			case c >= 'A' && c <= 'Z' && low == i && low >= 3:
				if rest := w[i+1:]; len(rest) >= 2 && rest[0] >= 'a' && rest[0] <= 'z' {
					return true
				}
			}
			if c < 'a' || c > 'z' {
				break
			}
		}
	}
	return false
}

func dateLike(w string) bool {
	return strings.Count(w, "-") == 2 || strings.Count(w, ".") == 2
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// htmlMarkers are the tags that make plain text HTML, in lower case.
var htmlMarkers = []string{"<html", "<body", "<font", "<a href", "<table", "<p>", "<br>"}

// looksHTML reports whether the first 4 KB of s hold one of htmlMarkers in
// any ASCII case.
func looksHTML(s string) bool {
	if len(s) > 4096 {
		s = s[:4096]
	}
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return false
		}
		s = s[i:]
		for _, m := range htmlMarkers {
			if hasPrefixFoldASCII(s, m) {
				return true
			}
		}
		s = s[1:]
	}
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// indexFold is strings.Index ignoring the ASCII case of s; sub is lower
// case ASCII. (strings.EqualFold would also take the Kelvin sign for k and
// the long s for s, but those are longer in UTF-8 than the letters they
// fold to, so no window of len(sub) bytes matches through them.)
func indexFold(s, sub string) int {
	first, other := sub[0], sub[0]
	if 'a' <= first && first <= 'z' {
		other -= 'a' - 'A'
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		j := indexEither(s[i:len(s)-len(sub)+1], first, other)
		if j < 0 {
			return -1
		}
		i += j
		if hasPrefixFoldASCII(s[i:], sub) {
			return i
		}
	}
	return -1
}

// indexEither is the index of the first a or b in s, -1 when neither is.
func indexEither(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if a == b {
		return i
	}
	if i >= 0 {
		s = s[:i]
	}
	if j := strings.IndexByte(s, b); j >= 0 {
		return j
	}
	return i
}

// hasPrefixFoldASCII reports whether s begins with the lower-case ASCII
// prefix, ignoring the case of s's ASCII letters.
func hasPrefixFoldASCII(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// TraceTime is when the newest hop in raw's trace (its first Received
// field) says the message arrived, zero when it does not say. Replayed
// corpora use it as the arrival time of each message.
func TraceTime(raw []byte) time.Time {
	var out time.Time
	bayes.Parts(raw, time.Time{}, func(h *message.Header) {
		v := h.Get("Received")
		if i := strings.LastIndexByte(v, ';'); i >= 0 {
			if t, err := mail.ParseDate(strings.TrimSpace(v[i+1:])); err == nil {
				out = t
			}
		}
	}, func(bayes.Part) bool { return false })
	return out
}
