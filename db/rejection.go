package db

import (
	"context"

	"github.com/hookflow/hookflow/engine"
)

// The rejection log (product.md §11): each insert trims its workflow's rows
// to the newest engine.MaxRejections in the same transaction, through the
// (workflow_id, id) index.
const (
	insertRejectionSQL = `INSERT INTO rejections (workflow_id, at, client, status, reason, message, count) VALUES (?, ?, ?, ?, ?, ?, ?)`
	trimRejectionsSQL  = `DELETE FROM rejections WHERE workflow_id = ? AND id <= (SELECT id FROM rejections WHERE workflow_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`
	listRejectionsSQL  = `SELECT at, client, status, reason, message, count FROM rejections WHERE workflow_id = ? ORDER BY id DESC LIMIT ?`
)

// InsertRejection implements engine.ExecutionStore. The write shares the
// group commit of executions; the engine bounds how often it comes. The
// activity counters count the refusals it stands for.
func (d *DB) InsertRejection(ctx context.Context, r *engine.Rejection) error {
	err := d.w.do(ctx, func(b *batch) error {
		if _, err := b.tx.Exec(insertRejectionSQL, r.WorkflowID, ms(r.At), r.ClientAddress, r.Status, string(r.Reason), r.Message, max(r.Count, 1)); err != nil {
			return err
		}
		if _, err := b.tx.Exec(trimRejectionsSQL, r.WorkflowID, r.WorkflowID, engine.MaxRejections); err != nil {
			return err
		}
		b.activity.Reject(r.WorkflowID, r.At, max(r.Count, 1))
		return nil
	})
	return mapErr("insert rejection", err)
}

// ListRejections implements engine.ExecutionStore.
func (d *DB) ListRejections(ctx context.Context, workflowID int64, limit int) ([]engine.Rejection, error) {
	rows, err := d.read.QueryContext(ctx, listRejectionsSQL, workflowID, limit)
	if err != nil {
		return nil, mapErr("list rejections", err)
	}
	defer rows.Close()
	out := []engine.Rejection{}
	for rows.Next() {
		r := engine.Rejection{WorkflowID: workflowID}
		var at int64
		var reason string
		if err := rows.Scan(&at, &r.ClientAddress, &r.Status, &reason, &r.Message, &r.Count); err != nil {
			return nil, mapErr("list rejections", err)
		}
		r.At, r.Reason = fromMS(at), engine.RejectReason(reason)
		out = append(out, r)
	}
	return out, mapErr("list rejections", rows.Err())
}
