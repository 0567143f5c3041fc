package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCLISpamLists: `stamp spam allow|block|remove|list` edits a user's and
// a domain's lists; bad entries and unknown owners fail with a message.
func TestCLISpamLists(t *testing.T) {
	dir := t.TempDir()
	stamp(t, dir, "a long password\n", "user", "add", "alice@example.test", "--password-stdin")
	stamp(t, dir, "", "spam", "allow", "alice@example.test", "Bob@Friends.example", "@family.example")
	stamp(t, dir, "", "spam", "block", "alice@example.test", "@spam.example", "bob@friends.example")
	got := stamp(t, dir, "", "spam", "list", "alice@example.test")
	want := "allow\t@family.example\nblock\t@spam.example\nblock\tbob@friends.example\n"
	if got != want {
		t.Errorf("list after allow and block: got %q, want %q (block takes the entry off the allow list)", got, want)
	}
	stamp(t, dir, "", "spam", "remove", "alice@example.test", "bob@friends.example")
	if got := stamp(t, dir, "", "spam", "list", "alice@example.test"); strings.Contains(got, "bob@") {
		t.Errorf("list after remove: got %q, want bob gone", got)
	}
	stamp(t, dir, "", "spam", "block", "example.test", "@bulk.example")
	if got := stamp(t, dir, "", "spam", "list", "example.test"); got != "block\t@bulk.example\n" {
		t.Errorf("domain list: got %q, want block @bulk.example", got)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"bad entry", []string{"spam", "allow", "alice@example.test", "not an address"}, "address"},
		{"unknown user", []string{"spam", "list", "nobody@example.test"}, "not found"},
		{"unknown domain", []string{"spam", "list", "nowhere.example"}, "not found"},
	} {
		cmd := exec.Command(stampBinary(t), c.args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: got %v %q, want a failure saying %q", c.name, err, out, c.want)
		}
	}
}
