package db

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// maxBatch bounds how many write operations share one transaction.
const maxBatch = 512

// writer serialises every write through the one write connection and
// batches concurrent ones into a single transaction (group commit): one
// fsync-bound commit serves many requests, and each caller is released when
// the transaction holding its write has committed.
type writer struct {
	db   *sql.DB
	ops  chan *writeOp
	done chan struct{}
	once sync.Once
	mu   sync.RWMutex // held for reading while sending, for writing by close
	shut bool

	stmts map[string]*sql.Stmt
	log   *slog.Logger
	// obs, when set, receives every transaction's size and duration.
	obs engine.StoreObserver

	// checkpointWanted asks the loop for a checkpoint after its current
	// batch; the checkpointer sets it when the WAL has grown too long.
	checkpointWanted atomic.Bool
}

type writeOp struct {
	fn  func(b *batch) error
	err chan error
}

// batch is one transaction shared by several write operations.
type batch struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // prepared on the write connection, reused
	bound map[string]*sql.Stmt // stmts bound to tx, by query
	// counts accumulates new executions per workflow; the counters are
	// updated once per batch instead of once per insert.
	counts map[int64]int64
	// activity accumulates the batch's additions to the activity counters.
	activity activityDeltas
	// keys are the dedupe keys claimed in the batch (dedupe.go).
	keys map[dedupeKey]dedupeEntry
	// afters run in order once the batch committed, before its writers
	// hear of it, in the writer's goroutine.
	afters []func()
}

// after runs fn once the batch has committed (never if it fails).
func (b *batch) after(fn func()) { b.afters = append(b.afters, fn) }

// stmt returns the prepared statement for query, bound to this batch's
// transaction once and reused by the batch's other operations.
func (b *batch) stmt(query string) (*sql.Stmt, error) {
	if st, ok := b.bound[query]; ok {
		return st, nil
	}
	s, ok := b.stmts[query]
	if !ok {
		return nil, fmt.Errorf("statement not prepared: %s", query)
	}
	st := b.tx.Stmt(s)
	if b.bound == nil {
		b.bound = make(map[string]*sql.Stmt, len(b.stmts))
	}
	b.bound[query] = st
	return st, nil
}

// count adds n new executions of a workflow to the batch's counters.
func (b *batch) count(workflowID, n int64) {
	if n == 0 {
		return
	}
	if b.counts == nil {
		b.counts = map[int64]int64{}
	}
	b.counts[workflowID] += n
}

func newWriter(db *sql.DB, prepared map[string]*sql.Stmt, log *slog.Logger, obs engine.StoreObserver) *writer {
	w := &writer{db: db, ops: make(chan *writeOp, maxBatch*4), done: make(chan struct{}), stmts: prepared, log: log, obs: obs}
	go w.loop()
	return w
}

// do runs fn in a write transaction shared with other concurrent writes and
// waits for its commit. fn must not keep tx and must be safe to run again:
// when a batch fails, each of its operations is retried alone so that one
// bad write does not fail its neighbours.
func (w *writer) do(ctx context.Context, fn func(b *batch) error) error {
	op := &writeOp{fn: fn, err: make(chan error, 1)}
	w.mu.RLock()
	if w.shut {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.ops <- op:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	// Once queued, the write happens: wait for its outcome even if ctx
	// ends, so that a caller never reports failure for a committed write.
	return <-op.err
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*writeOp, 0, maxBatch)
	for op := range w.ops {
		batch = append(batch[:0], op)
		// One yield before gathering: the request goroutines that are
		// runnable on this P reach their write and queue it, so a batch
		// holds the writes of a whole round of requests instead of the
		// first few. Per-commit costs (locks, WAL frames of half-filled
		// pages) are then shared by more rows.
		runtime.Gosched()
	fill:
		for len(batch) < maxBatch {
			select {
			case op, ok := <-w.ops:
				if !ok {
					break fill
				}
				batch = append(batch, op)
			default:
				break fill
			}
		}
		w.commit(batch)
		if w.checkpointWanted.Swap(false) {
			w.checkpoint()
		}
	}
}

// checkpoint runs a PASSIVE checkpoint on the write connection between two
// batches. No write can come in meanwhile, so it copies the frames the
// background checkpoints left (see checkpointer), and the next transaction
// starts the WAL file over if no reader still uses an older snapshot.
func (w *writer) checkpoint() {
	if _, err := w.db.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		w.log.Warn("checkpoint", "error", err)
	}
}

func (w *writer) commit(batch []*writeOp) {
	err := w.run(batch)
	if err == nil {
		for _, op := range batch {
			op.err <- nil
		}
		return
	}
	if len(batch) == 1 {
		batch[0].err <- err
		return
	}
	for _, op := range batch {
		op.err <- w.run([]*writeOp{op})
	}
}

func (w *writer) run(ops []*writeOp) error {
	if w.obs == nil {
		return w.runTx(ops)
	}
	start := time.Now()
	err := w.runTx(ops)
	w.obs.Committed(len(ops), time.Since(start), err)
	return err
}

func (w *writer) runTx(ops []*writeOp) error {
	tx, err := w.db.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	b := &batch{tx: tx, stmts: w.stmts}
	for _, op := range ops {
		if err := op.fn(b); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := b.activity.flush(b); err != nil {
		tx.Rollback()
		return err
	}
	if len(b.counts) > 0 {
		stmt, err := b.stmt(countExecutionsSQL)
		if err != nil {
			tx.Rollback()
			return err
		}
		for id, n := range b.counts {
			if _, err := stmt.Exec(n, id); err != nil {
				tx.Rollback()
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return fmt.Errorf("commit: %w", err)
	}
	for _, fn := range b.afters {
		fn()
	}
	return nil
}

// close stops accepting writes, commits the queued ones and waits.
func (w *writer) close() {
	w.once.Do(func() {
		w.mu.Lock()
		w.shut = true
		close(w.ops)
		w.mu.Unlock()
		<-w.done
	})
}
