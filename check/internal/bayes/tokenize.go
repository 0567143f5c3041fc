package bayes

import (
	"bytes"
	"io"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/emersion/go-message"
	"github.com/stamp-mail/stamp/check/internal/htmltext"
)

const (
	// maxTextBytes bounds how much decoded text of one message is tokenized.
	maxTextBytes = 256 << 10
	// maxTokens bounds the distinct tokens taken from one message.
	maxTokens = 3000
	// minTokenLen and maxTokenLen bound the words kept as themselves;
	// longer words become a "skip:" token of their first letter and length
	// bucket, as SpamBayes does (long words are mostly encoded junk, and
	// their length says more than their spelling).
	minTokenLen = 3
	maxTokenLen = 16
	// maxHeaderBytes bounds how much of one header field value is read.
	maxHeaderBytes = 2048
	// maxURLPathTokens bounds the path words taken from one URL.
	maxURLPathTokens = 8
)

// deliveryHeaders are header fields added by the receiving side (local
// delivery agents, mail fetchers, earlier filters). Stamp judges a message
// at SMTP time, before any of them exist, so a model must not learn from
// them: in a training corpus they describe the collector, not the sender.
var deliveryHeaders = map[string]bool{
	"delivered-to": true, "delivery-date": true, "x-keywords": true, "x-status": true,
	"status": true, "x-uid": true, "x-sieve": true, "envelope-to": true,
	"x-delivered-to": true, "x-original-date": true, "x-mail-from": true,
	"x-spam": true, "x-virus-scanned": true, "x-stamp-spam": true, "x-stamp-virus": true,
	"authentication-results": true, "x-original-to": true, "x-envelope-to": true,
	"x-evolution": true, "lines": true, "content-length": true, "x-ms-tnef-correlator": true,
	"x-mozilla-status": true, "x-mozilla-status2": true,
}

func isDeliveryHeader(name string) bool {
	return deliveryHeaders[name] || strings.HasPrefix(name, "x-spam-") || strings.HasPrefix(name, "x-stamp-")
}

// setBits sizes tokenSet's open-addressing table: 8192 slots keep it at
// most 37% full with maxTokens entries.
const setBits = 13

// tokenSet collects distinct token hashes up to maxTokens. Sets are reused
// through setPool; reset empties one.
type tokenSet struct {
	slots   [1 << setBits]uint64 // 0 marks an empty slot
	hasZero bool                 // whether the token 0 was added
	out     []uint64
	buf     []byte // the token being built
	body    []byte // the text part being tokenized
	bigram  []byte // textTokenizer's bigram buffer

	keep     func(tok []byte) bool // nil: every token
	deadline time.Time             // zero: none
	late     bool                  // the deadline passed: parts were left out
}

var setPool = sync.Pool{New: func() any {
	return &tokenSet{out: make([]uint64, 0, maxTokens), buf: make([]byte, 0, 256),
		bigram: make([]byte, 0, 256)}
}}

func (ts *tokenSet) reset() {
	clear(ts.slots[:])
	ts.hasZero = false
	ts.out = ts.out[:0]
}

// addHash adds one token by its hash.
func (ts *tokenSet) addHash(t uint64) {
	if len(ts.out) >= maxTokens {
		return
	}
	if t == 0 {
		if !ts.hasZero {
			ts.hasZero = true
			ts.out = append(ts.out, t)
		}
		return
	}
	const mask = 1<<setBits - 1
	for i := (t * 0x9e3779b97f4a7c15) >> (64 - setBits); ; i = (i + 1) & mask {
		switch ts.slots[i] {
		case t:
			return
		case 0:
			ts.slots[i] = t
			ts.out = append(ts.out, t)
			return
		}
	}
}

// add adds the token whose text is the concatenation of parts.
func (ts *tokenSet) add(parts ...string) {
	if len(ts.out) >= maxTokens {
		return
	}
	b := ts.buf[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	ts.buf = b
	if ts.keep != nil && !ts.keep(b) {
		return
	}
	ts.addHash(hashOf(b))
}

// readBody reads at most max bytes of r into the set's body buffer (sized
// for hint bytes up front) and returns them; they stay valid until the next
// readBody.
func (ts *tokenSet) readBody(r io.Reader, max, hint int) []byte {
	if c := min(max, hint) + bytes.MinRead; cap(ts.body) < c {
		ts.body = make([]byte, 0, c)
	}
	buf := bytes.NewBuffer(ts.body[:0])
	buf.ReadFrom(io.LimitReader(r, int64(max)))
	ts.body = buf.Bytes()
	return ts.body
}

// Tokenize returns the distinct tokens of a raw RFC 5322 message (at most
// 3000). Tokens carry a prefix naming where they came from:
//
//   - header evidence: "hdr:<name>" for each field name present (except
//     fields the receiving side adds), "subject:" words in both lower and
//     original case, "from:", "to:", "reply-to:", "rp:" (Return-Path) address
//     domains and name words, "nameshape:" how the display name is written
//     (capitals, digits, the local part again), "msgid:" the Message-ID
//     domain, the layout of its local part and whether it is the author's
//     domain, "date:shape:" the Date's layout (digits masked), "rcvd:" hosts
//     and /24 networks of the Received "from" clauses, "mailer:" the
//     X-Mailer or User-Agent, "ct:", "charset:", "cte:" of every part;
//   - body words (no prefix), their original-case variant, "bi:" word
//     bigrams, "skip:" long words, "punct:" runs of ! ? $ *, "money:" and
//     "pct:" amounts, "caps:" runs of capitalized words;
//   - "url:" scheme, host, domain suffixes, IP hosts and path words of every
//     link, and "html:" tag and attribute tokens (font colors and sizes,
//     image counts, comments hiding inside words).
//
// Each token is returned as its Hash.
func Tokenize(raw []byte) []uint64 {
	toks, _ := TokenizeUntil(raw, time.Time{})
	return toks
}

// TokenizeUntil is Tokenize with a deadline (zero: none): past it, no more
// parts are read and the tokens found so far are returned with complete
// false. The MIME walk is linear in the size of the message and follows at
// most MaxDepth levels of nesting.
func TokenizeUntil(raw []byte, deadline time.Time) (tokens []uint64, complete bool) {
	ts := setPool.Get().(*tokenSet)
	ts.reset()
	ts.deadline = deadline
	ts.late = false
	ts.keep = nil
	defer setPool.Put(ts)
	tokenize(ts, raw)
	return slices.Clone(ts.out), !ts.late
}

// sharedPrefixes are token prefixes a model shared by every user must not
// learn from a corpus: they name the corpus's own recipients, relays and
// correspondents (who received it and how), not what spam is.
var sharedPrefixes = []string{"to:", "rcvd:", "msgid:dom:", "from:addr:", "rp:addr:", "reply-to:addr:", "from:host:", "rp:", "url:mailto:", "email:"}

// GeneralTokens reports whether a token text may go into a model shared by
// all users (see sharedPrefixes).
func GeneralTokens(tok []byte) bool {
	for _, p := range sharedPrefixes {
		if bytes.HasPrefix(tok, []byte(p)) {
			return false
		}
	}
	return true
}

// TokenizeFiltered is Tokenize keeping only the tokens keep accepts (it
// sees each token's text before hashing; plain body words, which have no
// prefix, are always kept).
func TokenizeFiltered(raw []byte, keep func(tok []byte) bool) []uint64 {
	ts := setPool.Get().(*tokenSet)
	ts.reset()
	ts.deadline, ts.late, ts.keep = time.Time{}, false, keep
	defer func() { ts.keep = nil; setPool.Put(ts) }()
	tokenize(ts, raw)
	return slices.Clone(ts.out)
}

// expired reports whether the set's deadline has passed (and remembers it).
func (ts *tokenSet) expired() bool {
	if !ts.late && !ts.deadline.IsZero() && time.Now().After(ts.deadline) {
		ts.late = true
	}
	return ts.late
}

// TokenizeParts is TokenizeUntil that also hands out the message's
// header (to top) and its leaf parts (to fn, each with its decoded text,
// as Parts would) from the same MIME walk and the same decoding, so that a
// caller needing both (check's judge: Bayes and the content rules) decodes
// the message once. fn returning false stops the walk (complete is then
// false). top is not called when the header does not parse.
func TokenizeParts(raw []byte, deadline time.Time, top func(h *message.Header), fn func(p Part) bool) (tokens []uint64, complete bool) {
	ts := setPool.Get().(*tokenSet)
	ts.reset()
	ts.deadline, ts.late, ts.keep = deadline, false, nil
	defer setPool.Put(ts)
	tokenizeWith(ts, raw, &partHooks{top: top, fn: fn})
	return slices.Clone(ts.out), !ts.late
}

// partHooks are TokenizeParts's callbacks and Parts's text budget.
type partHooks struct {
	top    func(h *message.Header)
	fn     func(p Part) bool
	budget int // Parts's budget of decoded text (maxTextBytes in all)
}

func tokenize(ts *tokenSet, raw []byte) { tokenizeWith(ts, raw, nil) }

func tokenizeWith(ts *tokenSet, raw []byte, hooks *partHooks) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(raw, []byte("From ")) { // mbox separator line
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	budget := maxTextBytes
	if hooks != nil {
		hooks.budget = maxTextBytes
	}
	top := true
	ok, _ := walkMIME(raw, func(part *mimePart) bool {
		if ts.expired() {
			return false
		}
		if top {
			headerTokens(ts, &part.header)
			if hooks != nil {
				hooks.top(&part.header)
			}
			top = false
		}
		ct, _, _ := part.header.ContentType()
		if ct == "" {
			ct = "text/plain"
		}
		if hooks != nil && !part.multipart {
			return tokenizeLeaf(ts, part, ct, &budget, hooks)
		}

		// Only the kind of content is a token: the charset, the transfer
		// encoding and the bytes of attachments say how a message is
		// encoded, which is evidence of nothing (a language prior).
		if strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "multipart/") {
			ts.add("ct:", ct)
			if part.depth == 0 {
				ts.add("ct:top:", ct)
			}
		}
		if _, dp, err := part.header.ContentDisposition(); err == nil && dp["filename"] != "" {
			name := strings.ToLower(dp["filename"])
			if i := strings.LastIndexByte(name, '.'); i >= 0 && len(name)-i <= 6 {
				ts.add("fname:", name[i:])
			}
		}
		if part.multipart || !strings.HasPrefix(ct, "text/") || budget <= 0 {
			return true
		}
		if disp, _, _ := part.header.ContentDisposition(); disp == "attachment" && ct != "text/plain" && ct != "text/html" {
			return true // calendar files, vCards...: data, not prose
		}
		b := ts.readBody(part.entity(), budget, len(part.body))
		budget -= len(b)
		// The text is only scanned and hashed, never kept, so it may alias
		// the set's reused body buffer instead of being copied.
		text := unsafe.String(unsafe.SliceData(b), len(b))
		if ct == "text/html" || (ct == "text/plain" && looksHTML(b)) {
			ts.add("x:html")
			htmlTokens(ts, text)
		} else if ct == "text/plain" || ct == "text/enriched" {
			newTextTokenizer(ts, "").text(text)
		}
		return true
	})
	if !ok {
		// Unparseable header: treat everything as text.
		ts.add("x:badheader")
		newTextTokenizer(ts, "").text(string(limit(raw)))
	}
}

// tokenizeLeaf is tokenizeWith's work on one leaf part when a caller
// also wants the part (TokenizeParts): one read of the decoded text serves
// both, sized for the larger of the two budgets (the tokenizer's, which
// skips data attachments, and Parts's, which reads every text part), each
// taking the prefix its own budget allows, so that the tokens are those
// of Tokenize and the part that of Parts.
func tokenizeLeaf(ts *tokenSet, part *mimePart, ct string, budget *int, hooks *partHooks) bool {
	text := strings.HasPrefix(ct, "text/")
	if text || strings.HasPrefix(ct, "multipart/") {
		ts.add("ct:", ct)
		if part.depth == 0 {
			ts.add("ct:top:", ct)
		}
	}
	disp, dp, derr := part.header.ContentDisposition()
	if derr == nil && dp["filename"] != "" {
		name := strings.ToLower(dp["filename"])
		if i := strings.LastIndexByte(name, '.'); i >= 0 && len(name)-i <= 6 {
			ts.add("fname:", name[i:])
		}
	}
	forTokens := text && *budget > 0 && !(disp == "attachment" && ct != "text/plain" && ct != "text/html")
	forPart := text && hooks.budget > 0
	var b []byte
	if forTokens || forPart {
		n := 0
		if forTokens {
			n = *budget
		}
		if forPart {
			n = max(n, hooks.budget)
		}
		b = ts.readBody(part.entity(), n, len(part.body))
	}
	if forTokens {
		tb := b[:min(len(b), *budget)]
		*budget -= len(tb)
		t := unsafe.String(unsafe.SliceData(tb), len(tb))
		if ct == "text/html" || (ct == "text/plain" && looksHTML(tb)) {
			ts.add("x:html")
			htmlTokens(ts, t)
		} else if ct == "text/plain" || ct == "text/enriched" {
			newTextTokenizer(ts, "").text(t)
		}
	}
	p := Part{Header: &part.header, Top: part.depth == 0, ContentType: ct, Depth: part.depth, Size: len(part.body), Raw: part.body,
		Encoding: strings.ToLower(strings.TrimSpace(part.header.Get("Content-Transfer-Encoding")))}
	if derr == nil && (disp == "attachment" || dp["filename"] != "") {
		p.Attachment = true
	}
	if forPart {
		pb := b[:min(len(b), hooks.budget)]
		hooks.budget -= len(pb)
		p.Text = string(pb)
	}
	if !hooks.fn(p) {
		ts.late = true
		return false
	}
	return true
}

// htmlMarkers are the (lower-case) tags that make plain text HTML.
var htmlMarkers = []string{"<html", "<body", "<font", "<a href"}

// looksHTML reports whether the first 4 KB of b contain one of htmlMarkers
// in any ASCII case.
func looksHTML(b []byte) bool {
	if len(b) > 4096 {
		b = b[:4096]
	}
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			return false
		}
		b = b[i:]
		for _, m := range htmlMarkers {
			if len(b) >= len(m) && equalFoldASCII(b[:len(m)], m) {
				return true
			}
		}
		b = b[1:]
	}
}

// equalFoldASCII reports whether b equals the lower-case ASCII string m,
// ignoring the case of b's ASCII letters.
func equalFoldASCII(b []byte, m string) bool {
	for i := range len(m) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != m[i] {
			return false
		}
	}
	return true
}

// headerTokens adds the tokens of a message's top-level header.
func headerTokens(ts *tokenSet, h *message.Header) {
	text := func(key string) string {
		v, err := h.Text(key)
		if err != nil {
			v = h.Get(key)
		}
		if len(v) > maxHeaderBytes {
			v = v[:maxHeaderBytes]
		}
		return v
	}
	fields := h.Fields()
	nRcvd := 0
	for fields.Next() {
		name := strings.ToLower(fields.Key())
		if isDeliveryHeader(name) {
			continue
		}
		if name == "content-transfer-encoding" {
			continue // how the body is encoded is evidence of nothing
		}
		ts.add("hdr:", name)
		if name == "received" {
			v := fields.Value()
			if len(v) > maxHeaderBytes {
				v = v[:maxHeaderBytes]
			}
			if receivedTokens(ts, v) {
				nRcvd++
			}
		}
	}
	ts.add("rcvd:n:", bucket(nRcvd))

	subj := text("Subject")
	if subj == "" {
		ts.add("subject:none")
	}
	newTextTokenizer(ts, "subject:").text(subj)

	fromAddr := addressTokens(ts, "from:", text("From"))
	if rt := text("Reply-To"); rt != "" {
		if d := addressTokens(ts, "reply-to:", rt); fromAddr != "" && d != "" && domainOf(d) != domainOf(fromAddr) {
			ts.add("reply-to:differs")
		}
	}
	if rp := text("Return-Path"); rp != "" {
		if d := addressTokens(ts, "rp:", rp); fromAddr != "" && d != "" && domainOf(d) != domainOf(fromAddr) {
			ts.add("rp:differs")
		}
	}
	n := 0
	for _, key := range []string{"To", "Cc"} {
		v := text(key)
		if strings.Contains(strings.ToLower(v), "undisclosed") {
			ts.add("to:undisclosed")
		}
		list, err := mail.ParseAddressList(v)
		if err != nil {
			newTextTokenizer(ts, "to:").words(v)
			continue
		}
		for _, a := range list {
			n++
			if d := domainOf(strings.ToLower(a.Address)); d != "" {
				ts.add("to:dom:", d)
			}
		}
	}
	ts.add("to:n:", bucket(n))

	if id := strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"); id == "" {
		ts.add("msgid:none")
	} else if i := strings.LastIndexByte(id, '@'); i < 0 {
		ts.add("msgid:noat")
	} else {
		d := strings.ToLower(id[i+1:])
		ts.add("msgid:dom:", d)
		if net.ParseIP(strings.Trim(d, "[]")) != nil {
			ts.add("msgid:ip")
		}
		// How the sending software writes its identifiers (the shape of
		// the local part) and whether it names the author's domain.
		ts.add("msgid:shape:", shape(id[:i], 24))
		if fd := domainOf(fromAddr); fd != "" {
			if lastLabels(fd, 2) == lastLabels(d, 2) {
				ts.add("msgid:fromdom")
			} else {
				ts.add("msgid:otherdom")
			}
		}
	}
	if d := strings.TrimSpace(h.Get("Date")); d != "" {
		// The Date's layout (digits and words masked: no zone or time of
		// day is a token), as each mailer writes it.
		ts.add("date:shape:", shape(d, 40))
	}
	for _, key := range []string{"X-Mailer", "User-Agent"} {
		if v := strings.ToLower(strings.TrimSpace(text(key))); v != "" {
			if len(v) > 40 {
				v = v[:40]
			}
			ts.add("mailer:", v)
			newTextTokenizer(ts, "mailer:").words(v)
		}
	}
	for _, key := range []string{"X-Priority", "Importance", "X-MSMail-Priority", "Precedence"} {
		if v := strings.ToLower(strings.TrimSpace(text(key))); v != "" && len(v) < 20 {
			ts.add("prio:", strings.ToLower(key), ":", v)
		}
	}
	if h.Get("Date") == "" {
		ts.add("date:none")
	}
	newTextTokenizer(ts, "org:").words(text("Organization"))
}

// receivedTokens adds tokens for the "from" clause of one Received field
// (RFC 5321 section 4.4): the sending host's name, its domain suffixes and
// the /24 network of its address. Hops of local delivery (loopback,
// fetchmail) say nothing of the sender and are skipped; it reports whether
// the field was used.
func receivedTokens(ts *tokenSet, v string) bool {
	l := strings.ToLower(v)
	if strings.Contains(l, "fetchmail") || strings.Contains(l, "127.0.0.1") || strings.HasPrefix(strings.TrimSpace(l), "from localhost") {
		return false
	}
	if i := strings.Index(l, " by "); i >= 0 {
		l = l[:i]
	} else if i := strings.Index(l, "\tby "); i >= 0 {
		l = l[:i]
	}
	l = strings.TrimPrefix(strings.TrimSpace(l), "from ")
	for _, f := range strings.FieldsFunc(l, func(r rune) bool {
		return r == ' ' || r == '(' || r == ')' || r == '[' || r == ']' || r == '\t' || r == '\n' || r == '\r' || r == '=' || r == ';'
	}) {
		if ip := net.ParseIP(f); ip != nil {
			if v4 := ip.To4(); v4 != nil && !ip.IsPrivate() && !ip.IsLoopback() {
				ts.add("rcvd:net:", strconv.Itoa(int(v4[0])), ".", strconv.Itoa(int(v4[1])), ".", strconv.Itoa(int(v4[2])))
			}
			continue
		}
		if strings.Contains(f, ".") && !strings.HasPrefix(f, "helo") {
			domainTokens(ts, "rcvd:", f)
		}
	}
	return true
}

// addressTokens adds tokens of one address header and returns the
// (lower-cased) address, "" when none could be parsed.
func addressTokens(ts *tokenSet, prefix, v string) string {
	a, err := mail.ParseAddress(v)
	if err != nil {
		if list, lerr := mail.ParseAddressList(v); lerr == nil && len(list) > 0 {
			a, err = list[0], nil
		}
	}
	if err != nil {
		ts.add(prefix, "unparsed")
		newTextTokenizer(ts, prefix).words(v)
		return ""
	}
	addr := strings.ToLower(a.Address)
	ts.add(prefix, "addr:", addr)
	if d := domainOf(addr); d != "" {
		domainTokens(ts, prefix, d)
		if local := addr[:len(addr)-len(d)-1]; digitCount(local) >= 3 {
			ts.add(prefix, "localdigits")
		}
	}
	if a.Name == "" {
		ts.add(prefix, "noname")
	} else {
		newTextTokenizer(ts, prefix+"name:").words(a.Name)
		if ns := nameShape(a.Name, addr); ns != "" {
			ts.add(prefix, "nameshape:", ns)
		}
	}
	return addr
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// domainTokens adds the host name and its last two and three labels.
func domainTokens(ts *tokenSet, prefix, host string) {
	host = strings.Trim(strings.ToLower(host), ".")
	if host == "" {
		return
	}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		ts.add(prefix, "ip")
		return
	}
	ts.add(prefix, "host:", host)
	// The last one, two and three labels (never the whole name).
	end := len(host)
	for n := 1; n <= 3; n++ {
		i := strings.LastIndexByte(host[:end], '.')
		if i < 0 {
			break
		}
		ts.add(prefix, "dom:", host[i+1:])
		end = i
	}
}

// urlTokens adds tokens of one link target.
func urlTokens(ts *tokenSet, u string) {
	l := strings.ToLower(strings.TrimSpace(u))
	switch {
	case strings.HasPrefix(l, "mailto:"):
		ts.add("url:mailto")
		if d := domainOf(strings.SplitN(l[7:], "?", 2)[0]); d != "" {
			domainTokens(ts, "url:mailto:", d)
		}
		return
	case strings.HasPrefix(l, "http://"):
		ts.add("url:http")
		l = l[7:]
	case strings.HasPrefix(l, "https://"):
		ts.add("url:https")
		l = l[8:]
	case strings.HasPrefix(l, "www."):
	default:
		return
	}
	if strings.Contains(l, "%") {
		ts.add("url:escaped")
	}
	host, path := l, ""
	if i := strings.IndexAny(l, "/?#"); i >= 0 {
		host, path = l[:i], l[i:]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		ts.add("url:userinfo")
		host = host[i+1:]
	}
	if h, port, err := net.SplitHostPort(host); err == nil {
		host = h
		if port != "80" && port != "443" {
			ts.add("url:port")
		}
	}
	if ip := net.ParseIP(host); ip != nil || (host != "" && strings.Trim(host, "0123456789.") == "") {
		ts.add("url:ip")
	} else {
		domainTokens(ts, "url:", host)
	}
	n := 0
	for _, w := range strings.FieldsFunc(path, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if n >= maxURLPathTokens {
			break
		}
		if len(w) >= 2 && len(w) <= 20 {
			ts.add("url:path:", w)
			n++
		}
	}
}

// htmlTokens tokenizes an HTML part: its text, link targets, and the tags
// and attributes whose use differs between spam and ham.
func htmlTokens(ts *tokenSet, s string) {
	var text strings.Builder
	imgs, links, comments := 0, 0, 0
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			text.WriteString(s)
			break
		}
		text.WriteString(s[:i])
		s = s[i:]
		if strings.HasPrefix(s, "<!--") {
			j := strings.Index(s, "-->")
			if j < 0 {
				break
			}
			comments++
			// A comment with no space around it splits a word to hide it
			// from filters ("V<!-- x -->iagra").
			if i > 0 && len(s) > j+3 && !unicode.IsSpace(rune(s[j+3])) && text.Len() > 0 {
				if last := text.String(); !unicode.IsSpace(rune(last[len(last)-1])) {
					ts.add("html:splitcomment")
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
		name = strings.ToLower(strings.Trim(name, "/\r\n\t"))
		if name == "" || len(name) > 12 {
			text.WriteByte(' ')
			continue
		}
		if name == "style" || name == "script" {
			ts.add("html:tag:", name)
			if k := indexFold(s, "</"+name); k >= 0 {
				s = s[k:]
			}
			continue
		}
		text.WriteByte(' ') // a tag ends a word (a comment, above, need not)
		ts.add("html:tag:", name)
		lower := strings.ToLower(attrs)
		switch name {
		case "img":
			imgs++
		case "a":
			links++
		case "font":
			for _, a := range []string{"color", "size", "face"} {
				if v := htmltext.Attr(lower, a); v != "" && len(v) <= 24 {
					ts.add("html:font:", a, "=", v)
				}
			}
		}
		for _, a := range []string{"href", "src", "action", "background"} {
			if v := htmltext.Attr(lower, a); v != "" {
				urlTokens(ts, v)
			}
		}
		if strings.Contains(lower, "display:none") || strings.Contains(lower, "visibility:hidden") {
			ts.add("html:hidden")
		}
		if strings.Contains(lower, "bgcolor") {
			ts.add("html:bgcolor")
		}
	}
	ts.add("html:img:", bucket(imgs))
	ts.add("html:links:", bucket(links))
	ts.add("html:comments:", bucket(comments))
	t := text.String()
	if strings.Contains(t, "&#") {
		ts.add("html:numentity")
	}
	t = htmltext.DecodeEntities(t)
	newTextTokenizer(ts, "").text(t)
}

// indexFold is strings.Index ignoring ASCII case of s; sub is lower case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
			j++
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

// textTokenizer turns free text into word tokens with a prefix. At most
// one is in use per tokenSet at a time: it borrows the set's bigram buffer.
type textTokenizer struct {
	ts     *tokenSet
	prefix string
	// bi is the bigram token being built: the prefix, "bi:", the previous
	// word lower-cased and a space (up to prevEnd; 0 after a break: no
	// previous word), then the current word lower-cased.
	bi      []byte
	prevEnd int
	capsRun int
}

func newTextTokenizer(ts *tokenSet, prefix string) *textTokenizer {
	return &textTokenizer{ts: ts, prefix: prefix, bi: append(append(ts.bigram[:0], prefix...), "bi:"...)}
}

// start begins a token in the set's buffer with the prefix.
func (t *textTokenizer) start() []byte { return append(t.ts.buf[:0], t.prefix...) }

// addTok adds the token b (built from start) and keeps its buffer.
func (t *textTokenizer) addTok(b []byte) {
	t.ts.buf = b
	if t.ts.keep != nil && !t.ts.keep(b) {
		return
	}
	t.ts.addHash(hashOf(b))
}

// words adds only the plain words of s, without bigrams or pattern tokens.
func (t *textTokenizer) words(s string) {
	forEachWord(s, func(w string) {
		if n := utf8.RuneCountInString(w); n >= minTokenLen && n <= maxTokenLen && !allDigits(w) {
			t.addTok(appendLower(t.start(), w))
		}
	})
}

// asciiSpace marks the ASCII bytes unicode.IsSpace accepts.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// spaceAt reports whether s starts with white space (as strings.Fields
// splits) and its width.
func spaceAt(s string) (bool, int) {
	if c := s[0]; c < utf8.RuneSelf {
		return asciiSpace[c], 1
	}
	r, n := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r), n
}

// Kinds of byte for chunkEnd (0: any other ASCII byte).
const (
	chunkSpace = 1 + iota // ASCII white space (as unicode.IsSpace)
	chunkMark             // a byte chunk looks for: '@' and "!?$*%"
	chunkMulti            // a byte of a non-ASCII rune (or an invalid one)
)

var chunkByte = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = chunkMulti
		case asciiSpace[c]:
			t[c] = chunkSpace
		case strings.IndexByte("@!?$*%", byte(c)) >= 0:
			t[c] = chunkMark
		}
	}
	return t
}()

// chunkEnd returns the index of the first white space in s (len(s) if
// none), whether s up to there is ASCII and whether it has one of the
// bytes "@!?$*%".
func chunkEnd(s string) (end int, ascii, marks bool) {
	i := 0
	ascii = true
	for {
		if i = plainEnd(s, i); i == len(s) {
			return i, ascii, marks
		}
		switch chunkByte[s[i]] {
		case chunkSpace:
			return i, ascii, marks
		case chunkMark:
			marks = true
			i++
		default:
			ascii = false
			sp, n := spaceAt(s[i:])
			if sp {
				return i, ascii, marks
			}
			i += n
		}
	}
}

// plainEnd returns the index of the first byte from i on in s that is not
// an ASCII byte of kind 0 (len(s) if none): the loop that does most of
// chunkEnd's work, apart from its rare paths.
func plainEnd(s string, i int) int {
	for i < len(s) && chunkByte[s[i]] == 0 {
		i++
	}
	return i
}

// text adds all tokens of free text s: words, their original case, word
// bigrams, long-word skips, punctuation runs, money and percentages, URLs
// and runs of capitalized words.
func (t *textTokenizer) text(s string) {
	for {
		for len(s) > 0 {
			if chunkByte[s[0]] == chunkSpace {
				s = s[1:]
				continue
			}
			if s[0] < utf8.RuneSelf {
				break
			}
			sp, n := spaceAt(s)
			if !sp {
				break
			}
			s = s[n:]
		}
		if len(s) == 0 {
			break
		}
		if len(t.ts.out) >= maxTokens {
			return
		}
		end, ascii, marks := chunkEnd(s)
		t.chunk(s[:end], ascii, marks)
		s = s[end:]
	}
	t.endCaps()
}

// hasPrefixFold reports whether s begins with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// punctRuns are the tokens of runs of three or more of one character.
var punctRuns = map[rune]string{'!': "!!!", '?': "???", '$': "$$$", '*': "***"}

// chunk adds the tokens of c, a run of anything but white space; ascii
// and marks say whether it is ASCII and whether it has one of "@!?$*%"
// (without, it is no address and has no punctuation or amount tokens).
func (t *textTokenizer) chunk(c string, ascii, marks bool) {
	// (No rune outside ASCII folds to h or w.)
	if c0 := c[0] | 0x20; (c0 == 'h' || c0 == 'w') &&
		(hasPrefixFold(c, "http://") || hasPrefixFold(c, "https://") || hasPrefixFold(c, "www.")) {
		urlTokens(t.ts, strings.TrimRight(c, ".,;:!?)>\"'"))
		t.prevEnd = 0
		return
	}
	if marks && t.marks(c) {
		return // an address
	}
	if ascii {
		t.asciiWords(c)
	} else {
		forEachWord(c, t.word)
	}
}

// marks adds the tokens of c as an email address and reports true, or
// else the tokens of its runs of !, ?, $, * and of money and percentage
// amounts.
func (t *textTokenizer) marks(c string) (address bool) {
	if at := strings.IndexByte(c, '@'); at > 0 && strings.Contains(c[at:], ".") {
		d := strings.Trim(strings.ToLower(c[at+1:]), ".,;:!?<>()[]\"'")
		domainTokens(t.ts, t.prefix+"email:", d)
		t.prevEnd = 0
		return true
	}
	// Runs of !, ?, $, * and money or percentage amounts.
	run, last := 0, rune(0)
	for i, r := range c {
		if r == last && (r == '!' || r == '?' || r == '$' || r == '*') {
			run++
			if run == 2 {
				t.addTok(append(append(t.start(), "punct:"...), punctRuns[r]...))
			}
		} else {
			run = 0
		}
		last = r
		if r == '$' && i+1 < len(c) && c[i+1] >= '0' && c[i+1] <= '9' {
			t.addTok(append(append(t.start(), "money:"...), bucket(digitRun(c[i+1:]))...))
		}
		if r == '%' && i > 0 && c[i-1] >= '0' && c[i-1] <= '9' {
			t.addTok(append(t.start(), "pct"...))
		}
	}
	return false
}

// What an ASCII byte is in asciiWords's words, as bits (0: not part of a
// word).
const (
	classWord   = 1 << iota // letters, digits, the joiners, '$' and '!'
	classJoiner             // '-' and '\'': inside words only
	classUpper
	classLower
	classDigit
)

var asciiClass = func() (c [256]uint8) {
	for b := 'a'; b <= 'z'; b++ {
		c[b] = classWord | classLower
		c[b-'a'+'A'] = classWord | classUpper
	}
	for b := '0'; b <= '9'; b++ {
		c[b] = classWord | classDigit
	}
	c['-'], c['\''] = classWord|classJoiner, classWord|classJoiner
	c['$'], c['!'] = classWord, classWord
	return c
}()

// asciiWords is forEachWord(s, t.word) for ASCII s, classifying each word
// in the same pass that finds it.
func (t *textTokenizer) asciiWords(s string) {
	i := 0
	for i < len(s) {
		for i < len(s) && asciiClass[s[i]] == 0 {
			i++
		}
		start := i
		var seen uint8 // the classes of the word's bytes
		nd := 0        // its digits
		for ; i < len(s) && asciiClass[s[i]] != 0; i++ {
			k := asciiClass[s[i]]
			seen |= k
			nd += int(k&classDigit) / classDigit
		}
		w := s[start:i]
		for len(w) > 0 && asciiClass[w[0]]&classJoiner != 0 {
			w = w[1:]
		}
		for len(w) > 0 && asciiClass[w[len(w)-1]]&classJoiner != 0 {
			w = w[:len(w)-1]
		}
		if w != "" {
			t.addWord(w, len(w), seen&classUpper != 0, seen&classLower != 0, nd == len(w))
		}
	}
}

// letterCase reports whether w has upper-case and lower-case letters,
// without allocating (the tokenizer's hot path).
func letterCase(w string) (upper, lower bool) {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			for _, r := range w {
				upper = upper || unicode.IsUpper(r)
				lower = lower || unicode.IsLower(r)
			}
			return upper, lower
		}
		upper = upper || 'A' <= c && c <= 'Z'
		lower = lower || 'a' <= c && c <= 'z'
	}
	return upper, lower
}

// appendLower appends s lower-cased as strings.ToLower does (invalid
// UTF-8 becomes U+FFFD) to dst.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				dst = utf8.AppendRune(dst, unicode.ToLower(r))
			}
			return dst
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// wordInfo returns w's length in runes, whether it has upper-case and
// lower-case letters, and whether it is all ASCII digits, in one pass for
// ASCII words.
func wordInfo(w string) (n int, upper, lower, digits bool) {
	digits = true
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			upper, lower = letterCase(w)
			return utf8.RuneCountInString(w), upper, lower, allDigits(w)
		}
		upper = upper || 'A' <= c && c <= 'Z'
		lower = lower || 'a' <= c && c <= 'z'
		digits = digits && '0' <= c && c <= '9'
	}
	return len(w), upper, lower, digits
}

func (t *textTokenizer) word(w string) {
	if hasCJK(w) {
		t.cjkWord(w)
		return
	}
	n, upper, lower, digits := wordInfo(w)
	t.addWord(w, n, upper, lower, digits)
}

// isCJK reports whether r is written without spaces between words in
// Chinese, Japanese or Korean text (Han, Hiragana, Katakana, Hangul).
func isCJK(r rune) bool {
	if 0 <= r && r < 1<<16 {
		return r >= 0x1100 && cjkBMP.has(r)
	}
	return r >= 0x1100 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r))
}

// bmpSet is a set of runes below U+10000, a bit each, for the Unicode
// tests the tokenizer makes on every rune of a text outside ASCII (a
// table lookup instead of a search of the Unicode tables).
type bmpSet [1 << 16 / 64]uint64

// newBMPSet returns the runes below U+10000 in any of tables: those that
// unicode.Is(table, r) accepts.
func newBMPSet(tables ...*unicode.RangeTable) *bmpSet {
	var s bmpSet
	add := func(lo, hi, stride uint32) {
		for c := lo; c <= min(hi, 1<<16-1); c += stride {
			s[c/64] |= 1 << (c % 64)
		}
	}
	for _, t := range tables {
		for _, r := range t.R16 {
			add(uint32(r.Lo), uint32(r.Hi), uint32(r.Stride))
		}
		for _, r := range t.R32 {
			add(r.Lo, r.Hi, r.Stride)
		}
	}
	return &s
}

// has reports whether r (below U+10000) is in s.
func (s *bmpSet) has(r rune) bool { return s[r/64]&(1<<(r%64)) != 0 }

var (
	cjkBMP    = newBMPSet(unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
	letterBMP = newBMPSet(unicode.Letter, unicode.Digit) // unicode.IsLetter or IsDigit past Latin-1
)

func hasCJK(w string) bool {
	for _, r := range w {
		if isCJK(r) {
			return true
		}
	}
	return false
}

// cjkWord tokenizes a word with CJK characters as the bigrams of its
// runs of CJK characters (as Lucene's CJK analyzer and SpamBayes' CJK
// option do: no dictionary, and each language is words like any other),
// plus a short run itself; the rest of the word is tokenized as words.
func (t *textTokenizer) cjkWord(w string) {
	t.endCaps()
	t.prevEnd = 0
	var runes [2]rune
	run := 0 // CJK runes in the current run
	runStart := -1
	other := -1 // start of a non-CJK stretch
	flushOther := func(end int) {
		if other >= 0 {
			o := w[other:end]
			n, upper, lower, digits := wordInfo(o)
			t.addWord(o, n, upper, lower, digits)
			t.prevEnd = 0
			other = -1
		}
	}
	flushRun := func(end int) {
		if run > 0 && run <= 4 {
			t.addTok(append(t.start(), w[runStart:end]...))
		}
		run, runStart = 0, -1
	}
	for i, r := range w {
		if !isCJK(r) {
			flushRun(i)
			if other < 0 {
				other = i
			}
			continue
		}
		flushOther(i)
		if run == 0 {
			runStart = i
		}
		runes[0], runes[1] = runes[1], unicode.ToLower(r)
		run++
		if run >= 2 {
			b := utf8.AppendRune(t.start(), runes[0])
			t.addTok(utf8.AppendRune(b, runes[1]))
		}
	}
	flushRun(len(w))
	flushOther(len(w))
}

// addWord adds the tokens of word w of n runes, with upper-case and
// lower-case letters as said, all digits if digits.
func (t *textTokenizer) addWord(w string, n int, upper, lower, digits bool) {
	if n >= 2 && upper && !lower {
		t.capsRun++
	} else {
		t.endCaps()
	}
	if n < minTokenLen || digits {
		t.prevEnd = 0
		return
	}
	if n > maxTokenLen {
		r, _ := utf8.DecodeRuneInString(w)
		b := utf8.AppendRune(append(t.start(), "skip:"...), unicode.ToLower(r))
		t.addTok(strconv.AppendInt(b, int64(n/10*10), 10))
		t.prevEnd = 0
		return
	}
	head := len(t.prefix) + len("bi:")
	at := head // where the word goes in t.bi
	if t.prevEnd > 0 {
		at = t.prevEnd
	}
	if upper {
		t.bi = appendLower(t.bi[:at], w)
	} else {
		t.bi = append(t.bi[:at], w...)
	}
	lw := t.bi[at:]
	if t.prefix == "" { // body text: the word is the whole token
		t.ts.addHash(hashOf(lw))
		if upper && n > 1 && string(lw) != w { // (without capitals lw is w)
			t.ts.addHash(hashOf(w))
		}
	} else {
		t.addTok(append(t.start(), lw...))
		if upper && n > 1 && string(lw) != w {
			t.addTok(append(t.start(), w...))
		}
	}
	if t.prevEnd > 0 && (t.ts.keep == nil || t.ts.keep(t.bi)) {
		t.ts.addHash(hashOf(t.bi))
	}
	// The word is the previous one of the next bigram.
	t.bi = append(t.bi[:head+copy(t.bi[head:], lw)], ' ')
	t.prevEnd = len(t.bi)
}

func (t *textTokenizer) endCaps() {
	if t.capsRun >= 3 {
		t.addTok(append(append(t.start(), "caps:"...), bucket(t.capsRun)...))
	}
	t.capsRun = 0
}

// isWordRune reports whether r belongs in a word: letters, digits and the
// joiners '-', '$', '\” and '!'.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		c := byte(r)
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '$' || c == '\'' || c == '!'
	}
	if 0xff < r && r < 1<<16 {
		return letterBMP.has(r)
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// forEachWord calls f with each run of letters, digits and the joiners
// '-', '\”, '$' and '!' in s, trimmed of leading and trailing joiners
// other than '$' and '!'.
func forEachWord(s string, f func(string)) {
	start := -1
	emit := func(end int) {
		w := s[start:end]
		for len(w) > 0 && (w[0] == '-' || w[0] == '\'') {
			w = w[1:]
		}
		for len(w) > 0 && (w[len(w)-1] == '-' || w[len(w)-1] == '\'') {
			w = w[:len(w)-1]
		}
		if w != "" {
			f(w)
		}
	}
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			emit(i)
			start = -1
		}
	}
	if start >= 0 {
		emit(len(s))
	}
}

// bucket is a coarse, logarithmic label for a count.
func bucket(n int) string {
	switch {
	case n <= 3:
		return strconv.Itoa(n)
	case n <= 5:
		return "4-5"
	case n <= 10:
		return "6-10"
	case n <= 20:
		return "11-20"
	default:
		return "21+"
	}
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == ',') {
		n++
	}
	return n
}

func digitCount(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func limit(b []byte) []byte {
	if len(b) > maxTextBytes {
		return b[:maxTextBytes]
	}
	return b
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// shape masks s to its layout, at most max bytes of it: a run of ASCII
// digits becomes "9", of ASCII letters "a" (or "A" when all capitals),
// other bytes stay; non-ASCII bytes count as letters, so that no script
// is told apart from another.
func shape(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	b := make([]byte, 0, len(s))
	var last byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		var k byte
		switch {
		case c >= '0' && c <= '9':
			k = '9'
		case c >= 'a' && c <= 'z':
			k = 'a'
		case c >= 'A' && c <= 'Z':
			k = 'A'
		case c >= utf8.RuneSelf:
			k = 'a'
		case c == ' ' || c == '\t':
			k = ' '
		default:
			k = c
		}
		if k == 'A' && last == 'a' || k == 'a' && last == 'A' {
			b[len(b)-1] = 'a' // mixed case is one word
			last = 'a'
			continue
		}
		if k == last && (k == '9' || k == 'a' || k == 'A' || k == ' ') {
			continue
		}
		b = append(b, k)
		last = k
	}
	return string(b)
}

// nameShape says how a display name is written: in capitals or not,
// with digits, or as the address's own local part; "" for a name in a
// script without case (which says nothing of how it was written).
func nameShape(name, addr string) string {
	n := strings.ToLower(strings.Trim(name, "\"' "))
	if local, _, ok := strings.Cut(addr, "@"); ok && n == local {
		return "islocal"
	}
	upper, lower := letterCase(name)
	out := "mixed"
	switch {
	case upper && !lower:
		out = "caps"
	case lower && !upper:
		out = "lower"
	case !upper && !lower:
		return ""
	}
	if digitCount(name) > 0 {
		out += "+digits"
	}
	return out + ":" + bucket(len(strings.Fields(name)))
}

// lastLabels is the last n labels of a host name.
func lastLabels(host string, n int) string {
	host = strings.TrimSuffix(host, ".")
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == '.' {
			n--
			if n == 0 {
				return host[i+1:]
			}
		}
	}
	return host
}
