package imap

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/postgres"
)

// TestImaptestStressCluster runs TestImaptestStress's load on two nodes
// sharing one PostgreSQL database and one blob store, behind a
// round-robin TCP balancer: imaptest's clients land on both nodes in turn
// and check each other's view of the mailbox, so every change one node
// makes must reach the sessions of the other (events over LISTEN/NOTIFY,
// the change log) with the same UIDs, flags, keywords, MODSEQs and
// \Recent once per cluster.
func TestImaptestStressCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("imaptest stress takes 10 s a mode; skipped with -short")
	}
	dsn := os.Getenv("STAMP_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SKIPPED LOUDLY: STAMP_TEST_POSTGRES_DSN not set (scripts/test.sh starts a throwaway PostgreSQL)")
	}
	stressModes(t, " on two PostgreSQL nodes", func(t *testing.T) (*env, string) {
		nodes := pgNodes(t, dsn, 2)
		return nodes[0], roundRobin(t, nodes[0].addr, nodes[1].addr)
	})
}

// pgNodes starts n servers, each with its own core and store, on one
// fresh schema of PostgreSQL dsn (dropped at cleanup) and one blob store:
// nodes of a cluster.
func pgNodes(t *testing.T, dsn string, n int) []*env {
	t.Helper()
	blobs, err := fs.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*env
	for _, st := range coretest.PostgresStores(t, dsn, n, postgres.Options{Partitions: 2, MaxConns: 8}) {
		svc := coretest.New(t, coretest.Options{Deps: core.Deps{Store: st, Blobs: blobs}})
		nodes = append(nodes, newEnvWith(t, svc, st, Options{AllowInsecureAuth: true}))
	}
	return nodes
}

// roundRobin listens on loopback and passes each connection to the next
// of backends in turn, a minimal TCP load balancer.
func roundRobin(t *testing.T, backends ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backends[n%len(backends)])
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				io.Copy(dst, src)
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
			}
			go pipe(b, c)
			go pipe(c, b)
		}
	}()
	return ln.Addr().String()
}
