package core

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/storage"
)

// SpamLists are a user's (or a domain's) allow and block lists of senders.
type SpamLists = storage.SpamLists

// SpamVerdict is the spam judgement recorded on a delivered message.
type SpamVerdict = check.UserVerdict

// recordCorrespondents remembers the addresses a user writes to, so that
// their mail is never junked on content alone (check's correspondent
// signal). Failure only costs that signal, never the message.
func (s *Service) recordCorrespondents(ctx context.Context, userID int64, addrs []string, at time.Time) {
	var out []string
	for _, a := range addrs {
		if a = storage.NormalizeAddress(a); a != "" && strings.Contains(a, "@") {
			out = append(out, a)
		}
	}
	if out = s.corrs.stale(userID, out, at); len(out) == 0 { // correspondents.go
		return
	}
	if err := s.store.AddCorrespondents(ctx, userID, out, at); err != nil {
		s.corrs.forget(userID, out)
		s.log.Warn("recording correspondents failed", "user_id", userID, "err", err)
	}
}

// heloIsOurs reports whether a HELO/EHLO name claims to be this server:
// our host name, one of our local domains, or an address literal (RFC 5321
// section 4.1.3) of one of this machine's addresses. An honest peer names
// itself; a client using our name is forging it.
func (s *Service) heloIsOurs(ctx context.Context, helo string, remote net.IP) bool {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(helo), "."))
	if h == "" {
		return false
	}
	if remote != nil && remote.IsLoopback() {
		return false // local tools and tests greet with anything
	}
	if h == strings.ToLower(s.cfg.Hostname) {
		return true
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		lit := strings.TrimPrefix(strings.Trim(h, "[]"), "ipv6:")
		ip := net.ParseIP(lit)
		if ip == nil {
			return false
		}
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return false
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) && !ip.Equal(remote) {
				return true
			}
		}
		return false
	}
	ok, err := s.IsLocalDomain(ctx, h)
	return err == nil && ok
}

// recordSenderVerdicts counts, per author address, the messages a user
// moved into or out of Junk (check's sender signal).
func (s *Service) recordSenderVerdicts(ctx context.Context, userID int64, ms []Moved, spam bool) {
	for _, m := range ms {
		msg, err := s.store.GetMessage(ctx, userID, m.ID)
		if err != nil || len(msg.From) == 0 {
			continue
		}
		if err := s.store.AddSenderVerdict(ctx, userID, msg.From[0].Address, spam); err != nil {
			s.log.Warn("recording sender verdict failed", "user_id", userID, "err", err)
		}
	}
}

// SpamVerdictOf returns the spam verdict recorded in a message's
// X-Stamp-Spam field; ok is false for mail that was never judged (sent
// mail, appended mail, mail from before the field existed).
func (s *Service) SpamVerdictOf(ctx context.Context, m Message) (v SpamVerdict, ok bool, err error) {
	raw, err := s.ReadMessage(ctx, m)
	if err != nil {
		return v, false, err
	}
	if m.HeaderSize > 0 && m.HeaderSize <= int64(len(raw)) {
		raw = raw[:m.HeaderSize]
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return v, false, nil
	}
	val := h.Get("X-Stamp-Spam")
	if val == "" {
		return v, false, nil
	}
	v, ok = check.ParseSpamHeader(val)
	return v, ok, nil
}

// MarkSpam is the user's "Spam" (spam true) or "Not spam" button: the
// message moves to Junk or to INBOX, the filter learns from it, and for
// "Not spam" its author goes on the user's allow list. It returns the
// message as it is after the move.
func (s *Service) MarkSpam(ctx context.Context, userID, id int64, spam bool) (Message, error) {
	m, err := s.store.GetMessage(ctx, userID, id)
	if err != nil {
		return Message{}, err
	}
	role := storage.RoleInbox
	if spam {
		role = storage.RoleJunk
	}
	target, err := s.roleMailbox(ctx, userID, role)
	if err != nil {
		return Message{}, err
	}
	if m.MailboxID != target {
		moved, err := s.Move(ctx, userID, m.MailboxID, []int64{id}, target)
		if err != nil {
			return Message{}, err
		}
		if len(moved) == 1 {
			id = moved[0].ID
		}
		from, ferr := s.store.GetMailbox(ctx, userID, m.MailboxID)
		if ferr == nil && !isJunk(from) && !spam {
			// Not spam on mail that was not in Junk: Move did not train.
			if err := s.LearnNow(ctx, userID, m, false); err != nil {
				s.log.Warn("spam training failed", "user_id", userID, "err", err)
			}
		}
	} else if err := s.LearnNow(ctx, userID, m, spam); err != nil {
		s.log.Warn("spam training failed", "user_id", userID, "err", err)
	}
	if !spam && len(m.From) > 0 {
		if err := s.allowSender(ctx, userID, m.From[0].Address); err != nil {
			return Message{}, err
		}
	}
	return s.store.GetMessage(ctx, userID, id)
}

// allowSender puts addr on the user's allow list (and off the block list).
func (s *Service) allowSender(ctx context.Context, userID int64, addr string) error {
	e, err := storage.NormalizeEntry(addr)
	if err != nil {
		return nil // an author without a usable address cannot be allowed
	}
	l, err := s.store.GetSpamLists(ctx, userID)
	if err != nil {
		return err
	}
	if storage.MatchList(l.Allow, e) != "" {
		return nil
	}
	block := l.Block[:0]
	for _, b := range l.Block {
		if b != e {
			block = append(block, b)
		}
	}
	l.Block = block
	l.Allow = append(l.Allow, e)
	defer s.settingsChanged(ctx, userID)
	return s.store.PutSpamLists(ctx, userID, l)
}

// SpamLists returns a user's allow and block lists.
func (s *Service) SpamLists(ctx context.Context, userID int64) (SpamLists, error) {
	return s.store.GetSpamLists(ctx, userID)
}

// SetSpamLists replaces a user's allow and block lists; bad entries are ErrInvalid.
func (s *Service) SetSpamLists(ctx context.Context, userID int64, l SpamLists) error {
	if _, err := storage.NormalizeLists(l); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	defer s.settingsChanged(ctx, userID)
	return s.store.PutSpamLists(ctx, userID, l)
}

// DomainSpamLists returns a local domain's allow and block lists, which
// apply to every user of the domain.
func (s *Service) DomainSpamLists(ctx context.Context, domain string) (SpamLists, error) {
	return s.store.GetDomainSpamLists(ctx, strings.ToLower(domain))
}

// SetDomainSpamLists replaces a local domain's allow and block lists.
func (s *Service) SetDomainSpamLists(ctx context.Context, domain string, l SpamLists) error {
	if _, err := storage.NormalizeLists(l); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	defer s.settingsChanged(ctx, 0)
	return s.store.PutDomainSpamLists(ctx, strings.ToLower(domain), l)
}
