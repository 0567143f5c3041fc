package core

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// DSN notification kinds (RFC 3461 section 4.1, NOTIFY).
const (
	NotifyNever   = "NEVER"
	NotifySuccess = "SUCCESS"
	NotifyFailure = "FAILURE"
	NotifyDelay   = "DELAY"
)

// DelayNoticeAfter is how long a message waits in the queue before its
// sender is told it is delayed (once), unless NOTIFY says otherwise.
const DelayNoticeAfter = 4 * time.Hour

// DSNParams are the RFC 3461 parameters a submitter gave with a message:
// RET and ENVID on MAIL, NOTIFY and ORCPT on each RCPT. They decide what
// our bounces and delay notices say and whether they are sent at all. They
// are stored with a queue item (QueueItem.DSN).
type DSNParams = storage.QueueDSN

// RcptDSN is one recipient's NOTIFY and ORCPT.
type RcptDSN = storage.RcptDSN

// dsnWants reports whether the recipient asked for a notice of kind
// (NotifyFailure, NotifyDelay, NotifySuccess). Without NOTIFY, failures and
// delays are reported (RFC 3461 section 4.1 leaves the default to the MTA;
// this is what Postfix and Exim do).
func dsnWants(p DSNParams, rcpt, kind string) bool {
	r, ok := RcptDSNOf(p, rcpt)
	if !ok || len(r.Notify) == 0 {
		return kind == NotifyFailure || kind == NotifyDelay
	}
	return slices.Contains(r.Notify, kind)
}

// RcptDSNOf returns the NOTIFY and ORCPT given for rcpt. Queued
// recipients are lower case while the parameters are keyed as given in
// RCPT, so the match ignores case when no key is exactly rcpt.
func RcptDSNOf(p DSNParams, rcpt string) (RcptDSN, bool) {
	if r, ok := p.Rcpts[rcpt]; ok {
		return r, true
	}
	for k, r := range p.Rcpts {
		if strings.EqualFold(k, rcpt) {
			return r, true
		}
	}
	return RcptDSN{}, false
}

// QueueDSN returns the DSN parameters stored with a queue item.
func QueueDSN(it QueueItem) DSNParams { return it.DSN }

// NotifyDelay sends the sender one delay notice (RFC 3464 action
// "delayed") for the recipients still being retried, to those that did not
// refuse it with NOTIFY, and records on it that the notice went out. The
// caller stores the item. It does nothing when the notice was already sent.
func (s *Service) NotifyDelay(ctx context.Context, it *QueueItem, delayed []BounceRecipient) error {
	if it.DSN.DelayNotified {
		return nil
	}
	for i := range delayed {
		delayed[i].Action = "delayed"
	}
	if err := s.Bounce(ctx, *it, delayed); err != nil {
		return err
	}
	it.DSN.DelayNotified = true
	return nil
}
