package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// WakeQueue tells the outbound workers that a message was queued.
func (s *Service) WakeQueue() {
	select {
	case s.queueWake <- struct{}{}:
	default:
	}
}

// QueueWake delivers a value when new mail is queued on this node.
func (s *Service) QueueWake() <-chan struct{} { return s.queueWake }

// ClaimQueue leases due queue items for delivery by this worker.
func (s *Service) ClaimQueue(ctx context.Context, limit int, lease time.Duration) ([]QueueItem, error) {
	return s.store.ClaimQueue(ctx, time.Now(), limit, lease)
}

// ReadQueueMessage returns the bytes to send for a queue item (DKIM signature included).
func (s *Service) ReadQueueMessage(ctx context.Context, it QueueItem) ([]byte, error) {
	return s.ReadMessage(ctx, Message{Segments: it.Segments, Size: it.Size})
}

// UpdateQueue records an attempt's outcome.
func (s *Service) UpdateQueue(ctx context.Context, it QueueItem) error {
	return s.store.UpdateQueue(ctx, it)
}

// ListQueue lists queue items.
func (s *Service) ListQueue(ctx context.Context) ([]QueueItem, error) { return s.store.ListQueue(ctx) }

// GetQueueItem returns one queue item.
func (s *Service) GetQueueItem(ctx context.Context, id int64) (QueueItem, error) {
	return s.store.GetQueueItem(ctx, id)
}

// RetryQueue makes a queued or failed item due now.
func (s *Service) RetryQueue(ctx context.Context, id int64) error {
	it, err := s.store.GetQueueItem(ctx, id)
	if err != nil {
		return err
	}
	if it.State == storage.QueueDelivered {
		return fmt.Errorf("%w: queue item %d was delivered", ErrNotAllowed, id)
	}
	it.State = storage.QueueQueued
	it.NextAttemptAt = time.Now()
	// Recipients that failed for good get another chance too.
	for r, res := range it.Results {
		if strings.HasPrefix(res, "5") {
			delete(it.Results, r)
		}
	}
	if err := s.store.UpdateQueue(ctx, it); err != nil {
		return err
	}
	s.WakeQueue()
	return nil
}

// DropQueue removes a queue item without sending or bouncing it.
func (s *Service) DropQueue(ctx context.Context, id int64) error {
	_, err := s.store.DeleteQueueItem(ctx, id)
	return err
}

// BounceRecipient is one failed recipient of a queue item.
type BounceRecipient struct {
	Address    string
	Status     string // enhanced status, e.g. "5.1.1"
	Diagnostic string // "smtp; 550 5.1.1 no such user"
	RemoteMTA  string // host name; the DSN says "dns; host"
	Action     string // "failed" (default) or "delayed"
}

// Bounce sends an RFC 3464 delivery status notification about failed
// recipients (or, by their Action, delayed or relayed ones) to the item's
// sender, to those whose NOTIFY asks for it: into the sender's INBOX when local, else
// queued to the sender's domain with the null reverse-path. Hard failures
// (5.x.x) put the recipient on the sender domain's suppression list. Mail
// with the null sender is never bounced (RFC 5321 section 6.1).
func (s *Service) Bounce(ctx context.Context, it QueueItem, failed []BounceRecipient) error {
	if len(failed) == 0 {
		return nil
	}
	for _, f := range failed {
		if strings.HasPrefix(f.Status, "5") && it.Sender != "" {
			s.suppress(ctx, domainOf(it.Sender), f.Address, f.Diagnostic)
		}
	}
	if it.Sender == "" {
		return nil
	}
	// RFC 3461: only the recipients whose NOTIFY asks for this kind of
	// notice are reported; RET and ENVID shape the notice.
	if !s.wantsAny(it.DSN, failed) {
		return nil
	}
	orig, err := s.ReadQueueMessage(ctx, it)
	if err != nil {
		return err
	}
	return s.notify(ctx, it.Sender, it.CreatedAt, it.DSN, it.RequireTLS, orig, failed)
}

func orcptOf(dsn DSNParams, rcpt string) string {
	r, _ := RcptDSNOf(dsn, rcpt)
	return r.ORcpt
}

// noticeKind is the NOTIFY keyword (RFC 3461 section 4.1) that asks for a
// notice with the recipient's action.
func noticeKind(action string) string {
	switch action {
	case "delayed":
		return NotifyDelay
	case "delivered", "relayed", "expanded":
		return NotifySuccess
	}
	return NotifyFailure
}

// wantsAny reports whether some recipient's NOTIFY asks for its notice.
func (s *Service) wantsAny(dsn DSNParams, rcpts []BounceRecipient) bool {
	for _, f := range rcpts {
		if dsnWants(dsn, f.Address, noticeKind(f.Action)) {
			return true
		}
	}
	return false
}

// notify sends sender an RFC 3464 notification about the recipients whose
// NOTIFY asks for it (bounces, delay notices, success notices alike).
func (s *Service) notify(ctx context.Context, sender string, arrival time.Time, dsn DSNParams, requireTLS bool, orig []byte, rcpts []BounceRecipient) error {
	var report []BounceRecipient
	for _, f := range rcpts {
		if dsnWants(dsn, f.Address, noticeKind(f.Action)) {
			report = append(report, f)
		}
	}
	if len(report) == 0 || sender == "" {
		return nil
	}
	// RFC 8689 section 5: the notice about REQUIRETLS mail carries only
	// the original header and is itself sent with REQUIRETLS.
	d := message.DSN{ReportingMTA: s.cfg.Hostname, OriginalSender: sender, Original: orig, Arrival: arrival,
		EnvelopeID: dsn.EnvID, ReturnFull: strings.EqualFold(dsn.Ret, "FULL") && !requireTLS}
	for _, f := range report {
		action := f.Action
		if action == "" {
			action = "failed"
		}
		d.Recipients = append(d.Recipients, message.DSNRecipient{Address: f.Address, Action: action, Status: f.Status,
			DiagnosticCode: f.Diagnostic, RemoteMTA: f.RemoteMTA, OriginalRecipient: orcptOf(dsn, f.Address)})
	}
	raw, err := message.BuildDSN(d, s.cfg.Hostname)
	if err != nil {
		return fmt.Errorf("build DSN: %w", err)
	}
	if noticeKind(report[0].Action) != NotifySuccess {
		s.metrics.Bounced.Add(1)
	}
	u, remote, err := s.bounceTarget(ctx, sender)
	switch {
	case err == nil && remote == "":
		return s.deliverTo(ctx, u.ID, storage.RoleInbox, raw)
	case err == nil || errors.Is(err, ErrRelayDenied):
		// A remote sender, or the original sender of a forward (SRS decoded).
		if remote == "" {
			remote = sender
		}
		now := time.Now()
		qi := &storage.QueueItem{Sender: "", Recipients: []string{remote}, Segments: []storage.Segment{s.segment(raw)},
			Size: int64(len(raw)), State: storage.QueueQueued, NextAttemptAt: now, CreatedAt: now, Results: map[string]string{},
			RequireTLS: requireTLS}
		if err := s.store2(ctx, storage.Batch{Queue: []*storage.QueueItem{qi}}, [][]byte{raw}); err != nil {
			return err
		}
		s.WakeQueue()
		return nil
	default:
		s.log.Info("bounce dropped: sender is not deliverable", "sender", sender, "err", err)
		return nil
	}
}

func suppressKey(domain, rcpt string) string {
	return "suppress/" + strings.ToLower(domain) + "/" + strings.ToLower(rcpt)
}

func (s *Service) suppress(ctx context.Context, domain, rcpt, why string) {
	v := time.Now().UTC().Format(time.RFC3339) + " " + why
	if err := s.store.PutKV(ctx, suppressKey(domain, rcpt), []byte(v)); err != nil {
		s.log.Warn("suppression list update failed", "rcpt", rcpt, "err", err)
	}
}

func (s *Service) isSuppressed(ctx context.Context, domain, rcpt string) bool {
	_, err := s.store.GetKV(ctx, suppressKey(domain, rcpt))
	return err == nil
}

// Suppression is an address that hard-bounced for a sender domain.
type Suppression struct {
	Domain, Address, Reason string
}

// ListSuppressed returns a domain's suppression list ("" for every domain).
func (s *Service) ListSuppressed(ctx context.Context, domain string) ([]Suppression, error) {
	prefix := "suppress/"
	if domain != "" {
		prefix += strings.ToLower(domain) + "/"
	}
	keys, err := s.store.ListKV(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []Suppression
	for _, k := range keys {
		parts := strings.SplitN(strings.TrimPrefix(k, "suppress/"), "/", 2)
		if len(parts) != 2 {
			continue
		}
		v, _ := s.store.GetKV(ctx, k)
		out = append(out, Suppression{Domain: parts[0], Address: parts[1], Reason: string(v)})
	}
	return out, nil
}

// Unsuppress removes an address from a domain's suppression list.
func (s *Service) Unsuppress(ctx context.Context, domain, rcpt string) error {
	return s.store.DeleteKV(ctx, suppressKey(domain, rcpt))
}
