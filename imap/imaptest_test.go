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

// imaptestRun finds Dovecot's imaptest suite beside the repository
// (../shared/tools/imaptest/run from the repository root); it skips the
// test when the suite or its library is missing.
func imaptestRun(t *testing.T) string {
	t.Helper()
	run := os.Getenv("STAMP_IMAPTEST")
	if run == "" {
		root, err := filepath.Abs("..")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{
			filepath.Join(root, "..", "shared", "tools", "imaptest", "run"),
			filepath.Join(root, "..", "..", "shared", "tools", "imaptest", "run"),
		} {
			if _, err := os.Stat(p); err == nil {
				run = p
				break
			}
		}
	}
	if run == "" {
		t.Skip("SKIPPED LOUDLY: imaptest not found at ../shared/tools/imaptest/run (set STAMP_IMAPTEST)")
	}
	if _, err := os.Stat("/usr/lib/dovecot/libdovecot.so.0"); err != nil {
		t.Skip("SKIPPED LOUDLY: libdovecot missing (apt-get install dovecot-core); imaptest cannot run")
	}
	return run
}

// TestImaptest runs Dovecot's imaptest compliance suite (71 scripted test
// groups) against the engine and requires 0 failed groups.
func TestImaptest(t *testing.T) {
	if testing.Short() {
		t.Skip("imaptest takes a minute; skipped with -short")
	}
	run := imaptestRun(t)
	imaptestSuite(t, run, newEnvIn(t, memDir(t), Options{AllowInsecureAuth: true}))
}

// TestImaptestPostgres runs the compliance suite on PostgreSQL.
func TestImaptestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("imaptest takes a minute; skipped with -short")
	}
	dsn := os.Getenv("STAMP_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SKIPPED LOUDLY: STAMP_TEST_POSTGRES_DSN not set (scripts/test.sh starts a throwaway PostgreSQL)")
	}
	run := imaptestRun(t)
	imaptestSuite(t, run, pgNodes(t, dsn, 1)[0])
}

// imaptestSuite runs the suite against e and wants 0 failed groups.
func imaptestSuite(t *testing.T, run string, e *env) {
	t.Helper()
	e.srv.views.min.Store(0) // every SELECT after the first goes through the view cache (viewcache.go)
	coretest.User(t, e.svc, "it1@example.test")
	coretest.User(t, e.svc, "it2@example.test")
	host, port, _ := net.SplitHostPort(e.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, run, host, port, "it1@example.test", "it2@example.test", coretest.Password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	log := out.String()
	summary := regexp.MustCompile(`\d+ test groups: .*`).FindString(log)
	if code := cmd.ProcessState.ExitCode(); code == 2 {
		t.Skipf("SKIPPED LOUDLY: imaptest could not run: %s", lastLines(log, 5))
	}
	if err != nil || !strings.Contains(summary, " 0 failed") {
		t.Fatalf("imaptest: got %q (%v), want 0 failed groups; log:\n%s", summary, err, failures(log))
	}
	t.Logf("imaptest: %s (SELECTs from the view cache: %d)", summary, e.srv.views.hits.Load())
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

// failures keeps the log lines around each reported failure.
func failures(log string) string {
	var b strings.Builder
	ls := strings.Split(log, "\n")
	for i, l := range ls {
		if strings.Contains(l, "failed") || strings.Contains(l, "Error") || strings.Contains(l, "error") {
			for j := max(0, i-1); j < min(len(ls), i+12); j++ {
				l := ls[j]
				if len(l) > 300 {
					l = l[:300] + "..."
				}
				b.WriteString(l)
				b.WriteByte('\n')
			}
		}
	}
	if b.Len() > 60000 {
		return b.String()[:60000]
	}
	return b.String()
}
