package core

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// The Sender Rewriting Scheme (SRS, as specified by Shevek's "Sender
// Rewriting Scheme" paper and libsrs2): mail forwarded to another domain
// leaves with a reverse-path in our domain, so the receiver's SPF check
// (RFC 7208) looks at our SPF record, and a bounce to it comes back here,
// where it is decoded and returned to the original sender.
//
//	SRS0=HHHH=TT=orig-domain=orig-local@our-domain
//	SRS1=HHHH=first-hop-domain==SRS0-opaque-part@our-domain
//
// HHHH is the first four characters of the base64 HMAC-SHA1, keyed with a
// secret kept in the database (kv key srsSecretKey), of the lower-cased
// rest; TT is the day number modulo 1024 in two base32 characters. An
// address older than srsMaxAge days, or whose hash does not verify, is
// refused.

// srsMaxAge is how long an SRS address stays valid (libsrs2's default).
const srsMaxAge = 21

// srsSecretKey is the kv key holding the SRS secret.
const srsSecretKey = "srs/secret"

// Named SRS errors.
var (
	// ErrSRSInvalid: the address is not a well-formed SRS address or its hash does not verify.
	ErrSRSInvalid = errors.New("invalid SRS address")
	// ErrSRSExpired: the SRS address is older than srsMaxAge days.
	ErrSRSExpired = errors.New("expired SRS address")
)

const srsTimeBase = 1024

var srsBase32 = base32.StdEncoding

// srsCodec encodes and decodes SRS addresses with one secret.
type srsCodec struct {
	secret []byte
}

func (c srsCodec) hash(parts ...string) string {
	m := hmac.New(sha1.New, c.secret)
	for _, p := range parts {
		m.Write([]byte(strings.ToLower(p)))
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))[:4]
}

func srsDay(t time.Time) int { return int(t.Unix()/86400) % srsTimeBase }

func srsStamp(t time.Time) string {
	d := srsDay(t)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	return string([]byte{alphabet[(d>>5)&31], alphabet[d&31]})
}

func srsStampDay(tt string) (int, bool) {
	if len(tt) != 2 {
		return 0, false
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hi := strings.IndexByte(alphabet, upperASCII(tt[0]))
	lo := strings.IndexByte(alphabet, upperASCII(tt[1]))
	if hi < 0 || lo < 0 {
		return 0, false
	}
	return hi<<5 | lo, true
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// forward rewrites sender for mail forwarded by ourDomain. The null sender
// stays null (RFC 5321 section 4.5.5); an address already SRS-rewritten by
// another forwarder becomes SRS1; ours is kept as it is.
func (c srsCodec) forward(sender, ourDomain string, now time.Time) string {
	if sender == "" {
		return ""
	}
	at := strings.LastIndexByte(sender, '@')
	if at <= 0 {
		return sender
	}
	local, domain := sender[:at], sender[at+1:]
	if strings.EqualFold(domain, ourDomain) && isSRS(local) {
		return sender
	}
	switch {
	case hasPrefixFold(local, "SRS0=") || hasPrefixFold(local, "SRS0+") || hasPrefixFold(local, "SRS0-"):
		opaque := local[4:]
		h := c.hash(domain, opaque)
		return "SRS1=" + h + "=" + domain + "=" + opaque + "@" + ourDomain
	case hasPrefixFold(local, "SRS1="):
		// SRS1=HHH=hop==opaque: keep the first hop, re-hash.
		rest := local[5:]
		parts := strings.SplitN(rest, "=", 3)
		if len(parts) == 3 {
			h := c.hash(parts[1], parts[2])
			return "SRS1=" + h + "=" + parts[1] + "=" + parts[2] + "@" + ourDomain
		}
	}
	tt := srsStamp(now)
	h := c.hash(tt, domain, local)
	return "SRS0=" + h + "=" + tt + "=" + domain + "=" + local + "@" + ourDomain
}

func hasPrefixFold(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }

// isSRS says whether a local part looks like an SRS address.
func isSRS(local string) bool { return hasPrefixFold(local, "SRS0=") || hasPrefixFold(local, "SRS1=") }

// reverse decodes the local part of an SRS address of ours into the address
// it stands for: the original sender for SRS0, the first hop's SRS0
// address for SRS1.
func (c srsCodec) reverse(local string, now time.Time) (string, error) {
	switch {
	case hasPrefixFold(local, "SRS0="):
		parts := strings.SplitN(local[5:], "=", 4)
		if len(parts) != 4 || parts[2] == "" || parts[3] == "" {
			return "", ErrSRSInvalid
		}
		h, tt, domain, orig := parts[0], parts[1], parts[2], parts[3]
		if !hashEqual(h, c.hash(tt, domain, orig)) {
			return "", ErrSRSInvalid
		}
		day, ok := srsStampDay(tt)
		if !ok {
			return "", ErrSRSInvalid
		}
		age := (srsDay(now) - day + srsTimeBase) % srsTimeBase
		if age > srsMaxAge {
			return "", ErrSRSExpired
		}
		return orig + "@" + domain, nil
	case hasPrefixFold(local, "SRS1="):
		parts := strings.SplitN(local[5:], "=", 3)
		if len(parts) != 3 || parts[1] == "" || !strings.HasPrefix(parts[2], "=") || len(parts[2]) < 2 {
			return "", ErrSRSInvalid
		}
		h, hop, opaque := parts[0], parts[1], parts[2]
		if !hashEqual(h, c.hash(hop, opaque)) {
			return "", ErrSRSInvalid
		}
		return "SRS0" + opaque + "@" + hop, nil
	}
	return "", ErrSRSInvalid
}

// hashEqual compares SRS hashes without regard to case: mail systems on
// the way may lower-case addresses (libsrs2 does the same).
func hashEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(strings.ToLower(want))) == 1
}

// srs returns the codec with the database's secret, creating the secret
// on first use.
func (s *Service) srs(ctx context.Context) (srsCodec, error) {
	s.srsMu.Lock()
	defer s.srsMu.Unlock()
	if s.srsSecret != nil {
		return srsCodec{secret: s.srsSecret}, nil
	}
	v, err := s.store.GetKV(ctx, srsSecretKey)
	if errors.Is(err, storage.ErrNotFound) {
		v = make([]byte, 32)
		if _, err := rand.Read(v); err != nil {
			return srsCodec{}, fmt.Errorf("srs secret: %w", err)
		}
		if err := s.store.PutKV(ctx, srsSecretKey, v); err != nil {
			return srsCodec{}, temporary("store SRS secret", err)
		}
		// Read back: if another node wrote its secret at the same time, one wins for everybody.
		if v, err = s.store.GetKV(ctx, srsSecretKey); err != nil {
			return srsCodec{}, temporary("read SRS secret", err)
		}
	} else if err != nil {
		return srsCodec{}, temporary("read SRS secret", err)
	}
	if len(v) < 16 {
		return srsCodec{}, fmt.Errorf("srs secret in the database is too short (%d bytes)", len(v))
	}
	s.srsSecret = v
	return srsCodec{secret: v}, nil
}
