package storagetest

import (
	"errors"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

// testQuotaUsage checks that usage follows every way mail comes and goes.
func testQuotaUsage(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "quota@example.com")
	want := func(step string, bytes, msgs int64) {
		t.Helper()
		got, err := s.Usage(ctx, u.ID)
		if err != nil || got.Bytes != bytes || got.Messages != msgs {
			t.Errorf("%s: got %+v, %v, want %d bytes in %d messages", step, got, err, bytes, msgs)
		}
	}
	if got, err := s.Usage(ctx, u.ID); err != nil || got.Quota != storage.QuotaDefault {
		t.Errorf("new user: got %+v, %v, want the default quota", got, err)
	}
	want("new user", 0, 0)
	m1, m2 := newMsg(u.ID, inbox.ID), newMsg(u.ID, inbox.ID)
	m1.Size, m2.Size = 1000, 500
	deliver(t, s, m1, m2)
	want("delivered", 1500, 2)
	folder, err := s.CreateMailbox(ctx, u.ID, "Folder", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(ctx, u.ID, inbox.ID, []int64{m1.ID}, folder.ID); err != nil {
		t.Fatal(err)
	}
	want("copied", 2500, 3)
	if n, err := s.MessagesSize(ctx, u.ID, inbox.ID, []int64{m1.ID, m2.ID, m1.ID, 999999}); err != nil || n != 1500 {
		t.Errorf("MessagesSize: got %d, %v, want 1500", n, err)
	}
	if _, err := s.Move(ctx, u.ID, inbox.ID, []int64{m2.ID}, folder.ID); err != nil {
		t.Fatal(err)
	}
	want("moved", 2500, 3)
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m1.ID}); err != nil {
		t.Fatal(err)
	}
	want("expunged", 1500, 2)
	if _, err := s.DeleteMailbox(ctx, u.ID, folder.ID); err != nil {
		t.Fatal(err)
	}
	want("mailbox deleted", 0, 0)
	if err := s.SetQuota(ctx, u.ID, 5<<30); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Usage(ctx, u.ID); got.Quota != 5<<30 {
		t.Errorf("SetQuota: got %d, want %d", got.Quota, int64(5<<30))
	}
	if err := s.SetQuota(ctx, u.ID, -2); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("SetQuota(-2): got %v, want ErrInvalid", err)
	}
	if err := s.SetQuota(ctx, 987654321, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetQuota(no user): got %v, want ErrNotFound", err)
	}
	if _, err := s.Usage(ctx, 987654321); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Usage(no user): got %v, want ErrNotFound", err)
	}
}
