package check

import (
	"context"
	"net"
	"sync"
	"time"
)

// dnsClient resolves through the system's resolver, or Go's own resolver
// talking only to Config.DNSServer, giving every query its own timeout. It
// satisfies blitiri.com.ar/go/spf's DNSResolver.
type dnsClient struct {
	r       *net.Resolver
	timeout time.Duration
	cache   *dnsCache
}

// dnsCacheTTL is how long an answer (or a "does not exist") is reused. Go's
// resolver does not expose record TTLs, so one short bound stands in for
// them: long enough that a stream of mail from one domain costs one SPF and
// DMARC lookup, short enough that DNS changes are seen within a minute.
const dnsCacheTTL = time.Minute

// dnsCacheMax bounds the cache's entries.
const dnsCacheMax = 20000

// dnsCache keeps recent answers, including "not found"; timeouts and server
// failures are never cached.
type dnsCache struct {
	mu      sync.Mutex
	entries map[string]dnsEntry
}

type dnsEntry struct {
	val any
	err error
	at  time.Time
}

func cached[T any](c *dnsCache, key string, lookup func() (T, error)) (T, error) {
	if c == nil {
		return lookup()
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && time.Since(e.at) < dnsCacheTTL {
		v, _ := e.val.(T)
		return v, e.err
	}
	v, err := lookup()
	if err == nil || isNotFound(err) {
		c.mu.Lock()
		if len(c.entries) >= dnsCacheMax {
			for k, old := range c.entries {
				if time.Since(old.at) >= dnsCacheTTL || len(c.entries) >= dnsCacheMax {
					delete(c.entries, k)
				}
			}
		}
		c.entries[key] = dnsEntry{val: v, err: err, at: time.Now()}
		c.mu.Unlock()
	}
	return v, err
}

func newDNSClient(cfg Config) dnsClient {
	c := dnsClient{r: &net.Resolver{}, timeout: cfg.DNSTimeout, cache: &dnsCache{entries: map[string]dnsEntry{}}}
	if c.timeout <= 0 {
		c.timeout = DefaultDNSTimeout
	}
	if cfg.DNSServer != "" {
		server := cfg.DNSServer
		c.r = &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, server)
			},
		}
	}
	return c
}

func (c dnsClient) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return cached(c.cache, "LookupTXT:"+name, func() ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		return c.r.LookupTXT(ctx, name)
	})
}

func (c dnsClient) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return cached(c.cache, "LookupMX:"+name, func() ([]*net.MX, error) {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		return c.r.LookupMX(ctx, name)
	})
}

func (c dnsClient) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return cached(c.cache, "LookupIPAddr:"+host, func() ([]net.IPAddr, error) {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		return c.r.LookupIPAddr(ctx, host)
	})
}

func (c dnsClient) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return cached(c.cache, "LookupAddr:"+addr, func() ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		return c.r.LookupAddr(ctx, addr)
	})
}

// txtFunc adapts the client to go-msgauth's ctx-less LookupTXT hooks,
// bounding each query and stopping with ctx.
func (c dnsClient) txtFunc(ctx context.Context) func(string) ([]string, error) {
	return func(name string) ([]string, error) { return c.LookupTXT(ctx, name) }
}

// isNotFound reports whether err means the name or record does not exist
// (as opposed to a timeout or server failure).
func isNotFound(err error) bool {
	var de *net.DNSError
	if ok := asDNSError(err, &de); ok {
		return de.IsNotFound
	}
	return false
}
