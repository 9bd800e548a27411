package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// PruneExecutions implements engine.Pruner: it deletes at most limit
// finished executions created before cutoff, or beyond the newest keep of
// their workflow, in one short write so that the endpoint never waits long
// behind it. Execution ids grow with time, so the age rule walks the
// primary key and the count rule the (workflow_id, id) index: neither scans
// the table.
func (d *DB) PruneExecutions(ctx context.Context, cutoff time.Time, keep, limit int) (int64, error) {
	var deleted int64
	err := d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		deleted = 0
		if !cutoff.IsZero() {
			n, err := deleteExecutions(tx, `SELECT id, workflow_id FROM executions WHERE id < ? AND status NOT IN ('queued', 'running') ORDER BY id LIMIT ?`,
				engine.FirstIDAt(cutoff), limit)
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
		for _, o := range overs {
			left := int64(limit) - deleted
			if left <= 0 {
				break
			}
			var boundary int64
			err := tx.QueryRow(`SELECT id FROM executions WHERE workflow_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?`, o.id, keep-1).Scan(&boundary)
			if err == sql.ErrNoRows {
				// The counter ran ahead of the rows: resynchronise it.
				if _, err := tx.Exec(`UPDATE workflows SET execution_count = (SELECT COUNT(*) FROM executions WHERE workflow_id = ?) WHERE id = ?`, o.id, o.id); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			n, err := deleteExecutions(tx, `SELECT id, workflow_id FROM executions WHERE workflow_id = ? AND id < ? AND status NOT IN ('queued', 'running') ORDER BY id LIMIT ?`,
				o.id, boundary, left)
			if err != nil {
				return err
			}
			deleted += n
		}
		return nil
	})
	return deleted, mapErr("prune executions", err)
}

// deleteExecutions deletes the rows the query selects (id, workflow_id) and
// keeps the per-workflow counters right.
func deleteExecutions(tx *sql.Tx, query string, args ...any) (int64, error) {
	rows, err := tx.Query(query, args...)
	if err != nil {
		return 0, err
	}
	var ids []int64
	perWorkflow := map[int64]int64{}
	for rows.Next() {
		var id, wf int64
		if err := rows.Scan(&id, &wf); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
		perWorkflow[wf]++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	stmt, err := tx.Prepare(`DELETE FROM executions WHERE id = ?`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	for _, id := range ids {
		if _, err := stmt.Exec(id); err != nil {
			return 0, err
		}
	}
	for wf, n := range perWorkflow {
		if _, err := tx.Exec(`UPDATE workflows SET execution_count = MAX(execution_count - ?, 0) WHERE id = ?`, n, wf); err != nil {
			return 0, err
		}
	}
	return int64(len(ids)), nil
}
