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
// recipients to the item's sender: into the sender's INBOX when local, else
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
	dsn := QueueDSN(it)
	var report []BounceRecipient
	for _, f := range failed {
		kind := NotifyFailure
		if f.Action == "delayed" {
			kind = NotifyDelay
		}
		if dsnWants(dsn, f.Address, kind) {
			report = append(report, f)
		}
	}
	if len(report) == 0 {
		return nil
	}
	orig, err := s.ReadQueueMessage(ctx, it)
	if err != nil {
		return err
	}
	// RFC 8689 section 5: the notice about REQUIRETLS mail carries only
	// the original header and is itself sent with REQUIRETLS.
	d := message.DSN{ReportingMTA: s.cfg.Hostname, OriginalSender: it.Sender, Original: orig, Arrival: it.CreatedAt,
		EnvelopeID: dsn.EnvID, ReturnFull: strings.EqualFold(dsn.Ret, "FULL") && !it.RequireTLS}
	for _, f := range report {
		action := f.Action
		if action == "" {
			action = "failed"
		}
		d.Recipients = append(d.Recipients, message.DSNRecipient{Address: f.Address, Action: action, Status: f.Status,
			DiagnosticCode: f.Diagnostic, RemoteMTA: f.RemoteMTA, OriginalRecipient: dsn.Rcpts[f.Address].ORcpt})
	}
	raw, err := message.BuildDSN(d, s.cfg.Hostname)
	if err != nil {
		return fmt.Errorf("build DSN: %w", err)
	}
	s.metrics.Bounced.Add(1)
	u, remote, err := s.bounceTarget(ctx, it.Sender)
	switch {
	case err == nil && remote == "":
		return s.deliverTo(ctx, u.ID, storage.RoleInbox, raw)
	case err == nil || errors.Is(err, ErrRelayDenied):
		// A remote sender, or the original sender of a forward (SRS decoded).
		if remote == "" {
			remote = it.Sender
		}
		now := time.Now()
		qi := &storage.QueueItem{Sender: "", Recipients: []string{remote}, Segments: []storage.Segment{s.segment(raw)},
			Size: int64(len(raw)), State: storage.QueueQueued, NextAttemptAt: now, CreatedAt: now, Results: map[string]string{},
			RequireTLS: it.RequireTLS}
		if err := s.store2(ctx, storage.Batch{Queue: []*storage.QueueItem{qi}}, [][]byte{raw}); err != nil {
			return err
		}
		s.WakeQueue()
		return nil
	default:
		s.log.Info("bounce dropped: sender is not deliverable", "sender", it.Sender, "err", err)
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
