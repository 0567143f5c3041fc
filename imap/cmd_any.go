package imap

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

func newCmdReader(s *session, c net.Conn) *cmdReader {
	return &cmdReader{
		br: bufio.NewReaderSize(c, 4096), conn: c,
		appendLimit: s.srv.opts.AppendLimit, lineTimeout: lineTimeout,
		cont: func(text string) error {
			s.w.lock()
			defer s.w.unlock()
			s.w.raw("+ " + text + "\r\n")
			return s.w.flush()
		},
		refuse: func(tag, resp string) error {
			s.w.lock()
			defer s.w.unlock()
			s.w.raw(tag + " " + resp + "\r\n")
			return s.w.flush()
		},
	}
}

// baseCaps is what every state advertises.
const baseCaps = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE ESEARCH SEARCHRES SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE CHILDREN BINARY UTF8=ACCEPT"

// capsText returns the capability list for the current state.
func capsText(s *session) string {
	c := baseCaps
	if s.user.ID == 0 {
		if s.srv.opts.TLSConfig != nil && !s.tls {
			c += " STARTTLS"
		}
		if s.loginAllowed() {
			c += " AUTH=PLAIN"
		} else {
			c += " LOGINDISABLED"
		}
	} else {
		c += " " + extCaps(s)
	}
	return c + " APPENDLIMIT=" + strconv.FormatInt(s.srv.opts.AppendLimit, 10)
}

// writeCaps writes the capability list (lock held).
func (s *session) writeCaps() { s.w.raw(capsText(s)) }

// cmdCapability: RFC 9051 section 6.1.1.
func cmdCapability(s *session, c *command, p *parser) error {
	if p.end(); p.err != nil {
		return p.err
	}
	s.w.lock()
	s.w.raw("* CAPABILITY ")
	s.writeCaps()
	s.w.crlf()
	s.w.unlock()
	return nil
}

// cmdNoop: NOOP and CHECK (RFC 9051 sections 6.1.2, RFC 3501 6.4.1); the
// pending updates go out after every command anyway.
func cmdNoop(s *session, c *command, p *parser) error {
	if p.end(); p.err != nil {
		return p.err
	}
	if s.sel != nil {
		// A client polls with NOOP or CHECK: read the change log even
		// when no event woke this session (one from another node may be
		// late), so that what was committed before is reported now.
		return s.sync(updates{s}, true, true)
	}
	return nil
}

// cmdLogout: RFC 9051 section 6.1.3.
func cmdLogout(s *session, c *command, p *parser) error {
	if s.sel != nil && s.cs.qresync {
		// A QRESYNC client keeps its view and the highest MODSEQ it saw
		// for its next SELECT (QRESYNC ...). A FETCH may have shown it a
		// MODSEQ above an expunge it could not be told of yet: report the
		// expunges now, before BYE, so that the view it keeps agrees with
		// that MODSEQ (RFC 7162 section 3.2.5).
		if err := s.sync(updates{s}, true, true); err != nil {
			s.log.Debug("sync before logout failed", "err", err)
		}
	}
	s.w.lock()
	s.w.raw("* BYE Logging out\r\n")
	s.w.status(c.tag, imap.StatusResponseTypeOK, "", "Logout completed")
	s.w.flush()
	s.w.unlock()
	s.logout = true
	return nil
}

// ID limits (RFC 2971 section 3.3).
const (
	maxIDPairs = 30
	maxIDKey   = 30
	maxIDValue = 1024
)

// cmdID: RFC 2971. The client's fields are logged; we answer name and version.
func cmdID(s *session, c *command, p *parser) error {
	var fields []string
	if p.peek() == '(' {
		p.list(false, func() {
			k := p.str()
			p.sp()
			v, _ := p.nstring()
			if len(k) > maxIDKey || len(v) > maxIDValue {
				p.fail("ID field too long")
			}
			fields = append(fields, k, v)
		})
		if len(fields) > 2*maxIDPairs {
			p.fail("Too many ID fields")
		}
	} else if a := p.atom(); !strings.EqualFold(a, "NIL") && p.err == nil {
		p.fail("Expected NIL or a list")
	}
	if p.end(); p.err != nil {
		return p.err
	}
	if len(fields) > 0 {
		s.log.Debug("client ID", "fields", fields)
	}
	s.w.lock()
	s.w.raw(`* ID ("name" "Stamp" "version" `)
	s.w.str(s.srv.opts.Version)
	s.w.raw(")\r\n")
	s.w.unlock()
	return nil
}

// cmdEnable: RFC 5161, for IMAP4rev2 (RFC 9051) and UTF8=ACCEPT (RFC 6855).
func cmdEnable(s *session, c *command, p *parser) error {
	var caps []string
	for p.err == nil && !p.atEnd() {
		caps = append(caps, p.atom())
		if !p.atEnd() {
			p.sp()
		}
	}
	if len(caps) == 0 {
		p.fail("ENABLE needs a capability")
	}
	if p.err != nil {
		return p.err
	}
	var on []string
	for _, cp := range caps {
		switch strings.ToUpper(cp) {
		case "IMAP4REV2":
			if !s.rev2 {
				s.rev2 = true
				on = append(on, "IMAP4rev2")
			}
			s.utf8 = true
		case "CONDSTORE", "QRESYNC":
			on = s.enableSync(cp, on)
		case "UTF8=ACCEPT":
			if !s.utf8 || !contains(on, "UTF8=ACCEPT") {
				on = append(on, "UTF8=ACCEPT")
			}
			s.utf8 = true
		}
	}
	s.w.lock()
	s.w.utf8 = s.utf8
	s.w.raw("* ENABLED")
	for _, x := range on {
		s.w.sp()
		s.w.raw(x)
	}
	s.w.crlf()
	s.w.unlock()
	return nil
}

func contains(a []string, x string) bool {
	for _, y := range a {
		if y == x {
			return true
		}
	}
	return false
}

// cmdNamespace: RFC 2342, one personal namespace with "/" as delimiter.
func cmdNamespace(s *session, c *command, p *parser) error {
	if p.end(); p.err != nil {
		return p.err
	}
	s.untagged(`NAMESPACE (("" "` + string(core.MailboxDelimiter) + `")) NIL NIL`)
	return nil
}

// cmdStartTLS: RFC 9051 section 6.2.1.
func cmdStartTLS(s *session, c *command, p *parser) error {
	if p.end(); p.err != nil {
		return p.err
	}
	if s.tls || s.srv.opts.TLSConfig == nil {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "STARTTLS not available"}
	}
	// Bytes pipelined after STARTTLS would be read as if protected
	// (CVE-2011-0411-style injection): refuse them.
	if s.r.br.Buffered() > 0 {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Data after STARTTLS"}
	}
	s.tagged(c.tag, nil)
	if s.w.failed() != nil {
		return nil
	}
	tc := tls.Server(s.conn, s.srv.opts.TLSConfig)
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		s.log.Debug("STARTTLS handshake failed", "err", err)
		s.logout = true
		return nil
	}
	tc.SetDeadline(time.Time{})
	s.switchTLS(tc)
	return errAlreadyAnswered
}

// errAlreadyAnswered tells run that the handler wrote its tagged response.
var errAlreadyAnswered = errors.New("already answered")

var errLoginDisabled = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodePrivacyRequired, Text: "Use STARTTLS first (LOGINDISABLED)"}

// cmdLogin: RFC 9051 section 6.2.3.
func cmdLogin(s *session, c *command, p *parser) error {
	user := p.astring()
	p.sp()
	pass := p.astring()
	if p.end(); p.err != nil {
		return p.err
	}
	if !s.loginAllowed() {
		return errLoginDisabled
	}
	return s.login(user, pass)
}

func (s *session) login(user, pass string) error {
	u, err := s.srv.opts.Core.Authenticate(s.ctx, user, pass, s.remote)
	if err != nil {
		return s.fail("login", err)
	}
	s.user = u
	s.authed.Store(true)
	s.conn.SetReadDeadline(time.Now().Add(authIdleTimeout)) // the reader waits under the unauthenticated timeout
	s.log = s.log.With("user", u.Address)
	s.log.Debug("logged in")
	return okCode(imap.ResponseCode("CAPABILITY "+capsText(s)), "Logged in")
}

// cmdAuthenticate: RFC 9051 section 6.2.2 with SASL-IR (RFC 4959) and the
// PLAIN mechanism (RFC 4616).
func cmdAuthenticate(s *session, c *command, p *parser) error {
	mech := p.atom()
	ir, hasIR := "", false
	if p.consume(' ') {
		if p.consume('=') {
			hasIR = true
		} else {
			ir, hasIR = p.atom(), true
		}
	}
	if p.end(); p.err != nil {
		return p.err
	}
	if !strings.EqualFold(mech, "PLAIN") {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Unsupported authentication mechanism"}
	}
	if !s.loginAllowed() {
		return errLoginDisabled
	}
	if !hasIR {
		s.w.lock()
		s.w.raw("+ \r\n")
		s.w.flush()
		s.w.unlock()
		s.conn.SetReadDeadline(time.Now().Add(lineTimeout))
		line, err := s.r.readLine(nil)
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Response too long"}
			}
			s.logout = true
			return nil
		}
		ir = string(line)
		if ir == "*" {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Authentication canceled"}
		}
	}
	raw, err := base64.StdEncoding.DecodeString(ir)
	if err != nil {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Invalid base64"}
	}
	// authzid NUL authcid NUL passwd
	parts := strings.SplitN(string(raw), "\x00", 3)
	if len(parts) != 3 {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Invalid PLAIN response"}
	}
	if parts[0] != "" && !strings.EqualFold(parts[0], parts[1]) {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthorizationFailed, Text: "Cannot act as another user"}
	}
	return s.login(parts[1], parts[2])
}
