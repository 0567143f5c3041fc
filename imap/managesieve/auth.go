package managesieve

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// tlsHandshakeTimeout bounds the TLS handshake after STARTTLS.
const tlsHandshakeTimeout = 30 * time.Second

// startTLS upgrades the connection (RFC 5804 section 2.2) and re-sends the
// capabilities, as the client waits for them.
func (sess *session) startTLS() error {
	if sess.srv.opts.TLSConfig == nil || sess.tls {
		return sess.no("", "STARTTLS not available")
	}
	if sess.r.br.Buffered() > 0 {
		// Pipelined plaintext after STARTTLS would be injected into the TLS session.
		return sess.no("", "Data after STARTTLS")
	}
	if err := sess.ok("Begin TLS negotiation now"); err != nil {
		return err
	}
	tc := tls.Server(sess.conn, sess.srv.opts.TLSConfig)
	tc.SetDeadline(time.Now().Add(tlsHandshakeTimeout))
	if err := tc.HandshakeContext(sess.ctx); err != nil {
		sess.log.Info("TLS handshake failed", "err", err)
		return err
	}
	tc.SetDeadline(time.Time{})
	sess.setConn(tc)
	sess.tls = true
	return sess.send(sess.capabilities() + response("OK", "", "TLS active"))
}

// authenticate runs AUTHENTICATE "PLAIN" [initial-response] (RFC 5804
// section 2.1, RFC 4616).
func (sess *session) authenticate(args []token) error {
	if sess.user != nil {
		return sess.no("", "Already authenticated")
	}
	if len(args) < 1 || len(args) > 2 || args[0].atom && !strings.EqualFold(args[0].value, "PLAIN") {
		return sess.bump("Usage: AUTHENTICATE \"PLAIN\" [initial-response]")
	}
	if !strings.EqualFold(args[0].value, "PLAIN") {
		return sess.no("", "Unsupported SASL mechanism")
	}
	if !sess.authAllowed() {
		return sess.no("ENCRYPT-NEEDED", "Use STARTTLS before authenticating")
	}
	var resp string
	if len(args) == 2 {
		if args[1].atom {
			return sess.bump("The initial response must be a string")
		}
		resp = args[1].value
	} else {
		if err := sess.send("\"\"\r\n"); err != nil {
			return err
		}
		toks, err := sess.r.readCommand()
		if err != nil {
			return err
		}
		if len(toks) != 1 || toks[0].atom {
			return sess.no("", "Bad SASL response")
		}
		resp = toks[0].value
	}
	if resp == "*" {
		return sess.no("", "Authentication aborted")
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		return sess.no("", "Bad base64 in SASL response")
	}
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 {
		return sess.no("", "Bad PLAIN response")
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && !strings.EqualFold(authz, user) {
		return sess.no("", "Authorization identity must be empty or the user")
	}
	u, err := sess.srv.opts.Core.Authenticate(sess.ctx, user, pass, sess.remote)
	if errors.Is(err, core.ErrAuthFailed) {
		return sess.no("", "Authentication failed")
	} else if err != nil {
		return sess.fail(err)
	}
	sess.user = &u
	sess.log = sess.log.With("user", u.Address)
	sess.log.Info("authenticated")
	return sess.ok("Authenticated")
}
