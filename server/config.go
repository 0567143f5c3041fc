package server

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is Stamp's configuration: plain data, loaded and validated once by
// Load and passed down. config.example.yaml documents every key.
type Config struct {
	Hostname string         `yaml:"hostname"`
	DataDir  string         `yaml:"data_dir"`
	Storage  StorageConfig  `yaml:"storage"`
	Listen   ListenConfig   `yaml:"listen"`
	TLS      TLSConfig      `yaml:"tls"`
	Limits   LimitsConfig   `yaml:"limits"`
	Outbound OutboundConfig `yaml:"outbound"`
	Filters  FiltersConfig  `yaml:"filters"`
	Routing  RoutingConfig  `yaml:"routing"`
	Log      LogConfig      `yaml:"log"`
	Webmail  WebmailConfig  `yaml:"webmail"`
}

// WebmailConfig configures the HTTP listeners beyond the webmail's own settings.
type WebmailConfig struct {
	// MetricsToken, when set, is the bearer token GET /metrics requires;
	// empty serves /metrics to loopback clients only.
	MetricsToken string `yaml:"metrics_token"`
}

// StorageConfig selects the metadata database and blob store.
type StorageConfig struct {
	Database   string   `yaml:"database"`   // sqlite | postgres
	DSN        string   `yaml:"dsn"`        // sqlite: file path (default data_dir/stamp.db); postgres: connection string
	Partitions int      `yaml:"partitions"` // postgres hash partitions per table
	Blobs      string   `yaml:"blobs"`      // fs | s3
	BlobDir    string   `yaml:"blob_dir"`   // fs: default data_dir/blobs
	S3         S3Config `yaml:"s3"`         // s3: the bucket
}

// S3Config locates the S3-compatible bucket of storage.blobs: s3.
type S3Config struct {
	Endpoint  string `yaml:"endpoint"`   // https://s3.example.com, or http://host:port
	Bucket    string `yaml:"bucket"`     // must exist
	Region    string `yaml:"region"`     // optional for most non-AWS stores
	AccessKey string `yaml:"access_key"` // default $STAMP_S3_ACCESS_KEY, then $AWS_ACCESS_KEY_ID
	// SecretKey, else the first line of SecretKeyFile, else
	// $STAMP_S3_SECRET_KEY, else $AWS_SECRET_ACCESS_KEY.
	SecretKey     string `yaml:"secret_key"`
	SecretKeyFile string `yaml:"secret_key_file"`
	PathStyle     bool   `yaml:"path_style"`   // endpoint/bucket/key instead of bucket.endpoint/key
	Prefix        string `yaml:"prefix"`       // key prefix inside the bucket, e.g. "stamp/"
	PartSizeMB    int    `yaml:"part_size_mb"` // multipart upload above this size; default 16, at least 5
}

// ListenConfig holds host:port per listener; empty disables it.
type ListenConfig struct {
	SMTP        string `yaml:"smtp"`
	Submission  string `yaml:"submission"`
	Submissions string `yaml:"submissions"`
	IMAP        string `yaml:"imap"`
	IMAPS       string `yaml:"imaps"`
	POP3        string `yaml:"pop3"`
	POP3S       string `yaml:"pop3s"`
	HTTP        string `yaml:"http"`
	HTTPS       string `yaml:"https"`
	ManageSieve string `yaml:"managesieve"`
}

// TLSConfig names a certificate; empty means a generated self-signed one.
type TLSConfig struct {
	Cert string     `yaml:"cert"`
	Key  string     `yaml:"key"`
	ACME ACMEConfig `yaml:"acme"`
}

// ACMEConfig turns on automatic certificates (RFC 8555, TLS-ALPN-01 on the
// https listener) for the hostname and each domain's mail., autoconfig. and
// mta-sts. names; empty directory means off.
type ACMEConfig struct {
	Email     string `yaml:"email"`     // account contact
	Directory string `yaml:"directory"` // e.g. https://acme-v02.api.letsencrypt.org/directory
	CACert    string `yaml:"ca_cert"`   // PEM file to trust for the directory's HTTPS (a test CA such as Pebble's)
}

// LimitsConfig bounds sizes, connections and rates.
type LimitsConfig struct {
	MaxMessageBytes     int64 `yaml:"max_message_bytes"`
	MaxConnections      int   `yaml:"max_connections"`        // per listener
	MaxConnectionsPerIP int   `yaml:"max_connections_per_ip"` // per listener and remote IP (SMTP, IMAP, POP3)
	MaxRecipients       int   `yaml:"max_recipients"`         // per message
	SMTPRatePerMinute   int   `yaml:"smtp_rate_per_minute"`   // per remote IP
	SendPerHour         int   `yaml:"send_per_hour"`          // per user
	SendPerDay          int   `yaml:"send_per_day"`           // per user
	QuotaBytes          int64 `yaml:"quota_bytes"`            // default per-user storage quota; 0 = none
	QuotaMessages       int64 `yaml:"quota_messages"`         // per-user limit on the number of messages; 0 = none
}

// OutboundConfig steers remote delivery.
type OutboundConfig struct {
	DNSServer     string        `yaml:"dns_server"`
	Port          int           `yaml:"port"`
	Relay         string        `yaml:"relay"`
	RelayUsername string        `yaml:"relay_username"`
	RelayPassword string        `yaml:"relay_password"`
	MaxAge        time.Duration `yaml:"max_age"`
	Workers       int           `yaml:"workers"`
	Lease         time.Duration `yaml:"lease"` // claim of a queue item; default 35m
}

// FiltersConfig configures the checks of incoming mail.
type FiltersConfig struct {
	Clamd         string  `yaml:"clamd"`
	ClamdFailMode string  `yaml:"clamd_fail_mode"`
	SpamThreshold float64 `yaml:"spam_threshold"`
	// ContentBudget bounds the time content checks spend on one message.
	ContentBudget time.Duration `yaml:"content_budget"`
	Bayes         bool          `yaml:"bayes"`
	DNSBLs        []string      `yaml:"dnsbls"`
}

// RoutingConfig configures aliases, subaddressing, forwarding and Sieve.
type RoutingConfig struct {
	SubaddressSeparator string `yaml:"subaddress_separator"` // user+tag@domain; default "+"
	VacationDays        int    `yaml:"vacation_days"`        // default :days of Sieve vacation
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultConfigFile is read when no --config is given and it exists.
const DefaultConfigFile = "stamp.yaml"

// Load reads the configuration: the embedded defaults overlaid with path
// (or ./stamp.yaml when path is "" and the file exists). Unknown keys and
// bad values are errors that name the key.
func Load(path string) (Config, error) {
	var c Config
	if err := decodeStrict(bytes.NewReader(defaultYAML), &c); err != nil {
		return c, fmt.Errorf("embedded defaults: %w", err)
	}
	if path == "" {
		if _, err := os.Stat(DefaultConfigFile); err == nil {
			path = DefaultConfigFile
		}
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := decodeStrict(f, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.validate(); err != nil {
		if path != "" {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func decodeStrict(r io.Reader, c *Config) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nameKeys(data, err)
	}
	return nil
}

var lineRE = regexp.MustCompile(`line (\d+): `)

// nameKeys rewrites yaml's "line N: ..." errors to name the dotted key at
// that line, e.g. "limits.max_connections (line 3): cannot unmarshal ...".
func nameKeys(data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return err
	}
	keys := map[int]string{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				path := k.Value
				if prefix != "" {
					path = prefix + "." + k.Value
				}
				keys[k.Line] = path
				if _, ok := keys[v.Line]; !ok {
					keys[v.Line] = path
				}
				walk(v, path)
			}
		}
	}
	walk(&root, "")
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := lineRE.FindStringSubmatch(e)
		if m != nil {
			n, _ := strconv.Atoi(m[1])
			if k, ok := keys[n]; ok {
				e = k + " (line " + m[1] + "): " + strings.TrimPrefix(e, m[0])
			}
		}
		msgs = append(msgs, e)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// validate checks storage.s3 and fills the keys from the environment or
// the secret file.
func (c *S3Config) validate(bad func(key, format string, args ...any)) {
	if c.Endpoint == "" {
		bad("storage.s3.endpoint", "required when storage.blobs is s3")
	} else if u, err := url.Parse(c.Endpoint); strings.Contains(c.Endpoint, "://") &&
		(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/")) {
		bad("storage.s3.endpoint", "must be http(s)://host[:port] without a path, not %q", c.Endpoint)
	}
	if c.Bucket == "" {
		bad("storage.s3.bucket", "required when storage.blobs is s3")
	}
	if c.AccessKey == "" {
		c.AccessKey = firstEnv("STAMP_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
	}
	if c.SecretKey == "" && c.SecretKeyFile != "" {
		b, err := os.ReadFile(c.SecretKeyFile)
		if err != nil {
			bad("storage.s3.secret_key_file", "%v", err)
		}
		c.SecretKey = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	if c.SecretKey == "" {
		c.SecretKey = firstEnv("STAMP_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY")
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		bad("storage.s3", "access_key and secret_key (or secret_key_file, or STAMP_S3_ACCESS_KEY and STAMP_S3_SECRET_KEY) are required")
	}
	if c.PartSizeMB == 0 {
		c.PartSizeMB = 16
	}
	if c.PartSizeMB < 5 || c.PartSizeMB > 5120 {
		bad("storage.s3.part_size_mb", "must be between 5 and 5120, not %d", c.PartSizeMB)
	}
}

// firstEnv returns the first non-empty environment variable of names.
func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

func (c *Config) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		c.Hostname = h
	}
	if strings.ContainsAny(c.Hostname, " /@\t") {
		bad("hostname", "invalid host name %q", c.Hostname)
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	switch c.Storage.Database {
	case "sqlite":
		if c.Storage.DSN == "" {
			c.Storage.DSN = filepath.Join(c.DataDir, "stamp.db")
		}
	case "postgres":
		if c.Storage.DSN == "" {
			bad("storage.dsn", "required when storage.database is postgres")
		}
	default:
		bad("storage.database", "must be sqlite or postgres, not %q", c.Storage.Database)
	}
	if c.Storage.Partitions < 1 || c.Storage.Partitions > 1024 {
		bad("storage.partitions", "must be between 1 and 1024, not %d", c.Storage.Partitions)
	}
	switch c.Storage.Blobs {
	case "fs":
		if c.Storage.BlobDir == "" {
			c.Storage.BlobDir = filepath.Join(c.DataDir, "blobs")
		}
	case "s3":
		c.Storage.S3.validate(bad)
	default:
		bad("storage.blobs", "must be fs or s3, not %q", c.Storage.Blobs)
	}
	for _, l := range []struct{ key, val string }{
		{"listen.smtp", c.Listen.SMTP}, {"listen.submission", c.Listen.Submission},
		{"listen.submissions", c.Listen.Submissions}, {"listen.imap", c.Listen.IMAP},
		{"listen.imaps", c.Listen.IMAPS}, {"listen.pop3", c.Listen.POP3}, {"listen.pop3s", c.Listen.POP3S},
		{"listen.http", c.Listen.HTTP}, {"listen.https", c.Listen.HTTPS},
		{"listen.managesieve", c.Listen.ManageSieve},
	} {
		if l.val == "" {
			continue
		}
		if err := checkHostPort(l.val); err != nil {
			bad(l.key, "%v", err)
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls", "cert and key must be given together")
	}
	if c.TLS.ACME.Directory != "" {
		if !strings.HasPrefix(c.TLS.ACME.Directory, "https://") {
			bad("tls.acme.directory", "must be an https:// URL, not %q", c.TLS.ACME.Directory)
		}
		if c.Listen.HTTPS == "" {
			bad("tls.acme", "needs listen.https (the TLS-ALPN-01 challenge is answered there, port 443)")
		}
	}
	if c.Limits.MaxMessageBytes < 1024 || c.Limits.MaxMessageBytes > 1<<30 {
		bad("limits.max_message_bytes", "must be between 1024 and 1073741824, not %d", c.Limits.MaxMessageBytes)
	}
	if c.Limits.QuotaBytes < 0 {
		bad("limits.quota_bytes", "must be 0 (no quota) or a size in bytes, not %d", c.Limits.QuotaBytes)
	}
	if c.Limits.QuotaMessages < 0 {
		bad("limits.quota_messages", "must be 0 (no limit) or a number of messages, not %d", c.Limits.QuotaMessages)
	}
	if c.Limits.MaxConnections < 1 {
		bad("limits.max_connections", "must be at least 1")
	}
	if c.Limits.MaxConnectionsPerIP < 1 {
		bad("limits.max_connections_per_ip", "must be at least 1")
	}
	if c.Limits.MaxRecipients < 1 {
		bad("limits.max_recipients", "must be at least 1")
	}
	if c.Limits.SMTPRatePerMinute < 1 {
		bad("limits.smtp_rate_per_minute", "must be at least 1")
	}
	if c.Limits.SendPerHour < 1 {
		bad("limits.send_per_hour", "must be at least 1")
	}
	if c.Limits.SendPerDay < c.Limits.SendPerHour {
		bad("limits.send_per_day", "must be at least limits.send_per_hour")
	}
	if c.Outbound.DNSServer != "" {
		if err := checkHostPort(c.Outbound.DNSServer); err != nil {
			bad("outbound.dns_server", "%v", err)
		}
	}
	if c.Outbound.Relay != "" {
		if err := checkHostPort(c.Outbound.Relay); err != nil {
			bad("outbound.relay", "%v", err)
		}
	}
	if c.Outbound.Port < 1 || c.Outbound.Port > 65535 {
		bad("outbound.port", "must be a port number, not %d", c.Outbound.Port)
	}
	if c.Outbound.MaxAge < time.Minute {
		bad("outbound.max_age", "must be at least 1m")
	}
	if c.Outbound.Workers < 1 || c.Outbound.Workers > 256 {
		bad("outbound.workers", "must be between 1 and 256")
	}
	if c.Outbound.Lease != 0 && c.Outbound.Lease < time.Second {
		bad("outbound.lease", "must be at least 1s, not %v", c.Outbound.Lease)
	}
	switch c.Filters.ClamdFailMode {
	case "tempfail", "accept":
	default:
		bad("filters.clamd_fail_mode", "must be tempfail or accept, not %q", c.Filters.ClamdFailMode)
	}
	if c.Filters.SpamThreshold <= 0 || c.Filters.SpamThreshold > 100 {
		bad("filters.spam_threshold", "must be in (0, 100] points, not %g", c.Filters.SpamThreshold)
	}
	if c.Filters.ContentBudget < 10*time.Millisecond {
		bad("filters.content_budget", "must be at least 10ms, not %s", c.Filters.ContentBudget)
	}
	if sep := c.Routing.SubaddressSeparator; len(sep) != 1 || strings.ContainsAny(sep, "@\" \t") {
		bad("routing.subaddress_separator", "must be one character other than @, space or quote, not %q", sep)
	}
	if c.Routing.VacationDays < 1 || c.Routing.VacationDays > 365 {
		bad("routing.vacation_days", "must be between 1 and 365, not %d", c.Routing.VacationDays)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json, not %q", c.Log.Format)
	}
	return errors.Join(errs...)
}

func checkHostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("invalid host:port %q: %v", v, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("invalid port in %q", v)
	}
	return nil
}
