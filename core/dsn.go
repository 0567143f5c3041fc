package core

import (
	"context"
	"encoding/json"
	"slices"
	"time"
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
// our bounces and delay notices say and whether they are sent at all.
type DSNParams struct {
	Ret   string             `json:"ret,omitempty"`   // "FULL" or "HDRS"; "" is HDRS
	EnvID string             `json:"envid,omitempty"` // xtext-decoded
	Rcpts map[string]RcptDSN `json:"rcpts,omitempty"` // by recipient address as given in RCPT
	// DelayNotified records that the delay notice went out.
	DelayNotified bool `json:"delay_notified,omitempty"`
}

// RcptDSN is one recipient's NOTIFY and ORCPT.
type RcptDSN struct {
	Notify []string `json:"notify,omitempty"` // upper case; empty means the default (failure and delay)
	ORcpt  string   `json:"orcpt,omitempty"`  // "rfc822;addr"
}

// wants reports whether the recipient asked for a notice of kind
// (NotifyFailure, NotifyDelay). Without NOTIFY, failures and delays are
// reported (RFC 3461 section 4.1 leaves the default to the MTA; this is
// what Postfix and Exim do).
func (p DSNParams) wants(rcpt, kind string) bool {
	r, ok := p.Rcpts[rcpt]
	if !ok || len(r.Notify) == 0 {
		return kind == NotifyFailure || kind == NotifyDelay
	}
	return slices.Contains(r.Notify, kind)
}

// dsnKey is where a queue item's DSN parameters are kept: in its Results
// map, which is stored with the item, under a key that can never be a
// recipient (an address has an '@').
const dsnKey = "=dsn"

// QueueDSN returns the DSN parameters stored with a queue item.
func QueueDSN(it QueueItem) DSNParams {
	var p DSNParams
	if v, ok := it.Results[dsnKey]; ok {
		_ = json.Unmarshal([]byte(v), &p)
	}
	return p
}

// setQueueDSN stores p with the item (nothing when p is empty).
func setQueueDSN(it *QueueItem, p DSNParams) {
	if p.Ret == "" && p.EnvID == "" && len(p.Rcpts) == 0 && !p.DelayNotified {
		return
	}
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	if it.Results == nil {
		it.Results = map[string]string{}
	}
	it.Results[dsnKey] = string(b)
}

// NotifyDelay sends the sender one delay notice (RFC 3464 action
// "delayed") for the recipients still being retried, to those that did not
// refuse it with NOTIFY, and records on it that the notice went out. The
// caller stores the item. It does nothing when the notice was already sent.
func (s *Service) NotifyDelay(ctx context.Context, it *QueueItem, delayed []BounceRecipient) error {
	p := QueueDSN(*it)
	if p.DelayNotified {
		return nil
	}
	for i := range delayed {
		delayed[i].Action = "delayed"
	}
	if err := s.Bounce(ctx, *it, delayed); err != nil {
		return err
	}
	p.DelayNotified = true
	setQueueDSN(it, p)
	return nil
}
