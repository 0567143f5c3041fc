package server

import (
	"fmt"
	"net"

	"github.com/stamp-mail/stamp/core/listener"
)

// httpPerIPFactor scales limits.max_connections_per_ip for the HTTP
// listeners: a browser keeps several connections per host (about six, plus
// a WebSocket) and one address often hides a whole office.
const httpPerIPFactor = 4

// busyBody is the answer to a plain-HTTP connection refused at accept (503,
// RFC 9110 section 15.6.4); TLS connections are closed without a word,
// since nothing can be said before the handshake.
const busyBody = `{"error":"too many connections, retry in a few seconds"}`

// limitHTTP caps an HTTP listener's connections globally (exactly
// limits.max_connections) and per remote IP, with core/listener's Limiter.
func limitHTTP(ln net.Listener, l LimitsConfig, tls bool) net.Listener {
	lim := listener.NewLimiter(l.MaxConnections, httpPerIPFactor*l.MaxConnectionsPerIP)
	return listener.LimitListener(ln, lim, func(c net.Conn, _ listener.Reason) {
		if !tls {
			fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"+
				"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(busyBody), busyBody)
		}
	})
}
