package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadFixture(t *testing.T) {
	dir := t.TempDir()
	g := filepath.Join(dir, "data", "spam-1")
	if err := os.MkdirAll(g, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data", "file_list.json"), []byte(`["spam-1/00001.aa.txt","spam-1/00002.bb.txt"]`), 0o644)
	os.WriteFile(filepath.Join(g, "00001.aa.txt"), []byte("Subject: a\n\nbody\n"), 0o644)
	os.WriteFile(filepath.Join(g, "00002.bb.json"), []byte(`{"id":"00002","group":"spam-1","text":"Subject: b\n\nx\n"}`), 0o644)
	msgs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{Group: "spam-1", ID: "00001.aa", Raw: []byte("Subject: a\n\nbody\n")},
		{Group: "spam-1", ID: "00002.bb", Raw: []byte("Subject: b\n\nx\n")},
	}
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(want))
	}
	for i := range want {
		if msgs[i].Group != want[i].Group || msgs[i].ID != want[i].ID || string(msgs[i].Raw) != string(want[i].Raw) {
			t.Errorf("message %d: got %+v, want %+v", i, msgs[i], want[i])
		}
	}
	t.Setenv(EnvVar, dir)
	if got := Dir(); got != dir {
		t.Errorf("Dir: got %q, want %q", got, dir)
	}
	t.Setenv(EnvVar, filepath.Join(dir, "nope"))
	if got := Dir(); got != "" {
		t.Errorf("Dir with bad env: got %q, want \"\"", got)
	}
	if _, err := Load(""); err == nil {
		t.Errorf("Load(\"\"): got nil error, want one")
	}
}
