package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// migration is one versioned schema step, applied in its own transaction.
type migration struct {
	version int
	sql     string
}

// migrations are applied in ascending version order (gaps are allowed, so
// work on separate features can take separate version ranges). Never edit a
// released migration: append a new one.
var migrations = []migration{
	// 1: the initial schema.
	{1, `
CREATE TABLE sequences (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sequences(name, value) VALUES ('mailbox', 0), ('message', 0), ('thread', 0);

CREATE TABLE domains (
	name       TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE dkim_keys (
	domain      TEXT NOT NULL,
	selector    TEXT NOT NULL,
	algorithm   TEXT NOT NULL,
	private_pem TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (domain, selector)
) WITHOUT ROWID;

CREATE TABLE users (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	address          TEXT NOT NULL UNIQUE,
	password_hash    TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	modseq           INTEGER NOT NULL DEFAULT 0,
	last_uidvalidity INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE mailboxes (
	user_id        INTEGER NOT NULL REFERENCES users(id),
	id             INTEGER NOT NULL,
	name           TEXT NOT NULL,
	role           TEXT NOT NULL DEFAULT '',
	uidvalidity    INTEGER NOT NULL,
	uidnext        INTEGER NOT NULL DEFAULT 1,
	highest_modseq INTEGER NOT NULL DEFAULT 0,
	subscribed     INTEGER NOT NULL DEFAULT 1,
	total          INTEGER NOT NULL DEFAULT 0,
	unread         INTEGER NOT NULL DEFAULT 0,
	size           INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX mailboxes_name ON mailboxes(user_id, name);
CREATE UNIQUE INDEX mailboxes_role ON mailboxes(user_id, role) WHERE role <> '';

CREATE TABLE threads (
	user_id      INTEGER NOT NULL REFERENCES users(id),
	id           INTEGER NOT NULL,
	subject_norm TEXT NOT NULL,
	PRIMARY KEY (user_id, id)
) WITHOUT ROWID;
CREATE INDEX threads_subject ON threads(user_id, subject_norm, id);

CREATE TABLE thread_refs (
	user_id   INTEGER NOT NULL,
	msgid     TEXT NOT NULL,
	thread_id INTEGER NOT NULL,
	PRIMARY KEY (user_id, msgid),
	FOREIGN KEY (user_id, thread_id) REFERENCES threads(user_id, id)
) WITHOUT ROWID;

CREATE TABLE messages (
	user_id         INTEGER NOT NULL,
	id              INTEGER NOT NULL,
	mailbox_id      INTEGER NOT NULL,
	uid             INTEGER NOT NULL,
	thread_id       INTEGER NOT NULL,
	modseq          INTEGER NOT NULL,
	flags           TEXT NOT NULL DEFAULT '',
	seen            INTEGER NOT NULL DEFAULT 0,
	internal_date   INTEGER NOT NULL,
	size            INTEGER NOT NULL,
	header_size     INTEGER NOT NULL,
	segments        TEXT NOT NULL,
	subject         TEXT NOT NULL,
	from_addrs      TEXT NOT NULL,
	to_addrs        TEXT NOT NULL,
	cc_addrs        TEXT NOT NULL,
	date            INTEGER NOT NULL,
	msgid           TEXT NOT NULL,
	snippet         TEXT NOT NULL,
	has_attachments INTEGER NOT NULL,
	subject_lc      TEXT NOT NULL,
	from_lc         TEXT NOT NULL,
	rcpt_lc         TEXT NOT NULL,
	PRIMARY KEY (user_id, id),
	FOREIGN KEY (user_id, mailbox_id) REFERENCES mailboxes(user_id, id),
	FOREIGN KEY (user_id, thread_id) REFERENCES threads(user_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_uid ON messages(user_id, mailbox_id, uid);
CREATE INDEX messages_list ON messages(user_id, mailbox_id, internal_date DESC, id DESC);
CREATE INDEX messages_unseen ON messages(user_id, mailbox_id, internal_date DESC, id DESC) WHERE seen = 0;
CREATE INDEX messages_thread ON messages(user_id, thread_id, internal_date, id);
CREATE INDEX messages_date ON messages(user_id, internal_date DESC, id DESC);

CREATE TABLE attachments (
	user_id      INTEGER NOT NULL,
	message_id   INTEGER NOT NULL,
	part         TEXT NOT NULL,
	filename     TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         INTEGER NOT NULL,
	hash         TEXT NOT NULL,
	PRIMARY KEY (user_id, message_id, part),
	FOREIGN KEY (user_id, message_id) REFERENCES messages(user_id, id)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE search USING fts5(
	subject, addrs, body,
	tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE changes (
	user_id    INTEGER NOT NULL,
	modseq     INTEGER NOT NULL,
	mailbox_id INTEGER NOT NULL,
	message_id INTEGER NOT NULL,
	uid        INTEGER NOT NULL,
	kind       TEXT NOT NULL,
	PRIMARY KEY (user_id, modseq)
) WITHOUT ROWID;

CREATE TABLE blobs (
	hash       TEXT PRIMARY KEY,
	size       INTEGER NOT NULL,
	refcount   INTEGER NOT NULL,
	zero_since INTEGER
) WITHOUT ROWID;
CREATE INDEX blobs_zero ON blobs(zero_since) WHERE refcount = 0;

CREATE TABLE queue (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id         INTEGER NOT NULL,
	sender          TEXT NOT NULL,
	recipients      TEXT NOT NULL,
	segments        TEXT NOT NULL,
	size            INTEGER NOT NULL,
	state           TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	results         TEXT NOT NULL
);
CREATE INDEX queue_due ON queue(state, next_attempt_at, id);

CREATE TABLE training (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	message_id INTEGER NOT NULL,
	spam       INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX training_user ON training(user_id, id);

CREATE TABLE kv (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;
`},
	// 2: inline blobs, the bytes of small segments kept in the database so a
	// delivery commits everything with one fsync.
	{2, `
CREATE TABLE blob_data (
	hash TEXT PRIMARY KEY,
	data BLOB NOT NULL
);
`},
	// 10: IMAP state shared by every process: the per-mailbox \Recent mark
	// and subscriptions to names that are not mailboxes.
	{version: 10, sql: `
CREATE TABLE recent_marks (
	user_id    INTEGER NOT NULL,
	mailbox_id INTEGER NOT NULL,
	mark       INTEGER NOT NULL,
	PRIMARY KEY (user_id, mailbox_id)
);
CREATE TABLE name_subscriptions (
	user_id INTEGER NOT NULL,
	name    TEXT NOT NULL,
	PRIMARY KEY (user_id, name)
);
`},
	// 11: each message's MIME structure and envelope (storage.Structures),
	// NULL for mail stored before: core backfills it in small batches after
	// start, and FETCH computes what is still missing (adding a nullable
	// column rewrites nothing, so this is instant on a big database).
	{11, `ALTER TABLE messages ADD COLUMN structure BLOB;`},
	// 20: substring search (RFC 9051 section 6.4.4): the full-text table is
	// rebuilt with the trigram tokenizer and a column of header lines (empty
	// for mail stored before, whose subject, addresses and body are copied);
	// sent_day is the Date header's calendar date in its own zone, in days
	// since 1970 (SENTBEFORE/SENTON/SENTSINCE), backfilled from the stored
	// date in UTC (the zone was not kept), else from the internal date.
	{20, `
CREATE VIRTUAL TABLE search_tri USING fts5(subject, addrs, hdrs, body, tokenize = 'trigram');
INSERT INTO search_tri(rowid, subject, addrs, hdrs, body) SELECT rowid, subject, addrs, '', body FROM search;
DROP TABLE search;
ALTER TABLE search_tri RENAME TO search;
ALTER TABLE messages ADD COLUMN sent_day INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET sent_day = CASE WHEN date <> 0 THEN date ELSE internal_date END / 86400000000000;
`},
	// 21: per-user storage quota in bytes (-1: the server default, 0: none).
	{21, `ALTER TABLE users ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT -1;`},
	// 22: CONDSTORE/QRESYNC: when each change was logged (entries before
	// this migration count as written now), the per-user floor below which
	// the log was pruned, and an index for the messages changed since a MODSEQ.
	{22, `
ALTER TABLE changes ADD COLUMN at INTEGER NOT NULL DEFAULT 0;
UPDATE changes SET at = CAST(strftime('%s', 'now') AS INTEGER) * 1000000000;
ALTER TABLE users ADD COLUMN changes_floor INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_modseq ON messages(user_id, mailbox_id, modseq);
`},
	// 23: METADATA (RFC 5464) entries: mailbox 0 is the server, owner 0 the
	// server's shared entries.
	{23, `
CREATE TABLE metadata (
	user_id    INTEGER NOT NULL,
	mailbox_id INTEGER NOT NULL,
	name       TEXT NOT NULL,
	value      BLOB NOT NULL,
	PRIMARY KEY (user_id, mailbox_id, name)
) WITHOUT ROWID;
`},
	// 24: the selected-mailbox view of IMAP (MailboxView: UID, id, MODSEQ,
	// flags, internal date, size) read from one covering index, without a
	// look-up of the wide message row per message: SELECT of a 100,000
	// message folder, QRESYNC included, is dominated by that listing.
	{24, `
CREATE INDEX messages_view ON messages(user_id, mailbox_id, uid, modseq, flags, internal_date, size);
`},
	// 27: SORT/THREAD keys computed once per message by the IMAP engine
	// (storage/sortkeys.go), keyed by the never reused message id.
	{27, `
CREATE TABLE sort_keys (
	user_id    INTEGER NOT NULL,
	message_id INTEGER NOT NULL,
	from_name  TEXT NOT NULL,
	from_addr  TEXT NOT NULL,
	to_name    TEXT NOT NULL,
	to_addr    TEXT NOT NULL,
	cc_addr    TEXT NOT NULL,
	parents    TEXT NOT NULL,
	PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;
`},
	// 30: routing: aliases and catch-alls, domain admins, Sieve scripts and
	// the vacation reply memory.
	{30, `
CREATE TABLE aliases (
	address    TEXT PRIMARY KEY,
	domain     TEXT NOT NULL,
	targets    TEXT NOT NULL,
	created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX aliases_domain ON aliases(domain);
CREATE TABLE alias_owners (
	owner   TEXT NOT NULL,
	address TEXT NOT NULL REFERENCES aliases(address) ON DELETE CASCADE,
	PRIMARY KEY (owner, address)
) WITHOUT ROWID;
CREATE INDEX alias_owners_address ON alias_owners(address);
ALTER TABLE domains ADD COLUMN admin TEXT NOT NULL DEFAULT '';
CREATE TABLE sieve_scripts (
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	script     TEXT NOT NULL,
	active     INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, name)
) WITHOUT ROWID;
CREATE TABLE vacation_replies (
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	handle  TEXT NOT NULL,
	sender  TEXT NOT NULL,
	until   INTEGER NOT NULL,
	PRIMARY KEY (user_id, handle, sender)
) WITHOUT ROWID;
`},
	// 40: what the spam filter learns per user besides word statistics
	// (storage/spam.go): correspondents, senders moved into or out of Junk,
	// and the allow/block lists of users and of local domains.
	{40, `
CREATE TABLE spam_correspondents (
	user_id INTEGER NOT NULL REFERENCES users(id),
	address TEXT NOT NULL,
	last_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, address)
) WITHOUT ROWID;
CREATE TABLE spam_senders (
	user_id INTEGER NOT NULL REFERENCES users(id),
	address TEXT NOT NULL,
	ham     INTEGER NOT NULL DEFAULT 0,
	spam    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, address)
) WITHOUT ROWID;
CREATE TABLE spam_lists (
	user_id INTEGER NOT NULL REFERENCES users(id),
	entry   TEXT NOT NULL,
	allow   INTEGER NOT NULL,
	PRIMARY KEY (user_id, entry)
) WITHOUT ROWID;
CREATE TABLE spam_domain_lists (
	domain TEXT NOT NULL,
	entry  TEXT NOT NULL,
	allow  INTEGER NOT NULL,
	PRIMARY KEY (domain, entry)
) WITHOUT ROWID;
`},
	// 60: shared throttle counters (login slow-down, SMTP rates), read by
	// every process on this database.
	{60, `
CREATE TABLE throttles (
	key        TEXT PRIMARY KEY,
	count      INTEGER NOT NULL,
	next_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX throttles_expiry ON throttles(expires_at);
`},
	// 70: webmail settings and draft aliases (storage.WebmailStore).
	{70, `
CREATE TABLE user_settings (
	user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	data       BLOB NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE TABLE draft_aliases (
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	alias      INTEGER NOT NULL,
	message_id INTEGER NOT NULL,
	PRIMARY KEY (user_id, alias)
) WITHOUT ROWID;
`},
	// 71: the client of each session (User-Agent and address at login), for
	// the webmail's list of sessions.
	{71, `
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
`},
	// 80: the DSN parameters (RFC 3461) and REQUIRETLS (RFC 8689) of queued
	// mail become columns; items queued before keep theirs, moved out of
	// the "=dsn" key of results (JSON text in a JSON object).
	{80, `
ALTER TABLE queue ADD COLUMN dsn_ret TEXT NOT NULL DEFAULT '';
ALTER TABLE queue ADD COLUMN dsn_envid TEXT NOT NULL DEFAULT '';
ALTER TABLE queue ADD COLUMN dsn_rcpts TEXT NOT NULL DEFAULT '{}';
ALTER TABLE queue ADD COLUMN delay_notified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue ADD COLUMN require_tls INTEGER NOT NULL DEFAULT 0;
UPDATE queue SET
	dsn_ret = coalesce(json_extract(json_extract(results, '$."=dsn"'), '$.ret'), ''),
	dsn_envid = coalesce(json_extract(json_extract(results, '$."=dsn"'), '$.envid'), ''),
	dsn_rcpts = coalesce(json_extract(json_extract(results, '$."=dsn"'), '$.rcpts'), '{}'),
	delay_notified = coalesce(json_extract(json_extract(results, '$."=dsn"'), '$.delay_notified'), 0),
	results = json_remove(results, '$."=dsn"')
WHERE json_valid(results) AND json_type(results, '$."=dsn"') = 'text';
`},
	// 90: the search index holds keys, not text (searchkeys.go): the texts
	// move to search_text and the contentless key index replaces the
	// trigram table, filled by migrateSearchKeys (migrationFuncs).
	{90, `
ALTER TABLE search RENAME TO search_trigram;
CREATE TABLE search_text (
	id      INTEGER PRIMARY KEY,
	subject TEXT NOT NULL,
	addrs   TEXT NOT NULL,
	hdrs    TEXT NOT NULL,
	body    TEXT NOT NULL
);
CREATE VIRTUAL TABLE search USING fts5(subject, addrs, hdrs, body,
	content = '', contentless_delete = 1, tokenize = 'ascii');
CREATE TRIGGER search_text_delete AFTER DELETE ON search_text BEGIN
	DELETE FROM search WHERE rowid = old.id;
END;
`},
	// 100: the key index merges 16 segments of a level at a time instead
	// of FTS5's default 4. Every group commit adds a segment, and merging
	// was 70% of the index's work at commit; with 16 the levels are half
	// as many, so each key is rewritten half as often, and a query looks
	// in more segments (measured with Python's SQLite on 20,000 one-message
	// transactions of 200 keys: writes 420 -> 346 us, a 3-key query
	// 109 -> 199 us).
	{100, `INSERT INTO search(search, rank) VALUES ('automerge', 16);`},
	// 110: inline blobs are stored s2-compressed when that saves
	// (packed.go): codec says how a blob_data row's bytes are kept (0: as
	// they are, 1: packed). Rows written before stay as they are. The
	// version also keeps binaries that do not know packed values from
	// opening the database.
	{110, `ALTER TABLE blob_data ADD COLUMN codec INTEGER NOT NULL DEFAULT 0;`},
	// 120: the keywords defined in each mailbox (storage.IMAPState
	// AddKeywords), by lower-case name.
	{120, `
CREATE TABLE mailbox_keywords (
	user_id    INTEGER NOT NULL,
	mailbox_id INTEGER NOT NULL,
	lname      TEXT NOT NULL,
	name       TEXT NOT NULL,
	PRIMARY KEY (user_id, mailbox_id, lname)
);
`},
}

// migrationFuncs are the Go parts of migrations, run after their SQL in
// the same transaction.
var migrationFuncs = map[int]func(w *wtx) error{
	90: migrateSearchKeys,
}

// migrate applies every pending migration, each in its own BEGIN IMMEDIATE
// transaction that re-reads the current version, so two processes opening a
// new database at once apply each migration exactly once.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if err := s.refuseNewer(ctx); err != nil {
		return err
	}
	for _, m := range migrations {
		version := m.version
		err := s.write(ctx, func(w *wtx) error {
			var n int
			if err := w.queryRow(`SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := w.exec(m.sql); err != nil {
				return err
			}
			if fn := migrationFuncs[version]; fn != nil {
				if err := fn(w); err != nil {
					return err
				}
			}
			_, err := w.exec(`INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`, version, time.Now().Unix())
			if err == nil {
				s.log.Info("sqlite migration applied", "version", version)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", version, err)
		}
	}
	return nil
}

// refuseNewer fails with storage.ErrSchemaTooNew when the database holds a
// migration this binary does not know (written by a newer stamp).
func (s *Store) refuseNewer(ctx context.Context) error {
	rows, err := s.w.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	known := make([]int, len(migrations))
	for i, m := range migrations {
		known[i] = m.version
	}
	if err := storage.CheckSchemaKnown(applied, known); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}
