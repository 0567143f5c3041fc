package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// resultOK is the Results value of a delivered recipient.
const resultOK = "ok"

// result is the outcome for one recipient in one attempt.
type result struct {
	code   int    // SMTP reply code; 250 when delivered
	enh    string // enhanced status code, e.g. "5.1.1"
	text   string
	remote string // the MTA that answered, "" when none did
	// dsnPassed: the MTA that accepted supports DSN and got the NOTIFY
	// parameters, so it, not we, reports success (RFC 3461 section 6.2.1).
	dsnPassed bool
}

func (r result) ok() bool        { return r.code/100 == 2 }
func (r result) permanent() bool { return r.code/100 == 5 }

// String is the value stored in QueueItem.Results: "ok" or "550 5.1.1 text".
func (r result) String() string {
	if r.ok() {
		return resultOK
	}
	return fmt.Sprintf("%d %s %s", r.code, r.enh, r.text)
}

// status returns the RFC 3463 status for a DSN.
func (r result) status() string {
	if r.enh != "" {
		return r.enh
	}
	return fmt.Sprintf("%d.0.0", r.code/100)
}

func tempResult(enh, format string, args ...any) result {
	return result{code: 451, enh: enh, text: fmt.Sprintf(format, args...)}
}

func permResult(code int, enh, format string, args ...any) result {
	return result{code: code, enh: enh, text: fmt.Sprintf(format, args...)}
}

// attempt delivers the item's pending recipients, one SMTP transaction per
// domain, then records the outcome with core.UpdateQueue.
func (w *Worker) attempt(ctx context.Context, log *slog.Logger, it core.QueueItem) {
	if it.Results == nil {
		it.Results = map[string]string{}
	}
	var pending []string
	for _, r := range it.Recipients {
		prev := it.Results[r]
		if prev == resultOK || strings.HasPrefix(prev, "5") {
			continue // done, or failed for good and already bounced
		}
		pending = append(pending, r)
	}
	results := map[string]result{}
	raw, err := w.svc.ReadQueueMessage(ctx, it)
	if err != nil {
		log.Error("reading queued message failed", "err", err)
		for _, r := range pending {
			results[r] = tempResult("4.3.0", "local error reading the message")
		}
	} else {
		var order []string
		byDomain := map[string][]string{}
		for _, r := range pending {
			d := domainOf(r)
			if _, ok := byDomain[d]; !ok {
				order = append(order, d)
			}
			byDomain[d] = append(byDomain[d], r)
		}
		for _, d := range order {
			for r, res := range w.deliverDomain(ctx, log, d, it.Sender, byDomain[d], raw, it.RequireTLS, it.DSN) {
				results[r] = res
			}
		}
	}
	w.finish(ctx, log, it, pending, results)
}

// finish applies an attempt's results: bounces permanent failures (and
// temporary ones past MaxAge), schedules a retry for the rest, and records
// the item.
func (w *Worker) finish(ctx context.Context, log *slog.Logger, it core.QueueItem, pending []string, results map[string]result) {
	now := time.Now()
	it.Attempts++
	var failed, relayed []core.BounceRecipient
	var temp []string
	it.LastError = ""
	for _, r := range pending {
		res, ok := results[r]
		if !ok {
			res = tempResult("4.3.0", "not attempted")
		}
		it.Results[r] = res.String()
		if !res.ok() && it.LastError == "" {
			it.LastError = r + ": " + res.String()
		}
		switch {
		case res.ok():
			log.Info("delivered", "rcpt", r, "mta", res.remote)
			if !res.dsnPassed {
				relayed = append(relayed, core.BounceRecipient{Address: r, Status: "2.0.0", Action: "relayed",
					Diagnostic: "smtp; " + fmt.Sprintf("%d %s %s", res.code, res.enh, res.text), RemoteMTA: res.remote})
			}
		case res.permanent():
			log.Info("delivery failed", "rcpt", r, "mta", res.remote, "reply", res.String())
			failed = append(failed, bounceOf(r, res, "failed"))
		default:
			log.Info("delivery deferred", "rcpt", r, "mta", res.remote, "reply", res.String())
			temp = append(temp, r)
		}
	}
	interrupted := ctx.Err() != nil
	if len(temp) > 0 && !interrupted && now.Sub(it.CreatedAt) >= w.o.MaxAge {
		// RFC 5321 section 4.5.4.1: give up after the retry period; 4.4.7
		// is "delivery time expired" (RFC 3463).
		for _, r := range temp {
			res := results[r]
			b := bounceOf(r, res, "failed")
			b.Status = "4.4.7"
			b.Diagnostic = "smtp; " + res.String() + " (retried for " + w.o.MaxAge.String() + ")"
			failed = append(failed, b)
		}
		log.Info("giving up after MaxAge", "rcpts", len(temp), "age", now.Sub(it.CreatedAt).Round(time.Second))
		temp = nil
	}
	if len(failed) > 0 {
		if err := w.svc.Bounce(ctx, it, failed); err != nil {
			// Without the DSN the failure must not be final: forget these
			// outcomes so the recipients are tried (and bounced) again.
			log.Error("bounce failed; will retry the recipients", "err", err)
			for _, f := range failed {
				delete(it.Results, f.Address)
				temp = append(temp, f.Address)
			}
			failed = nil
		}
	}
	if len(relayed) > 0 {
		// RFC 3461 section 6.2.1: NOTIFY=SUCCESS through a next hop without
		// DSN: we say "relayed" (Bounce sends only what NOTIFY asks for).
		if err := w.svc.Bounce(ctx, it, relayed); err != nil {
			log.Warn("success notice (relayed) failed", "err", err)
		}
	}
	if len(temp) > 0 && !interrupted && now.Sub(it.CreatedAt) >= w.o.DelayNotice {
		// RFC 3461/3464: one "delayed" notice, to the recipients whose
		// NOTIFY allows it (NotifyDelay filters and remembers).
		var delayed []core.BounceRecipient
		for _, r := range temp {
			res, ok := results[r]
			if !ok {
				res = tempResult("4.3.0", "not attempted")
			}
			delayed = append(delayed, bounceOf(r, res, "delayed"))
		}
		if err := w.svc.NotifyDelay(ctx, &it, delayed); err != nil {
			log.Warn("delay notice failed; will try again on the next attempt", "err", err)
		}
	}
	switch {
	case len(temp) > 0:
		it.State = storage.QueueQueued
		if interrupted {
			it.NextAttemptAt = now // shutdown cut the attempt short: retry on the next start
		} else {
			it.NextAttemptAt = now.Add(w.backoff(it.Attempts))
		}
	case anyFailed(it):
		it.State = storage.QueueFailed
	default:
		it.State = storage.QueueDelivered
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), updateTimeout)
	defer cancel()
	if err := w.svc.UpdateQueue(uctx, it); err != nil {
		log.Error("recording delivery attempt failed", "err", err, "state", it.State)
		return
	}
	log.Debug("attempt recorded", "state", it.State, "attempts", it.Attempts, "next", it.NextAttemptAt)
}

// anyFailed reports whether a recipient was not delivered (5xx, or 4xx past MaxAge).
func anyFailed(it core.QueueItem) bool {
	for _, r := range it.Recipients {
		if it.Results[r] != resultOK {
			return true
		}
	}
	return false
}

func bounceOf(rcpt string, res result, action string) core.BounceRecipient {
	b := core.BounceRecipient{Address: rcpt, Status: res.status(), Diagnostic: "smtp; " + fmt.Sprintf("%d %s %s", res.code, res.enh, res.text), Action: action}
	if res.remote != "" {
		b.RemoteMTA = res.remote // BuildDSN writes "dns; host"
	}
	return b
}

// backoff is MinBackoff doubled per earlier attempt, capped at MaxBackoff,
// with ±10% jitter so that items failing together do not retry together
// (RFC 5321 section 4.5.4.1).
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.o.MinBackoff
	for i := 1; i < attempts && d < w.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.o.MaxBackoff)
	j := d / 10
	if j > 0 {
		d += time.Duration(rand.Int64N(int64(2*j))) - j
	}
	return d
}

func domainOf(addr string) string {
	return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
}
