package postgres

import (
	"context"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Body search keys (migration 50).
//
// The body text is the bulk of what a message puts in the search index
// (10 KB and more against a few hundred bytes of subject, addresses and
// header lines), and pg_trgm's extraction over it (lower-casing word by
// word, sorting every trigram) was most of PostgreSQL's work per delivery.
// So the body's keys are made here, in Go, and stored as a bigint[] under
// the same GIN index: one key per distinct trigram inside a word (a run of
// letters, digits and marks), each rune folded (foldRune), three runes
// packed into 63 bits. Trigrams across word boundaries and pg_trgm's padded
// word starts and ends are left out: they are what makes the set large.
//
// A substring search stays exact: every word run of a needle lies inside a
// word run of any text containing the needle, so the needle's keys are a
// subset of the text's and `body_keys @> needle keys` never drops a match;
// `body ILIKE` then checks the candidates. A needle with no word run of
// three runes ("ox ju", "12:30") has no keys and is checked by ILIKE on the
// rows the other conditions leave (the user's, the mailbox's).

// bodyKeys returns the sorted distinct keys of text.
func bodyKeys(text string) []int64 {
	var set keySet
	var a, b rune // the two runes before the current one in this word run
	n := 0        // runes of the current word run seen, up to 2
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		if !isWordRune(r) {
			n = 0
			continue
		}
		r = foldRune(r)
		if n == 2 {
			set.add(int64(a)<<42 | int64(b)<<21 | int64(r))
		} else {
			n++
		}
		a, b = b, r
	}
	keys := set.keys()
	slices.Sort(keys)
	return keys
}

// keySet is a set of positive keys, open addressing with linear probing: a
// body repeats most of its trigrams, and adding one already present costs a
// hash and a compare.
type keySet struct {
	slots []int64 // 0: empty
	n     int
}

func (s *keySet) add(k int64) {
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := uint64(k) * 0x9E3779B97F4A7C15 >> 32 & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return
		case 0:
			s.slots[i] = k
			s.n++
			return
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	s.slots, s.n = make([]int64, max(256, 2*len(old))), 0
	for _, k := range old {
		if k != 0 {
			s.add(k)
		}
	}
}

func (s *keySet) keys() []int64 {
	out := make([]int64, 0, s.n)
	for _, k := range s.slots {
		if k != 0 {
			out = append(out, k)
		}
	}
	return out
}

// isWordRune reports whether r belongs to a word run.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// foldRune maps every case variant of r to one rune (the smallest of its
// simple case folding orbit: upper case for ASCII letters, whose orbits hold
// the Kelvin sign and the long s too), so keys match whatever case ILIKE
// ignores.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	if m > 0x1FFFFF {
		m = utf8.RuneError
	}
	return m
}

// backfillBodyKeys fills body_keys for the mail stored before migration 50,
// a thousand rows per round trip.
func backfillBodyKeys(ctx context.Context, tx pgx.Tx) error {
	var lastU, lastM int64 = -1, -1
	for {
		rows, err := tx.Query(ctx, `SELECT user_id, message_id, body FROM search_text
			WHERE (user_id, message_id) > ($1, $2) ORDER BY user_id, message_id LIMIT 1000`, lastU, lastM)
		if err != nil {
			return fmt.Errorf("backfill body keys: %w", err)
		}
		var us, ms, from, to, keys []int64
		var u, m int64
		var body string
		_, err = pgx.ForEachRow(rows, []any{&u, &m, &body}, func() error {
			k := bodyKeys(body)
			us, ms = append(us, u), append(ms, m)
			from = append(from, int64(len(keys))+1)
			keys = append(keys, k...)
			to = append(to, int64(len(keys)))
			lastU, lastM = u, m
			return nil
		})
		if err != nil {
			return fmt.Errorf("backfill body keys: %w", err)
		}
		if len(us) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE search_text s SET body_keys = coalesce(($3::bigint[])[t.f:t.e], '{}')
			FROM unnest($1::bigint[], $2::bigint[], $4::bigint[], $5::bigint[]) AS t(u, m, f, e)
			WHERE s.user_id = t.u AND s.message_id = t.m`, us, ms, keys, from, to); err != nil {
			return fmt.Errorf("backfill body keys: %w", err)
		}
	}
}
