package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBackgroundCheckpoint: write transactions are checkpointed by the
// background goroutine long before the WAL reaches the writer's own
// threshold (writerCheckpointPages): after three rounds of
// checkpointCommits small commits (far fewer pages than that threshold)
// the checkpointer has run, the rows are in the database file itself and
// the WAL was restarted (it is shorter than what those commits wrote).
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stamp.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := s.cp.runs.Load()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	start := st.Size()
	const commits = 3 * checkpointCommits
	for i := range commits {
		if err := s.write(ctx, func(w *wtx) error {
			_, err := w.exec(`INSERT INTO domains (name, created_at) VALUES (?, 0)`, fmt.Sprintf("d%d.example", i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if i%checkpointCommits == checkpointCommits/2 {
			// Give the checkpointer kicked at the last multiple time to finish.
			deadline := time.Now().Add(10 * time.Second)
			for s.cp.runs.Load()-before < int64(i/checkpointCommits) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	if got := s.cp.runs.Load() - before; got < 2 {
		t.Fatalf("%d background checkpoints after %d commits, want >= 2", got, commits)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM domains`).Scan(&n); err != nil || n != commits {
		t.Fatalf("domains: %d, %v; want %d", n, err, commits)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() <= start {
		t.Errorf("database file is %d bytes after %d commits, %d before: nothing copied from the WAL", fi.Size(), commits, start)
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// Every commit appends at least one 4 KiB page.
	if wal.Size() >= commits*4096 {
		t.Errorf("WAL is %d bytes after %d commits: never restarted", wal.Size(), commits)
	}
}
