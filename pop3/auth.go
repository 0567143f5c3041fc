package pop3

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"strings"

	"github.com/stamp-mail/stamp/core"
)

// authAllowed says whether credentials may be sent now: over TLS, or in
// development (AllowInsecureAuth) from a loopback address.
func (s *session) authAllowed() bool {
	if s.tls {
		return true
	}
	return s.srv.opts.AllowInsecureAuth && isLoopback(s.conn().RemoteAddr())
}

func isLoopback(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// refuseInsecure answers a login attempt made before TLS (RFC 2595 section 4).
func (s *session) refuseInsecure() {
	if s.srv.opts.TLSConfig != nil {
		s.reply("-ERR [AUTH] plaintext authentication is not allowed without TLS: use STLS first")
		return
	}
	s.reply("-ERR [AUTH] plaintext authentication is not allowed on this unencrypted connection")
}

// userCmd is USER name (RFC 1939 section 7).
func (s *session) userCmd(cmd command) {
	if !s.authAllowed() {
		s.refuseInsecure()
		return
	}
	if len(cmd.args) != 1 {
		s.bad++
		s.reply("-ERR usage: USER name")
		return
	}
	s.userName = cmd.args[0]
	s.reply("+OK send PASS")
}

// pass is PASS string (RFC 1939 section 7). The whole rest of the line is
// the password, spaces included, as the RFC permits.
func (s *session) pass(cmd command) {
	if !s.authAllowed() {
		s.refuseInsecure()
		return
	}
	if s.userName == "" {
		s.bad++
		s.reply("-ERR send USER first")
		return
	}
	name := s.userName
	s.userName = ""
	s.login(name, cmd.rest)
}

// auth is AUTH mechanism [initial-response] (RFC 5034), PLAIN only (RFC
// 4616). It reports whether the session must end (the client went away
// during a continuation).
func (s *session) auth(cmd command) (quit bool) {
	if len(cmd.args) == 0 {
		// Not in RFC 5034, but many clients probe with a bare AUTH (RFC 1734 heritage).
		s.reply("+OK SASL mechanisms follow")
		s.reply("PLAIN")
		s.reply(".")
		return false
	}
	if len(cmd.args) > 2 {
		s.bad++
		s.reply("-ERR usage: AUTH mechanism [initial-response]")
		return false
	}
	if !strings.EqualFold(cmd.args[0], "PLAIN") {
		s.reply("-ERR unsupported SASL mechanism")
		return false
	}
	if !s.authAllowed() {
		s.refuseInsecure()
		return false
	}
	var resp string
	if len(cmd.args) == 2 {
		resp = cmd.args[1]
		if resp == "=" { // RFC 5034 section 4: a zero-length initial response
			resp = ""
		}
	} else {
		// RFC 5034 section 4: an empty challenge, then the client's response line.
		s.reply("+ ")
		if err := s.flush(); err != nil {
			return true
		}
		line, err := s.readLine(maxSASLLine)
		if errors.Is(err, errLineTooLong) {
			s.reply("-ERR authentication response too long")
			return false
		}
		if err != nil {
			s.endRead(err)
			return true
		}
		if string(line) == "*" {
			s.reply("-ERR authentication cancelled")
			return false
		}
		resp = string(line)
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		s.reply("-ERR malformed base64 in authentication response")
		return false
	}
	authz, authc, password, ok := parsePlain(raw)
	if !ok {
		s.reply("-ERR [AUTH] malformed PLAIN credentials")
		return false
	}
	if authz != "" && !strings.EqualFold(authz, authc) {
		s.authFails++
		s.reply("-ERR [AUTH] authorization identity must be empty or equal to the user")
		return false
	}
	s.login(authc, password)
	return false
}

// parsePlain splits a PLAIN message: [authzid] NUL authcid NUL passwd (RFC 4616 section 2).
func parsePlain(b []byte) (authz, authc, password string, ok bool) {
	parts := bytes.Split(b, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 || len(parts[2]) == 0 {
		return "", "", "", false
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), true
}

// login checks credentials, takes the maildrop lock and snapshots the
// INBOX, entering the TRANSACTION state.
func (s *session) login(name, password string) {
	u, err := s.srv.core.Authenticate(s.ctx, name, password, s.remote)
	if err != nil {
		if errors.Is(err, core.ErrAuthFailed) {
			s.authFails++
		}
		s.replyErr(err)
		return
	}
	if err := s.lockMaildrop(u.ID); err != nil {
		if errors.Is(err, core.ErrMaildropLocked) {
			s.reply("-ERR [IN-USE] maildrop already locked by another POP3 session")
		} else {
			s.replyErr(err)
		}
		return
	}
	s.user = u
	s.log = s.log.With("user", u.Address)
	drop, err := loadMaildrop(s.ctx, s.srv.core, u.ID)
	if err != nil {
		s.unlockMaildrop(u.ID)
		s.user = core.User{}
		s.replyErr(err)
		return
	}
	s.drop = drop
	s.state = stateTransaction
	s.log.Debug("logged in", "messages", len(drop.msgs))
	s.reply("+OK maildrop locked and ready, %d messages", len(drop.msgs))
}

// stls is STLS (RFC 2595 section 4). It reports whether the session must end.
func (s *session) stls(cmd command) (quit bool) {
	if len(cmd.args) != 0 {
		s.bad++
		s.reply("-ERR STLS takes no arguments")
		return false
	}
	if s.tls {
		s.reply("-ERR already using TLS")
		return false
	}
	if s.srv.opts.TLSConfig == nil {
		s.reply("-ERR STLS not available")
		return false
	}
	if s.r.Buffered() > 0 {
		// Commands pipelined behind STLS would cross from plaintext into the
		// TLS session (a command injection); refuse and hang up.
		s.reply("-ERR data after STLS refused")
		return true
	}
	s.reply("+OK begin TLS negotiation")
	if err := s.flush(); err != nil {
		return true
	}
	tc := tls.Server(s.conn(), s.srv.opts.TLSConfig)
	if err := s.handshake(tc); err != nil {
		s.log.Info("STLS handshake failed", "err", err)
		return true
	}
	s.mu.Lock()
	s.c = tc
	s.mu.Unlock()
	s.r.Reset(tc)
	s.tls = true
	s.userName = "" // RFC 2595 section 4: forget what was said before TLS
	return false
}

// capa is CAPA (RFC 2449 section 5).
func (s *session) capa() {
	s.reply("+OK capability list follows")
	s.reply("TOP")
	s.reply("UIDL")
	s.reply("RESP-CODES")
	s.reply("AUTH-RESP-CODE")
	s.reply("PIPELINING")
	if s.state == stateAuthorization {
		if s.authAllowed() {
			s.reply("USER")
			s.reply("SASL PLAIN")
		}
		if !s.tls && s.srv.opts.TLSConfig != nil {
			s.reply("STLS")
		}
	}
	s.reply("IMPLEMENTATION Stamp")
	s.reply(".")
}
