package core_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/core/coretest"
)

// BenchmarkDeliverSieve measures durable deliveries per second with 8
// concurrent senders to a user without a script, with a 20-rule script
// (none matching, so each message is kept) and through an alias.
func BenchmarkDeliverSieve(b *testing.B) {
	var rules strings.Builder
	rules.WriteString("require [\"fileinto\", \"mailbox\", \"imap4flags\"];\n")
	for i := range 20 {
		fmt.Fprintf(&rules, "if anyof (header :contains \"subject\" \"topic-%d\", address :domain \"from\" \"list%d.example\") { fileinto :create \"F%d\"; }\n", i, i, i)
	}
	for _, c := range []struct{ name, script, rcpt string }{
		{"no-script", "", "bench@example.test"},
		{"20-rules", rules.String(), "bench@example.test"},
		{"alias", "", "team@example.test"},
	} {
		b.Run(c.name, func(b *testing.B) {
			svc := coretest.New(b, coretest.Options{})
			u := coretest.User(b, svc, "bench@example.test")
			ctx := context.Background()
			if c.script != "" {
				if err := svc.PutSieveScript(ctx, u.ID, "s", c.script); err != nil {
					b.Fatal(err)
				}
				if err := svc.SetActiveSieveScript(ctx, u.ID, "s"); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := svc.AddAlias(ctx, "team@example.test", []string{u.Address}, nil); err != nil {
				b.Fatal(err)
			}
			body := strings.Repeat("lorem ipsum dolor sit amet ", (10<<10)/27)
			deliverConcurrently(b, svc, c.rcpt, body, 8)
		})
	}
}
