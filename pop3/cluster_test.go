package pop3

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage/postgres"
)

// TestMaildropLockAcrossNodes runs two POP3 nodes on one PostgreSQL
// database: a user's maildrop locked on one node is [IN-USE] on the other
// until QUIT, and a connection that drops without QUIT frees it too.
func TestMaildropLockAcrossNodes(t *testing.T) {
	dsn := os.Getenv("STAMP_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SKIPPING PostgreSQL tests: STAMP_TEST_POSTGRES_DSN is not set (eval \"$(scripts/pg-throwaway.sh)\")")
	}
	var nodes []*testEnv
	for _, st := range coretest.PostgresStores(t, dsn, 2, postgres.Options{Partitions: 2, MaxConns: 4}) {
		svc := coretest.New(t, coretest.Options{Deps: core.Deps{Store: st}})
		nodes = append(nodes, newEnvWith(t, svc, envOptions{allowInsecure: true}))
	}
	u, inbox := nodes[0].user(t, "a@example.test")
	nodes[0].add(t, u, inbox, "Subject: one\r\n\r\nbody\r\n")

	c1 := dial(t, nodes[0].addr)
	c1.login("a@example.test")
	c2 := dial(t, nodes[1].addr)
	c2.expectOK("USER a@example.test")
	if r := c2.cmd("PASS %s", coretest.Password); !strings.HasPrefix(r, "-ERR [IN-USE]") {
		t.Fatalf("login on the other node while locked: got %q, want -ERR [IN-USE]", r)
	}
	c1.expectOK("QUIT")
	c2.login("a@example.test") // free on every node right after QUIT's reply
	if r := c2.expectOK("STAT"); !strings.HasPrefix(r, "+OK 1 ") {
		t.Errorf("STAT on the other node: got %q, want 1 message", r)
	}

	// A session that vanishes without QUIT releases the lock as well.
	c2.nc.Close()
	c3 := dial(t, nodes[0].addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c3.expectOK("USER a@example.test")
		r := c3.cmd("PASS %s", coretest.Password)
		if strings.HasPrefix(r, "+OK") {
			break
		}
		if !strings.HasPrefix(r, "-ERR [IN-USE]") || time.Now().After(deadline) {
			t.Fatalf("login after the holder dropped its connection: got %q, want +OK", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c3.expectOK("QUIT")
}
