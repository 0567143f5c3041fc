package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stamp-mail/stamp/storage"
)

// TestDeliverLookupsProbe checks that Deliver's thread look-ups stay index
// probes on all their keys when their generic plans were made while the
// tables were empty: the plans are cached per connection, and one made then
// (or where a partition holds many users) used to read every reference or
// message of the user on each delivery.
func TestDeliverLookupsProbe(t *testing.T) {
	s := openTest(t, DefaultPartitions)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "probe@example.com")
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	lookups := []struct{ name, sql, args string }{
		{"refs", threadRefsSQL, fmt.Sprintf("%d, ARRAY['m5@example.com', 'none@example.com', 'm1999@example.com']", u.ID)},
		{"subjects", subjectCandidatesSQL, fmt.Sprintf("%d, ARRAY['subject 7', 'no such subject', 'subject 1999'], %d", u.ID, maxSubjectCandidates)},
	}
	inDeliverTx := func(fn func() error) {
		t.Helper()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // read only
		if _, err := tx.Exec(ctx, deliverSettingsSQL); err != nil {
			t.Fatal(err)
		}
		if err := fn(); err != nil {
			t.Fatal(err)
		}
	}
	inDeliverTx(func() error {
		for _, l := range lookups {
			types := "bigint, text[]"
			if l.name == "subjects" {
				types += ", int"
			}
			if _, err := conn.Exec(ctx, fmt.Sprintf("PREPARE %s (%s) AS %s", l.name, types, l.sql)); err != nil {
				return err
			}
			// The first execution makes the generic plan, from empty tables.
			if _, err := conn.Exec(ctx, fmt.Sprintf("EXECUTE %s (%s)", l.name, l.args)); err != nil {
				return err
			}
		}
		return nil
	})
	const n = 2000
	for i := 0; i < n; i += 100 {
		var ms []*storage.NewMessage
		for j := i; j < i+100; j++ {
			ms = append(ms, newMsg(u.ID, inbox.ID, fmt.Sprintf("subject %d", j), j))
		}
		if err := s.Deliver(ctx, &storage.Batch{Messages: ms}); err != nil {
			t.Fatal(err)
		}
	}
	inDeliverTx(func() error {
		for _, l := range lookups {
			hits, err := explainHits(ctx, conn, fmt.Sprintf("EXECUTE %s (%s)", l.name, l.args))
			if err != nil {
				return err
			}
			t.Logf("%s: %d buffers", l.name, hits)
			// Three keys, a few pages each (index levels, heap); a scan of
			// the user's 2,000 rows reads dozens.
			if hits > 40 {
				t.Errorf("%s: %d buffers read after %d messages, want a few per key", l.name, hits, n)
			}
		}
		return nil
	})
}

// explainHits runs EXPLAIN (ANALYZE, BUFFERS) of q and returns the shared
// buffers its plan read.
func explainHits(ctx context.Context, conn *pgxpool.Conn, q string) (int, error) {
	var raw []byte
	if err := conn.QueryRow(ctx, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+q).Scan(&raw); err != nil {
		return 0, err
	}
	var out []struct {
		Plan struct {
			Hit  int `json:"Shared Hit Blocks"`
			Read int `json:"Shared Read Blocks"`
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out) == 0 {
		return 0, fmt.Errorf("explain %q: %v", raw, err)
	}
	return out[0].Plan.Hit + out[0].Plan.Read, nil
}
