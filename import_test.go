package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/stamp-mail/stamp/message/corpus"
)

// TestCorpusMboxToMaildirRoundTrip writes 1,000 SpamAssassin corpus
// messages as an mbox (mboxrd), imports it into a user, exports the user
// as a Maildir, and finds every message again byte for byte. Importing the
// same mbox again imports nothing.
func TestCorpusMboxToMaildirRoundTrip(t *testing.T) {
	dir := corpus.Dir()
	if dir == "" {
		t.Skip("SKIPPED: SpamAssassin corpus not installed (see scripts/test.sh)")
	}
	all, err := corpus.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// 1,000 messages spread over the groups, ham and spam.
	var msgs []corpus.Message
	step := max(1, len(all)/1000)
	for i := 0; i < len(all) && len(msgs) < 1000; i += step {
		msgs = append(msgs, all[i])
	}
	if len(msgs) < 1000 {
		t.Fatalf("corpus: got %d messages, want 1,000", len(msgs))
	}
	work := t.TempDir()
	var mbox bytes.Buffer
	want := map[[32]byte]int{}
	for _, m := range msgs {
		fromLine, rest, ok := bytes.Cut(m.Raw, []byte("\n"))
		if !ok || !bytes.HasPrefix(fromLine, []byte("From ")) {
			fromLine, rest = []byte("From MAILER-DAEMON Thu Jan  1 00:00:00 2004"), m.Raw
		}
		if !bytes.HasSuffix(rest, []byte("\n")) {
			rest = append(rest, '\n') // mbox cannot keep a missing final newline
		}
		want[sha256.Sum256(rest)]++
		mbox.Write(fromLine)
		mbox.WriteByte('\n')
		// mboxrd quoting, as a mail client writes it.
		for _, l := range bytes.SplitAfter(rest, []byte("\n")) {
			if bytes.HasPrefix(bytes.TrimLeft(l, ">"), []byte("From ")) {
				mbox.WriteByte('>')
			}
			mbox.Write(l)
		}
		mbox.WriteByte('\n')
	}
	mboxPath := filepath.Join(work, "corpus.mbox")
	if err := os.WriteFile(mboxPath, mbox.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := opsConfig(t, work, "")
	stamp(t, work, "a long password\n", "user", "add", "corpus@example.test", "--password-stdin", "--config", cfg)
	start := time.Now()
	out := stamp(t, work, "", "import", "corpus@example.test", mboxPath, "--config", cfg)
	t.Logf("%s(in %s)", out, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out, "imported 1000 messages") {
		t.Fatalf("import: got %q, want 1000 imported", out)
	}
	if out := stamp(t, work, "", "import", "corpus@example.test", mboxPath, "--config", cfg); !strings.Contains(out, "imported 0 messages") || !strings.Contains(out, "1000 already there") {
		t.Errorf("second import: got %q, want nothing imported twice", out)
	}

	md := filepath.Join(work, "export")
	out = stamp(t, work, "", "export", "corpus@example.test", md, "--format", "maildir", "--config", cfg)
	t.Log(strings.TrimSpace(out))
	files, err := filepath.Glob(filepath.Join(md, "cur", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1000 {
		t.Fatalf("Maildir export: got %d files in cur/, want 1000", len(files))
	}
	got := map[[32]byte]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got[sha256.Sum256(b)]++
	}
	differ := 0
	for h, n := range want {
		if got[h] != n {
			differ++
		}
	}
	if differ > 0 {
		t.Fatalf("%d of %d distinct messages did not come back byte for byte", differ, len(want))
	}

	// The Maildir goes back in too, into another user, idempotently.
	stamp(t, work, "a long password\n", "user", "add", "again@example.test", "--password-stdin", "--config", cfg)
	if out := stamp(t, work, "", "import", "again@example.test", md, "--config", cfg); !strings.Contains(out, "imported 1000 messages") {
		t.Errorf("Maildir import: got %q, want 1000", out)
	}
}

// TestIMAPMigration moves a mailbox between two Stamp instances with
// `stamp import ADDRESS imap://user@host:port` (STARTTLS, password on
// stdin): folders, flags and internal dates arrive; a second run moves
// nothing twice.
func TestIMAPMigration(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	cfgA, cfgB := opsConfig(t, dirA, ""), opsConfig(t, dirB, "")
	stamp(t, dirA, "old password\n", "user", "add", "mover@example.test", "--password-stdin", "--config", cfgA)
	stamp(t, dirB, "new password\n", "user", "add", "mover@example.test", "--password-stdin", "--config", cfgB)
	a := serve(t, dirA, "--config", cfgA)

	type seed struct {
		folder string
		flags  []imap.Flag
		date   time.Time
		raw    string
	}
	base := time.Now().Add(-400 * 24 * time.Hour).Truncate(time.Second)
	seeds := []seed{
		{"INBOX", []imap.Flag{imap.FlagSeen}, base, "Subject: one\r\n\r\nfirst\r\n"},
		{"INBOX", []imap.Flag{imap.FlagFlagged, "$Important"}, base.Add(time.Hour), "Subject: two\r\n\r\nsecond\r\n"},
		{"Sent", []imap.Flag{imap.FlagSeen, imap.FlagAnswered}, base.Add(2 * time.Hour), "Subject: three\r\n\r\nthird\r\n"},
		{"Projects/2026", nil, base.Add(3 * time.Hour), "Subject: four\r\n\r\nfourth\r\n"},
		{"Projects/2026", []imap.Flag{imap.FlagDraft}, base.Add(4 * time.Hour), "Subject: five\r\n\r\nfifth\r\n"},
	}
	c, err := imapclient.DialStartTLS(a.addrs["imap"], &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("mover@example.test", "old password").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Projects/2026", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, s := range seeds {
		cmd := c.Append(s.folder, int64(len(s.raw)), &imap.AppendOptions{Flags: s.flags, Time: s.date})
		cmd.Write([]byte(s.raw))
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("APPEND to %s: %v", s.folder, err)
		}
	}
	c.Logout().Wait()

	src := "imap://mover@example.test@" + a.addrs["imap"]
	out := stamp(t, dirB, "old password\n", "import", "mover@example.test", src, "--insecure-skip-verify", "--config", cfgB)
	if !strings.Contains(out, "imported 5 messages") {
		t.Fatalf("migration: got %q, want 5 imported", out)
	}
	if out := stamp(t, dirB, "old password\n", "import", "mover@example.test", src, "--insecure-skip-verify", "--config", cfgB); !strings.Contains(out, "imported 0 messages") {
		t.Errorf("second migration: got %q, want nothing twice", out)
	}

	b := serve(t, dirB, "--config", cfgB)
	cb, err := imapclient.DialInsecure(b.addrs["imap"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if err := cb.Login("mover@example.test", "new password").Wait(); err != nil {
		t.Fatal(err)
	}
	for _, folder := range []string{"INBOX", "Sent", "Projects/2026"} {
		var wantSeeds []seed
		for _, s := range seeds {
			if s.folder == folder {
				wantSeeds = append(wantSeeds, s)
			}
		}
		sel, err := cb.Select(folder, nil).Wait()
		if err != nil {
			t.Fatalf("%s on the new server: %v", folder, err)
		}
		if int(sel.NumMessages) != len(wantSeeds) {
			t.Fatalf("%s: got %d messages, want %d", folder, sel.NumMessages, len(wantSeeds))
		}
		var set imap.SeqSet
		set.AddRange(1, sel.NumMessages)
		msgs, err := cb.Fetch(set, &imap.FetchOptions{Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			raw := string(m.BodySection[0].Bytes)
			var s *seed
			for i := range wantSeeds {
				if wantSeeds[i].raw == raw {
					s = &wantSeeds[i]
				}
			}
			if s == nil {
				t.Errorf("%s: unexpected message %.40q", folder, raw)
				continue
			}
			if !m.InternalDate.Equal(s.date) {
				t.Errorf("%s %.12q: internal date got %s, want %s", folder, raw, m.InternalDate, s.date)
			}
			if got, want := flagSet(m.Flags), flagSet(s.flags); got != want {
				t.Errorf("%s %.12q: flags got %s, want %s", folder, raw, got, want)
			}
		}
	}
}

func flagSet(fs []imap.Flag) string {
	var out []string
	for _, f := range fs {
		if !strings.EqualFold(string(f), `\Recent`) {
			out = append(out, strings.ToLower(string(f)))
		}
	}
	sort.Strings(out)
	return fmt.Sprint(slices.Compact(out))
}
