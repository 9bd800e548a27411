package db

import (
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// Checkpoints.
//
// SQLite's automatic checkpoint runs inside the commit that takes the WAL
// past 1,000 pages, on the connection that committed: here the one write
// connection. Under load that stops every write for as long as it takes to
// copy about 4 MB into the database file and fsync both files, several
// times a second, and each stop shows in the webhook's p99. So the write
// connection has wal_autocheckpoint(0), and a goroutine of its own, on a
// connection of its own, runs a PASSIVE checkpoint every 50 ms:
// it copies committed pages while the writer goes on committing.
//
// A PASSIVE checkpoint never waits, so while writes keep coming it never
// finds the WAL fully copied, and the WAL file is started over only by a
// transaction that begins when it is. When the WAL has grown past
// 4,096 frames (16 MiB), the checkpointer therefore asks the writer for one
// checkpoint between two batches (writer.checkpoint): the background ones
// have copied nearly everything by then, so that pause is short, and the
// next transaction starts the WAL over, unless a reader still holds an
// older snapshot (reads are short; the next request for a checkpoint comes
// 50 ms later).

const (
	defaultCheckpointEvery = 50 * time.Millisecond
	defaultWALResetFrames  = 4096 // 16 MiB of 4 KiB pages
)

type checkpointer struct {
	db          *sql.DB // a connection of its own: not query_only, not the writer's
	w           *writer
	log         *slog.Logger
	every       time.Duration
	resetFrames int
	stop        chan struct{}
	done        chan struct{}
	once        sync.Once
}

func startCheckpointer(db *sql.DB, w *writer, o options) *checkpointer {
	c := &checkpointer{db: db, w: w, log: o.log, every: o.checkpointEvery, resetFrames: o.walResetFrames,
		stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(c.every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		_, _, err := c.step()
		if err != nil {
			// Logged once per failing spell: the writer keeps working, and
			// the WAL only grows until a checkpoint succeeds again.
			if !failing {
				c.log.Warn("background checkpoint failed", "error", err)
			}
			failing = true
			continue
		}
		failing = false
	}
}

// step runs one background checkpoint and asks the writer for its own when
// the WAL is past the reset length. It returns the frames in the WAL and
// how many of them are now in the database.
func (c *checkpointer) step() (frames, copied int, err error) {
	var busy int
	if err := c.db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, err
	}
	if frames >= c.resetFrames {
		c.w.checkpointWanted.Store(true)
	}
	return frames, copied, nil
}

// close stops the checkpoints and waits for the one running.
func (c *checkpointer) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

// withCheckpoints sets the checkpoint period and the WAL length that asks
// the writer for a checkpoint (tests).
func withCheckpoints(every time.Duration, resetFrames int) Option {
	return func(o *options) { o.checkpointEvery, o.walResetFrames = every, resetFrames }
}
