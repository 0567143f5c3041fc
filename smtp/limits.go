package smtp

import (
	"net"
	"sync"
	"time"
)

// ipRate counts events (new connections and messages) per remote IP in fixed
// windows; allow reports whether one more event fits.
type ipRate struct {
	limit  int
	window time.Duration

	// mu guards m.
	mu sync.Mutex
	m  map[string]*rateWindow
}

type rateWindow struct {
	start time.Time
	n     int
}

// maxTrackedIPs bounds the map before stale windows are pruned.
const maxTrackedIPs = 10000

func newIPRate(limit int, window time.Duration) *ipRate {
	return &ipRate{limit: limit, window: window, m: map[string]*rateWindow{}}
}

// allow counts one event for ip and reports whether it is within the limit.
// A limit of 0 or less allows everything.
func (r *ipRate) allow(ip net.IP) bool {
	if r.limit <= 0 || ip == nil {
		return true
	}
	now := time.Now()
	key := ip.String()
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.m[key]
	if w == nil || now.Sub(w.start) >= r.window {
		if w == nil && len(r.m) >= maxTrackedIPs {
			r.pruneLocked(now)
		}
		w = &rateWindow{start: now}
		r.m[key] = w
	}
	if w.n >= r.limit {
		return false
	}
	w.n++
	return true
}

func (r *ipRate) pruneLocked(now time.Time) {
	for k, w := range r.m {
		if now.Sub(w.start) >= r.window {
			delete(r.m, k)
		}
	}
}
