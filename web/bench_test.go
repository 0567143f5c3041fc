package web

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// BenchmarkAPI measures API latency over HTTP on a store of 100,000
// messages (STAMP_BENCH_MESSAGES overrides the count). The store is built
// only here: 1,000 distinct messages appended, then copied into INBOX until
// it holds the count (copies share blobs and get their own search rows).
func BenchmarkAPI(b *testing.B) {
	total := 100000
	if v, err := strconv.Atoi(os.Getenv("STAMP_BENCH_MESSAGES")); err == nil && v > 0 {
		total = v
	}
	e := newEnv(b, Options{})
	a := e.newUser("bench@example.test")
	ctx := context.Background()
	inbox := a.folderID("inbox")
	seed, err := e.svc.CreateMailbox(ctx, a.user.ID, "Seed", "")
	if err != nil {
		b.Fatal(err)
	}
	const distinct = 1000
	start := time.Now()
	appendMany(b, e.svc, a.user.ID, seed.ID, min(distinct, total), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	ms, err := e.svc.ListMessages(ctx, a.user.ID, seed.ID, listAll(distinct))
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	for n := 0; n < total; n += len(ids) {
		if _, err := e.svc.Copy(ctx, a.user.ID, seed.ID, ids, inbox); err != nil {
			b.Fatal(err)
		}
	}
	mb, _ := e.svc.GetMailbox(ctx, a.user.ID, inbox)
	b.Logf("store: %d messages in INBOX, built in %v", mb.Total, time.Since(start).Round(time.Millisecond))

	run := func(name, path string) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if st := a.call("GET", path, nil, nil); st != 200 {
					b.Fatalf("%s: status %d", path, st)
				}
			}
		})
	}
	var page struct {
		NextCursor *string `json:"next_cursor"`
	}
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages?limit=50", inbox), nil, &page)
	deep := ""
	if page.NextCursor != nil {
		deep = *page.NextCursor
	}
	run("list first page", fmt.Sprintf("/v1/folders/%d/messages?limit=50", inbox))
	run("list next page", fmt.Sprintf("/v1/folders/%d/messages?limit=50&cursor=%s", inbox, deep))
	run("list unread", fmt.Sprintf("/v1/folders/%d/messages?limit=50&unread=true", inbox))
	run("search word", "/v1/search?q=alpha3&limit=50")
	run("search rare word", "/v1/search?q=topic42&limit=50")
	run("search operators", "/v1/search?q="+urlQuery("from:bulk7 is:unread mentions")+"&limit=50")
}

// listAll lists up to n messages.
func listAll(n int) core.ListQuery { return core.ListQuery{Limit: n} }
