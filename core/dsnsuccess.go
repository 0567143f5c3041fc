package core

import "context"

// notifyDelivered sends the sender a success notice (RFC 3461 section
// 6.2.1, RFC 3464 action "delivered") for the recipients of env that this
// server delivered itself and whose NOTIFY includes SUCCESS: "delivered"
// for an address that is one user's mailbox, "expanded" for an alias or a
// forward (RFC 3464 section 2.3.3). Remote recipients are left to the
// outbound queue. full is the message as stored. Failures are logged: the
// mail itself is committed.
func (s *Service) notifyDelivered(ctx context.Context, env Envelope, full []byte) {
	if env.DSN == nil || env.MailFrom == "" {
		return
	}
	var done []BounceRecipient
	for _, r := range env.Recipients {
		if !dsnWants(*env.DSN, r, NotifySuccess) {
			continue
		}
		u, err := s.CheckRecipient(ctx, r)
		if err != nil {
			continue // remote (the queue reports it), or gone meanwhile
		}
		b := BounceRecipient{Address: r, Status: "2.0.0", Action: "delivered"}
		if u.ID == 0 {
			b.Action = "expanded"
		}
		done = append(done, b)
	}
	if len(done) == 0 {
		return
	}
	if err := s.notify(ctx, env.MailFrom, env.receivedAt(), *env.DSN, env.RequireTLS, full, done); err != nil {
		s.log.Warn("success notice (DSN) failed", "sender", env.MailFrom, "err", err)
	}
}
