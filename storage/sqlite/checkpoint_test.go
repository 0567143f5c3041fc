package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openCheckpointTest opens a store in a temporary directory, closed at the
// test's end, and returns it with its file's path.
func openCheckpointTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stamp.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// insertDomain commits one small write transaction (a domain row).
func insertDomain(t *testing.T, s *Store, i int) {
	t.Helper()
	if err := s.write(context.Background(), func(w *wtx) error {
		_, err := w.exec(`INSERT INTO domains (name, created_at) VALUES (?, 0)`, fmt.Sprintf("d%d.example", i))
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestBackgroundCheckpoint: write transactions are checkpointed by the
// background goroutine long before the WAL reaches the writer's own
// threshold (writerCheckpointPages): after checkpointCommits small commits
// (far fewer pages than that threshold) a round has run and the rows are in
// the database file itself, and once the round has run the next commit
// starts the WAL from its beginning.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	s, path := openCheckpointTest(t)
	waitRounds := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.cp.runs.Load() < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := s.cp.runs.Load(); got < n {
			t.Fatalf("%d checkpoint rounds, want %d", got, n)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	start := st.Size()
	before := s.cp.runs.Load()
	const commits = 2 * checkpointCommits
	for i := range commits {
		insertDomain(t, s, i)
	}
	waitRounds(before + 2)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() <= start {
		t.Errorf("database file is %d bytes after %d commits, %d before: nothing copied from the WAL", fi.Size(), commits, start)
	}
	insertDomain(t, s, commits)
	var busy, frames, copied int
	if err := s.cp.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	// One small commit after the restart is a few pages; without one the
	// WAL would hold every page of the commits above.
	if frames > 20 {
		t.Errorf("WAL holds %d frames after a pause and one commit: not restarted", frames)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM domains`).Scan(&n); err != nil || n != commits+1 {
		t.Fatalf("domains: %d, %v; want %d", n, err, commits+1)
	}
}

// TestCheckpointDoesNotStallWrites: while a reader holds a read
// transaction on the WAL (a long search), background checkpoints still run
// and no write waits for that reader (SQLite's RESTART checkpoint would
// hold off writers until the reader ends).
func TestCheckpointDoesNotStallWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := openCheckpointTest(t)
	insertDomain(t, s, 0)
	conn, err := s.r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM domains`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("reader: %d domains, %v", n, err)
	}
	before := s.cp.runs.Load()
	var slowest time.Duration
	// Writes go on while the rounds run (each kicked by the 400th commit).
	for i := 1; i <= 3*checkpointCommits+200; i++ {
		t0 := time.Now()
		insertDomain(t, s, i)
		slowest = max(slowest, time.Since(t0))
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.cp.runs.Load()-before < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.cp.runs.Load() - before; got < 2 {
		t.Fatalf("%d checkpoint rounds with a reader open, want 2 or more", got)
	}
	// The reader still sees its snapshot.
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM domains`).Scan(&n); err != nil || n != 1 {
		t.Errorf("reader's snapshot: %d domains, %v; want 1", n, err)
	}
	conn.ExecContext(ctx, `ROLLBACK`)
	// A write that waited for the reader would take the connection's whole
	// busy timeout (seconds); one that waited for a round's tail, a few
	// pages and an fsync.
	if slowest > 2*time.Second {
		t.Errorf("slowest write took %s with a reader open: it waited for the reader", slowest)
	}
}

// TestCheckpointRestartsUnderLoad: with commits back to back and no pause,
// every round still ends with the whole WAL in the database (its last step
// runs between two write transactions), so the WAL starts again from its
// beginning and its file stays far shorter than what was written.
func TestCheckpointRestartsUnderLoad(t *testing.T) {
	s, path := openCheckpointTest(t)
	before := s.cp.runs.Load()
	const commits = 4 * checkpointCommits
	for i := range commits {
		insertDomain(t, s, i)
	}
	if got := s.cp.runs.Load() - before; got < 2 {
		t.Fatalf("%d rounds during %d commits, want 2 or more", got, commits)
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// Every commit appends at least one 4 KiB page.
	if wal.Size() >= commits*4096*3/4 {
		t.Errorf("WAL file is %d bytes after %d commits without a pause: never started again", wal.Size(), commits)
	}
}
