package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
)

// TestQuotaAppendCopy: APPEND and COPY that would exceed the quota return
// ErrOverQuota and store nothing; MOVE needs no room; Quota follows.
func TestQuotaAppendCopy(t *testing.T) {
	ctx := context.Background()
	svc := coretest.New(t, coretest.Options{})
	u := coretest.User(t, svc, "q@example.test")
	inbox, err := svc.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := svc.GetMailboxByRole(ctx, u.ID, storage.RoleArchive)
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("From: a@example.test\r\nSubject: x\r\n\r\n" + strings.Repeat("body ", 100) + "\r\n")
	if err := svc.SetQuota(ctx, u.Address, int64(len(raw))*3/2); err != nil {
		t.Fatal(err)
	}
	m, err := svc.Append(ctx, u.ID, inbox.ID, nil, time.Time{}, raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Append(ctx, u.ID, inbox.ID, nil, time.Time{}, raw); !errors.Is(err, core.ErrOverQuota) {
		t.Errorf("second Append: got %v, want ErrOverQuota", err)
	}
	if _, err := svc.Copy(ctx, u.ID, inbox.ID, []int64{m.ID}, arch.ID); !errors.Is(err, core.ErrOverQuota) {
		t.Errorf("Copy: got %v, want ErrOverQuota", err)
	}
	if _, err := svc.Move(ctx, u.ID, inbox.ID, []int64{m.ID}, arch.ID); err != nil {
		t.Errorf("Move: got %v, want it to need no room", err)
	}
	used, limit, n, err := svc.Quota(ctx, u.ID)
	if err != nil || used != int64(len(raw)) || limit != int64(len(raw))*3/2 || n != 1 {
		t.Errorf("Quota: got %d/%d %d msgs, %v, want %d/%d 1 msg", used, limit, n, err, len(raw), len(raw)*3/2)
	}
}
