package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// TestTryLockAcrossStores plays two nodes on one database: a lock taken on
// one is refused on both until released, and a node whose store closes (as
// its connection drops when it is killed) leaves no lock behind.
func TestTryLockAcrossStores(t *testing.T) {
	n1, n2 := openTest(t, 2), openTest(t, 2)
	n2.schema = n1.schema // the same installation: one schema
	ctx := t.Context()
	unlock, err := n1.TryLock(ctx, "pop3:1")
	if err != nil {
		t.Fatalf("first TryLock: %v", err)
	}
	for name, s := range map[string]*Store{"same node": n1, "other node": n2} {
		if _, err := s.TryLock(ctx, "pop3:1"); !errors.Is(err, storage.ErrLocked) {
			t.Errorf("%s: TryLock of a held lock: got %v, want ErrLocked", name, err)
		}
	}
	other, err := n2.TryLock(ctx, "pop3:2")
	if err != nil {
		t.Fatalf("TryLock of another name: %v", err)
	}
	unlock()
	unlock() // a second call is harmless
	u2, err := n2.TryLock(ctx, "pop3:1")
	if err != nil {
		t.Fatalf("TryLock after unlock on the other node: %v", err)
	}
	// n2 "dies": its lock session ends, and the database releases its locks
	// once that backend has gone, which takes a moment after the close.
	n2.locks.close()
	var u1 func()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		u1, err = n1.TryLock(ctx, "pop3:1")
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("TryLock after the holder's connection closed: %v", err)
		}
	}
	u2()    // releasing a lock of a dead session is a no-op
	other() // likewise
	if _, err := n2.TryLock(ctx, "pop3:1"); !errors.Is(err, storage.ErrLocked) {
		t.Errorf("TryLock on the restarted node: got %v, want ErrLocked", err)
	}
	u1()
}
