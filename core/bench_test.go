package core_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// BenchmarkDeliver measures durable deliveries per second through the whole
// pipeline (parse, blobs with fsync, group commit) on SQLite, with 8
// concurrent senders as an SMTP server would have.
func BenchmarkDeliver(b *testing.B) {
	for _, size := range []int{10 << 10, 100 << 10} {
		for _, senders := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("size=%dKB/senders=%d", size>>10, senders), func(b *testing.B) {
				svc := coretest.New(b, coretest.Options{})
				u := coretest.User(b, svc, "bench@example.test")
				body := strings.Repeat("lorem ipsum dolor sit amet ", size/27)
				deliverConcurrently(b, svc, u.Address, body, senders)
			})
		}
	}
}

// deliverConcurrently delivers b.N messages of body to rcpt from senders
// goroutines and reports the rate: the loop of the Deliver benchmarks.
func deliverConcurrently(b *testing.B, svc *core.Service, rcpt, body string, senders int) {
	ctx := context.Background()
	var n atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range senders {
		wg.Go(func() {
			for n.Add(1) <= int64(b.N) {
				raw := simpleMessage("s@remote.example", rcpt, fmt.Sprint("m", n.Load()), body)
				if err := svc.Deliver(ctx, core.Envelope{MailFrom: "s@remote.example", Recipients: []string{rcpt}}, raw); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
