package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/jackc/pgx/v5"
)

var _ engine.Pruner = (*DB)(nil)

// The deletions of retention, as in the SQLite store: the oldest finished
// rows of the table (age) or of a window at the oldest end of one
// workflow's rows (count), oldest first, each walking an index from its
// oldest end.
const (
	pruneByAgeSQL   = `DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE id < $1 AND status NOT IN ('queued', 'running', 'waiting') ORDER BY id LIMIT $2) RETURNING workflow_id`
	pruneWindowSQL  = `SELECT id FROM executions WHERE workflow_id = $1 ORDER BY id LIMIT 1 OFFSET $2`
	pruneByCountSQL = `DELETE FROM executions WHERE workflow_id = $1 AND id <= $2 AND status NOT IN ('queued', 'running', 'waiting')`
	// overSQL lists the workflows with more than $1 executions by their
	// counters.
	overSQL = `SELECT workflow_id, SUM(n)::bigint FROM execution_counts GROUP BY workflow_id HAVING SUM(n) > $1 ORDER BY workflow_id`
)

// pruneSlot is retention's own counter slot: its deletions are taken off
// there, so that it never waits for an instance's commit on that
// instance's slot, and commits never wait for it.
const pruneSlot = -1

// recount counts a workflow's executions and makes its counters say so.
// It locks the workflow's counter rows first: a commit that inserted rows
// and waits for its counter is not counted now (its rows are not
// committed) and adds them once this transaction ends; a commit done
// before is counted, and its slot zeroed. Rows a commit creates meanwhile
// are left alone for the same reason.
func recount(ctx context.Context, tx pgx.Tx, workflowID int64) (int64, error) {
	rows, err := tx.Query(ctx, `SELECT slot FROM execution_counts WHERE workflow_id = $1 ORDER BY slot FOR UPDATE`, workflowID)
	if err != nil {
		return 0, err
	}
	slots, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0, err
	}
	var total int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM executions WHERE workflow_id = $1`, workflowID).Scan(&total); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `UPDATE execution_counts SET n = 0 WHERE workflow_id = $1 AND slot = ANY($2)`, workflowID, slots); err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, countSQL, workflowID, pruneSlot, total)
	return total, err
}

// recountEvery is how often the count rule counts a workflow's rows again
// before trusting its counter (kept exact by every insert and deletion;
// the recount guards against edits made outside Hookflow).
const recountEvery = 10 * time.Minute

// PruneExecutions implements engine.Pruner in one short transaction, like
// the SQLite store's. Retention runs on one instance at a time: the
// transaction first tries the schema's retention lock, and when another
// instance holds it, deletes nothing and returns 0 (which ends this
// instance's pass: the other is pruning).
func (d *DB) PruneExecutions(ctx context.Context, cutoff time.Time, keep, limit int) (int64, error) {
	var deleted int64
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		deleted = 0
		var mine bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, d.lockKey("retention")).Scan(&mine); err != nil || !mine {
			return err
		}
		counts := map[int64]int64{}
		if !cutoff.IsZero() {
			rows, err := tx.Query(ctx, pruneByAgeSQL, engine.FirstIDAt(cutoff), limit)
			if err != nil {
				return err
			}
			wfs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			for _, wf := range wfs {
				counts[wf]++
			}
			deleted = int64(len(wfs))
		}
		if keep > 0 && deleted < int64(limit) {
			rows, err := tx.Query(ctx, overSQL, keep)
			if err != nil {
				return err
			}
			type over struct{ id, count int64 }
			overs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (over, error) {
				var o over
				return o, r.Scan(&o.id, &o.count)
			})
			if err != nil {
				return err
			}
			for _, o := range overs {
				if d.dueRecount(o.id) {
					// The recount sees the deletions above: nothing is left
					// to take off the counter.
					if o.count, err = recount(ctx, tx, o.id); err != nil {
						return err
					}
					counts[o.id] = 0
				} else {
					o.count -= counts[o.id] // deleted by age above, not yet uncounted
				}
				want := min(int64(limit)-deleted, o.count-int64(keep))
				if want <= 0 {
					continue
				}
				var last int64
				err := tx.QueryRow(ctx, pruneWindowSQL, o.id, want-1).Scan(&last)
				if err == pgx.ErrNoRows {
					// The counter ran ahead of the rows: count them again.
					if _, err := recount(ctx, tx, o.id); err != nil {
						return err
					}
					counts[o.id] = 0
					continue
				}
				if err != nil {
					return err
				}
				tag, err := tx.Exec(ctx, pruneByCountSQL, o.id, last)
				if err != nil {
					return err
				}
				counts[o.id] += tag.RowsAffected()
				deleted += tag.RowsAffected()
				if deleted >= int64(limit) {
					break
				}
			}
		}
		// Retention's own slot, in workflow order, then the activity
		// buckets past what is kept: rows of executions first, counters
		// after, as every other writer locks them.
		wfs := make([]int64, 0, len(counts))
		for wf := range counts {
			wfs = append(wfs, wf)
		}
		slices.Sort(wfs)
		for _, wf := range wfs {
			if counts[wf] == 0 {
				continue
			}
			if _, err := tx.Exec(ctx, countSQL, wf, pruneSlot, -counts[wf]); err != nil {
				return err
			}
		}
		return pruneActivity(ctx, tx, time.Now())
	})
	return deleted, mapErr("prune executions", err)
}

// dueRecount reports whether the count rule should count a workflow's rows
// again before trusting its counter, and if so notes the recount as done.
func (d *DB) dueRecount(workflowID int64) bool {
	d.recountMu.Lock()
	defer d.recountMu.Unlock()
	if at, ok := d.recountAt[workflowID]; ok && time.Since(at) <= recountEvery {
		return false
	}
	if d.recountAt == nil {
		d.recountAt = map[int64]time.Time{}
	}
	d.recountAt[workflowID] = time.Now()
	return true
}
