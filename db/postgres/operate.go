package postgres

import (
	"context"

	"github.com/hookflow/hookflow/engine"
)

// What operating Hookflow needs of the store (README, "Operating it"):
// the queue gauges of /metrics and the write check of /readyz.

var _ engine.PendingCounter = (*DB)(nil)

// CountPending implements engine.PendingCounter, for the queue gauges: the
// partial index executions_due holds the pending rows only. Every instance
// counts the whole shared queue.
func (d *DB) CountPending(ctx context.Context) (engine.PendingCounts, error) {
	var out engine.PendingCounts
	rows, err := d.pool.Query(ctx, `SELECT status, COUNT(*) FROM executions WHERE `+pending+` GROUP BY status`)
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

// CheckWrite makes one small committed write: the database takes writes
// (not a read-only replica after a failover, not a full disk). It rewrites
// the newest row of schema_migrations unchanged, a table every schema has.
func (d *DB) CheckWrite(ctx context.Context) error {
	_, err := d.pool.Exec(ctx, `UPDATE schema_migrations SET applied_at = applied_at WHERE version = (SELECT MAX(version) FROM schema_migrations)`)
	return mapErr("check write", err)
}
