package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage/internal/textkeys"
)

// Body search keys (migration 50).
//
// The body text is the bulk of what a message puts in the search index
// (10 KB and more against a few hundred bytes of subject, addresses and
// header lines), and pg_trgm's extraction over it (lower-casing word by
// word, sorting every trigram) was most of PostgreSQL's work per delivery.
// So the body's keys are made here, in Go, and stored as a bigint[] under
// the same GIN index: one key per distinct trigram inside a word (a run of
// letters, digits and marks), each rune folded, three runes
// packed into 63 bits (storage/internal/textkeys). Trigrams across word boundaries and pg_trgm's padded
// word starts and ends are left out: they are what makes the set large.
//
// A substring search stays exact: every word run of a needle lies inside a
// word run of any text containing the needle, so the needle's keys are a
// subset of the text's and `body_keys @> needle keys` never drops a match;
// `body ILIKE` then checks the candidates. A needle with no word run of
// three runes ("ox ju", "12:30") has no keys and is checked by ILIKE on the
// rows the other conditions leave (the user's, the mailbox's).
//
// body_keys holds the body keys (textkeys.BodyKeys), a sample of those
// keys: of two consecutive trigrams of a word, the one of lower rank, and
// every CJK trigram. It is about 60% of an English body's keys, and GIN
// entries were 60% of the WAL a delivery wrote; a needle's body keys are
// still among those of any body holding it, but a needle needs a word run
// of four runes (three with a CJK rune) to have any. Rows written before
// keep all their keys, which hold the sample.

// Header keys (migration 110).
//
// The header lines (search_text.hdrs, some 600 bytes a message with
// Received and Authentication-Results) had pg_trgm's trigrams in the GIN
// index: some 250 per message, most of them new (time stamps, ids), which
// made the search_text insert the dearest statement of a delivery (0.58 ms
// a message, 0.42 ms of it the header trigrams). Their keys are now made in
// Go like the body's (about 135 a message) and stored in hdr_keys, with the
// same exact recheck (hdrs ILIKE) after the index.

// Subject and address keys (migration 121).
//
// The subject and the addresses had pg_trgm's trigrams in the same GIN
// index, some 60 entries a message of the 230 it put there, and the index
// entries are most of the search_text insert's work (the pending list and
// its merges into the index). Their keys are now in hdr_keys with the
// header lines' (which mostly hold the same words: the Subject, From, To and
// Cc lines): no new entries at all for most messages. Subject and address
// search is then "hdr_keys @> needle keys" and the exact ILIKE on subject
// or addrs, as SQLite's search does with its keys; needles without keys are
// checked by ILIKE on the rows the other conditions leave, as before.

// headKeys returns what hdr_keys holds: the keys of the header lines, the
// subject and the addresses (a line break between them is no word rune, so
// no key spans two of them).
func headKeys(hdrs, subject, addrs string) []int64 {
	return textkeys.Keys(hdrs + "\n" + subject + "\n" + addrs)
}

// headKeysSrc is headKeys' text in SQL over a search_text row.
const headKeysSrc = `hdrs || E'\n' || subject || E'\n' || addrs`

// backfillHeadKeys sets hdr_keys of every row to headKeys (migration 121),
// then builds the index on the keys alone.
func backfillHeadKeys(ctx context.Context, tx pgx.Tx) error {
	if err := backfillKeys(ctx, tx, headKeysSrc, "hdr_keys", textkeys.Keys); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `CREATE INDEX search_text_keys ON search_text USING gin (body_keys, hdr_keys)`)
	return err
}

// backfillBodyKeys fills body_keys for the mail stored before migration 50.
func backfillBodyKeys(ctx context.Context, tx pgx.Tx) error {
	return backfillKeys(ctx, tx, "body", "body_keys", textkeys.BodyKeys)
}

// backfillHdrKeys fills hdr_keys for the mail stored before migration 110.
func backfillHdrKeys(ctx context.Context, tx pgx.Tx) error {
	return backfillKeys(ctx, tx, "hdrs", "hdr_keys", textkeys.Keys)
}

// backfillKeys sets column dst of every search_text row to keysOf its text
// column src, a thousand rows per round trip.
func backfillKeys(ctx context.Context, tx pgx.Tx, src, dst string, keysOf func(string) []int64) error {
	var lastU, lastM int64 = -1, -1
	for {
		rows, err := tx.Query(ctx, `SELECT user_id, message_id, `+src+` FROM search_text
			WHERE (user_id, message_id) > ($1, $2) ORDER BY user_id, message_id LIMIT 1000`, lastU, lastM)
		if err != nil {
			return fmt.Errorf("backfill %s: %w", dst, err)
		}
		var us, ms, from, to, keys []int64
		var u, m int64
		var text string
		_, err = pgx.ForEachRow(rows, []any{&u, &m, &text}, func() error {
			k := keysOf(text)
			us, ms = append(us, u), append(ms, m)
			from = append(from, int64(len(keys))+1)
			keys = append(keys, k...)
			to = append(to, int64(len(keys)))
			lastU, lastM = u, m
			return nil
		})
		if err != nil {
			return fmt.Errorf("backfill %s: %w", dst, err)
		}
		if len(us) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE search_text s SET `+dst+` = coalesce(($3::bigint[])[t.f:t.e], '{}')
			FROM unnest($1::bigint[], $2::bigint[], $4::bigint[], $5::bigint[]) AS t(u, m, f, e)
			WHERE s.user_id = t.u AND s.message_id = t.m`, us, ms, keys, from, to); err != nil {
			return fmt.Errorf("backfill %s: %w", dst, err)
		}
	}
}
