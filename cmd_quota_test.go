package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCLIQuota runs the binary: stamp user quota sets and resets a quota,
// stamp user list shows it with the usage, bad sizes are refused.
func TestCLIQuota(t *testing.T) {
	dir := t.TempDir()
	stamp(t, dir, "a long password\n", "user", "add", "q@example.test", "--password-stdin")
	if got := stamp(t, dir, "", "user", "quota", "q@example.test", "5G"); !strings.Contains(got, "5G (5368709120 bytes)") {
		t.Errorf("user quota 5G: got %q", got)
	}
	if got := stamp(t, dir, "", "user", "list"); !strings.Contains(got, "0/5G\t0 msgs") {
		t.Errorf("user list: got %q, want the usage 0/5G and 0 msgs", got)
	}
	if got := stamp(t, dir, "", "user", "quota", "q@example.test", "default"); !strings.Contains(got, "the default") {
		t.Errorf("user quota default: got %q", got)
	}
	if got := stamp(t, dir, "", "user", "list"); !strings.Contains(got, "0/unlimited") {
		t.Errorf("user list after default: got %q, want 0/unlimited", got)
	}
	for _, c := range []struct{ args []string }{
		{[]string{"user", "quota", "q@example.test", "lots"}},
		{[]string{"user", "quota", "q@example.test", "-5M"}},
		{[]string{"user", "quota", "nobody@example.test", "1G"}},
	} {
		cmd := exec.Command(stampBinary(t), c.args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("stamp %s: exit 0, want failure (%q)", strings.Join(c.args, " "), out)
		}
	}
}
