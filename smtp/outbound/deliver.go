package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
)

// security is what one transaction demands of the connection.
type security struct {
	// verify: STARTTLS is required, with a certificate valid for the MX
	// name; no fallback to cleartext.
	verify bool
	// requireTLS: RFC 8689 REQUIRETLS is passed on, which the next hop
	// must advertise after TLS.
	requireTLS bool
	// why names what demands verify, for the DSN text.
	why string
	// report, when set (MTA-STS testing mode), receives what would have
	// failed under enforce; delivery goes on as opportunistic TLS.
	report func(problem string)
}

// deliverDomain sends raw to the recipients of one domain and returns a
// result per recipient. requireTLS is the item's REQUIRETLS (RFC 8689).
func (w *Worker) deliverDomain(ctx context.Context, log *slog.Logger, domain, from string, rcpts []string, raw []byte, requireTLS bool, dsn core.DSNParams) map[string]result {
	all := func(r result) map[string]result {
		m := make(map[string]result, len(rcpts))
		for _, rc := range rcpts {
			m[rc] = r
		}
		return m
	}
	hosts, port, fail := w.route(ctx, domain)
	if fail != nil {
		return all(*fail)
	}
	pol := w.stsPolicy(ctx, log, domain)
	if pol != nil && !requireTLS && tlsRequiredNo(raw) {
		// RFC 8689 section 3: "TLS-Required: No" asks that recipient
		// policies (MTA-STS) be ignored; REQUIRETLS takes precedence.
		log.Info("TLS-Required: No; MTA-STS policy not applied", "domain", domain, "mode", pol.Mode)
		pol = nil
	}
	last := tempResult("4.4.1", "no mail server reachable")
	tried := false
	for _, host := range hosts {
		sec := security{requireTLS: requireTLS}
		if requireTLS {
			sec.verify, sec.why = true, "REQUIRETLS"
		}
		if pol != nil && pol.Mode != stsNone && w.o.Relay == "" {
			if !pol.matches(host) {
				problem := fmt.Sprintf("MTA-STS policy of %s (mode %s, id %s) does not list MX host %s (it lists %s)",
					domain, pol.Mode, pol.ID, host, strings.Join(pol.MX, ", "))
				if pol.Mode == stsEnforce || requireTLS {
					// RFC 8461 section 4.1: only hosts the policy lists.
					log.Info("MX host skipped", "mta", host, "reason", problem)
					if !tried {
						last = tempResult("4.7.5", "%s", problem)
						last.remote = host
					}
					continue
				}
				log.Warn("MTA-STS testing: would refuse", "domain", domain, "mta", host, "problem", problem)
			}
			switch {
			case pol.Mode == stsEnforce:
				sec.verify = true
				sec.why = fmt.Sprintf("the MTA-STS policy of %s (mode enforce)", domain)
			case !sec.verify:
				sec.report = func(problem string) {
					log.Warn("MTA-STS testing: would refuse", "domain", domain, "mta", host, "problem", problem)
				}
			}
		}
		addrs, err := w.res.LookupNetIP(ctx, "ip", host)
		if err != nil {
			last = dnsFailure(host, err, false)
			if host == domain && last.permanent() {
				return all(last) // implicit MX that does not exist
			}
			continue
		}
		for _, ip := range addrs {
			tried = true
			addr := net.JoinHostPort(ip.Unmap().String(), strconv.Itoa(port))
			res, err := w.transaction(ctx, host, addr, ip.IsLoopback(), from, rcpts, raw, true, sec, dsn)
			if errors.Is(err, errTLSFailed) && !sec.verify {
				log.Info("STARTTLS failed; retrying in clear", "mta", host, "addr", addr)
				res, err = w.transaction(ctx, host, addr, ip.IsLoopback(), from, rcpts, raw, false, sec, dsn)
			}
			if err == nil {
				return res
			}
			log.Info("mail server failed", "mta", host, "addr", addr, "err", err)
			var he *hostError
			if errors.As(err, &he) {
				last = he.res
			} else {
				last = tempResult("4.4.1", "%s: %v", host, err)
			}
			last.remote = host
			if ctx.Err() != nil {
				return all(tempResult("4.4.7", "attempt interrupted: %v", ctx.Err()))
			}
		}
	}
	return all(last)
}

// route returns the hosts to try in order and their port, or a result that
// fails the whole domain.
func (w *Worker) route(ctx context.Context, domain string) ([]string, int, *result) {
	if w.o.Relay != "" {
		h, p, err := net.SplitHostPort(w.o.Relay)
		port, perr := strconv.Atoi(p)
		if err != nil || perr != nil {
			r := tempResult("4.3.5", "bad relay address %q", w.o.Relay)
			return nil, 0, &r
		}
		return []string{h}, port, nil
	}
	mxs, err := w.res.LookupMX(ctx, domain)
	var de *net.DNSError
	if err != nil && !(errors.As(err, &de) && de.IsNotFound) {
		r := dnsFailure(domain, err, true)
		return nil, 0, &r
	}
	if len(mxs) == 0 {
		// RFC 5321 section 5.1: no MX records, the domain is its own
		// implicit MX (its A/AAAA records).
		return []string{domain}, w.o.Port, nil
	}
	var hosts []string
	for _, mx := range mxs {
		h := strings.TrimSuffix(mx.Host, ".")
		if h == "" {
			continue
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		// RFC 7505: a null MX ("." only) says the domain takes no mail.
		r := permResult(556, "5.1.10", "domain %s does not accept mail (null MX)", domain)
		return nil, 0, &r
	}
	return hosts, w.o.Port, nil
}

// dnsFailure classifies a lookup error: not found is permanent (5.1.2 bad
// destination system), anything else temporary (4.4.3 directory server failure).
func dnsFailure(name string, err error, mx bool) result {
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return permResult(550, "5.1.2", "domain %s not found", name)
	}
	what := "address"
	if mx {
		what = "MX"
	}
	return tempResult("4.4.3", "%s lookup for %s failed: %v", what, name, err)
}

// hostError is a failure of one server before any recipient got an answer:
// the next address or MX host is tried.
type hostError struct{ res result }

func (e *hostError) Error() string { return e.res.String() }

var errTLSFailed = errors.New("STARTTLS handshake failed")

// transaction runs one SMTP session with the server at addr for the
// recipients. An error means "try the next server"; otherwise every
// recipient has a result.
func (w *Worker) transaction(ctx context.Context, host, addr string, loopback bool, from string, rcpts []string, raw []byte, useTLS bool, sec security, dsn core.DSNParams) (map[string]result, error) {
	d := net.Dialer{Timeout: connectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &hostError{tempResult("4.4.1", "connect to %s: %v", addr, err)}
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()

	c, secure, err := w.open(ctx, conn, host, useTLS, sec)
	if err != nil {
		return nil, err
	}
	c.CommandTimeout, c.SubmissionTimeout = commandTimeout, dataEndTimeout
	if err := c.Hello(w.o.Hostname); err != nil {
		return nil, hostFailure(host, "EHLO", err)
	}
	if sec.requireTLS {
		// RFC 8689 section 4.2.1: TLS first (open ensured a verified
		// certificate), then the server must advertise REQUIRETLS.
		if !secure {
			return nil, &hostError{tempResult("4.7.5", "%s: no TLS, but the message requires it (REQUIRETLS)", host)}
		}
		if ok, _ := c.Extension("REQUIRETLS"); !ok {
			c.Quit()
			return nil, &hostError{permResult(550, "5.7.30", "%s does not support REQUIRETLS, which the message requires (RFC 8689)", host)}
		}
	}
	if w.o.Relay != "" && w.o.RelayUsername != "" {
		if !secure && !loopback {
			return nil, &hostError{tempResult("4.7.0", "relay %s offers no TLS; credentials not sent", host)}
		}
		if err := c.Auth(sasl.NewPlainClient("", w.o.RelayUsername, w.o.RelayPassword)); err != nil {
			// Wrong relay credentials are the operator's to fix: keep the
			// mail queued rather than bounce it.
			return nil, &hostError{tempResult("4.7.0", "relay %s refused our credentials: %v", host, err)}
		}
	}

	results := make(map[string]result, len(rcpts))
	setAll := func(rs []string, r result) {
		for _, rc := range rs {
			r.remote = host
			results[rc] = r
		}
	}
	raw = foldLongLines(raw)
	opts := &gosmtp.MailOptions{Size: int64(len(raw)), RequireTLS: sec.requireTLS}
	if !isASCII(from) || !allASCII(rcpts) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			// RFC 6531 section 3.2: without SMTPUTF8 the message cannot be sent.
			setAll(rcpts, permResult(553, "5.6.7", "%s does not support SMTPUTF8 for internationalised addresses", host))
			return results, nil
		}
		opts.UTF8 = true
	}
	// RFC 3461 section 6.2.1: a next hop that supports DSN gets the
	// parameters and reports itself; otherwise we report "relayed".
	passDSN, _ := c.Extension("DSN")
	if passDSN {
		opts.Return = gosmtp.DSNReturn(strings.ToUpper(dsn.Ret))
		if isPrintable(dsn.EnvID) {
			opts.EnvelopeID = dsn.EnvID
		}
	}
	if err := c.Mail(from, opts); err != nil {
		var se *gosmtp.SMTPError
		if errors.As(err, &se) {
			// A reply to MAIL concerns every recipient.
			setAll(rcpts, fromSMTP(se))
			c.Quit()
			return results, nil
		}
		return nil, hostFailure(host, "MAIL", err)
	}
	var accepted []string
	for i, r := range rcpts {
		var ro *gosmtp.RcptOptions
		if passDSN {
			ro = rcptDSN(dsn, r)
		}
		err := c.Rcpt(r, ro)
		var se *gosmtp.SMTPError
		switch {
		case err == nil:
			accepted = append(accepted, r)
		case errors.As(err, &se):
			setAll([]string{r}, fromSMTP(se))
		default:
			setAll(rcpts[i:], tempResult("4.4.2", "connection lost during RCPT: %v", err))
			setAll(accepted, tempResult("4.4.2", "connection lost during RCPT: %v", err))
			return results, nil
		}
	}
	if len(accepted) == 0 {
		c.Quit()
		return results, nil
	}
	if err := w.data(c, raw); err != nil {
		var se *gosmtp.SMTPError
		if errors.As(err, &se) {
			setAll(accepted, fromSMTP(se))
		} else {
			setAll(accepted, tempResult("4.4.2", "connection lost during DATA: %v", err))
		}
		return results, nil
	}
	setAll(accepted, result{code: 250, enh: "2.0.0", text: "ok", dsnPassed: passDSN})
	c.Quit()
	return results, nil
}

func (w *Worker) data(c *gosmtp.Client, raw []byte) error {
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := wc.Write(raw); err != nil {
		wc.Close()
		return err
	}
	return wc.Close()
}

// open reads the greeting and, when the server offers STARTTLS and useTLS
// is set, upgrades the connection (RFC 3207) before handing it to go-smtp's
// client. go-smtp's client cannot start TLS after its own EHLO with our
// hostname, so the greeting and first EHLO are done here and the greeting
// is replayed to the client, which then says EHLO again (as RFC 3207
// section 4.2 requires after TLS).
func (w *Worker) open(ctx context.Context, conn net.Conn, host string, useTLS bool, sec security) (*gosmtp.Client, bool, error) {
	conn.SetDeadline(time.Now().Add(greetingTimeout))
	tp := textproto.NewConn(conn)
	_, greeting, err := tp.ReadResponse(220)
	if err != nil {
		return nil, false, hostFailure(host, "greeting", err)
	}
	conn.SetDeadline(time.Now().Add(commandTimeout))
	secure := false
	if useTLS {
		id, err := tp.Cmd("EHLO %s", w.o.Hostname)
		if err != nil {
			return nil, false, hostFailure(host, "EHLO", err)
		}
		tp.StartResponse(id)
		_, ext, err := tp.ReadResponse(250)
		tp.EndResponse(id)
		offered := err == nil && offersStartTLS(ext)
		if !offered {
			if sec.verify {
				return nil, false, &hostError{tempResult("4.7.5", "%s does not offer STARTTLS, which %s requires", host, sec.why)}
			}
			if sec.report != nil {
				sec.report(host + " does not offer STARTTLS")
			}
		}
		if offered {
			id, err := tp.Cmd("STARTTLS")
			if err != nil {
				return nil, false, hostFailure(host, "STARTTLS", err)
			}
			tp.StartResponse(id)
			_, _, err = tp.ReadResponse(220)
			tp.EndResponse(id)
			if err != nil && sec.verify {
				return nil, false, &hostError{tempResult("4.7.5", "%s refused STARTTLS, which %s requires: %v", host, sec.why, err)}
			}
			if err == nil {
				tc := tls.Client(conn, w.tlsConfig(host, sec))
				if err := tc.HandshakeContext(ctx); err != nil {
					if sec.verify {
						// RFC 8461 section 4.2 / RFC 8689 section 4.2.1: a
						// certificate not valid for the MX name stops delivery.
						return nil, false, &hostError{tempResult("4.7.5", "%s requires a valid certificate for %s: %v", sec.why, host, err)}
					}
					return nil, false, fmt.Errorf("%w: %s: %v", errTLSFailed, host, err)
				}
				if sec.report != nil {
					if err := w.verifyPeer(tc.ConnectionState(), host); err != nil {
						sec.report(fmt.Sprintf("certificate of %s not valid: %v", host, err))
					}
				}
				conn, secure = tc, true
			}
		}
	}
	conn.SetDeadline(time.Time{})
	first, _, _ := strings.Cut(greeting, "\n")
	hello := strings.NewReader("220 " + first + "\r\n")
	replay := &replayConn{Conn: conn, r: io.MultiReader(hello, tp.R)}
	if secure {
		// Nothing was buffered after the 220 to STARTTLS: read TLS directly.
		replay.r = io.MultiReader(hello, conn)
	}
	return gosmtp.NewClient(replay), secure, nil
}

// tlsConfig is the STARTTLS configuration for host: verified towards a
// relay and where sec demands it (MTA-STS enforce, REQUIRETLS),
// opportunistic (unverified) towards other MX hosts.
func (w *Worker) tlsConfig(host string, sec security) *tls.Config {
	cfg := &tls.Config{}
	if w.o.TLS != nil {
		cfg = w.o.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if w.o.RootCAs != nil {
		cfg.RootCAs = w.o.RootCAs
	}
	switch {
	case sec.verify:
		cfg.InsecureSkipVerify = false
		cfg.ServerName = host
		cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12) // RFC 8461 section 4.2: TLS 1.2 or later
	case w.o.Relay == "":
		cfg.InsecureSkipVerify = true
	}
	return cfg
}

// verifyPeer checks the certificate of an unverified connection as a
// verified one would have (for MTA-STS testing-mode reports).
func (w *Worker) verifyPeer(cs tls.ConnectionState, host string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	opts := x509.VerifyOptions{DNSName: host, Roots: w.o.RootCAs, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}

// tlsRequiredNo reports whether the message's header has "TLS-Required: No"
// (RFC 8689 section 3).
func tlsRequiredNo(raw []byte) bool {
	hdr := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		hdr = raw[:i+2]
	}
	for _, line := range bytes.Split(hdr, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.EqualFold(string(bytes.TrimSpace(k)), "TLS-Required") {
			return strings.EqualFold(string(bytes.TrimSpace(v)), "No")
		}
	}
	return false
}

func offersStartTLS(ehlo string) bool {
	for _, l := range strings.Split(ehlo, "\n")[1:] {
		if strings.EqualFold(strings.TrimSpace(l), "STARTTLS") {
			return true
		}
	}
	return false
}

// replayConn reads from r (a replayed greeting, then the connection).
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// hostFailure turns an error before MAIL into a hostError.
func hostFailure(host, stage string, err error) error {
	var se *gosmtp.SMTPError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		r := fromSMTP(se)
		r.text = stage + ": " + r.text
		return &hostError{r}
	case errors.As(err, &te):
		return &hostError{result{code: te.Code, enh: fmt.Sprintf("%d.0.0", te.Code/100), text: stage + ": " + te.Msg}}
	}
	return &hostError{tempResult("4.4.2", "%s: %s: %v", host, stage, err)}
}

func fromSMTP(se *gosmtp.SMTPError) result {
	r := result{code: se.Code, text: strings.ReplaceAll(se.Message, "\n", " ")}
	if e := se.EnhancedCode; e != gosmtp.EnhancedCodeNotSet && e != gosmtp.NoEnhancedCode {
		r.enh = fmt.Sprintf("%d.%d.%d", e[0], e[1], e[2])
	} else {
		r.enh = fmt.Sprintf("%d.0.0", se.Code/100)
	}
	return r
}

// rcptDSN is the RCPT options passing on a recipient's NOTIFY and ORCPT.
func rcptDSN(dsn core.DSNParams, rcpt string) *gosmtp.RcptOptions {
	r, ok := core.RcptDSNOf(dsn, rcpt)
	if !ok {
		return nil
	}
	o := &gosmtp.RcptOptions{}
	for _, n := range r.Notify {
		o.Notify = append(o.Notify, gosmtp.DSNNotify(n))
	}
	if typ, addr, ok := strings.Cut(r.ORcpt, ";"); ok && isPrintable(addr) && strings.EqualFold(typ, "rfc822") {
		o.OriginalRecipientType, o.OriginalRecipient = gosmtp.DSNAddressTypeRFC822, addr
	}
	return o
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
