package db

import (
	"context"

	"github.com/hookflow/hookflow/engine"
)

// What operating Hookflow needs of the store (README, "Operating it"):
// the queue gauges of /metrics and the write check of /readyz.

var _ engine.PendingCounter = (*DB)(nil)

// countPendingSQL reads the partial index executions_due alone (it holds
// the pending rows only, with their status: migration 0006), whatever the
// number of finished ones: about 20 ms for 100,000 waiting rows
// (BenchmarkCountPending), fine for a scrape every few seconds.
const countPendingSQL = `SELECT status, COUNT(*) FROM executions WHERE ` + pendingCondition + ` GROUP BY status`

// CountPending implements engine.PendingCounter, for the queue gauges.
func (d *DB) CountPending(ctx context.Context) (engine.PendingCounts, error) {
	var out engine.PendingCounts
	rows, err := d.read.QueryContext(ctx, countPendingSQL)
	if err != nil {
		return out, mapErr("count pending", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return out, mapErr("count pending", err)
		}
		switch engine.ExecStatus(st) {
		case engine.StatusQueued:
			out.Queued = n
		case engine.StatusRunning:
			out.Running = n
		case engine.StatusWaiting:
			out.Waiting = n
		}
	}
	return out, mapErr("count pending", rows.Err())
}

// CheckWrite makes one small write through the write connection and waits
// for its commit: the database takes writes (the disk, the file lock and
// the writer are fine). It rewrites the newest row of schema_migrations
// unchanged, a table every schema has, so that the check needs no table of
// its own; the write shares a transaction with the webhooks' writes.
func (d *DB) CheckWrite(ctx context.Context) error {
	err := d.w.do(ctx, func(b *batch) error {
		_, err := b.tx.Exec(`UPDATE schema_migrations SET applied_at = applied_at WHERE version = (SELECT MAX(version) FROM schema_migrations)`)
		return err
	})
	return mapErr("check write", err)
}
