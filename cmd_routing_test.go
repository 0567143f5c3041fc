package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIRouting runs stamp alias, stamp domain add --admin and stamp sieve
// against a data directory, as an operator would.
func TestCLIRouting(t *testing.T) {
	dir := t.TempDir()
	stamp(t, dir, "a long password\n", "user", "add", "alice@example.test", "--password-stdin")
	stamp(t, dir, "a long password\n", "user", "add", "bob@example.test", "--password-stdin")

	out := stamp(t, dir, "", "alias", "add", "sales@example.test", "alice@example.test", "bob@example.test", "ext@remote.example")
	if !strings.Contains(out, "alias sales@example.test -> alice@example.test, bob@example.test, ext@remote.example") ||
		!strings.Contains(out, "may send as sales@example.test: alice@example.test, bob@example.test") {
		t.Errorf("alias add: got %q", out)
	}
	stamp(t, dir, "", "alias", "add", "@example.test", "alice@example.test")
	out = stamp(t, dir, "", "alias", "list", "example.test")
	if !strings.Contains(out, "@example.test") || !strings.Contains(out, "sales@example.test") {
		t.Errorf("alias list: got %q, want both aliases", out)
	}
	stamp(t, dir, "", "alias", "delete", "@example.test")
	if out := stamp(t, dir, "", "alias", "list"); strings.Contains(out, "\n@example.test") {
		t.Errorf("alias list after delete: got %q, want no catch-all", out)
	}

	out = stamp(t, dir, "", "domain", "add", "other.test", "--admin", "bob@example.test")
	if !strings.Contains(out, "postmaster@ and abuse@ go to bob@example.test") {
		t.Errorf("domain add --admin: got %q", out)
	}
	if out := stamp(t, dir, "", "domain", "admin", "example.test"); !strings.Contains(out, "go to alice@example.test") {
		t.Errorf("domain admin (default first user): got %q", out)
	}

	good := filepath.Join(dir, "good.sieve")
	os.WriteFile(good, []byte("require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"X\"; }\n"), 0o600)
	if out := stamp(t, dir, "", "sieve", "put", "alice@example.test", good); !strings.Contains(out, "active") {
		t.Errorf("sieve put: got %q", out)
	}
	if out := stamp(t, dir, "", "sieve", "get", "alice@example.test"); !strings.Contains(out, `fileinto "X";`) {
		t.Errorf("sieve get: got %q", out)
	}

	bad := filepath.Join(dir, "bad.sieve")
	os.WriteFile(bad, []byte("keep;\nfileinto \"X\";\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sieve", "put", "alice@example.test", bad}, "line 2, column 1: fileinto needs require \"fileinto\""},
		{[]string{"sieve", "get", "bob@example.test"}, "no such script"},
		{[]string{"alias", "add", "x@nowhere.test", "alice@example.test"}, "not a local domain"},
		{[]string{"alias", "add", "alice@example.test", "bob@example.test"}, "is a user"},
		{[]string{"alias", "delete", "missing@example.test"}, "not found"},
	} {
		cmd := exec.Command(stampBinary(t), c.args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("stamp %s: got %v %q, want failure saying %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	// The broken script did not replace the good one.
	if out := stamp(t, dir, "", "sieve", "get", "alice@example.test"); !strings.Contains(out, `fileinto "X";`) {
		t.Errorf("sieve get after a refused put: got %q", out)
	}
}
