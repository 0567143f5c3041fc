package outbound

import (
	"context"
	"crypto/tls"
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
)

// deliverDomain sends raw to the recipients of one domain and returns a
// result per recipient.
func (w *Worker) deliverDomain(ctx context.Context, log *slog.Logger, domain, from string, rcpts []string, raw []byte) map[string]result {
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
	last := tempResult("4.4.1", "no mail server reachable")
	for _, host := range hosts {
		addrs, err := w.res.LookupNetIP(ctx, "ip", host)
		if err != nil {
			last = dnsFailure(host, err, false)
			if host == domain && last.permanent() {
				return all(last) // implicit MX that does not exist
			}
			continue
		}
		for _, ip := range addrs {
			addr := net.JoinHostPort(ip.Unmap().String(), strconv.Itoa(port))
			res, err := w.transaction(ctx, host, addr, ip.IsLoopback(), from, rcpts, raw, true)
			if errors.Is(err, errTLSFailed) {
				log.Info("STARTTLS failed; retrying in clear", "mta", host, "addr", addr)
				res, err = w.transaction(ctx, host, addr, ip.IsLoopback(), from, rcpts, raw, false)
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
func (w *Worker) transaction(ctx context.Context, host, addr string, loopback bool, from string, rcpts []string, raw []byte, useTLS bool) (map[string]result, error) {
	d := net.Dialer{Timeout: connectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &hostError{tempResult("4.4.1", "connect to %s: %v", addr, err)}
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()

	c, secure, err := w.open(ctx, conn, host, useTLS)
	if err != nil {
		return nil, err
	}
	c.CommandTimeout, c.SubmissionTimeout = commandTimeout, dataEndTimeout
	if err := c.Hello(w.o.Hostname); err != nil {
		return nil, hostFailure(host, "EHLO", err)
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
	opts := &gosmtp.MailOptions{Size: int64(len(raw))}
	if !isASCII(from) || !allASCII(rcpts) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			// RFC 6531 section 3.2: without SMTPUTF8 the message cannot be sent.
			setAll(rcpts, permResult(553, "5.6.7", "%s does not support SMTPUTF8 for internationalised addresses", host))
			return results, nil
		}
		opts.UTF8 = true
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
		err := c.Rcpt(r, nil)
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
	setAll(accepted, result{code: 250, enh: "2.0.0", text: "ok"})
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
func (w *Worker) open(ctx context.Context, conn net.Conn, host string, useTLS bool) (*gosmtp.Client, bool, error) {
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
		if err == nil && offersStartTLS(ext) {
			id, err := tp.Cmd("STARTTLS")
			if err != nil {
				return nil, false, hostFailure(host, "STARTTLS", err)
			}
			tp.StartResponse(id)
			_, _, err = tp.ReadResponse(220)
			tp.EndResponse(id)
			if err == nil {
				tc := tls.Client(conn, w.tlsConfig(host))
				if err := tc.HandshakeContext(ctx); err != nil {
					return nil, false, fmt.Errorf("%w: %s: %v", errTLSFailed, host, err)
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
// relay, opportunistic (unverified) towards MX hosts.
func (w *Worker) tlsConfig(host string) *tls.Config {
	cfg := &tls.Config{}
	if w.o.TLS != nil {
		cfg = w.o.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if w.o.Relay == "" {
		cfg.InsecureSkipVerify = true
	}
	return cfg
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
