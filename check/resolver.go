package check

import (
	"context"
	"net"
	"time"
)

// dnsClient resolves through the system's resolver, or Go's own resolver
// talking only to Config.DNSServer, giving every query its own timeout. It
// satisfies blitiri.com.ar/go/spf's DNSResolver.
type dnsClient struct {
	r       *net.Resolver
	timeout time.Duration
}

func newDNSClient(cfg Config) dnsClient {
	c := dnsClient{r: &net.Resolver{}, timeout: cfg.DNSTimeout}
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
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.r.LookupTXT(ctx, name)
}

func (c dnsClient) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.r.LookupMX(ctx, name)
}

func (c dnsClient) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.r.LookupIPAddr(ctx, host)
}

func (c dnsClient) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.r.LookupAddr(ctx, addr)
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
