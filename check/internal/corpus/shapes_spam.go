package corpus

import (
	"fmt"
	"strings"
)

// The spam shapes added in session 5: a stock promotion, a loan offer, a
// dating lure, a shop offer and a crypto investment scheme, each in the
// seven languages (lang_spam.go), in layouts such mail has (plain text
// with a disclaimer, HTML tables with coloured prices and a button, a
// short note with one link, an alternative with remote images and an
// unsubscribe line but no List-Unsubscribe).

// offerDomains are the senders' and links' domains of these shapes.
var offerDomains = []string{"stockalert-daily.com", "quickloan24.biz", "meetlocal.club", "watch-outlet.top",
	"profit-robot.io", "smart-finance-now.net", "best-deals-online.shop", "private-photos.site", "market-insider.info", "coin-growth.pro"}

func (g *gen) offerLink(path string) string {
	host := g.pickAny(offerDomains)
	if p := g.pickAny([]string{"", "www.", "go.", "track.", "secure."}); p != "" {
		host = p + host
	}
	return fmt.Sprintf("http://%s/%s?uid=%d", host, path, g.r.IntN(1000000))
}

func (g *gen) offerEnvelope(fromName, subj string) envelope {
	dom := g.pickAny(offerDomains)
	if g.r.IntN(3) == 0 {
		dom = g.pickAny(g.l.domains)
	}
	e := envelope{fromName: fromName, from: g.address(dom), to: Recipient, date: g.date(), subject: subj}
	switch g.r.IntN(3) {
	case 0:
		e.extra = append(e.extra, "X-Mailer: "+g.pickAny([]string{"PHPMailer 6.8.0", "Microsoft Outlook Express 6.00.2900", "MailKing 5.0", "Sendblaster 4"}))
	case 1:
		e.toName = RecipientName
	}
	return e
}

func (g *gen) pool(shape string) morePools { return moreSpam[g.l.code][shape] }

func (g *gen) stock(w *writer) []byte {
	p := g.pool("stock")
	e := g.offerEnvelope(g.pickAny([]string{"Market Alert", "Stock Insider", "Penny Stock Report", "Investor Daily"}), g.pick(p.subj))
	ticker := string([]byte{byte('A' + g.r.IntN(26)), byte('A' + g.r.IntN(26)), byte('A' + g.r.IntN(26)), byte('A' + g.r.IntN(26))})
	facts := fmt.Sprintf("Symbol: %s\nPrice: 0.%02d\nTarget: %d.%02d\n", ticker, 5+g.r.IntN(90), 1+g.r.IntN(4), g.r.IntN(100))
	text := g.sentences(p.body, 3)
	if g.r.IntN(2) == 0 {
		html := fmt.Sprintf("<html><body><font size=\"5\" color=\"#cc0000\"><b>%s</b></font><br><pre>%s</pre><p>%s</p></body></html>",
			htmlEscape(e.subject), facts, htmlEscape(text))
		return w.message(e, &part{ctype: "text/html", text: html})
	}
	return w.message(e, &part{ctype: "text/plain", text: facts + "\n" + text + "\n"})
}

func (g *gen) loan(w *writer) []byte {
	p := g.pool("loan")
	e := g.offerEnvelope(g.pickAny([]string{"Loan Center", "Credit Services", "Finance Team", "Approval Dept"}), g.pick(p.subj))
	link := g.offerLink("apply")
	var rows strings.Builder
	for _, s := range g.picks(p.body, 3) {
		fmt.Fprintf(&rows, "<tr><td bgcolor=\"#f0f0f0\"><font face=\"Arial\" color=\"#003399\">%s</font></td></tr>", htmlEscape(s))
	}
	html := fmt.Sprintf("<html><body><table width=\"500\" border=\"0\">%s<tr><td align=\"center\"><a href=\"%s\"><font size=\"4\" color=\"#ffffff\"><b>%s</b></font></a></td></tr></table><p><font size=\"1\"><a href=\"%s\">%s</a></font></p></body></html>",
		rows.String(), link, htmlEscape(e.subject), g.offerLink("remove"), htmlEscape(g.l.unsub))
	return w.message(e, &part{ctype: "text/html", text: html})
}

func (g *gen) dating(w *writer) []byte {
	p := g.pool("dating")
	first, _ := g.name()
	e := g.offerEnvelope(first, g.pick(p.subj))
	body := g.sentences(p.body, 2+g.r.IntN(2)) + "\n\n" + g.offerLink("me") + "\n\n" + first + "\n"
	return w.message(e, &part{ctype: "text/plain", text: body})
}

func (g *gen) shop(w *writer) []byte {
	p := g.pool("shop")
	e := g.offerEnvelope(g.pickAny([]string{"Outlet Store", "Deals Club", "Soft Shop", "Luxury Outlet"}), g.pick(p.subj))
	dom := g.pickAny(offerDomains)
	paras := g.picks(p.body, 3)
	var text, html strings.Builder
	html.WriteString("<html><body><table width=\"600\">")
	for i, s := range paras {
		text.WriteString(s + "\n\n")
		fmt.Fprintf(&html, "<tr><td><img src=\"http://%s/img/p%d.jpg\" width=\"120\"></td><td><font color=\"#%06x\">%s</font></td></tr>", dom, i+g.r.IntN(90), g.r.IntN(1<<24), htmlEscape(s))
	}
	link := g.offerLink("shop")
	text.WriteString(link + "\n\n" + g.l.unsub + ": " + g.offerLink("unsubscribe") + "\n")
	fmt.Fprintf(&html, "<tr><td colspan=\"2\"><a href=\"%s\">%s</a></td></tr></table><p><small><a href=\"%s\">%s</a></small></p></body></html>",
		link, htmlEscape(e.subject), g.offerLink("unsubscribe"), htmlEscape(g.l.unsub))
	return w.message(e, &part{ctype: "multipart/alternative", parts: []*part{
		{ctype: "text/plain", text: text.String()},
		{ctype: "text/html", text: html.String()},
	}})
}

func (g *gen) crypto(w *writer) []byte {
	p := g.pool("crypto")
	_, full := g.name()
	e := g.offerEnvelope(full, g.pick(p.subj))
	if g.r.IntN(2) == 0 {
		e.extra = append(e.extra, "Reply-To: "+g.address(g.pickAny([]string{"gmail.com", "outlook.com", "proton.me"})))
	}
	text := g.sentences(p.body, 3)
	link := g.offerLink("register")
	if g.r.IntN(2) == 0 {
		return w.message(e, &part{ctype: "text/plain", text: text + "\n\n" + link + "\n\n" + full + "\n"})
	}
	html := fmt.Sprintf("<html><body><h1>%s</h1><p>%s</p><p><a href=\"%s\">%s</a></p><p>%s</p></body></html>",
		htmlEscape(e.subject), htmlEscape(text), link, link, htmlEscape(full))
	return w.message(e, &part{ctype: "multipart/alternative", parts: []*part{
		{ctype: "text/plain", text: text + "\n\n" + link + "\n"},
		{ctype: "text/html", text: html},
	}})
}

func (g *gen) work(w *writer) []byte {
	p := g.pool("work")
	_, full := g.name()
	e := g.offerEnvelope(full, g.pick(p.subj))
	body := g.sentences(p.body, 4) + "\n\n" + full + "\n\n" + g.l.unsub + ": " + g.offerLink("remove") + "\n"
	return w.message(e, &part{ctype: "text/plain", text: body})
}

func (g *gen) lottery(w *writer) []byte {
	p := g.pool("lottery")
	_, full := g.name()
	e := g.offerEnvelope(g.pickAny([]string{"International Lottery Board", "Prize Department", "Claims Office", "Euro Millions Promo"}), g.pick(p.subj))
	e.extra = append(e.extra, "Reply-To: "+g.address(g.pickAny([]string{"gmail.com", "outlook.com", "yahoo.com", "mail.ru"})))
	ref := fmt.Sprintf("REF/%04d/%02d-%03d", g.r.IntN(10000), g.r.IntN(100), g.r.IntN(1000))
	body := ref + "\n\n" + g.sentences(p.body, 4) + "\n\n" + full + "\n"
	return w.message(e, &part{ctype: "text/plain", text: body})
}

func (g *gen) seo(w *writer) []byte {
	p := g.pool("seo")
	_, full := g.name()
	e := g.offerEnvelope(full, g.pick(p.subj))
	text := g.sentences(p.body, 3)
	if g.r.IntN(2) == 0 {
		return w.message(e, &part{ctype: "text/plain", text: text + "\n\n" + full + "\n" + g.offerLink("seo") + "\n"})
	}
	html := fmt.Sprintf("<html><body><p>%s</p><p><a href=\"%s\">%s</a></p><p><font size=\"1\" color=\"#999999\">%s</font></p></body></html>",
		htmlEscape(text), g.offerLink("seo"), htmlEscape(full), htmlEscape(g.l.unsub))
	return w.message(e, &part{ctype: "multipart/alternative", parts: []*part{
		{ctype: "text/plain", text: text + "\n\n" + full + "\n"},
		{ctype: "text/html", text: html},
	}})
}

// fakeEXE is the start of a Windows executable (only its headers' shape).
func fakeEXE(n int) []byte {
	b := make([]byte, 512+n%256)
	copy(b, "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
	copy(b[0x40:], "This program cannot be run in DOS mode.\r\r\n$")
	copy(b[0x80:], "PE\x00\x00L\x01")
	return b
}

func (g *gen) parcel(w *writer) []byte {
	p := g.pool("parcel")
	e := g.offerEnvelope(g.pickAny([]string{"Parcel Service", "Delivery Notification", "Voice Mail", "Customs Office"}), g.pick(p.subj))
	text := g.sentences(p.body, 3) + "\n"
	name := g.pickAny([]string{"label", "form", "message", "delivery", "voicemail"}) + fmt.Sprintf("_%d", g.r.IntN(10000))
	att := &part{ctype: "application/zip; name=\"" + name + ".zip\"", data: append([]byte("PK\x03\x04"), fakeEXE(g.r.IntN(1000))...),
		headers: []string{"Content-Disposition: attachment; filename=\"" + name + ".zip\""}}
	if g.r.IntN(2) == 0 {
		att = &part{ctype: "application/octet-stream; name=\"" + name + ".exe\"", data: fakeEXE(g.r.IntN(1000)),
			headers: []string{"Content-Disposition: attachment; filename=\"" + name + ".exe\""}}
	}
	return w.message(e, &part{ctype: "multipart/mixed", parts: []*part{{ctype: "text/plain", text: text}, att}})
}

func (g *gen) casino(w *writer) []byte {
	p := g.pool("casino")
	e := g.offerEnvelope(g.pickAny([]string{"Golden Palace", "Lucky Spin", "Royal Casino", "Vegas Club"}), g.pick(p.subj))
	dom := g.pickAny(offerDomains)
	html := fmt.Sprintf("<html><body bgcolor=\"#000000\"><center><img src=\"http://%s/banner%d.gif\"><br><font size=\"6\" color=\"#ffcc00\">%s</font><p><font color=\"#ffffff\">%s</font></p><a href=\"%s\"><img src=\"http://%s/play.gif\"></a></center></body></html>",
		dom, g.r.IntN(9), htmlEscape(e.subject), htmlEscape(g.sentences(p.body, 2)), g.offerLink("play"), dom)
	return w.message(e, &part{ctype: "text/html", text: html})
}
