package core_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/postgres"
)

// TestGroupCommitPostgres drives group commit on PostgreSQL with many
// concurrent deliveries to three users, some of them invalid (a flag the
// store refuses) so that groups fail and are retried job by job: every
// valid delivery is committed once, every invalid one refused, and each
// INBOX's UIDs are 1..n.
func TestGroupCommitPostgres(t *testing.T) {
	dsn := os.Getenv("STAMP_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SKIPPED: STAMP_TEST_POSTGRES_DSN not set (eval \"$(scripts/pg-throwaway.sh)\")")
	}
	ctx := context.Background()
	st := coretest.PostgresStores(t, dsn, 1, postgres.Options{Partitions: 2})[0]
	dir := t.TempDir()
	bl, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	svc := coretest.New(t, coretest.Options{Dir: dir, Deps: core.Deps{Store: st, Blobs: bl}})
	var users []core.User
	var inboxes []int64
	for i := range 3 {
		u := coretest.User(t, svc, fmt.Sprintf("gc%d@example.test", i))
		mb, err := svc.GetMailboxByName(ctx, u.ID, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		users, inboxes = append(users, u), append(inboxes, mb.ID)
	}
	const workers, each = 16, 20
	var mu sync.Mutex
	stored := make([]int, len(users))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				k := (w + i) % len(users)
				flags := []string{`\Seen`}
				bad := (w*each+i)%7 == 3
				if bad {
					flags = []string{"bad flag"}
				}
				raw := []byte(fmt.Sprintf("Subject: chain %d-%d\r\nMessage-ID: <c%d-%d@example.test>\r\n\r\nbody %d\r\n", w, i, w, i, i))
				_, err := svc.Append(ctx, users[k].ID, inboxes[k], flags, time.Now(), raw)
				switch {
				case bad && !errors.Is(err, storage.ErrInvalid):
					t.Errorf("append %d-%d with a bad flag: got %v, want ErrInvalid", w, i, err)
				case !bad && err != nil:
					t.Errorf("append %d-%d: %v", w, i, err)
				case !bad:
					mu.Lock()
					stored[k]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for k, u := range users {
		ms, err := svc.MessagesByUID(ctx, u.ID, inboxes[k], 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != stored[k] {
			t.Errorf("%s: %d messages stored, want %d", u.Address, len(ms), stored[k])
		}
		for i, m := range ms {
			if m.UID != uint32(i+1) {
				t.Errorf("%s: message %d has UID %d, want %d", u.Address, i, m.UID, i+1)
				break
			}
		}
	}
}
