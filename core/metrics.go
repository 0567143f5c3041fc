package core

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics are the service's counters, exported in Prometheus text format by the web frontend.
type Metrics struct {
	Accepted     atomic.Int64 // messages accepted for delivery (one per message)
	Delivered    atomic.Int64 // mailbox copies stored
	Queued       atomic.Int64 // messages queued for remote delivery
	Rejected     atomic.Int64 // messages refused by checks or limits
	Bounced      atomic.Int64 // DSNs generated
	AuthFailures atomic.Int64

	mu       sync.Mutex
	sessions map[string]*atomic.Int64
	latency  map[string]*histogram
}

func newMetrics() *Metrics {
	return &Metrics{sessions: map[string]*atomic.Int64{}, latency: map[string]*histogram{}}
}

// SessionStarted counts an open session of a protocol; call the returned func when it ends.
func (m *Metrics) SessionStarted(proto string) (done func()) {
	m.mu.Lock()
	c := m.sessions[proto]
	if c == nil {
		c = new(atomic.Int64)
		m.sessions[proto] = c
	}
	m.mu.Unlock()
	c.Add(1)
	var once sync.Once
	return func() { once.Do(func() { c.Add(-1) }) }
}

// Observe records a request latency under a name (e.g. "http GET /v1/folders").
func (m *Metrics) Observe(name string, d time.Duration) {
	m.mu.Lock()
	h := m.latency[name]
	if h == nil {
		h = &histogram{}
		m.latency[name] = h
	}
	h.observe(d.Seconds())
	m.mu.Unlock()
}

var buckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5}

type histogram struct {
	counts [9]uint64
	sum    float64
	n      uint64
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(buckets, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

// WritePrometheus writes every metric in the Prometheus text exposition format.
func (m *Metrics) WritePrometheus(w io.Writer) {
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("stamp_messages_accepted_total", "Messages accepted for delivery.", m.Accepted.Load())
	counter("stamp_messages_delivered_total", "Mailbox copies stored.", m.Delivered.Load())
	counter("stamp_messages_queued_total", "Messages queued for remote delivery.", m.Queued.Load())
	counter("stamp_messages_rejected_total", "Messages refused by checks or limits.", m.Rejected.Load())
	counter("stamp_bounces_total", "Delivery status notifications generated.", m.Bounced.Load())
	counter("stamp_auth_failures_total", "Failed logins.", m.AuthFailures.Load())
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(w, "# HELP stamp_sessions Open sessions per protocol.\n# TYPE stamp_sessions gauge\n")
	protos := make([]string, 0, len(m.sessions))
	for p := range m.sessions {
		protos = append(protos, p)
	}
	sort.Strings(protos)
	for _, p := range protos {
		fmt.Fprintf(w, "stamp_sessions{proto=%q} %d\n", p, m.sessions[p].Load())
	}
	fmt.Fprintf(w, "# HELP stamp_request_seconds Request latency.\n# TYPE stamp_request_seconds histogram\n")
	names := make([]string, 0, len(m.latency))
	for n := range m.latency {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := m.latency[n]
		var cum uint64
		for i, b := range buckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "stamp_request_seconds_bucket{route=%q,le=\"%g\"} %d\n", n, b, cum)
		}
		fmt.Fprintf(w, "stamp_request_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", n, h.n)
		fmt.Fprintf(w, "stamp_request_seconds_sum{route=%q} %g\nstamp_request_seconds_count{route=%q} %d\n", n, h.sum, n, h.n)
	}
}
