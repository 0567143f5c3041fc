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
