package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/acme"
)

// TestACMERetryWait: a CA that could not be reached at all (here a port
// nobody listens on, as at boot before the CA or the network is up) is
// tried again soon, backing off; a refusal the CA returned, or a timeout
// mid-issuance, waits the full interval, since it may have counted against
// the CA's limits.
func TestACMERetryWait(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, dialErr := (&acme.Client{DirectoryURL: "http://" + addr + "/dir", HTTPClient: &http.Client{Timeout: 2 * time.Second}}).Discover(context.Background())
	if dialErr == nil {
		t.Fatal("Discover on a closed port succeeded")
	}
	refused := fmt.Errorf("acme: register account: %w", dialErr)
	caSaid := fmt.Errorf("acme: authorization of mail.example.test: %w", &acme.Error{StatusCode: 403, ProblemType: "urn:ietf:params:acme:error:unauthorized"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, timeoutErr := (&acme.Client{DirectoryURL: "http://" + addr + "/dir"}).Discover(ctx)
	if !errors.Is(timeoutErr, context.DeadlineExceeded) {
		t.Fatalf("Discover with an expired context: %v", timeoutErr)
	}

	for _, c := range []struct {
		name        string
		err         error
		unreachable int
		want        time.Duration
	}{
		{"first refused connection", refused, 0, acmeUnreachableRetry},
		{"second", refused, 1, 2 * acmeUnreachableRetry},
		{"fourth", refused, 3, 8 * acmeUnreachableRetry},
		{"long outage is capped", refused, 40, acmeRetryAfter},
		{"CA refused the validation", caSaid, 0, acmeRetryAfter},
		{"CA refused after an outage", caSaid, 5, acmeRetryAfter},
		{"ran out of time", fmt.Errorf("acme: order: %w", timeoutErr), 0, acmeRetryAfter},
	} {
		if got := acmeRetryWait(c.err, c.unreachable); got != c.want {
			t.Errorf("%s: wait %v, want %v (err %v)", c.name, got, c.want, c.err)
		}
	}
}
