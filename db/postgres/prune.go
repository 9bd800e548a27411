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
	recountSQL      = `UPDATE workflows SET execution_count = (SELECT COUNT(*) FROM executions WHERE workflow_id = $1) WHERE id = $1 RETURNING execution_count`
	uncountSQL      = `UPDATE workflows SET execution_count = GREATEST(execution_count - $2, 0) WHERE id = $1`
)

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
			rows, err := tx.Query(ctx, `SELECT id, execution_count FROM workflows WHERE execution_count > $1 ORDER BY id`, keep)
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
					if err := tx.QueryRow(ctx, recountSQL, o.id).Scan(&o.count); err != nil {
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
					if _, err := tx.Exec(ctx, recountSQL, o.id); err != nil {
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
		// Counters in id order, as the group-commit writer locks them.
		wfs := make([]int64, 0, len(counts))
		for wf := range counts {
			wfs = append(wfs, wf)
		}
		slices.Sort(wfs)
		for _, wf := range wfs {
			if counts[wf] == 0 {
				continue
			}
			if _, err := tx.Exec(ctx, uncountSQL, wf, counts[wf]); err != nil {
				return err
			}
		}
		return nil
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
