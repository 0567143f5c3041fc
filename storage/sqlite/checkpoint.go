package sqlite

import (
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// WAL checkpoints are done by a connection and a goroutine of their own,
// not by the write transaction that happens to cross SQLite's threshold:
// every delivery waits on the single writer, so a whole checkpoint there
// (copying thousands of pages into the database file and syncing it, 4.5%
// of the CPU under SMTP load) stalled every group commit behind it. Each
// round is a PASSIVE checkpoint, which takes no lock the writer needs and
// copies the frames committed when it started, then a RESTART one, which
// waits for the writer to finish its transaction, copies the few frames
// committed meanwhile and lets the next writer start the WAL again from its
// beginning (under a steady stream of commits a PASSIVE checkpoint alone
// never catches up with the last ones, and the WAL would only grow).
const (
	// checkpointCommits is how many write transactions pass between two
	// rounds: about 4,000-8,000 WAL pages under delivery load, so a page
	// changed by many group commits in between (counters, index interior
	// pages) is copied into the database once.
	checkpointCommits = 400
	// writerCheckpointPages is the writer's own autocheckpoint, a backstop
	// should the background one fall behind (SQLite's default is 1,000).
	writerCheckpointPages = 32000
)

// checkpointer runs a round of checkpoints after every checkpointCommits
// commits reported to committed.
type checkpointer struct {
	db      *sql.DB
	log     *slog.Logger
	commits atomic.Int64
	runs    atomic.Int64 // checkpoints done
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func startCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, log: log, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// committed counts one committed write transaction.
func (c *checkpointer) committed() {
	if c.commits.Add(1)%checkpointCommits != 0 {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default: // one is running or pending
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		if err := c.checkpoint(); err != nil {
			c.log.Warn("sqlite: background checkpoint failed", "err", err)
		}
	}
}

// checkpoint runs one round: PASSIVE, then RESTART.
func (c *checkpointer) checkpoint() error {
	for _, mode := range []string{"PASSIVE", "RESTART"} {
		var busy, frames, copied int64
		if err := c.db.QueryRow(`PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied); err != nil {
			return fmt.Errorf("wal checkpoint %s: %w", mode, err)
		}
		c.log.Debug("sqlite: checkpoint", "mode", mode, "busy", busy, "wal_frames", frames, "copied", copied)
	}
	c.runs.Add(1)
	return nil
}

// close stops the goroutine and closes the connection.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}
