package smtp_test

import (
	"context"
	"testing"

	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/smtp/smtpload"
)

// BenchmarkSMTPAccept measures durable accepted messages per second: 8
// connections sending 10 KB messages to the real MX server on SQLite.
func BenchmarkSMTPAccept(b *testing.B) {
	svc := coretest.New(b, coretest.Options{})
	coretest.User(b, svc, "a@example.test")
	addr, _ := start(b, mxOpts(svc))
	b.ResetTimer()
	res, err := smtpload.Run(context.Background(), smtpload.Options{
		Addr: addr, Connections: 8, Messages: b.N, Size: 10 << 10,
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
