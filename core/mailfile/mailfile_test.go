package mailfile

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func readAll(t *testing.T, data string, q Quoting) []Message {
	t.Helper()
	var ms []Message
	if err := ReadMbox(strings.NewReader(data), "INBOX", q, func(m Message) error { ms = append(ms, m); return nil }); err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestMboxQuoting(t *testing.T) {
	data := "From alice@example.org Thu Aug 22 12:36:23 2002\nStatus: RO\nX-Status: AF\nSubject: a\n\n>From one\n>>From two\nplain\n\n" +
		"From MAILER-DAEMON Fri Aug 23 01:02:03 2002\nSubject: b\n\nbody\n\n"
	tests := []struct {
		name string
		q    Quoting
		body string
	}{
		{"mboxrd removes one > from every quoted From line", MboxRD, "From one\r\n>From two\r\nplain\r\n"},
		{"mboxo unquotes only >From", MboxO, "From one\r\n>>From two\r\nplain\r\n"},
	}
	for _, tc := range tests {
		ms := readAll(t, data, tc.q)
		if len(ms) != 2 {
			t.Fatalf("%s: got %d messages, want 2", tc.name, len(ms))
		}
		if _, body, _ := bytes.Cut(ms[0].Raw, []byte("\r\n\r\n")); string(body) != tc.body {
			t.Errorf("%s: got body %q, want %q", tc.name, body, tc.body)
		}
	}
	ms := readAll(t, data, MboxRD)
	if want := []string{FlagSeen, FlagAnswered, FlagFlagged}; !slices.Equal(ms[0].Flags, want) {
		t.Errorf("flags: got %v, want %v", ms[0].Flags, want)
	}
	if ms[0].Sender != "alice@example.org" || ms[1].Sender != "" {
		t.Errorf("senders: got %q %q, want alice@example.org and the null sender", ms[0].Sender, ms[1].Sender)
	}
	if want := time.Date(2002, 8, 22, 12, 36, 23, 0, time.UTC); !ms[0].Date.Equal(want) {
		t.Errorf("date: got %s, want %s", ms[0].Date, want)
	}
	// Written back (mboxrd), it reads back the same.
	var buf bytes.Buffer
	for _, m := range ms {
		if err := WriteMbox(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	again := readAll(t, buf.String(), MboxRD)
	for i := range ms {
		if !bytes.Equal(again[i].Raw, ms[i].Raw) || !again[i].Date.Equal(ms[i].Date) {
			t.Errorf("message %d: not the same after a write and read", i)
		}
	}
	if _, err := readAllErr("Subject: no From line\n\nbody\n"); err == nil {
		t.Errorf("a file without a From line: got no error, want one")
	}
}

func readAllErr(data string) ([]Message, error) {
	var ms []Message
	err := ReadMbox(strings.NewReader(data), "INBOX", MboxRD, func(m Message) error { ms = append(ms, m); return nil })
	return ms, err
}

func TestMaildir(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"cur", "new", "tmp", ".Sent/cur", ".Lists.go/cur", ".Lists.go/new"} {
		os.MkdirAll(filepath.Join(root, d), 0o700)
	}
	when := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	write := func(p, body string) {
		if err := os.WriteFile(filepath.Join(root, p), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(filepath.Join(root, p), when, when)
	}
	write("cur/1.M1.host:2,FS", "Subject: seen flagged\n\nx\n")
	write("new/2.M2.host", "Subject: new\n\ny\n")
	write(".Sent/cur/3.M3.host:2,RS", "Subject: replied\n\nz\n")
	write(".Lists.go/new/4.M4.host:2,DT", "Subject: draft deleted\n\nw\n")
	type got struct {
		folder string
		flags  []string
	}
	var ms []got
	err := ReadMaildir(root, func(m Message) error {
		if !m.Date.Equal(when) {
			t.Errorf("%s: date %s, want the file time %s", m.Raw, m.Date, when)
		}
		if !bytes.HasSuffix(m.Raw, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(m.Raw, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("%q: want CRLF line endings", m.Raw)
		}
		ms = append(ms, got{m.Folder, m.Flags})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{"INBOX", []string{FlagFlagged, FlagSeen}},
		{"INBOX", nil},
		{"Lists/go", []string{FlagDraft, FlagDeleted}},
		{"Sent", []string{FlagAnswered, FlagSeen}},
	}
	if len(ms) != len(want) {
		t.Fatalf("got %d messages, want %d: %+v", len(ms), len(want), ms)
	}
	for i := range want {
		if ms[i].folder != want[i].folder || !slices.Equal(ms[i].flags, want[i].flags) {
			t.Errorf("message %d: got %+v, want %+v", i, ms[i], want[i])
		}
	}

	// Writing puts flags in names, folders in Maildir++ directories, LF endings.
	out := t.TempDir()
	w, err := NewMaildirWriter(out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.Write(Message{Folder: "Lists/go", Raw: []byte("Subject: s\r\n\r\nb\r\n"), Flags: []string{FlagSeen, FlagFlagged}, Date: when})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p, filepath.Join(out, ".Lists.go", "cur")) || !strings.HasSuffix(p, ":2,FS") {
		t.Errorf("written as %s, want .Lists.go/cur/...:2,FS", p)
	}
	if b, _ := os.ReadFile(p); string(b) != "Subject: s\n\nb\n" {
		t.Errorf("file content %q, want LF line endings", b)
	}
}

func FuzzReadMbox(f *testing.F) {
	f.Add([]byte("From a@b Thu Aug 22 12:36:23 2002\nSubject: a\n\n>From x\n\nFrom c Fri Aug 23 01:02:03 2002\n\nb\n"))
	f.Add([]byte("From \n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ms []Message
		if err := ReadMbox(bytes.NewReader(data), "INBOX", MboxRD, func(m Message) error { ms = append(ms, m); return nil }); err != nil {
			return
		}
		// What was read writes and reads back to the same messages.
		var buf bytes.Buffer
		for _, m := range ms {
			WriteMbox(&buf, m)
		}
		var again []Message
		if err := ReadMbox(&buf, "INBOX", MboxRD, func(m Message) error { again = append(again, m); return nil }); err != nil {
			t.Fatalf("reading what WriteMbox wrote: %v", err)
		}
		if len(again) != len(ms) {
			t.Fatalf("got %d messages back, want %d", len(again), len(ms))
		}
	})
}

func FuzzMaildirName(f *testing.F) {
	f.Add("1.M2.host:2,FRS")
	f.Fuzz(func(t *testing.T, name string) {
		for _, fl := range flagsFromName(name) {
			if !strings.HasPrefix(fl, `\`) {
				t.Fatalf("flag %q", fl)
			}
		}
		FolderName(name)
		FolderDir(name)
	})
}
