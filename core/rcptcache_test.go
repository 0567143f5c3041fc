package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// TestRecipientCache: an unknown recipient is not remembered (a user
// created next is found at once), and a user deleted on this node is
// refused at once.
func TestRecipientCache(t *testing.T) {
	svc := coretest.New(t, coretest.Options{})
	ctx := context.Background()
	coretest.User(t, svc, "first@example.test")
	if _, err := svc.CheckRecipient(ctx, "later@example.test"); !errors.Is(err, core.ErrNoSuchUser) {
		t.Fatalf("unknown user: got %v, want ErrNoSuchUser", err)
	}
	coretest.User(t, svc, "later@example.test")
	if _, err := svc.CheckRecipient(ctx, "later@example.test"); err != nil {
		t.Errorf("user created after a miss: got %v, want found", err)
	}
	if _, err := svc.CheckRecipient(ctx, "later+tag@example.test"); err != nil {
		t.Errorf("+tag of a cached user: got %v, want found", err)
	}
	if err := svc.DeleteUser(ctx, "later@example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CheckRecipient(ctx, "later@example.test"); !errors.Is(err, core.ErrNoSuchUser) {
		t.Errorf("user deleted on this node: got %v, want ErrNoSuchUser", err)
	}
}
