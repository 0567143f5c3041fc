package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
)

// backend makes one session per EHLO (go-smtp makes a new one after STARTTLS).
type backend struct{ s *Server }

var (
	_ gosmtp.Backend     = backend{}
	_ gosmtp.Session     = (*session)(nil)
	_ gosmtp.AuthSession = (*session)(nil)
)

// NewSession starts a session on an accepted connection.
func (b backend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	s := b.s
	nc := c.Conn()
	_, isTLS := c.TLSConnectionState()
	raw := nc
	if tc, ok := nc.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	tc, _ := raw.(*trackedConn)
	if tc == nil {
		// Every connection comes through listener.Accept; be safe anyway.
		ctx, cancel := context.WithCancel(context.Background())
		tc = &trackedConn{Conn: raw, s: s, ip: remoteIP(nc.RemoteAddr()), ctx: ctx, cancel: cancel, endSession: func() {}}
	}
	return &session{
		srv:  s,
		conn: c,
		tc:   tc,
		ctx:  tc.ctx,
		tls:  isTLS,
		helo: c.Hostname(),
		log:  s.log.With("conn", tc.id, "remote", tc.ip.String()),
	}, nil
}

// session is one SMTP session (between EHLO and STARTTLS or the end of the
// connection). Its methods are called by go-smtp, one at a time.
type session struct {
	srv  *Server
	conn *gosmtp.Conn
	tc   *trackedConn
	ctx  context.Context // the connection's, cancelled when it closes
	tls  bool
	helo string
	log  *slog.Logger

	user *core.User // after AUTH

	from     string
	hasFrom  bool
	rcpts    []string
	resolved []core.User // CheckRecipient's answers for rcpts (MX sessions only)
	sizeHint int64
	dsn      *core.DSNParams // RFC 3461 parameters of this transaction, nil if none
	reqTLS   bool            // RFC 8689 REQUIRETLS on MAIL
}

// Reset discards the current transaction (RSET, or after DATA).
func (s *session) Reset() {
	s.from, s.hasFrom, s.rcpts, s.resolved, s.sizeHint, s.dsn, s.reqTLS = "", false, nil, nil, 0, nil, false
}

// Logout ends the session.
func (s *session) Logout() error { return nil }

// Mail starts a transaction: MX accepts any reverse-path (including the null
// one for bounces); submission requires AUTH first (RFC 6409 section 4.3)
// and that the sender is the authenticated user.
func (s *session) Mail(from string, opts *gosmtp.MailOptions) error {
	if !cleanAddress(from) {
		return errBadSender
	}
	if s.srv.opts.Submission && s.user == nil {
		return errAuthRequired
	}
	if s.user != nil {
		if ok, err := s.srv.svc.CanSendAs(s.ctx, *s.user, from); err != nil {
			return reply(s.log, stageMail, err)
		} else if !ok {
			return reply(s.log, stageMail, core.ErrSenderNotAllowed)
		}
	}
	if opts != nil && opts.RequireTLS && !s.tls {
		return errRequireTLSNoTLS
	}
	if s.tc.ip != nil && !s.srv.svc.AllowRate(s.ctx, "smtp:"+s.tc.ip.String(), s.srv.opts.RatePerMinute, time.Minute) {
		s.log.Info("message rate exceeded")
		return errRateLimited
	}
	s.Reset()
	s.from, s.hasFrom = from, true
	if opts != nil {
		s.sizeHint = opts.Size
		if opts.Return != "" || opts.EnvelopeID != "" {
			s.dsn = &core.DSNParams{Ret: string(opts.Return), EnvID: opts.EnvelopeID}
		}
		s.reqTLS = opts.RequireTLS
	}
	return nil
}

// Rcpt checks one recipient: local users only on MX (RFC 5321 section 3.6.2:
// never an open relay), local or remote for an authenticated submitter.
func (s *session) Rcpt(to string, opts *gosmtp.RcptOptions) error {
	if !cleanAddress(to) {
		return errBadRecipient
	}
	var err error
	var u core.User
	if s.user != nil {
		err = s.srv.svc.CheckSubmitRecipient(s.ctx, *s.user, to)
	} else {
		u, err = s.srv.svc.CheckRecipient(s.ctx, to)
	}
	if err != nil {
		if !errors.Is(err, core.ErrNoSuchUser) && !errors.Is(err, core.ErrRelayDenied) {
			s.log.Info("recipient refused", "rcpt", to, "err", err)
		}
		return reply(s.log, stageRcpt, err)
	}
	s.rcpts = append(s.rcpts, to)
	if opts != nil && (len(opts.Notify) > 0 || opts.OriginalRecipient != "") {
		s.noteRcptDSN(to, opts)
	}
	if s.user == nil {
		s.resolved = append(s.resolved, u)
	}
	return nil
}

// Data reads the whole message (bounded by go-smtp's MaxMessageBytes, which
// answers 552 5.3.4 before anything is stored), then hands it to core and
// answers 250 only once core reports it durably committed.
func (s *session) Data(r io.Reader) error {
	s.tc.setBusy(true)
	defer s.tc.setBusy(false)
	var buf bytes.Buffer
	if s.sizeHint > 0 && s.sizeHint <= s.srv.opts.MaxMessageBytes {
		buf.Grow(int(s.sizeHint))
	}
	if _, err := buf.ReadFrom(deadlineReader{r: r, c: s.tc.Conn}); err != nil {
		if errors.Is(err, gosmtp.ErrDataTooLarge) {
			s.log.Info("message too big", "limit", s.srv.opts.MaxMessageBytes)
			return gosmtp.ErrDataTooLarge
		}
		if errors.Is(err, gosmtp.ErrTooLongLine) {
			return errLineTooLong
		}
		s.log.Info("reading message failed", "err", err)
		return errInternal
	}
	env := core.Envelope{
		MailFrom:   s.from,
		Recipients: s.rcpts,
		Resolved:   s.resolved,
		RemoteIP:   s.tc.ip,
		Helo:       s.helo,
		TLS:        s.tls,
		Proto:      s.protoKeyword(),
		// EarlyTalker: see pregreet.go.
		EarlyTalker: s.tc.earlyTalker(),
		ReceivedAt:  time.Now(),
		DSN:         s.dsn,
		RequireTLS:  s.reqTLS,
	}
	raw := buf.Bytes()
	if s.user != nil {
		env.AuthUser = s.user.Address
		res, err := s.srv.svc.Submit(s.ctx, *s.user, env, raw)
		if err != nil {
			return reply(s.log, stageData, err)
		}
		s.log.Info("message submitted", "user", s.user.Address, "size", len(raw), "local", res.Local, "remote", res.Remote, "queue", res.QueueID)
		return nil
	}
	if err := s.srv.svc.Deliver(s.ctx, env, raw); err != nil {
		return reply(s.log, stageData, err)
	}
	s.log.Debug("message delivered", "from", s.from, "rcpts", len(s.rcpts), "size", len(raw))
	return nil
}

// protoKeyword is the RFC 3848 "with" keyword for the Received field.
func (s *session) protoKeyword() string {
	p := "ESMTP"
	if s.tls {
		p += "S"
	}
	if s.user != nil {
		p += "A"
	}
	return p
}

// deadlineReader pushes the connection's read deadline forward before every
// read of the DATA block (RFC 5321 section 4.5.3.2.5).
type deadlineReader struct {
	r io.Reader
	c net.Conn
}

func (d deadlineReader) Read(b []byte) (int, error) {
	d.c.SetReadDeadline(time.Now().Add(dataReadTimeout))
	return d.r.Read(b)
}

// noteRcptDSN keeps a recipient's NOTIFY and ORCPT (RFC 3461 sections 4.1
// and 4.2) for the bounces and delay notices of this message.
func (s *session) noteRcptDSN(to string, opts *gosmtp.RcptOptions) {
	if s.dsn == nil {
		s.dsn = &core.DSNParams{}
	}
	if s.dsn.Rcpts == nil {
		s.dsn.Rcpts = map[string]core.RcptDSN{}
	}
	r := core.RcptDSN{}
	for _, n := range opts.Notify {
		r.Notify = append(r.Notify, strings.ToUpper(string(n)))
	}
	if opts.OriginalRecipient != "" {
		typ := string(opts.OriginalRecipientType)
		if typ == "" {
			typ = "rfc822"
		}
		r.ORcpt = strings.ToLower(typ) + ";" + opts.OriginalRecipient
	}
	s.dsn.Rcpts[to] = r
}
