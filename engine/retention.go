package engine

import (
	"context"
	"log/slog"
	"time"
)

// Retention defaults (product.md §7).
const (
	DefaultRetentionAge   = 30 * 24 * time.Hour
	DefaultRetentionCount = 100000
)

// Pruner deletes old executions and expired dedupe keys in bounded
// batches.
type Pruner interface {
	// PruneExecutions deletes at most batch finished executions created
	// before cutoff (zero: no age rule) or beyond the newest keep of their
	// workflow (0: no count rule), and returns how many. The dedupe keys
	// of the executions it deletes are free from then on (see
	// ExecutionStore): a key's window never outlives the execution whose
	// reply its duplicates get.
	PruneExecutions(ctx context.Context, cutoff time.Time, keep, batch int) (int64, error)
	// PruneDedupeKeys deletes at most batch dedupe keys expired at now
	// (§12), oldest first, and returns how many.
	PruneDedupeKeys(ctx context.Context, now time.Time, batch int) (int64, error)
}

// Retention keeps the executions table bounded: every Interval it deletes
// executions older than MaxAge or beyond the newest MaxCount of their
// workflow, Batch rows per transaction with a pause between batches, so
// that the webhook endpoint never waits long behind the pruning.
type Retention struct {
	Store    Pruner
	Log      *slog.Logger
	MaxAge   time.Duration // 0: keep forever
	MaxCount int           // 0: no limit
	Interval time.Duration // default 1 min
	Batch    int           // default 500
	Pause    time.Duration // between batches, default 20 ms
}

// Run prunes until ctx ends. Expired dedupe keys are pruned even when
// executions are kept forever.
func (r *Retention) Run(ctx context.Context) {
	interval := r.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.PruneOnce(ctx); err != nil && ctx.Err() == nil {
			r.Log.Error("prune executions", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneOnce deletes everything currently past the limits, batch by batch:
// executions, then expired dedupe keys. It returns how many executions it
// deleted.
func (r *Retention) PruneOnce(ctx context.Context) (int64, error) {
	batch := r.Batch
	if batch <= 0 {
		batch = 500
	}
	pause := r.Pause
	if pause <= 0 {
		pause = 20 * time.Millisecond
	}
	total, err := r.pruneExecutions(ctx, batch, pause)
	if err != nil {
		return total, err
	}
	keys, err := r.pruneDedupeKeys(ctx, batch, pause)
	if keys > 0 && r.Log != nil {
		r.Log.Info("pruned expired dedupe keys", "count", keys)
	}
	return total, err
}

// pruneDedupeKeys deletes the dedupe keys expired now, batch by batch.
func (r *Retention) pruneDedupeKeys(ctx context.Context, batch int, pause time.Duration) (int64, error) {
	now := time.Now()
	return inBatches(ctx, batch, pause, func() (int64, error) {
		return r.Store.PruneDedupeKeys(ctx, now, batch)
	})
}

// pruneExecutions deletes the executions past the limits, batch by batch.
func (r *Retention) pruneExecutions(ctx context.Context, batch int, pause time.Duration) (int64, error) {
	if r.MaxAge <= 0 && r.MaxCount <= 0 {
		return 0, nil
	}
	total, err := inBatches(ctx, batch, pause, func() (int64, error) {
		var cutoff time.Time
		if r.MaxAge > 0 {
			cutoff = time.Now().Add(-r.MaxAge)
		}
		return r.Store.PruneExecutions(ctx, cutoff, r.MaxCount, batch)
	})
	if err != nil {
		return total, err
	}
	if total > 0 && r.Log != nil {
		r.Log.Info("pruned executions", "count", total)
	}
	return total, nil
}

// inBatches calls prune, which deletes at most batch rows, until it deletes
// fewer, fails or ctx ends, pausing between calls so that the webhook
// endpoint's writes get the database in between. It returns how many rows
// were deleted.
func inBatches(ctx context.Context, batch int, pause time.Duration, prune func() (int64, error)) (int64, error) {
	var total int64
	for ctx.Err() == nil {
		n, err := prune()
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	return total, nil
}
