package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// TestVerifiedLoginNotSlowedByGuesses: once a client has logged in on a
// node, guesses from the same address that exhaust every counter do not
// lock it out there (its password was verified and is recognized without
// counting), while the other node, which never verified it, refuses the
// same right password; a password changed on the other node ends the
// recognized login at once.
func TestVerifiedLoginNotSlowedByGuesses(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			cfg := core.Config{AuthFree: core.AuthFree{Pair: 2, Account: 2, IP: 2}, AuthFailDelay: time.Hour, AuthMaxDelay: time.Hour, AuthMaxWait: time.Second}
			n := twoNodes(t, backend, cfg)
			ctx := context.Background()
			coretest.User(t, n[0], "u@example.test")
			const ip = "192.0.2.1:1000"
			if _, err := n[0].Authenticate(ctx, "u@example.test", coretest.Password, ip); err != nil {
				t.Fatalf("first login: %v", err)
			}
			for i := 0; i < 2; i++ {
				if _, err := n[0].Authenticate(ctx, "u@example.test", "wrong guess", ip); !errors.Is(err, core.ErrAuthFailed) {
					t.Fatalf("guess %d: got %v, want ErrAuthFailed", i+1, err)
				}
			}
			if _, err := n[0].Authenticate(ctx, "u@example.test", "another guess", ip); !errors.Is(err, core.ErrRateLimited) {
				t.Fatalf("third guess: got %v, want ErrRateLimited", err)
			}
			for i := 0; i < 5; i++ {
				if _, err := n[0].Authenticate(ctx, "u@example.test", coretest.Password, ip); err != nil {
					t.Fatalf("verified login %d after the guesses: %v", i+1, err)
				}
			}
			if _, err := n[1].Authenticate(ctx, "u@example.test", coretest.Password, ip); !errors.Is(err, core.ErrRateLimited) {
				t.Fatalf("right password on the node that never verified it: got %v, want ErrRateLimited", err)
			}
			if err := n[1].SetPassword(ctx, "u@example.test", "a brand new password"); err != nil {
				t.Fatal(err)
			}
			_, err := n[0].Authenticate(ctx, "u@example.test", coretest.Password, ip)
			if err == nil {
				t.Fatal("old password still accepted after the change on the other node")
			}
			if !errors.Is(err, core.ErrRateLimited) && !errors.Is(err, core.ErrAuthFailed) {
				t.Fatalf("old password after the change: %v", err)
			}
		})
	}
}

// TestParallelLoginsOfOneClient: a client opening many connections at once
// logs in on all of them, though the pair's counter lets two attempts
// through and would refuse the third (its wait being over AuthMaxWait):
// identical attempts in flight share one check. A deleted account's
// recognized login ends with the account.
func TestParallelLoginsOfOneClient(t *testing.T) {
	cfg := core.Config{AuthFree: core.AuthFree{Pair: 2, Account: 2, IP: 2}, AuthFailDelay: time.Hour, AuthMaxDelay: time.Hour, AuthMaxWait: time.Second}
	svc := twoNodes(t, "sqlite", cfg)[0]
	ctx := context.Background()
	coretest.User(t, svc, "p@example.test")
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = svc.Authenticate(ctx, "p@example.test", coretest.Password, "192.0.2.1:1000")
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, connection %d: %v", round, i, err)
			}
		}
	}
	if err := svc.DeleteUser(ctx, "p@example.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "p@example.test", coretest.Password, "192.0.2.1:1000"); err == nil {
		t.Fatal("deleted account still logs in")
	}
}
