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
// IMAPTEST_ARGS adds imaptest arguments (e.g. "clients=20 msgs=300");
// IMAPTEST_DIR keeps imaptest's working folder (with "rawlog", its logs).
func TestImaptestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("imaptest stress takes 10 s; skipped with -short")
	}
	run := imaptestRun(t)
	if _, err := os.Stat("/usr/lib/dovecot/libdovecot.so.0"); err != nil {
		t.Skip("SKIPPED LOUDLY: libdovecot missing (apt-get install dovecot-core); imaptest cannot run")
	}
	e := newEnvIn(t, memDir(t), Options{AllowInsecureAuth: true})
	u := coretest.User(t, e.svc, "it1@example.test")
	// imaptest answers COPY's [TRYCREATE] with CREATE; with ten clients
	// two of them race to create copybox and the loser's CREATE gets NO
	// [ALREADYEXISTS], as RFC 9051 requires, which imaptest counts as a
	// failed COPY. Creating it first takes imaptest's own race out.
	if _, err := e.svc.CreateMailbox(context.Background(), u.ID, "Other", ""); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.addr)
	dir := t.TempDir()
	if d := os.Getenv("IMAPTEST_DIR"); d != "" {
		dir = d // kept, e.g. for IMAPTEST_ARGS=rawlog's per-client logs
	}
	mbox := filepath.Join(dir, "it.mbox")
	msg := "From x@remote.test Mon Jan  1 00:00:00 2024\nFrom: x@remote.test\nSubject: hello\nMessage-ID: <1@remote.test>\n\nbody\n\n"
	if err := os.WriteFile(mbox, []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"host=" + host, "port=" + port, "user=it1@example.test", "pass=" + coretest.Password,
		"mbox=" + mbox, "secs=10", "clients=10", "checkpoint=3", "copybox=Other"}
	args = append(args, strings.Fields(os.Getenv("IMAPTEST_ARGS"))...)
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
	totals := regexp.MustCompile(`(?s)Totals:\n.*`).FindString(log)
	if totals == "" {
		t.Fatalf("imaptest stress printed no totals (did it log in?):\n%s", lastLines(log, 20))
	}
	var errs []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "Error:") || strings.Contains(l, "Panic:") || strings.Contains(l, "Fatal:") {
			errs = append(errs, strings.TrimSpace(l))
		}
	}
	if len(errs) > 0 {
		t.Fatalf("imaptest stress: %d errors, first ones:\n%s\n%s", len(errs), strings.Join(errs[:min(len(errs), 10)], "\n"), totals)
	}
	t.Logf("imaptest stress, 0 errors:\n%s", totals)
}
