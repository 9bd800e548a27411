package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The deletions of retention: the oldest finished rows of the table (age)
// or of a window at the oldest end of one workflow's rows (count), oldest
// first (TestPruneQueriesUseIndexes).
const (
	pruneByAgeSQL   = `DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE id < ? AND status NOT IN ('queued', 'running', 'waiting') ORDER BY id LIMIT ?) RETURNING workflow_id`
	pruneWindowSQL  = `SELECT id FROM executions WHERE workflow_id = ? ORDER BY id LIMIT 1 OFFSET ?`
	pruneByCountSQL = `DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE workflow_id = ? AND id <= ? AND status NOT IN ('queued', 'running', 'waiting'))`
	recountSQL      = `UPDATE workflows SET execution_count = (SELECT COUNT(*) FROM executions WHERE workflow_id = ?) WHERE id = ? RETURNING execution_count`
)

// recountEvery is how often the count rule counts a workflow's rows again
// before trusting its counter (which every insert and deletion keeps
// exact; the recount only guards against edits made outside Hookflow).
const recountEvery = 10 * time.Minute

// PruneExecutions implements engine.Pruner: it deletes at most limit
// finished executions created before cutoff, or beyond the newest keep of
// their workflow, in one short write so that the endpoint never waits long
// behind it. Execution ids grow with time, so the age rule walks the
// primary key from its oldest end. The count rule takes, at the oldest end
// of the workflow's index, a window of at most limit rows among the
// count-keep that are too many, and deletes the finished ones in it; queued
// and running rows stay, and still count. Neither rule scans the table or
// walks past the rows it deletes (an OFFSET from the newest end would walk
// 100,000 index entries for every batch).
func (d *DB) PruneExecutions(ctx context.Context, cutoff time.Time, keep, limit int) (int64, error) {
	var deleted int64
	err := d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		deleted = 0
		if err := pruneActivity(tx, time.Now()); err != nil {
			return err
		}
		if !cutoff.IsZero() {
			n, err := deleteByAge(tx, engine.FirstIDAt(cutoff), limit)
			if err != nil {
				return err
			}
			deleted += n
		}
		if keep <= 0 || deleted >= int64(limit) {
			return nil
		}
		rows, err := tx.Query(`SELECT id, execution_count FROM workflows WHERE execution_count > ?`, keep)
		if err != nil {
			return err
		}
		type over struct{ id, count int64 }
		var overs []over
		for rows.Next() {
			var o over
			if err := rows.Scan(&o.id, &o.count); err != nil {
				rows.Close()
				return err
			}
			overs = append(overs, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, o := range overs {
			if d.dueRecount(o.id) {
				if err := tx.QueryRow(recountSQL, o.id, o.id).Scan(&o.count); err != nil {
					return err
				}
			}
			want := min(int64(limit)-deleted, o.count-int64(keep))
			if want <= 0 {
				continue
			}
			var last int64
			err := tx.QueryRow(pruneWindowSQL, o.id, want-1).Scan(&last)
			if err == sql.ErrNoRows {
				// The counter ran ahead of the rows: count them again.
				if _, err := tx.Exec(recountSQL, o.id, o.id); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			res, err := tx.Exec(pruneByCountSQL, o.id, last)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			deleted += n
			if _, err := tx.Exec(`UPDATE workflows SET execution_count = MAX(execution_count - ?, 0) WHERE id = ?`, n, o.id); err != nil {
				return err
			}
			if deleted >= int64(limit) {
				break
			}
		}
		return nil
	})
	if err == nil && deleted > 0 && d.obs != nil {
		d.obs.Pruned(deleted)
	}
	return deleted, mapErr("prune executions", err)
}

// dueRecount reports whether the count rule should count a workflow's rows
// again before trusting its counter, and if so notes the recount as done:
// should its transaction fail, the counter (exact in every other case) is
// trusted until the next one is due.
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

// deleteByAge deletes at most limit finished executions with ids below
// before, oldest first, in one statement, and keeps the per-workflow
// counters right.
func deleteByAge(tx *sql.Tx, before int64, limit int) (int64, error) {
	rows, err := tx.Query(pruneByAgeSQL, before, limit)
	if err != nil {
		return 0, err
	}
	var deleted int64
	perWorkflow := map[int64]int64{}
	for rows.Next() {
		var wf int64
		if err := rows.Scan(&wf); err != nil {
			rows.Close()
			return 0, err
		}
		perWorkflow[wf]++
		deleted++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for wf, n := range perWorkflow {
		if _, err := tx.Exec(`UPDATE workflows SET execution_count = MAX(execution_count - ?, 0) WHERE id = ?`, n, wf); err != nil {
			return 0, err
		}
	}
	return deleted, nil
}
