package smtp

import (
	"errors"
	"strings"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// authAllowed says whether AUTH may run on this session: over TLS, or in
// clear from a loopback client when Options.AllowInsecureAuth is set
// (RFC 4954 section 4: PLAIN and LOGIN need a protected channel).
func (s *session) authAllowed() bool {
	return s.tls || (s.srv.opts.AllowInsecureAuth && s.tc.ip != nil && s.tc.ip.IsLoopback())
}

// AuthMechanisms lists the SASL mechanisms advertised in EHLO: none on the
// MX port, and none before TLS unless insecure auth is allowed here.
func (s *session) AuthMechanisms() []string {
	if !s.srv.opts.Submission || !s.authAllowed() {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth starts a SASL exchange for mech.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.srv.opts.Submission {
		return nil, gosmtp.ErrAuthUnsupported
	}
	if !s.authAllowed() {
		return nil, errEncryptionRequired
	}
	switch strings.ToUpper(mech) {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && !strings.EqualFold(identity, username) {
				return gosmtp.ErrAuthFailed
			}
			return s.login(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: s.login}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

// login checks credentials with core (which slows down repeated failures).
// go-smtp only recognises a bare *SMTPError, so the reply is returned as is.
func (s *session) login(username, password string) error {
	u, err := s.srv.svc.Authenticate(s.ctx, username, password, s.tc.ip.String())
	if err != nil {
		return reply(s.log, stageAuth, err)
	}
	s.user = &u
	s.log = s.log.With("user", u.Address)
	s.log.Info("authenticated")
	return nil
}

// loginServer is the server side of the obsolete but widespread LOGIN
// mechanism (draft-murchison-sasl-login): prompts "Username:" and
// "Password:", each answered in base64 (go-smtp does the encoding).
type loginServer struct {
	check    func(username, password string) error
	username string
	step     int
}

var errLoginUnexpected = errors.New("sasl: unexpected LOGIN response")

// Next implements sasl.Server.
func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		// Initial response carries the username.
		l.username = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 1:
		l.username = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.username, string(response))
	}
	return nil, true, errLoginUnexpected
}
