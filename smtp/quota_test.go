package smtp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// TestQuota drives over-quota delivery through go-smtp's client: 552 5.2.2
// at DATA when the message would not fit, 452 4.2.2 at RCPT once the
// mailbox is full, nothing stored touched, and room again after an expunge.
func TestQuota(t *testing.T) {
	ctx := context.Background()
	svc, us := newService(t)
	a, b := us[0], us[1]
	addr, _ := start(t, mxOpts(svc))

	if err := svc.SetQuota(ctx, a.Address, 4096); err != nil {
		t.Fatal(err)
	}
	c := dial(t, addr)
	if err := send(c, "x@remote.test", []string{a.Address}, msg("x@remote.test", a.Address, "first")); code(err) != "ok" {
		t.Fatalf("first message: got %s, want ok", code(err))
	}
	used1, limit, n, err := svc.Quota(ctx, a.ID)
	if err != nil || limit != 4096 || n != 1 || used1 <= 0 {
		t.Fatalf("Quota after one message: used %d limit %d messages %d, %v", used1, limit, n, err)
	}
	big := msg("x@remote.test", a.Address, "big") + strings.Repeat("0123456789abcdef\r\n", 300)
	if err := send(c, "x@remote.test", []string{a.Address}, big); code(err) != "552 5.2.2" {
		t.Errorf("message over quota: got %s, want 552 5.2.2", code(err))
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if used, _, n, _ := svc.Quota(ctx, a.ID); used != used1 || n != 1 {
		t.Errorf("after refused DATA: used %d, %d messages, want %d, 1 (nothing stored)", used, n, used1)
	}
	// Full: the limit is what is stored now. RCPT answers 452 4.2.2, other
	// recipients of the same transaction are still accepted.
	if err := svc.SetQuota(ctx, a.Address, used1); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("x@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(a.Address, nil); code(err) != "452 4.2.2" {
		t.Errorf("RCPT to a full mailbox: got %s, want 452 4.2.2", code(err))
	}
	if err := c.Rcpt(b.Address, nil); err != nil {
		t.Errorf("RCPT to another user: %v", err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if got := inbox(t, svc, a); len(got) != 1 || got[0].Subject != "first" {
		t.Errorf("stored mail after refusals: got %d messages, want the first one untouched", len(got))
	}
	// An expunge frees the room: usage drops to zero, mail is accepted again.
	mb, err := svc.GetMailboxByRole(ctx, a.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Expunge(ctx, a.ID, mb.ID, []int64{inbox(t, svc, a)[0].ID}); err != nil {
		t.Fatal(err)
	}
	if used, _, n, _ := svc.Quota(ctx, a.ID); used != 0 || n != 0 {
		t.Errorf("after expunge: used %d, %d messages, want 0, 0", used, n)
	}
	if err := send(c, "x@remote.test", []string{a.Address}, msg("x@remote.test", a.Address, "again")); code(err) != "ok" {
		t.Errorf("after expunge: got %s, want ok", code(err))
	}
	// Back to the default (none here): anything fits.
	if err := svc.SetQuota(ctx, a.Address, core.QuotaDefault); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "x@remote.test", []string{a.Address}, big); code(err) != "ok" {
		t.Errorf("default quota (none): got %s, want ok", code(err))
	}
}
