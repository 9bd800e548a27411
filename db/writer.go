package db

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
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
}

type writeOp struct {
	fn  func(tx *sql.Tx) error
	err chan error
}

func newWriter(db *sql.DB) *writer {
	w := &writer{db: db, ops: make(chan *writeOp, maxBatch*4), done: make(chan struct{})}
	go w.loop()
	return w
}

// do runs fn in a write transaction shared with other concurrent writes and
// waits for its commit. fn must not keep tx and must be safe to run again:
// when a batch fails, each of its operations is retried alone so that one
// bad write does not fail its neighbours.
func (w *writer) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	op := &writeOp{fn: fn, err: make(chan error, 1)}
	w.mu.RLock()
	if w.shut {
		w.mu.RUnlock()
		return fmt.Errorf("db: closed")
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

func (w *writer) run(batch []*writeOp) error {
	tx, err := w.db.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	for _, op := range batch {
		if err := op.fn(tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return fmt.Errorf("commit: %w", err)
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
