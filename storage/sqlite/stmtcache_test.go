package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestStatementCache: a read text seen twice is kept prepared and gives the
// same answers as before, including rows written after it was prepared; a
// write transaction's texts are prepared once it is over; forgetting every
// statement while a query still reads through one leaves that query whole.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "stamp.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const q = `SELECT count(*) FROM domains WHERE name >= ?`
	count := func() int {
		t.Helper()
		var n int
		if err := s.r.QueryRowContext(ctx, q, "").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	prepared := func(p *pool, q string) bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		e, ok := p.m[q]
		return ok && e.st != nil
	}
	if n := count(); n != 0 {
		t.Fatalf("empty store: %d domains", n)
	}
	if prepared(s.r, q) {
		t.Fatal("prepared after one use, want only on the second")
	}
	count()
	if !prepared(s.r, q) {
		t.Fatal("not prepared after two uses")
	}
	const ins = `INSERT INTO domains (name, created_at) VALUES (?, 0)`
	for i, name := range []string{"a.example", "b.example", "c.example"} {
		if err := s.write(ctx, func(w *wtx) error {
			_, err := w.exec(ins, name)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != i+1 {
			t.Errorf("after %d inserts: prepared count says %d", i+1, got)
		}
	}
	if !prepared(s.w, ins) {
		t.Error("writer text used three times is not prepared")
	}

	rows, err := s.r.QueryContext(ctx, `SELECT name FROM domains ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT name FROM domains ORDER BY name`) // prepared now
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no first row")
	}
	s.r.mu.Lock()
	s.r.resetLocked() // closes the statement rows reads through
	s.r.mu.Unlock()
	var names []string
	for ok := true; ok; ok = rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(names) != 3 || names[0] != "a.example" || names[2] != "c.example" {
		t.Errorf("rows read across a reset: %v", names)
	}
	if got := count(); got != 3 {
		t.Errorf("after a reset: %d, want 3", got)
	}
}
