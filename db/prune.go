package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The deletions of retention: the oldest finished rows of the table (age)
// or of one workflow (count), oldest first (TestPruneQueriesUseIndexes).
const (
	pruneByAgeSQL   = `DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE id < ? AND status NOT IN ('queued', 'running') ORDER BY id LIMIT ?) RETURNING workflow_id`
	pruneByCountSQL = `DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE workflow_id = ? AND status NOT IN ('queued', 'running') ORDER BY id LIMIT ?)`
)

// PruneExecutions implements engine.Pruner: it deletes at most limit
// finished executions created before cutoff, or beyond the newest keep of
// their workflow, in one short write so that the endpoint never waits long
// behind it. Execution ids grow with time, so the age rule walks the
// primary key from its oldest end; the count rule deletes, from the oldest
// end of the (workflow_id, id, status) index, as many as the workflow's
// counter says are too many. Neither scans the table, and neither walks
// past the rows it deletes (an OFFSET to find the newest keep-th row would
// walk 100,000 index entries for every batch).
func (d *DB) PruneExecutions(ctx context.Context, cutoff time.Time, keep, limit int) (int64, error) {
	var deleted int64
	err := d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		deleted = 0
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
			left := int64(limit) - deleted
			if left <= 0 {
				break
			}
			want := min(left, o.count-int64(keep))
			res, err := tx.Exec(pruneByCountSQL, o.id, want)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			deleted += n
			if n < want {
				// The counter ran ahead of the deletable rows: count again.
				_, err = tx.Exec(`UPDATE workflows SET execution_count = (SELECT COUNT(*) FROM executions WHERE workflow_id = ?) WHERE id = ?`, o.id, o.id)
			} else {
				_, err = tx.Exec(`UPDATE workflows SET execution_count = MAX(execution_count - ?, 0) WHERE id = ?`, n, o.id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return deleted, mapErr("prune executions", err)
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
