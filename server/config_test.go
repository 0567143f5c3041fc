package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.Database != "sqlite" || c.Listen.SMTP != "127.0.0.1:2525" || c.Listen.HTTP != "127.0.0.1:8080" {
		t.Errorf("defaults: got %+v", c)
	}
	if c.Storage.DSN != filepath.Join("stamp-data", "stamp.db") || c.Storage.BlobDir != filepath.Join("stamp-data", "blobs") {
		t.Errorf("derived paths: got dsn %q blobs %q", c.Storage.DSN, c.Storage.BlobDir)
	}
}

func TestLoadReadsStampYAMLFromWorkingDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile(DefaultConfigFile, []byte("hostname: mx.example.org\nlisten:\n  pop3: \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Hostname != "mx.example.org" || c.Listen.POP3 != "" || c.Listen.IMAP != "127.0.0.1:2143" {
		t.Errorf("got hostname %q pop3 %q imap %q", c.Hostname, c.Listen.POP3, c.Listen.IMAP)
	}
}

func TestLoadRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name, yaml, wantKey string
	}{
		{"unknown top-level key", "hostnme: x\n", "hostnme"},
		{"unknown nested key", "listen:\n  smtps: 127.0.0.1:1\n", "smtps"},
		{"bad database", "storage:\n  database: mysql\n", "storage.database"},
		{"postgres without dsn", "storage:\n  database: postgres\n", "storage.dsn"},
		{"bad listen address", "listen:\n  imap: nonsense\n", "listen.imap"},
		{"bad port", "listen:\n  imap: 127.0.0.1:99999\n", "listen.imap"},
		{"cert without key", "tls:\n  cert: /x.pem\n", "tls"},
		{"tiny max message", "limits:\n  max_message_bytes: 10\n", "limits.max_message_bytes"},
		{"bad fail mode", "filters:\n  clamd_fail_mode: ignore\n", "filters.clamd_fail_mode"},
		{"bad threshold", "filters:\n  spam_threshold: -2\n", "filters.spam_threshold"},
		{"wrong type", "limits:\n  max_connections: many\n", "max_connections"},
		{"bad duration", "outbound:\n  max_age: forever\n", "max_age"},
		{"s3 not yet", "storage:\n  blobs: s3\n", "storage.blobs"},
		{"not yaml", "{{{", "yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "stamp.yaml")
			if err := os.WriteFile(p, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil {
				t.Fatalf("got no error, want one naming %q", c.wantKey)
			}
			if !strings.Contains(err.Error(), c.wantKey) {
				t.Errorf("got %q, want it to name %q", err, c.wantKey)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	// config.example.yaml must stay valid (its TLS paths need not exist to load).
	c, err := Load(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if c.Listen.SMTP != "0.0.0.0:25" {
		t.Errorf("example smtp listener: got %q", c.Listen.SMTP)
	}
}
