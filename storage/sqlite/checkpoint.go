package sqlite

import (
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// WAL checkpoints are done mostly by a connection and a goroutine of their
// own, not by the write transaction that happens to cross SQLite's
// threshold: every delivery waits on the single writer, so a whole
// checkpoint there (copying thousands of pages into the database file and
// syncing it, 4.5% of the CPU under SMTP load) stalled every group commit
// behind it. Each round is a PASSIVE checkpoint on the checkpointer's
// connection, which takes no lock the writer needs and copies the frames
// committed when it started, then a second PASSIVE one on the writer's
// connection, taken between two write transactions: no frame is added
// while it runs, so it copies the few committed meanwhile and the WAL is
// then wholly in the database, which lets the next write transaction start
// the WAL again from its beginning (a PASSIVE checkpoint alone never
// catches up with a steady stream of commits, and the WAL would grow to
// the writer's backstop). Neither waits for readers: a long search holds up
// no delivery. (SQLite's RESTART mode would wait for them while holding off
// every writer.)
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
	writer  *sql.DB // the store's single writer connection, for the tail
	log     *slog.Logger
	commits atomic.Int64
	runs    atomic.Int64 // checkpoints done
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func startCheckpointer(db, writer *sql.DB, log *slog.Logger) *checkpointer {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, writer: writer, log: log, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
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

// checkpoint runs one round: the bulk on the checkpointer's connection,
// then the tail on the writer's.
func (c *checkpointer) checkpoint() error {
	for i, db := range []*sql.DB{c.db, c.writer} {
		var busy, frames, copied int64
		if err := db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
			return fmt.Errorf("wal checkpoint: %w", err)
		}
		c.log.Debug("sqlite: checkpoint", "tail", i == 1, "busy", busy, "wal_frames", frames, "copied", copied)
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
