package corpus

import (
	"fmt"
	"strings"
	"time"
)

func (g *gen) para(pool []string, k int, name string) string {
	s := strings.Join(g.picks(pool, k), " ")
	if strings.Contains(s, "%s") {
		s = strings.ReplaceAll(s, "%s", name)
	}
	return s
}

// sep joins sentences: CJK text needs no space between them.
func (g *gen) sep() string {
	switch g.l.code {
	case "ja", "zh":
		return ""
	}
	return " "
}

func (g *gen) sentences(pool []string, k int) string {
	return strings.Join(g.picks(pool, k), g.sep())
}

func (g *gen) withEmoji(s string) string {
	if len(g.l.emoji) > 0 && g.r.IntN(3) == 0 {
		return s + " " + g.pickAny(g.l.emoji)
	}
	return s
}

func (g *gen) personal() (envelope, string, string) {
	toFirst := RecipientName
	fromFirst, fromFull := g.name()
	e := envelope{
		fromName: fromFull, from: g.address(g.pickAny(g.l.domains)),
		toName: RecipientName, to: Recipient, date: g.date(),
	}
	if g.r.IntN(2) == 0 {
		e.extra = append(e.extra, "User-Agent: "+g.pickAny(userAgents))
	}
	return e, fromFirst, toFirst
}

var userAgents = []string{
	"Mozilla Thunderbird 128.4", "Apple Mail (2.3776)", "Roundcube Webmail/1.6.9", "K-9 Mail for Android",
	"Microsoft Outlook 16.0", "Evolution 3.52", "Mutt/2.2.13",
}

func (g *gen) note(w *writer) []byte {
	e, from, to := g.personal()
	e.subject = g.withEmoji(g.pick(g.l.noteSubj))
	body := fmt.Sprintf(g.pick(g.l.hello), to) + "\n\n" + g.withEmoji(g.sentences(g.l.note, 2+g.r.IntN(3))) +
		"\n\n" + g.pick(g.l.bye) + "\n" + from + "\n"
	return body2(w, e, body)
}

// body2 renders a plain-text message (a helper so that note can stay short).
func body2(w *writer, e envelope, text string) []byte {
	return w.message(e, &part{ctype: "text/plain; format=flowed", text: text})
}

func (g *gen) reply(w *writer) []byte {
	e, from, to := g.personal()
	orig := g.pick(g.l.noteSubj)
	e.subject = "Re: " + orig
	when := e.date.Add(-time.Duration(1+g.r.IntN(72)) * time.Hour)
	e.extra = append(e.extra, fmt.Sprintf("In-Reply-To: <%d.orig@stamp.test>", when.Unix()),
		fmt.Sprintf("References: <%d.orig@stamp.test>", when.Unix()))
	quoted := g.sentences(g.l.note, 2)
	var q strings.Builder
	for _, line := range strings.Split(wrapWords(quoted, 60), "\n") {
		q.WriteString("> " + line + "\n")
	}
	body := fmt.Sprintf(g.pick(g.l.hello), to) + "\n\n" + g.withEmoji(g.sentences(g.l.replyBody, 1+g.r.IntN(3))) + "\n\n" +
		g.pick(g.l.bye) + "\n" + from + "\n\n" + fmt.Sprintf(g.l.wrote, when.Format("2006-01-02 15:04"), RecipientName) + "\n" + q.String()
	return body2(w, e, body)
}

// wrapWords breaks s into lines of about n bytes at spaces (CJK text,
// without spaces, is cut by runes).
func wrapWords(s string, n int) string {
	var out, line strings.Builder
	for _, r := range s {
		line.WriteRune(r)
		if line.Len() >= n && (r == ' ' || r > 0x2e80) {
			out.WriteString(strings.TrimSpace(line.String()) + "\n")
			line.Reset()
		}
	}
	out.WriteString(strings.TrimSpace(line.String()))
	return out.String()
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func (g *gen) newsletter(w *writer) []byte {
	org := g.pick(g.l.newsOrg)
	dom := strings.ToLower(strings.NewReplacer(" ", "", "&", "").Replace(asciiOnly(org)))
	if dom == "" {
		dom = "news" + fmt.Sprint(g.r.IntN(90)+10)
	}
	dom += "." + g.pickAny([]string{"com", "org", "net", "io", "co"})
	e := envelope{fromName: org, from: "newsletter@" + dom, toName: RecipientName, to: Recipient, date: g.date(),
		subject: g.withEmoji(g.pick(g.l.newsSubj))}
	e.extra = append(e.extra, "List-Unsubscribe: <https://"+dom+"/unsubscribe?u=8812>",
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click", "Precedence: bulk")
	paras := g.picks(g.l.news, 3)
	var text, html strings.Builder
	fmt.Fprintf(&html, "<!DOCTYPE html><html><head><meta charset=\"%s\"><style>body{font-family:sans-serif;max-width:600px}</style></head><body>", w.charset)
	fmt.Fprintf(&html, "<table width=\"100%%\"><tr><td><img src=\"https://%s/logo.png\" alt=\"%s\" width=\"120\"></td></tr>", dom, htmlEscape(org))
	for i, p := range paras {
		text.WriteString(p + "\n\n")
		fmt.Fprintf(&html, "<tr><td><p>%s</p><p><a href=\"https://%s/articles/%d\">%s</a></p></td></tr>", htmlEscape(p), dom, 100+i+g.r.IntN(800), "&rarr;")
	}
	text.WriteString(g.l.unsub + ": https://" + dom + "/unsubscribe?u=8812\n")
	fmt.Fprintf(&html, "<tr><td><small><a href=\"https://%s/unsubscribe?u=8812\">%s</a></small></td></tr></table></body></html>", dom, htmlEscape(g.l.unsub))
	return w.message(e, &part{ctype: "multipart/alternative", parts: []*part{
		{ctype: "text/plain", text: text.String()},
		{ctype: "text/html", text: html.String()},
	}})
}

func asciiOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fakePDF is a small, well-formed PDF whose text is s.
func fakePDF(s string) []byte {
	content := fmt.Sprintf("BT /F1 12 Tf 72 720 Td (%s) Tj ET", asciiOnly(s))
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return []byte(b.String())
}

// tinyPNG is a 1x1 PNG (the bytes of a real image file).
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")

func (g *gen) receipt(w *writer) []byte {
	shop := g.pick(g.l.shops)
	dom := strings.ToLower(asciiOnly(shop))
	if dom == "" {
		dom = "shop" + fmt.Sprint(g.r.IntN(90)+10)
	}
	dom += ".com"
	order := fmt.Sprintf("%d-%06d", 100+g.r.IntN(900), g.r.IntN(1000000))
	e := envelope{fromName: shop, from: "orders@" + dom, toName: RecipientName, to: Recipient, date: g.date(),
		subject: fmt.Sprintf(g.pick(g.l.receiptSubj), order)}
	var b strings.Builder
	b.WriteString(fmt.Sprintf(g.pick(g.l.hello), RecipientName) + "\n\n")
	for _, line := range g.picks(g.l.receipt, 2) {
		b.WriteString(strings.ReplaceAll(line, "%s", order) + "\n")
	}
	b.WriteString("\n")
	sum := 0
	for _, it := range g.picks(g.l.items, 1+g.r.IntN(3)) {
		price := 3 + g.r.IntN(120)
		sum += price
		fmt.Fprintf(&b, "  %-30s %6d.%02d\n", it, price, g.r.IntN(100))
	}
	fmt.Fprintf(&b, "\n%s: %d.%02d\n\n%s\n", g.l.total, sum, g.r.IntN(100), shop)
	return w.message(e, &part{ctype: "multipart/mixed", parts: []*part{
		{ctype: "text/plain", text: b.String()},
		{ctype: "application/pdf; name=\"receipt-" + order + ".pdf\"", data: fakePDF("Receipt " + order),
			headers: []string{"Content-Disposition: attachment; filename=\"receipt-" + order + ".pdf\""}},
	}})
}

func (g *gen) invite(w *writer) []byte {
	e, from, _ := g.personal()
	topic := g.pick(g.l.inviteSubj)
	e.subject = topic
	start := e.date.Add(time.Duration(24+g.r.IntN(24*14)) * time.Hour).Truncate(time.Hour)
	uid := fmt.Sprintf("%08x-%04x@stamp.test", g.r.Uint32(), g.r.IntN(65536))
	ics := strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Stamp corpus//EN", "METHOD:REQUEST", "BEGIN:VEVENT",
		"UID:" + uid, "DTSTAMP:" + e.date.Format("20060102T150405Z"),
		"DTSTART:" + start.Format("20060102T150405Z"), "DTEND:" + start.Add(time.Hour).Format("20060102T150405Z"),
		"SUMMARY:" + topic, "ORGANIZER;CN=" + from + ":mailto:" + e.from, "ATTENDEE;RSVP=TRUE:mailto:" + Recipient,
		"END:VEVENT", "END:VCALENDAR", "",
	}, "\n")
	text := fmt.Sprintf(g.pick(g.l.hello), RecipientName) + "\n\n" + g.sentences(g.l.invite, 2) + "\n\n" +
		start.Format("2006-01-02 15:04 MST") + "\n\n" + g.pick(g.l.bye) + "\n" + from + "\n"
	return w.message(e, &part{ctype: "multipart/mixed", parts: []*part{
		{ctype: "multipart/alternative", parts: []*part{
			{ctype: "text/plain", text: text},
			{ctype: "text/calendar; method=REQUEST", text: ics},
		}},
		{ctype: "application/ics; name=\"invite.ics\"", data: []byte(ics),
			headers: []string{"Content-Disposition: attachment; filename=\"invite.ics\""}},
	}})
}

func (g *gen) image(w *writer) []byte {
	e, from, to := g.personal()
	e.subject = g.withEmoji(g.pick(g.l.noteSubj))
	text := g.sentences(g.l.note, 2)
	cid := fmt.Sprintf("photo%d@stamp.test", g.r.IntN(1000))
	html := fmt.Sprintf("<html><body><p>%s</p><p>%s</p><p><img src=\"cid:%s\" alt=\"photo\" width=\"320\"></p><p>%s<br>%s</p></body></html>",
		htmlEscape(fmt.Sprintf(g.pick(g.l.hello), to)), htmlEscape(text), cid, htmlEscape(g.pick(g.l.bye)), htmlEscape(from))
	return w.message(e, &part{ctype: "multipart/related", parts: []*part{
		{ctype: "multipart/alternative", parts: []*part{
			{ctype: "text/plain", text: fmt.Sprintf(g.pick(g.l.hello), to) + "\n\n" + text + "\n\n" + g.pick(g.l.bye) + "\n" + from + "\n"},
			{ctype: "text/html", text: html},
		}},
		{ctype: "image/png; name=\"photo.png\"", data: tinyPNG,
			headers: []string{"Content-ID: <" + cid + ">", "Content-Disposition: inline; filename=\"photo.png\""}},
	}})
}

// Spam.

var spamDomains = []string{"secure-verify-account.com", "mail-update.net", "acc0unt-service.info", "billing-notice.biz",
	"pharma-direct.ru", "best-meds-online.cn", "intl-transfer.org", "claims-office.co", "notice-center.xyz", "support-team.top"}

func (g *gen) spamEnvelope(fromName string, subj string) envelope {
	dom := g.pickAny(spamDomains)
	if g.r.IntN(3) == 0 {
		dom = g.pickAny(g.l.domains) // spam sent from a freemail account
	}
	e := envelope{fromName: fromName, from: g.address(dom), toName: "", to: Recipient, date: g.date(), subject: subj}
	if g.r.IntN(2) == 0 {
		e.extra = append(e.extra, "X-Mailer: "+g.pickAny([]string{"PHPMailer 6.1.4", "Microsoft Outlook Express 6.00.2600", "The Bat! (v3.5)"}))
	}
	return e
}

func spamLink(g *gen) string {
	if g.r.IntN(2) == 0 {
		return fmt.Sprintf("http://%d.%d.%d.%d/%s/login.php?id=%d", 45+g.r.IntN(150), g.r.IntN(255), g.r.IntN(255), 1+g.r.IntN(250),
			g.pickAny([]string{"secure", "verify", "account", "update"}), g.r.IntN(100000))
	}
	return fmt.Sprintf("http://%s/%s?ref=%d", g.pickAny(spamDomains), g.pickAny([]string{"claim", "verify", "pay", "order"}), g.r.IntN(100000))
}

func (g *gen) phish(w *writer) []byte {
	bank := g.pick(g.l.shops)
	e := g.spamEnvelope(bank, g.pick(g.l.phishSubj))
	link := spamLink(g)
	text := g.sentences(g.l.phish, 3)
	html := fmt.Sprintf("<html><body><p>%s</p><p><a href=\"%s\">https://www.%s.com/login</a></p></body></html>",
		htmlEscape(text), link, strings.ToLower(asciiOnly(bank)))
	if g.r.IntN(2) == 0 {
		return w.message(e, &part{ctype: "text/html", text: html})
	}
	return w.message(e, &part{ctype: "multipart/alternative", parts: []*part{
		{ctype: "text/plain", text: text + "\n\n" + link + "\n"},
		{ctype: "text/html", text: html},
	}})
}

func (g *gen) fee(w *writer) []byte {
	_, full := g.name()
	e := g.spamEnvelope(full, g.pick(g.l.feeSubj))
	body := g.para(g.l.fee, 4, full) + "\n\n" + full + "\n"
	return w.message(e, &part{ctype: "text/plain", text: body})
}

func (g *gen) pharma(w *writer) []byte {
	e := g.spamEnvelope(g.pickAny([]string{"Pharmacy", "Online Meds", "Health Store", "RX Direct"}), g.pick(g.l.pharmaSubj))
	link := spamLink(g)
	items := []string{"V1agra 100mg", "Cialis 20mg", "Xanax 2mg", "Tramadol 50mg", "Phentermine 37.5mg", "Levitra 20mg"}
	var rows strings.Builder
	for _, it := range g.picks(items, 3) {
		fmt.Fprintf(&rows, "<tr><td><b>%s</b></td><td><font color=\"#ff0000\">$%d.%02d</font></td></tr>", it, 1+g.r.IntN(3), g.r.IntN(100))
	}
	html := fmt.Sprintf("<html><body><h2>%s</h2><table>%s</table><p><a href=\"%s\">%s</a></p></body></html>",
		htmlEscape(g.sentences(g.l.pharma, 2)), rows.String(), link, htmlEscape(g.pick(g.l.pharma)))
	return w.message(e, &part{ctype: "text/html", text: html})
}

func (g *gen) invoice(w *writer) []byte {
	e := g.spamEnvelope(g.pick(g.l.shops), fmt.Sprintf(g.pick(g.l.invoiceSubj), fmt.Sprintf("INV-%06d", g.r.IntN(1000000))))
	text := g.sentences(g.l.invoice, 3) + "\n\n" + spamLink(g) + "\n"
	att := &part{ctype: "application/zip; name=\"invoice.zip\"", data: append([]byte("PK\x03\x04"), fakePDF("invoice")...),
		headers: []string{"Content-Disposition: attachment; filename=\"invoice.zip\""}}
	if g.r.IntN(2) == 0 {
		att = &part{ctype: "text/html; name=\"invoice.htm\"", data: []byte("<html><script>location='" + spamLink(g) + "'</script></html>"),
			headers: []string{"Content-Disposition: attachment; filename=\"invoice.htm\""}}
	}
	return w.message(e, &part{ctype: "multipart/mixed", parts: []*part{{ctype: "text/plain", text: text}, att}})
}
