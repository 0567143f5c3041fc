package smtp_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/smtp/smtpload"
)

// BenchmarkSMTPAccept measures durable accepted messages per second: N
// connections (8, the target's figure, and 32) sending 10 KB messages to the
// real MX server on SQLite.
func BenchmarkSMTPAccept(b *testing.B) {
	for _, conns := range []int{8, 32} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) { benchAccept(b, conns) })
	}
}

func benchAccept(b *testing.B, conns int) {
	svc := coretest.New(b, coretest.Options{})
	coretest.User(b, svc, "a@example.test")
	addr, _ := start(b, mxOpts(svc))
	b.ResetTimer()
	res, err := smtpload.Run(context.Background(), smtpload.Options{
		Addr: addr, Connections: conns, Messages: b.N, Size: 10 << 10,
		From: "load@remote.example", To: "a@example.test",
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Failed > 0 {
		b.Fatalf("failed: got %d, want 0 (first error: %s)", res.Failed, res.FirstErr)
	}
	b.ReportMetric(res.PerSecond, "msgs/s")
	b.ReportMetric(float64(res.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(res.P99.Microseconds()), "p99-µs")
}
