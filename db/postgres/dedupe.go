package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/jackc/pgx/v5"
)

// Dedupe keys (product.md §12) on PostgreSQL: one row per workflow and key,
// claimed with an upsert that takes a free key (expired, or whose execution
// is gone) and leaves a live one alone. Two claims of one key wait for each
// other on its primary key, on any instance: concurrent duplicates make one
// execution. An execution with a key is stored with its claim in a
// transaction of its own, outside the group commit of the others.

const (
	// claimKeySQL takes a free key or one expired at $6. A claim that
	// meets a concurrent one waits for it, then sees the row it committed.
	claimKeySQL = `INSERT INTO dedupe_keys (workflow_id, key_hash, execution_id, expires_at, pending) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (workflow_id, key_hash) DO UPDATE SET execution_id = EXCLUDED.execution_id, expires_at = EXCLUDED.expires_at, pending = EXCLUDED.pending
WHERE dedupe_keys.expires_at <= $6
RETURNING execution_id`
	holderSQL         = `SELECT execution_id, pending FROM dedupe_keys WHERE workflow_id = $1 AND key_hash = $2`
	countDuplicateSQL = `UPDATE executions SET duplicates = duplicates + 1 WHERE id = $1 RETURNING status, response`
	// takeOverSQL takes a key whose execution is gone, if it still names
	// that execution (another claim may have taken it first).
	takeOverSQL  = `UPDATE dedupe_keys SET execution_id = $1, expires_at = $2, pending = $3 WHERE workflow_id = $4 AND key_hash = $5 AND execution_id = $6 AND NOT pending`
	settleKeySQL = `UPDATE dedupe_keys SET expires_at = $1, pending = false WHERE workflow_id = $2 AND key_hash = $3 AND execution_id = $4`
)

// claimKey claims c's key in tx, or returns its holder, the duplicate
// counted on it when its execution is stored. Each statement of a
// transaction sees what other transactions committed before it began
// (PostgreSQL's read committed), so the holder is looked up, counted and,
// when its execution is gone, taken over, in statements of their own
// after the claim found the key held.
func claimKey(ctx context.Context, tx pgx.Tx, c *engine.DedupeClaim, now time.Time, pending bool) (engine.DedupeHolder, error) {
	for range 8 {
		var id int64
		switch err := tx.QueryRow(ctx, claimKeySQL, c.WorkflowID, c.KeyHash, c.ExecutionID, ms(c.ExpiresAt), pending, ms(now)).Scan(&id); {
		case err == nil:
			return engine.DedupeHolder{ExecutionID: id, Claimed: true}, nil
		case err != pgx.ErrNoRows:
			return engine.DedupeHolder{}, err
		}
		var held bool
		if err := tx.QueryRow(ctx, holderSQL, c.WorkflowID, c.KeyHash).Scan(&id, &held); err == pgx.ErrNoRows {
			continue // released meanwhile: claim again
		} else if err != nil {
			return engine.DedupeHolder{}, err
		}
		h := engine.DedupeHolder{ExecutionID: id}
		if held {
			return h, nil // a sync request still running
		}
		var (
			status string
			resp   *string
		)
		err := tx.QueryRow(ctx, countDuplicateSQL, id).Scan(&status, &resp)
		if err == nil {
			h.Stored, h.Status = true, engine.ExecStatus(status)
			if resp != nil {
				if h.Response, err = engine.DecodeResponse([]byte(*resp)); err != nil {
					return h, err
				}
			}
			return h, nil
		}
		if err != pgx.ErrNoRows {
			return h, err
		}
		// The holder's execution is gone: the key is free.
		tag, err := tx.Exec(ctx, takeOverSQL, c.ExecutionID, ms(c.ExpiresAt), pending, c.WorkflowID, c.KeyHash, id)
		if err != nil {
			return h, err
		}
		if tag.RowsAffected() == 1 {
			return engine.DedupeHolder{ExecutionID: c.ExecutionID, Claimed: true}, nil
		}
	}
	return engine.DedupeHolder{}, fmt.Errorf("dedupe key of workflow %d: still contended after 8 claims", c.WorkflowID)
}

// insertDeduped stores an execution with its dedupe claim in one
// transaction; a duplicate stores nothing and returns *DuplicateError.
func (d *DB) insertDeduped(ctx context.Context, e *engine.Execution, r *insertRow) error {
	c := e.Dedupe
	var dup *engine.DuplicateError
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		dup = nil
		if c.Claimed {
			// Claimed before the flow ran: the window starts now, if the
			// claim is still this execution's.
			if _, err := tx.Exec(ctx, settleKeySQL, ms(c.ExpiresAt), c.WorkflowID, c.KeyHash, c.ExecutionID); err != nil {
				return err
			}
		} else {
			h, err := claimKey(ctx, tx, c, e.CreatedAt, false)
			if err != nil {
				return err
			}
			if !h.Claimed {
				dup = &engine.DuplicateError{Holder: h}
				return nil
			}
		}
		return tx.SendBatch(ctx, d.w.batch([]*insertRow{r})).Close()
	})
	if err != nil {
		return mapErr("insert execution", err)
	}
	if dup != nil {
		return dup
	}
	return nil
}

// ClaimDedupeKey implements engine.ExecutionStore.
func (d *DB) ClaimDedupeKey(ctx context.Context, c *engine.DedupeClaim, now time.Time) (engine.DedupeHolder, error) {
	var h engine.DedupeHolder
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var err error
		h, err = claimKey(ctx, tx, c, now, true)
		return err
	})
	return h, mapErr("claim dedupe key", err)
}

// ReleaseDedupeKey implements engine.ExecutionStore.
func (d *DB) ReleaseDedupeKey(ctx context.Context, c *engine.DedupeClaim) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM dedupe_keys WHERE workflow_id = $1 AND key_hash = $2 AND execution_id = $3`, c.WorkflowID, c.KeyHash, c.ExecutionID)
	return mapErr("release dedupe key", err)
}

// PruneDedupeKeys implements engine.Pruner, oldest expiry first.
func (d *DB) PruneDedupeKeys(ctx context.Context, now time.Time, limit int) (int64, error) {
	tag, err := d.pool.Exec(ctx, `DELETE FROM dedupe_keys WHERE (workflow_id, key_hash) IN
(SELECT workflow_id, key_hash FROM dedupe_keys WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)`, ms(now), limit)
	if err != nil {
		return 0, mapErr("prune dedupe keys", err)
	}
	return tag.RowsAffected(), nil
}

// InsertRejection implements engine.ExecutionStore: the row, the trim to
// the newest engine.MaxRejections, and the refusals it stands for in the
// activity counters, in one transaction.
func (d *DB) InsertRejection(ctx context.Context, r *engine.Rejection) error {
	b := &pgx.Batch{}
	n := max(r.Count, 1)
	b.Queue(`INSERT INTO rejections (workflow_id, at, client, status, reason, message, count) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.WorkflowID, ms(r.At), text(r.ClientAddress), int32(r.Status), string(r.Reason), text(r.Message), n)
	b.Queue(`DELETE FROM rejections WHERE workflow_id = $1 AND id <= (SELECT id FROM rejections WHERE workflow_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
		r.WorkflowID, engine.MaxRejections)
	var act engine.ActivityDeltas
	act.Reject(r.WorkflowID, r.At, n)
	d.queueActivity(b, act)
	return mapErr("insert rejection", d.pool.SendBatch(ctx, b).Close())
}

// ListRejections implements engine.ExecutionStore.
func (d *DB) ListRejections(ctx context.Context, workflowID int64, limit int) ([]engine.Rejection, error) {
	rows, err := d.pool.Query(ctx, `SELECT at, client, status, reason, message, count FROM rejections WHERE workflow_id = $1 ORDER BY id DESC LIMIT $2`, workflowID, limit)
	if err != nil {
		return nil, mapErr("list rejections", err)
	}
	defer rows.Close()
	out := []engine.Rejection{}
	for rows.Next() {
		x := engine.Rejection{WorkflowID: workflowID}
		var (
			at     int64
			status int32
			reason string
		)
		if err := rows.Scan(&at, &x.ClientAddress, &status, &reason, &x.Message, &x.Count); err != nil {
			return nil, mapErr("list rejections", err)
		}
		x.At, x.Status, x.Reason = fromMS(at), int(status), engine.RejectReason(reason)
		out = append(out, x)
	}
	return out, mapErr("list rejections", rows.Err())
}
