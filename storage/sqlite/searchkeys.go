package sqlite

import (
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/internal/textkeys"
	"modernc.org/sqlite"
)

// stamp_contains_fold(text, needle) is 1 when storage.ContainsFold(text,
// needle), else 0 (NULL text: 0). Functions are registered with the driver,
// for every connection it opens; this one is pure. Its arguments are
// views of SQLite's memory (VolatileArgs: no copy of each 10 KB body, and
// text with NUL bytes is not cut short), never kept past the call.
func init() {
	sqlite.MustRegisterFunction("stamp_contains_fold", &sqlite.FunctionImpl{
		NArgs: 2, Deterministic: true, VolatileArgs: true, Scalar: containsFoldSQL,
	})
}

func containsFoldSQL(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	text, needle := sqlText(args[0]), sqlText(args[1])
	if storage.ContainsFold(text, needle) {
		return int64(1), nil
	}
	return int64(0), nil
}

// sqlText is a function argument as text.
func sqlText(v driver.Value) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// The search index (migration 90).
//
// Each message has a row in search_text (id = message id) with the four
// texts substring search checks: subject, addresses, header lines and body.
// The full-text table search indexes KEYS of those texts, not the texts: it
// is a contentless FTS5 table (content='', contentless_delete=1, the ascii
// tokenizer) whose four columns hold, as ASCII tokens, the distinct keys of
// each text (storage/internal/textkeys: the trigrams inside word runs of the
// case-folded text). A 10 KB body is about 10,000 trigram tokens for the
// trigram tokenizer, and a few hundred to a few thousand distinct keys here;
// the keys are computed in the delivering goroutine (PrepareIndex), so the
// single writer only inserts. detail=full is kept although no query uses
// positions: bm25() (relevance order) returns 0 with detail=column or none,
// and with one occurrence per token the positions cost little (measured
// within the noise of detail=none on this machine).
//
// A needle is looked up as the AND of its keys in its columns (a superset:
// every text containing the needle has its keys, textkeys explains why), and
// every candidate is then checked exactly against search_text by
// stamp_contains_fold, storage.ContainsFold as an SQL function (so one
// folding rule decides every needle, short or long, ASCII or not, and
// LIMIT/OFFSET stay in SQL). The body column holds the body keys, a
// sample (textkeys.BodyKeys), and a needle looked up in a set of columns
// with the body asks for its own body keys, which are among the keys of any
// of the columns holding it. A needle without a word run of three runes
// (four when the body is among the columns, unless CJK) has
// no keys and is checked on the rows the other conditions leave, as short
// needles always were. Deleting a search_text row deletes its keys (trigger
// search_text_delete).

// maxNeedleKeys caps the keys one needle asks the index for: any subset of
// a needle's keys still selects a superset of the matches, and each key is
// one doclist to read.
const maxNeedleKeys = 16

// searchRow is a message's row of search_text and of search, written by
// insertSearchRows at the end of the group's transaction.
type searchRow struct {
	id                         int64
	subject, addrs, hdrs, body string
	keys                       [4]string // tokens of subject, addrs, hdrs, body
}

// newSearchRow makes a message's search row (without its id), keys
// included: the costly part of indexing, done before the write
// transaction.
func newSearchRow(m *storage.NewMessage) searchRow {
	r := searchRow{subject: m.Subject, addrs: addrsText(m), hdrs: m.SearchHeader, body: m.SearchText}
	r.setKeys()
	return r
}

// addrsText is the addresses text of a message's search row.
func addrsText(m *storage.NewMessage) string {
	return addrText(m.From) + " " + addrText(m.To) + " " + addrText(m.Cc)
}

func (r *searchRow) setKeys() {
	for i, t := range [3]string{r.subject, r.addrs, r.hdrs} {
		r.keys[i] = keyTokens(t)
	}
	r.keys[3] = textkeys.LowerBodyTokens(r.body)
}

// keyTokens returns the index tokens of a text: the keys of its CaseFold
// (strings.ToLower), so that every text ContainsFold finds a needle in has
// the needle's keys. The body column holds the body keys instead
// (textkeys.LowerBodyTokens, a sample of these that a needle's body keys
// still find; rows written before keep all their keys, a superset).
func keyTokens(text string) string { return textkeys.LowerTokens(text) }

// needleTokens returns the tokens a needle's matches must all have, at most
// maxNeedleKeys of them, spread over the needle's keys: with body, over its
// body keys, which are among the keys of any column that holds the needle.
func needleTokens(needle string, body bool) []string {
	keyFunc := textkeys.LowerKeys
	if body {
		keyFunc = textkeys.LowerBodyKeys
	}
	keys := keyFunc(needle)
	if n := len(keys); n > maxNeedleKeys {
		picked := make([]int64, maxNeedleKeys)
		for i := range picked {
			picked[i] = keys[i*n/maxNeedleKeys]
		}
		keys = picked
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(textkeys.AppendToken(nil, k))
	}
	return out
}

// ftsKeys is an FTS5 query matching rows having every token in cols (each
// token in any of them). Tokens are lower-case ASCII letters and digits,
// quoted so that none reads as an operator.
func ftsKeys(cols []string, toks []string) string {
	var b strings.Builder
	if len(cols) == 1 {
		b.WriteString(cols[0])
	} else {
		b.WriteString("{" + strings.Join(cols, " ") + "}")
	}
	b.WriteString(" : (")
	for i, t := range toks {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(`"` + t + `"`)
	}
	b.WriteString(")")
	return b.String()
}

// PrepareIndex computes the search rows of messages, keys included
// (storage.IndexPreparer): core calls it in the delivering goroutine, and
// Deliver for whatever was not prepared, before the batch waits for the
// writer.
// Copies of one message in a batch (a submission's Sent copy and the
// recipient's) share one row.
func (s *Store) PrepareIndex(msgs []*storage.NewMessage) {
	var last *searchRow
	for _, m := range msgs {
		if m == nil {
			continue
		}
		if _, ok := m.SearchIndex.(*searchRow); ok {
			continue
		}
		r := searchRow{subject: m.Subject, addrs: addrsText(m), hdrs: m.SearchHeader, body: m.SearchText}
		if last != nil && r.subject == last.subject && r.addrs == last.addrs && r.hdrs == last.hdrs && r.body == last.body {
			m.SearchIndex = last
			continue
		}
		r.setKeys()
		last = &r
		m.SearchIndex = last
	}
}

// forgetIndex drops the prepared search rows of a batch once its
// transaction is over, so that a message reused for another delivery with
// other texts gets new ones.
func forgetIndex(b *storage.Batch) {
	for _, m := range b.Messages {
		if m != nil {
			m.SearchIndex = nil
		}
	}
}

// addSearch queues message id's search row for insertSearchRows.
func (w *wtx) addSearch(m *storage.NewMessage, id int64) {
	var r searchRow
	if p, ok := m.SearchIndex.(*searchRow); ok {
		r = *p
	} else {
		r = newSearchRow(m)
	}
	r.id = id
	w.search = append(w.search, r)
}

// searchRowsPerInsert is how many rows one INSERT into search_text or
// search carries (5 parameters each, far below SQLite's limit of 32766).
const searchRowsPerInsert = 64

// insertSearchRows writes the search rows of a group commit, after every
// other statement of its transaction and in few statements. FTS5 writes its
// pending terms to disk as a new segment at each statement or savepoint
// that follows an insert, so one INSERT per message, between the message's
// other statements, made a segment per message and a merge every few
// messages. Written together, the group's rows make one segment per INSERT
// of searchRowsPerInsert rows.
func (w *wtx) insertSearchRows(rows []searchRow) error {
	return w.insertSearchChunks(rows, searchRowsPerInsert)
}

// insertSearchChunks writes rows, per rows to a statement.
func (w *wtx) insertSearchChunks(rows []searchRow, per int) error {
	for len(rows) > 0 {
		n := min(len(rows), per)
		for _, table := range []string{"search_text", "search"} {
			var q strings.Builder
			q.WriteString(`INSERT INTO ` + table + ` (rowid, subject, addrs, hdrs, body) VALUES `)
			args := make([]any, 0, 5*n)
			for i, r := range rows[:n] {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?)")
				if table == "search" {
					args = append(args, r.id, r.keys[0], r.keys[1], r.keys[2], r.keys[3])
				} else {
					args = append(args, r.id, r.subject, r.addrs, r.hdrs, r.body)
				}
			}
			if _, err := w.exec(q.String(), args...); err != nil {
				return fmt.Errorf("index: %w", err)
			}
		}
		rows = rows[n:]
	}
	return nil
}

// copySearch gives message nid the search row of message id (COPY).
func (w *wtx) copySearch(nid, id int64) error {
	r := searchRow{id: nid}
	err := w.queryRow(`SELECT subject, addrs, hdrs, body FROM search_text WHERE id = ?`, id).
		Scan(&r.subject, &r.addrs, &r.hdrs, &r.body)
	if err != nil {
		return fmt.Errorf("copy search row: %w", notFound(err))
	}
	r.setKeys()
	return w.insertSearchRows([]searchRow{r})
}

// backfillBatch is how many messages migration 90 indexes per statement
// (5 parameters each, below SQLite's limit of 32766): each statement makes
// one FTS5 segment, merged once at the end.
const backfillBatch = 1024

// migrateSearchKeys is migration 90's Go part: it moves every row of the
// old trigram table (search_trigram, renamed by the migration's SQL) into
// search_text and the key index, in batches of backfillBatch, then drops it.
func migrateSearchKeys(w *wtx) error {
	// Segments are merged once at the end ('optimize') rather than after
	// every few INSERTs (automerge was half of the migration's time).
	if _, err := w.exec(`INSERT INTO search(search, rank) VALUES ('automerge', 0)`); err != nil {
		return err
	}
	last := int64(-1)
	for {
		rows, err := w.query(`SELECT rowid, coalesce(subject, ''), coalesce(addrs, ''), coalesce(hdrs, ''), coalesce(body, '') FROM search_trigram
			WHERE rowid > ? ORDER BY rowid LIMIT ?`, last, backfillBatch)
		if err != nil {
			return err
		}
		var batch []searchRow
		for rows.Next() {
			var r searchRow
			if err := rows.Scan(&r.id, &r.subject, &r.addrs, &r.hdrs, &r.body); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		for i := range batch {
			batch[i].setKeys()
		}
		if err := w.insertSearchChunks(batch, backfillBatch); err != nil {
			return err
		}
		last = batch[len(batch)-1].id
	}
	for _, q := range []string{
		`INSERT INTO search(search) VALUES ('optimize')`,
		`INSERT INTO search(search, rank) VALUES ('automerge', 4)`,
		`DROP TABLE search_trigram`,
	} {
		if _, err := w.exec(q); err != nil {
			return err
		}
	}
	return nil
}
