package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepairAttachmentsCommand runs `stamp repair-attachments` on a data
// directory with a user and says what it did (the repair itself is tested
// in core's TestRepairAttachmentFlags).
func TestRepairAttachmentsCommand(t *testing.T) {
	dir := t.TempDir()
	cfgText := "data_dir: " + filepath.Join(dir, "data") + "\nlisten:\n  smtp: \"\"\n"
	if err := os.WriteFile(filepath.Join(dir, "stamp.yaml"), []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	stamp(t, dir, "a long password\n", "user", "add", "fix@example.test", "--password-stdin")
	out := stamp(t, dir, "", "repair-attachments")
	if !strings.Contains(out, "read 0 messages") || !strings.Contains(out, "0 had only inline images") {
		t.Errorf("repair-attachments: got %q", out)
	}
}
