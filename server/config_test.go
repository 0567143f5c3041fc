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
		{"tiny content budget", "filters:\n  content_budget: 1ms\n", "filters.content_budget"},
		{"wrong type", "limits:\n  max_connections: many\n", "max_connections"},
		{"bad duration", "outbound:\n  max_age: forever\n", "max_age"},
		{"bad blobs", "storage:\n  blobs: nfs\n", "storage.blobs"},
		{"s3 without endpoint", "storage:\n  blobs: s3\n  s3: {bucket: b, access_key: a, secret_key: s}\n", "storage.s3.endpoint"},
		{"s3 without bucket", "storage:\n  blobs: s3\n  s3: {endpoint: http://h:1, access_key: a, secret_key: s}\n", "storage.s3.bucket"},
		{"s3 endpoint with path", "storage:\n  blobs: s3\n  s3: {endpoint: http://h:1/b, bucket: b, access_key: a, secret_key: s}\n", "storage.s3.endpoint"},
		{"s3 without secret", "storage:\n  blobs: s3\n  s3: {endpoint: http://h:1, bucket: b, access_key: a}\n", "secret_key"},
		{"s3 missing secret file", "storage:\n  blobs: s3\n  s3: {endpoint: http://h:1, bucket: b, access_key: a, secret_key_file: /nonexistent/s3}\n", "storage.s3.secret_key_file"},
		{"s3 tiny parts", "storage:\n  blobs: s3\n  s3: {endpoint: http://h:1, bucket: b, access_key: a, secret_key: s, part_size_mb: 1}\n", "storage.s3.part_size_mb"},
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

func TestLoadS3Secrets(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "s3-secret")
	if err := os.WriteFile(secret, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STAMP_S3_ACCESS_KEY", "env-access")
	t.Setenv("STAMP_S3_SECRET_KEY", "env-secret")
	cases := []struct{ name, s3, access, secret string }{
		{"inline", "{endpoint: http://h:1, bucket: b, access_key: a, secret_key: s}", "a", "s"},
		{"file", "{endpoint: http://h:1, bucket: b, access_key: a, secret_key_file: " + secret + "}", "a", "from-the-file"},
		{"environment", "{endpoint: https://s3.example.com, bucket: b}", "env-access", "env-secret"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".yaml")
		if err := os.WriteFile(p, []byte("storage:\n  blobs: s3\n  s3: "+c.s3+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(p)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := cfg.Storage.S3; got.AccessKey != c.access || got.SecretKey != c.secret || got.PartSizeMB != 16 {
			t.Errorf("%s: got access %q secret %q parts %d MB, want %q %q 16", c.name, got.AccessKey, got.SecretKey, got.PartSizeMB, c.access, c.secret)
		}
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

func TestDeployConfigLoads(t *testing.T) {
	// deploy/stamp.yaml, the nodes' configuration of deploy/compose.yaml,
	// must stay valid; its S3 keys come from the environment.
	t.Setenv("STAMP_S3_ACCESS_KEY", "stamp")
	t.Setenv("STAMP_S3_SECRET_KEY", "secret")
	c, err := Load(filepath.Join("..", "deploy", "stamp.yaml"))
	if err != nil {
		t.Fatalf("deploy/stamp.yaml: %v", err)
	}
	if c.Storage.Blobs != "s3" || c.Storage.S3.SecretKey != "secret" || c.Storage.Database != "postgres" {
		t.Errorf("deploy/stamp.yaml: got blobs %q database %q secret %q", c.Storage.Blobs, c.Storage.Database, c.Storage.S3.SecretKey)
	}
}
