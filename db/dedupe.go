package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Dedupe keys (product.md §12): one row per workflow and key, claimed with
// one upsert that takes a free or expired key and leaves a live one alone
// (the rows it changed tell which), in the transaction that stores the
// execution. A fresh key is one row at a random place of the keys' index,
// which costs a page write per request under load: the row is kept small
// (a 16-byte key, a table without rowid) and the claim is one statement.
const (
	claimDedupeSQL = `INSERT INTO dedupe_keys (workflow_id, key_hash, execution_id, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (workflow_id, key_hash) DO UPDATE SET execution_id = excluded.execution_id, expires_at = excluded.expires_at
WHERE dedupe_keys.expires_at <= ?`
	dedupeHolderSQL = `SELECT execution_id FROM dedupe_keys WHERE workflow_id = ? AND key_hash = ?`
	// countDuplicateSQL counts a duplicate on the execution holding a key
	// and returns what the duplicate's reply needs.
	countDuplicateSQL = `UPDATE executions SET duplicates = duplicates + 1 WHERE id = ? RETURNING status, response`
	extendDedupeSQL   = `UPDATE dedupe_keys SET expires_at = ? WHERE workflow_id = ? AND key_hash = ? AND execution_id = ?`
	releaseDedupeSQL  = `DELETE FROM dedupe_keys WHERE workflow_id = ? AND key_hash = ? AND execution_id = ?`
	pruneDedupeSQL    = `DELETE FROM dedupe_keys WHERE (workflow_id, key_hash) IN (SELECT workflow_id, key_hash FROM dedupe_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`
)

// claimDedupe claims c's key in b's transaction, or returns its holder
// with the duplicate counted on it.
func claimDedupe(b *batch, c *engine.DedupeClaim, now time.Time) (engine.DedupeHolder, error) {
	claim, err := b.stmt(claimDedupeSQL)
	if err != nil {
		return engine.DedupeHolder{}, err
	}
	res, err := claim.Exec(c.WorkflowID, c.KeyHash, c.ExecutionID, ms(c.ExpiresAt), ms(now))
	if err != nil {
		return engine.DedupeHolder{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return engine.DedupeHolder{}, err
	} else if n == 1 {
		return engine.DedupeHolder{ExecutionID: c.ExecutionID, Claimed: true}, nil
	}
	var id int64
	holder, err := b.stmt(dedupeHolderSQL)
	if err != nil {
		return engine.DedupeHolder{}, err
	}
	if err := holder.QueryRow(c.WorkflowID, c.KeyHash).Scan(&id); err != nil {
		return engine.DedupeHolder{}, err
	}
	h := engine.DedupeHolder{ExecutionID: id}
	count, err := b.stmt(countDuplicateSQL)
	if err != nil {
		return h, err
	}
	var (
		status string
		resp   sql.NullString
	)
	switch err := count.QueryRow(id).Scan(&status, &resp); {
	case err == sql.ErrNoRows:
		return h, nil // claimed by a sync request still running
	case err != nil:
		return h, err
	}
	h.Stored, h.Status = true, engine.ExecStatus(status)
	h.Response, err = decodeResponse(resp)
	return h, err
}

// ClaimDedupeKey implements engine.ExecutionStore.
func (d *DB) ClaimDedupeKey(ctx context.Context, c *engine.DedupeClaim, now time.Time) (engine.DedupeHolder, error) {
	var h engine.DedupeHolder
	err := d.w.do(ctx, func(b *batch) error {
		var err error
		h, err = claimDedupe(b, c, now)
		return err
	})
	return h, mapErr("claim dedupe key", err)
}

// ReleaseDedupeKey implements engine.ExecutionStore.
func (d *DB) ReleaseDedupeKey(ctx context.Context, c *engine.DedupeClaim) error {
	_, err := d.execCount(ctx, "release dedupe key", releaseDedupeSQL, c.WorkflowID, c.KeyHash, c.ExecutionID)
	return err
}

// PruneDedupeKeys implements engine.Pruner, oldest expiry first through
// the expiry index.
func (d *DB) PruneDedupeKeys(ctx context.Context, now time.Time, limit int) (int64, error) {
	return d.execCount(ctx, "prune dedupe keys", pruneDedupeSQL, ms(now), limit)
}
