package imap

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
)

// TestImaptestStress runs imaptest's stress mode: ten clients on one
// INBOX for 10 s, appending, fetching, storing flags, expunging and
// checking each other's view of the mailbox (checkpoint) all the while.
// imaptest reports every protocol error and every inconsistency it sees
// (a failed FETCH, a MODSEQ going backwards, a keyword used before FLAGS
// announced it, \Recent seen twice); the test wants none.
// It runs the default mode and qresync (QRESYNC clients, VANISHED);
// IMAPTEST_ARGS runs one mode with these imaptest arguments instead
// (e.g. "random", "own_flags", "clients=20 msgs=300").
// IMAPTEST_DIR keeps imaptest's working folder (with "rawlog", its logs).
// TestImaptestStressDovecot runs the same load against Dovecot.
func TestImaptestStress(t *testing.T) {
	stressModes(t, "", func(t *testing.T) (*env, string) {
		e := newEnvIn(t, memDir(t), Options{AllowInsecureAuth: true})
		return e, e.addr
	})
}

// stressModes runs imaptest's stress mode, a subtest per mode (default
// and qresync, or IMAPTEST_ARGS), against the server start returns (a
// node of it, and the address imaptest connects to), and wants 0 errors;
// where says which servers these are in messages.
func stressModes(t *testing.T, where string, start func(t *testing.T) (*env, string)) {
	if testing.Short() {
		t.Skip("imaptest stress takes 10 s a mode; skipped with -short")
	}
	run := imaptestRun(t)
	modes := []string{"default", "qresync"}
	if a := os.Getenv("IMAPTEST_ARGS"); a != "" {
		modes = []string{a}
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			e, addr := start(t)
			u := coretest.User(t, e.svc, "it1@example.test")
			// imaptest answers COPY's [TRYCREATE] with CREATE; with ten
			// clients two of them race to create copybox and the loser's
			// CREATE gets NO [ALREADYEXISTS], as RFC 9051 requires, which
			// imaptest counts as a failed COPY. Creating it first takes
			// imaptest's own race out.
			if _, err := e.svc.CreateMailbox(context.Background(), u.ID, "Other", ""); err != nil {
				t.Fatal(err)
			}
			errs, totals := imaptestStress(t, run, addr, "it1@example.test", coretest.Password, mode)
			if len(errs) > 0 {
				t.Fatalf("imaptest stress %s%s: %d errors, first ones:\n%s\n%s", mode, where, len(errs), strings.Join(errs[:min(len(errs), 10)], "\n"), totals)
			}
			t.Logf("imaptest stress %s%s, 0 errors:\n%s", mode, where, totals)
		})
	}
}

// TestImaptestStressDovecot runs TestImaptestStress's load against
// Dovecot, to tell imaptest's own races from Stamp's and to compare the
// work done in the same 10 s (IMAPTEST_DOVECOT=1; it logs Dovecot's
// errors and never fails on them).
func TestImaptestStressDovecot(t *testing.T) {
	if os.Getenv("IMAPTEST_DOVECOT") == "" {
		t.Skip("set IMAPTEST_DOVECOT=1 to run imaptest stress against Dovecot")
	}
	run := imaptestRun(t)
	// In memory when the system has it, as Stamp's store is (memDir).
	dir, err := os.MkdirTemp("/dev/shm", "stamp-imaptest-dovecot-")
	if err != nil {
		if dir, err = os.MkdirTemp("", "stamp-imaptest-dovecot-"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // Dovecot's auth and imap processes run as user dovecot
	for _, d := range []string{"cur", "new", "tmp", ".Other/cur", ".Other/new", ".Other/tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, "Maildir", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := dovecot(t, dir)
	mode := os.Getenv("IMAPTEST_ARGS")
	if mode == "" {
		mode = "default"
	}
	errs, totals := imaptestStress(t, run, addr, "bench", "pw", mode)
	if log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log")); len(errs) > 0 {
		t.Logf("dovecot.log ends:\n%s", lastLines(string(log), 10))
	}
	t.Logf("imaptest stress %s against Dovecot: %d errors\n%s\n%s", mode, len(errs), strings.Join(errs[:min(len(errs), 10)], "\n"), totals)
}

// imaptestStress runs imaptest's stress mode (mode: "default" or
// imaptest arguments) against addr and returns the error lines it printed
// and its totals.
func imaptestStress(t *testing.T, run, addr, user, pass, mode string) (errs []string, totals string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	if d := os.Getenv("IMAPTEST_DIR"); d != "" {
		dir = d // kept, e.g. for IMAPTEST_ARGS=rawlog's per-client logs
	}
	mbox := filepath.Join(dir, "it.mbox")
	msg := "From x@remote.test Mon Jan  1 00:00:00 2024\nFrom: x@remote.test\nSubject: hello\nMessage-ID: <1@remote.test>\n\nbody\n\n"
	if err := os.WriteFile(mbox, []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"host=" + host, "port=" + port, "user=" + user, "pass=" + pass,
		"mbox=" + mbox, "secs=10", "clients=10", "checkpoint=3", "copybox=Other"}
	if mode != "default" {
		args = append(args, strings.Fields(mode)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(filepath.Dir(run), "imaptest"), args...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH=/usr/lib/dovecot")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	log := out.String()
	if err != nil {
		t.Fatalf("imaptest stress: %v\n%s", err, lastLines(log, 20))
	}
	totals = regexp.MustCompile(`(?s)Totals:\n.*`).FindString(log)
	if totals == "" {
		t.Fatalf("imaptest stress printed no totals (did it log in?):\n%s", lastLines(log, 20))
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "Error:") || strings.Contains(l, "Panic:") || strings.Contains(l, "Fatal:") {
			errs = append(errs, strings.TrimSpace(l))
		}
	}
	return errs, totals
}
