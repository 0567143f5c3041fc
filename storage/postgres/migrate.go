package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// migration is one versioned schema step, applied in its own transaction.
type migration struct {
	version int
	stmts   []string
	// fn, if set, runs after stmts in the same transaction (work SQL alone
	// cannot do, such as computing body keys in Go).
	fn func(ctx context.Context, tx pgx.Tx) error
}

// partitioned returns the statements creating table name (declared by
// columns, partitioned by hash of user_id) and its n partitions.
func partitioned(name, columns string, n int) []string {
	out := []string{fmt.Sprintf("CREATE TABLE %s (%s) PARTITION BY HASH (user_id)", name, columns)}
	for i := range n {
		out = append(out, fmt.Sprintf(
			"CREATE TABLE %s_p%d PARTITION OF %s FOR VALUES WITH (MODULUS %d, REMAINDER %d)",
			name, i, name, n, i))
	}
	return out
}

// migrations returns every migration, oldest first; parts is the partition
// count used when the per-user tables are created.
func migrations(parts int) []migration {
	var v1 []string
	add := func(s ...string) { v1 = append(v1, s...) }
	add(
		`CREATE SEQUENCE mailbox_ids`,
		`CREATE SEQUENCE message_ids`,
		`CREATE SEQUENCE thread_ids`,
		`CREATE SEQUENCE training_ids`,
		`CREATE SEQUENCE queue_ids`,
		// UIDVALIDITY (RFC 9051 section 2.3.1.1) must differ for every
		// mailbox creation; starting at the clock keeps values unique even
		// across a database that is rebuilt from scratch.
		`CREATE SEQUENCE uidvalidity_seq MINVALUE 1 MAXVALUE 4294967295 CYCLE`,
		`SELECT setval('uidvalidity_seq', extract(epoch FROM now())::bigint)`,

		`CREATE TABLE users (
			id bigserial PRIMARY KEY,
			address text NOT NULL UNIQUE,
			password_hash text NOT NULL,
			created_at timestamptz NOT NULL DEFAULT now(),
			modseq bigint NOT NULL DEFAULT 0)`,
		`CREATE TABLE domains (
			name text PRIMARY KEY,
			created_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE TABLE dkim_keys (
			domain text NOT NULL,
			selector text NOT NULL,
			algorithm text NOT NULL,
			private_pem text NOT NULL,
			created_at timestamptz NOT NULL DEFAULT now(),
			PRIMARY KEY (domain, selector))`,
		`CREATE TABLE sessions (
			token_hash text PRIMARY KEY,
			user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			created_at timestamptz NOT NULL,
			expires_at timestamptz NOT NULL)`,
		`CREATE INDEX sessions_user ON sessions (user_id)`,
		`CREATE TABLE blobs (
			hash text PRIMARY KEY,
			size bigint NOT NULL,
			refcount bigint NOT NULL,
			zero_since timestamptz)`,
		`CREATE INDEX blobs_zero ON blobs (zero_since) WHERE refcount = 0`,
		`CREATE TABLE queue (
			id bigint PRIMARY KEY DEFAULT nextval('queue_ids'),
			user_id bigint NOT NULL DEFAULT 0,
			sender text NOT NULL,
			recipients jsonb NOT NULL,
			segments jsonb NOT NULL,
			size bigint NOT NULL,
			state text NOT NULL,
			attempts int NOT NULL DEFAULT 0,
			next_attempt_at timestamptz NOT NULL,
			created_at timestamptz NOT NULL,
			last_error text NOT NULL DEFAULT '',
			results jsonb)`,
		`CREATE INDEX queue_due ON queue (next_attempt_at, id) WHERE state = 'queued'`,
		`CREATE TABLE kv (
			key text COLLATE "C" PRIMARY KEY,
			value bytea NOT NULL)`,
	)
	add(partitioned("mailboxes", `
		user_id bigint NOT NULL,
		id bigint NOT NULL DEFAULT nextval('mailbox_ids'),
		name text COLLATE "C" NOT NULL,
		role text NOT NULL DEFAULT '',
		uidvalidity bigint NOT NULL,
		uidnext bigint NOT NULL DEFAULT 1,
		highest_modseq bigint NOT NULL DEFAULT 0,
		subscribed boolean NOT NULL DEFAULT true,
		total integer NOT NULL DEFAULT 0,
		unread integer NOT NULL DEFAULT 0,
		size bigint NOT NULL DEFAULT 0,
		PRIMARY KEY (user_id, id)`, parts)...)
	add(
		`CREATE UNIQUE INDEX mailboxes_name ON mailboxes (user_id, name)`,
		`CREATE UNIQUE INDEX mailboxes_role ON mailboxes (user_id, role) WHERE role <> ''`,
	)
	add(partitioned("messages", `
		user_id bigint NOT NULL,
		id bigint NOT NULL,
		mailbox_id bigint NOT NULL,
		uid bigint NOT NULL,
		thread_id bigint NOT NULL,
		modseq bigint NOT NULL,
		flags text[] NOT NULL,
		seen boolean NOT NULL,
		internal_date timestamptz NOT NULL,
		size bigint NOT NULL,
		header_size bigint NOT NULL,
		segments jsonb NOT NULL,
		subject text NOT NULL,
		from_addrs jsonb,
		to_addrs jsonb,
		cc_addrs jsonb,
		from_text text NOT NULL,
		to_text text NOT NULL,
		date timestamptz,
		message_id_hdr text NOT NULL,
		snippet text NOT NULL,
		has_attachments boolean NOT NULL,
		PRIMARY KEY (user_id, id)`, parts)...)
	add(
		`CREATE UNIQUE INDEX messages_uid ON messages (user_id, mailbox_id, uid)`,
		`CREATE INDEX messages_list ON messages (user_id, mailbox_id, internal_date DESC, id DESC)`,
		// The unread listing and count: a partial index holds only unseen mail.
		`CREATE INDEX messages_unseen ON messages (user_id, mailbox_id, internal_date DESC, id DESC) WHERE NOT seen`,
		`CREATE INDEX messages_thread ON messages (user_id, thread_id, internal_date, id)`,
	)
	add(partitioned("threads", `
		user_id bigint NOT NULL,
		id bigint NOT NULL,
		subject_norm text NOT NULL,
		PRIMARY KEY (user_id, id)`, parts)...)
	add(`CREATE INDEX threads_subject ON threads (user_id, subject_norm, id DESC)`)
	add(partitioned("thread_refs", `
		user_id bigint NOT NULL,
		msgid text NOT NULL,
		thread_id bigint NOT NULL,
		PRIMARY KEY (user_id, msgid)`, parts)...)
	add(partitioned("attachments", `
		user_id bigint NOT NULL,
		message_id bigint NOT NULL,
		part text COLLATE "C" NOT NULL,
		filename text NOT NULL,
		content_type text NOT NULL,
		size bigint NOT NULL,
		hash text NOT NULL,
		PRIMARY KEY (user_id, message_id, part)`, parts)...)
	add(partitioned("search", `
		user_id bigint NOT NULL,
		message_id bigint NOT NULL,
		tsv tsvector NOT NULL,
		PRIMARY KEY (user_id, message_id)`, parts)...)
	add(`CREATE INDEX search_tsv ON search USING gin (tsv)`)
	add(partitioned("changes", `
		user_id bigint NOT NULL,
		modseq bigint NOT NULL,
		mailbox_id bigint NOT NULL,
		message_id bigint NOT NULL DEFAULT 0,
		uid bigint NOT NULL DEFAULT 0,
		kind text NOT NULL,
		PRIMARY KEY (user_id, modseq)`, parts)...)
	add(partitioned("training", `
		user_id bigint NOT NULL,
		id bigint NOT NULL DEFAULT nextval('training_ids'),
		message_id bigint NOT NULL,
		spam boolean NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (user_id, id)`, parts)...)
	return []migration{
		{version: 1, stmts: v1},
		// 2: inline blobs, the bytes of small segments kept in the database so
		// a delivery commits everything with one WAL flush.
		{version: 2, stmts: []string{`CREATE TABLE blob_data (hash text PRIMARY KEY, data bytea NOT NULL)`}},
		// 10: IMAP state shared by every node: the per-mailbox \Recent mark
		// and subscriptions to names that are not mailboxes.
		{version: 10, stmts: append(partitioned("recent_marks", `
		user_id bigint NOT NULL,
		mailbox_id bigint NOT NULL,
		mark bigint NOT NULL,
		PRIMARY KEY (user_id, mailbox_id)`, parts), partitioned("name_subscriptions", `
		user_id bigint NOT NULL,
		name text NOT NULL,
		PRIMARY KEY (user_id, name)`, parts)...)},
		// 11: each message's MIME structure and envelope (storage.Structures),
		// NULL for mail stored before: core backfills it in small batches
		// after start (a nullable column without default rewrites nothing).
		{version: 11, stmts: []string{`ALTER TABLE messages ADD COLUMN structure bytea`}},
		// 20: substring search (RFC 9051 section 6.4.4) on pg_trgm; see migration20.
		{version: 20, stmts: migration20(parts)},
		// 21: per-user storage quota in bytes (-1: the server default, 0: none).
		{version: 21, stmts: []string{`ALTER TABLE users ADD COLUMN quota_bytes bigint NOT NULL DEFAULT -1`}},
		// 22: CONDSTORE/QRESYNC: when each change was logged (entries before
		// this migration count as written now), the per-user floor below which
		// the log was pruned, and an index for the messages changed since a MODSEQ.
		{version: 22, stmts: []string{
			`ALTER TABLE changes ADD COLUMN at timestamptz NOT NULL DEFAULT now()`,
			`ALTER TABLE users ADD COLUMN changes_floor bigint NOT NULL DEFAULT 0`,
			`CREATE INDEX messages_modseq ON messages (user_id, mailbox_id, modseq)`,
		}},
		// 23: METADATA (RFC 5464) entries: mailbox 0 is the server, owner 0 the
		// server's shared entries.
		{version: 23, stmts: partitioned("metadata", `
			user_id bigint NOT NULL,
			mailbox_id bigint NOT NULL,
			name text COLLATE "C" NOT NULL,
			value bytea NOT NULL,
			PRIMARY KEY (user_id, mailbox_id, name)`, parts)},
		// 24: the selected-mailbox view of IMAP (MailboxView) from one
		// covering index: index-only scans instead of a heap look-up per
		// message when a big folder is selected (QRESYNC included).
		{version: 24, stmts: []string{
			`CREATE INDEX messages_view ON messages (user_id, mailbox_id, uid) INCLUDE (id, modseq, flags, internal_date, size)`,
		}},
		// 27: SORT/THREAD keys computed once per message by the IMAP engine
		// (storage/sortkeys.go), keyed by the never reused message id.
		{version: 27, stmts: partitioned("sort_keys", `
			user_id bigint NOT NULL,
			message_id bigint NOT NULL,
			from_name text NOT NULL,
			from_addr text NOT NULL,
			to_name text NOT NULL,
			to_addr text NOT NULL,
			cc_addr text NOT NULL,
			parents text NOT NULL,
			PRIMARY KEY (user_id, message_id)`, parts)},
		// 30: routing: aliases and catch-alls, domain admins, Sieve scripts and
		// the vacation reply memory.
		{version: 30, stmts: routingTables(parts)},
		// 40: what the spam filter learns per user besides word statistics
		// (storage/spam.go): correspondents, senders moved into or out of
		// Junk, and the allow/block lists of users and of local domains.
		{version: 40, stmts: spamTables(parts)},
		// 50: the body's search keys made in Go (bodykeys.go), backfilled for
		// the mail already stored; 51: the GIN index takes them instead of
		// pg_trgm's trigrams of the body.
		{version: 50, stmts: []string{`ALTER TABLE search_text ADD COLUMN body_keys bigint[] NOT NULL DEFAULT '{}'`},
			fn: backfillBodyKeys},
		{version: 51, stmts: []string{
			`DROP INDEX search_text_trgm`,
			`DO $$ DECLARE ns text; BEGIN
				SELECT n.nspname INTO ns FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
				EXECUTE format('CREATE INDEX search_text_keys ON search_text USING gin (subject %1$I.gin_trgm_ops, addrs %1$I.gin_trgm_ops, hdrs %1$I.gin_trgm_ops, body_keys)', ns);
			END $$`,
		}},
		// 60: shared throttle counters (login slow-down, SMTP rates), seen
		// alike by every node. A small global table, not per user.
		{version: 60, stmts: []string{
			`CREATE TABLE throttles (key text PRIMARY KEY, count bigint NOT NULL,
				next_at timestamptz, expires_at timestamptz NOT NULL)`,
			`CREATE INDEX throttles_expiry ON throttles (expires_at)`,
		}},
		// 70: webmail settings and draft aliases (storage.WebmailStore).
		// Per-user tables without foreign keys (DeleteUser removes their rows).
		{version: 70, stmts: append(partitioned("user_settings", `user_id bigint NOT NULL,
				data bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (user_id)`, parts),
			partitioned("draft_aliases", `user_id bigint NOT NULL,
				alias bigint NOT NULL, message_id bigint NOT NULL, PRIMARY KEY (user_id, alias)`, parts)...)},
		// 71: the client of each session (User-Agent and address at login).
		{version: 71, stmts: []string{
			`ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT ''`,
			`ALTER TABLE sessions ADD COLUMN ip text NOT NULL DEFAULT ''`,
		}},
		// 80: the DSN parameters (RFC 3461) and REQUIRETLS (RFC 8689) of
		// queued mail become columns; items queued before keep theirs, moved
		// out of the "=dsn" key of results (a JSON string holding JSON).
		{version: 80, stmts: []string{
			`ALTER TABLE queue ADD COLUMN dsn_ret text NOT NULL DEFAULT '',
				ADD COLUMN dsn_envid text NOT NULL DEFAULT '',
				ADD COLUMN dsn_rcpts jsonb,
				ADD COLUMN delay_notified boolean NOT NULL DEFAULT false,
				ADD COLUMN require_tls boolean NOT NULL DEFAULT false`,
			`UPDATE queue SET
				dsn_ret = coalesce((results->>'=dsn')::jsonb->>'ret', ''),
				dsn_envid = coalesce((results->>'=dsn')::jsonb->>'envid', ''),
				dsn_rcpts = (results->>'=dsn')::jsonb->'rcpts',
				delay_notified = coalesce(((results->>'=dsn')::jsonb->>'delay_notified')::boolean, false),
				results = results - '=dsn'
			WHERE jsonb_typeof(results->'=dsn') = 'string'`,
		}},
		// 110: the header lines' keys made in Go (bodykeys.go), backfilled;
		// 111: the GIN index takes them instead of pg_trgm's trigrams of the
		// header lines.
		{version: 110, stmts: []string{`ALTER TABLE search_text ADD COLUMN hdr_keys bigint[] NOT NULL DEFAULT '{}'`},
			fn: backfillHdrKeys},
		{version: 111, stmts: []string{
			`DROP INDEX search_text_keys`,
			`DO $$ DECLARE ns text; BEGIN
				SELECT n.nspname INTO ns FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
				EXECUTE format('CREATE INDEX search_text_keys ON search_text USING gin (subject %1$I.gin_trgm_ops, addrs %1$I.gin_trgm_ops, body_keys, hdr_keys)', ns);
			END $$`,
		}},
		// 112: the two copies of a message's text that PostgreSQL compresses
		// (search_text.body, and blob_data.data for inline bytes up to 64
		// KiB) use lz4, which compresses a 10 KB body in under half of
		// pglz's time; rows stored before keep pglz (both read alike). A
		// partitioned table passes the setting to partitions made later
		// only, so each is altered. Servers built without lz4 (or older than
		// PostgreSQL 14) keep pglz (the statements are EXECUTEd so that a
		// syntax error is caught).
		{version: 112, stmts: []string{`DO $$ DECLARE p regclass; BEGIN
				EXECUTE 'ALTER TABLE blob_data ALTER COLUMN data SET COMPRESSION lz4';
				EXECUTE 'ALTER TABLE search_text ALTER COLUMN body SET COMPRESSION lz4';
				FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'search_text'::regclass LOOP
					EXECUTE format('ALTER TABLE %s ALTER COLUMN body SET COMPRESSION lz4', p);
				END LOOP;
			EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
				RAISE NOTICE 'lz4 compression not available: %', SQLERRM;
			END $$`}},
		// 120: the rest of a search_text row that PostgreSQL compresses uses
		// lz4 too. A 10 KB message's row is still over the 2 KB toast
		// threshold once its body is compressed, and the next largest
		// column, hdr_keys (a 1.1 KB array of keys), went through pglz on
		// every delivery: 1.8% of PostgreSQL's time in the MX benchmark
		// (perf), for 677 bytes. lz4 makes 820 of it in a fraction of
		// that time.
		// Rows stored before keep their compression (both read alike);
		// servers without lz4 keep pglz, as in 112.
		{version: 120, stmts: []string{`DO $$ DECLARE p regclass; c text; BEGIN
				FOR p IN SELECT 'search_text'::regclass UNION ALL SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'search_text'::regclass LOOP
					FOREACH c IN ARRAY ARRAY['subject', 'addrs', 'hdrs', 'body_keys', 'hdr_keys'] LOOP
						EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET COMPRESSION lz4', p, c);
					END LOOP;
				END LOOP;
			EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
				RAISE NOTICE 'lz4 compression not available: %', SQLERRM;
			END $$`}},
		// 121: the subject's and the addresses' keys made in Go and kept in
		// hdr_keys with the header lines' (bodykeys.go); the GIN index drops
		// their pg_trgm trigrams. The index is dropped first so that the
		// backfill does not maintain it, and built again on the keys alone.
		{version: 121, stmts: []string{`DROP INDEX search_text_keys`}, fn: backfillHeadKeys},
		// 130: the keywords defined in each mailbox (storage.IMAPState
		// AddKeywords), by lower-case name.
		{version: 130, stmts: partitioned("mailbox_keywords", `
			user_id bigint NOT NULL,
			mailbox_id bigint NOT NULL,
			lname text COLLATE "C" NOT NULL,
			name text NOT NULL,
			PRIMARY KEY (user_id, mailbox_id, lname)`, parts)},
	}
}

// migrate applies pending migrations. A session advisory lock keyed by the
// schema serializes nodes starting at once; each migration commits on its
// own with its schema_migrations row.
func (s *Store) migrate(ctx context.Context, parts int) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	key := "stamp-migrate:" + s.schema
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", key); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext($1))", key); err != nil {
			s.log.Warn("postgres: migrate: unlock", "err", err)
		}
	}()
	if s.schema != "" {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: create schema: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	all := append(migrations(parts), s.testMigrations...)
	if err := storage.CheckSchemaKnown(applied, versionsOf(all)); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			for _, q := range m.stmts {
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("%w (in %.60q)", err, q)
				}
			}
			if m.fn != nil {
				if err := m.fn(ctx, tx); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", m.version)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %d: %w", m.version, err)
		}
		s.log.Info("postgres: applied migration", "version", m.version, "schema", s.schema)
	}
	return nil
}

// migration20 replaces the word index (search.tsv) with the texts of a
// trigram index: search_text holds each message's subject, addresses,
// header lines and body with one multicolumn GIN index (pg_trgm's
// gin_trgm_ops), so ILIKE '%needle%' of 3+ characters is an index scan.
// pg_trgm is created in the public schema under a database-wide advisory
// lock (schemas of one database share it) unless it exists already; the
// index names the operator class with the extension's schema, since
// search_path may be a schema of its own. Existing mail keeps its subject
// and addresses; its body is backfilled from the old index's lexemes (the
// words, lower case, in no order), so words and parts of words are found
// and phrases only once the message is delivered again.
// messages.sent_day is the Date header's calendar date in its own zone in
// days since 1970 (SENTBEFORE/SENTON/SENTSINCE), backfilled in UTC (the zone
// was not kept), from the internal date when there is no Date.
func migration20(parts int) []string {
	out := []string{
		`SELECT pg_advisory_xact_lock(hashtext('stamp-create-extension-pg_trgm'))`,
		`DO $$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
				CREATE EXTENSION pg_trgm SCHEMA public;
			END IF;
		END $$`,
	}
	out = append(out, partitioned("search_text", `
		user_id bigint NOT NULL,
		message_id bigint NOT NULL,
		subject text NOT NULL,
		addrs text NOT NULL,
		hdrs text NOT NULL,
		body text NOT NULL,
		PRIMARY KEY (user_id, message_id)`, parts)...)
	out = append(out,
		`DO $$ DECLARE ns text; BEGIN
			SELECT n.nspname INTO ns FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
			EXECUTE format('CREATE INDEX search_text_trgm ON search_text USING gin (subject %1$I.gin_trgm_ops, addrs %1$I.gin_trgm_ops, hdrs %1$I.gin_trgm_ops, body %1$I.gin_trgm_ops)', ns);
		END $$`,
		`INSERT INTO search_text (user_id, message_id, subject, addrs, hdrs, body)
			SELECT m.user_id, m.id, m.subject, m.from_text || ' ' || m.to_text, '',
				coalesce(array_to_string(tsvector_to_array(s.tsv), ' '), '')
			FROM messages m LEFT JOIN search s ON s.user_id = m.user_id AND s.message_id = m.id`,
		`DROP TABLE search`,
		`ALTER TABLE messages ADD COLUMN sent_day bigint NOT NULL DEFAULT 0`,
		`UPDATE messages SET sent_day = floor(extract(epoch FROM coalesce(date, internal_date)) / 86400)::bigint`,
	)
	return out
}

// routingTables is migration 30.
func routingTables(parts int) []string {
	out := []string{
		`CREATE TABLE aliases (
			address text PRIMARY KEY,
			domain text NOT NULL,
			targets jsonb NOT NULL,
			created_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE INDEX aliases_domain ON aliases (domain)`,
		`CREATE TABLE alias_owners (
			owner text NOT NULL,
			address text NOT NULL REFERENCES aliases(address) ON DELETE CASCADE,
			PRIMARY KEY (owner, address))`,
		`CREATE INDEX alias_owners_address ON alias_owners (address)`,
		`ALTER TABLE domains ADD COLUMN admin text NOT NULL DEFAULT ''`,
	}
	// Per-user tables carry no foreign keys (they could cross users and
	// shards: TestSchemaDistributable); DeleteUser removes their rows.
	out = append(out, partitioned("sieve_scripts", `
		user_id bigint NOT NULL,
		name text NOT NULL,
		script text NOT NULL,
		active boolean NOT NULL DEFAULT false,
		updated_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (user_id, name)`, parts)...)
	out = append(out, partitioned("vacation_replies", `
		user_id bigint NOT NULL,
		handle text NOT NULL,
		sender text NOT NULL,
		until timestamptz NOT NULL,
		PRIMARY KEY (user_id, handle, sender)`, parts)...)
	return out
}

// spamTables are migration 40's statements.
func spamTables(parts int) []string {
	var out []string
	out = append(out, partitioned("spam_correspondents", `
		user_id bigint NOT NULL,
		address text COLLATE "C" NOT NULL,
		last_at timestamptz NOT NULL,
		PRIMARY KEY (user_id, address)`, parts)...)
	out = append(out, partitioned("spam_senders", `
		user_id bigint NOT NULL,
		address text COLLATE "C" NOT NULL,
		ham integer NOT NULL DEFAULT 0,
		spam integer NOT NULL DEFAULT 0,
		PRIMARY KEY (user_id, address)`, parts)...)
	out = append(out, partitioned("spam_lists", `
		user_id bigint NOT NULL,
		entry text COLLATE "C" NOT NULL,
		allow boolean NOT NULL,
		PRIMARY KEY (user_id, entry)`, parts)...)
	out = append(out, `CREATE TABLE spam_domain_lists (
		domain text NOT NULL,
		entry text COLLATE "C" NOT NULL,
		allow boolean NOT NULL,
		PRIMARY KEY (domain, entry))`)
	return out
}

func versionsOf(ms []migration) []int {
	vs := make([]int, len(ms))
	for i, m := range ms {
		vs[i] = m.version
	}
	return vs
}
