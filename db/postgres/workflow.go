package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/jackc/pgx/v5"
)

var _ engine.WorkflowStore = (*DB)(nil)

// CreateWorkflow implements engine.WorkflowStore.
func (d *DB) CreateWorkflow(ctx context.Context, w *engine.Workflow) error {
	now := time.Now()
	sealed, err := d.sealSecrets(w.Secrets)
	if err != nil {
		return fmt.Errorf("postgres: create workflow: %w", err)
	}
	var id int64
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO workflows (key, title, mode, enabled, revision, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING id`,
			w.Key, text(w.Doc.Title), string(w.Doc.Mode), w.Doc.IsEnabled(), ms(now)).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO workflow_revisions (workflow_id, revision, document, secrets, created_at) VALUES ($1, 1, $2, $3, $4)`,
			id, string(w.Stored), sealed, ms(now))
		return err
	})
	if err != nil {
		return mapErr("create workflow", err)
	}
	w.ID, w.Revision, w.CreatedAt, w.UpdatedAt = id, 1, now, now
	return nil
}

// UpdateWorkflow implements engine.WorkflowStore. A document that does not
// say whether the workflow is enabled leaves the state as it is. The other
// instances hear of the change (NOTIFY, sent when the transaction commits)
// and drop the flow they compiled from the old revision.
func (d *DB) UpdateWorkflow(ctx context.Context, w *engine.Workflow) error {
	now := time.Now()
	sealed, err := d.sealSecrets(w.Secrets)
	if err != nil {
		return fmt.Errorf("postgres: update workflow: %w", err)
	}
	enabled := w.Doc.Enabled // nil (NULL) keeps the column
	var (
		rev int
		key string
	)
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `UPDATE workflows SET title = $1, mode = $2, enabled = COALESCE($3, enabled), revision = revision + 1, updated_at = $4 WHERE id = $5 RETURNING revision, key`,
			text(w.Doc.Title), string(w.Doc.Mode), enabled, ms(now), w.ID).Scan(&rev, &key); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO workflow_revisions (workflow_id, revision, document, secrets, created_at) VALUES ($1, $2, $3, $4, $5)`,
			w.ID, rev, string(w.Stored), sealed, ms(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, d.workflowChannel, key)
		return err
	})
	if err != nil {
		return mapErr("update workflow", err)
	}
	w.Revision, w.UpdatedAt = rev, now
	return nil
}

// SetWorkflowEnabled implements engine.WorkflowStore; the other instances
// hear of it as of an edit.
func (d *DB) SetWorkflowEnabled(ctx context.Context, id int64, enabled bool) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var key string
		if err := tx.QueryRow(ctx, `UPDATE workflows SET enabled = $1 WHERE id = $2 RETURNING key`, enabled, id).Scan(&key); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, d.workflowChannel, key)
		return err
	})
	if err == pgx.ErrNoRows {
		return engine.Errorf(engine.ENOTFOUND, "workflow %d not found", id)
	}
	return mapErr("set workflow enabled", err)
}

// DeleteWorkflow implements engine.WorkflowStore.
func (d *DB) DeleteWorkflow(ctx context.Context, id int64) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var key string
		if err := tx.QueryRow(ctx, `DELETE FROM workflows WHERE id = $1 RETURNING key`, id).Scan(&key); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, d.workflowChannel, key)
		return err
	})
	if err == pgx.ErrNoRows {
		return engine.Errorf(engine.ENOTFOUND, "workflow %d not found", id)
	}
	return mapErr("delete workflow", err)
}

const workflowColumns = `w.id, w.key, r.revision, r.document, r.secret, r.secrets, w.created_at, r.created_at, w.enabled`

// sealSecrets encrypts a document's secrets for the secrets column: the
// JSON of engine.Secrets, sealed; nil when there is none.
func (d *DB) sealSecrets(s engine.Secrets) ([]byte, error) {
	if s.IsZero() {
		return nil, nil
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return d.box.Seal(string(plain)), nil
}

// openSecrets decrypts a revision's secrets: the secrets column, or for a
// revision written before schema version 2, the Basic Auth password alone
// in the secret column.
func (d *DB) openSecrets(legacy, sealed []byte) (engine.Secrets, error) {
	var s engine.Secrets
	if sealed == nil {
		pw, err := d.box.Open(legacy)
		s.BasicAuthPassword = pw
		return s, err
	}
	plain, err := d.box.Open(sealed)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(plain), &s); err != nil {
		return s, fmt.Errorf("secrets: %w", err)
	}
	return s, nil
}

func (d *DB) scanWorkflow(row pgx.Row, what string) (*engine.Workflow, error) {
	var (
		w              engine.Workflow
		doc            string
		legacy, sealed []byte
		cre, upd       int64
		enabled        bool
	)
	if err := row.Scan(&w.ID, &w.Key, &w.Revision, &doc, &legacy, &sealed, &cre, &upd, &enabled); err != nil {
		if err == pgx.ErrNoRows {
			return nil, engine.Errorf(engine.ENOTFOUND, "%s not found", what)
		}
		return nil, mapErr("get workflow", err)
	}
	secrets, err := d.openSecrets(legacy, sealed)
	if err != nil {
		return nil, fmt.Errorf("postgres: workflow %d: %w", w.ID, err)
	}
	w.Stored, w.Secrets = []byte(doc), secrets
	w.CreatedAt, w.UpdatedAt = fromMS(cre), fromMS(upd)
	w.Doc, err = engine.DecodeDocument(w.Stored, secrets)
	if err != nil {
		return nil, fmt.Errorf("postgres: workflow %d revision %d: stored document invalid: %w", w.ID, w.Revision, err)
	}
	// The workflow's state, whatever the revision's document said when it
	// was saved.
	w.Doc.Enabled = &enabled
	return &w, nil
}

// GetWorkflow implements engine.WorkflowStore.
func (d *DB) GetWorkflow(ctx context.Context, id int64) (*engine.Workflow, error) {
	row := d.pool.QueryRow(ctx, `SELECT `+workflowColumns+` FROM workflows w JOIN workflow_revisions r ON r.workflow_id = w.id AND r.revision = w.revision WHERE w.id = $1`, id)
	return d.scanWorkflow(row, fmt.Sprintf("workflow %d", id))
}

// GetWorkflowByKey implements engine.WorkflowStore.
func (d *DB) GetWorkflowByKey(ctx context.Context, key string) (*engine.Workflow, error) {
	row := d.pool.QueryRow(ctx, `SELECT `+workflowColumns+` FROM workflows w JOIN workflow_revisions r ON r.workflow_id = w.id AND r.revision = w.revision WHERE w.key = $1`, text(key))
	return d.scanWorkflow(row, "workflow")
}

// GetRevision implements engine.WorkflowStore.
func (d *DB) GetRevision(ctx context.Context, id int64, revision int) (*engine.Workflow, error) {
	row := d.pool.QueryRow(ctx, `SELECT `+workflowColumns+` FROM workflows w JOIN workflow_revisions r ON r.workflow_id = w.id WHERE w.id = $1 AND r.revision = $2`, id, revision)
	return d.scanWorkflow(row, fmt.Sprintf("workflow %d revision %d", id, revision))
}

// ListRevisions implements engine.WorkflowStore.
func (d *DB) ListRevisions(ctx context.Context, id int64) ([]engine.RevisionInfo, error) {
	rows, err := d.pool.Query(ctx, `SELECT revision, created_at FROM workflow_revisions WHERE workflow_id = $1 ORDER BY revision DESC`, id)
	if err != nil {
		return nil, mapErr("list revisions", err)
	}
	defer rows.Close()
	var out []engine.RevisionInfo
	for rows.Next() {
		var r engine.RevisionInfo
		var at int64
		if err := rows.Scan(&r.Revision, &at); err != nil {
			return nil, mapErr("list revisions", err)
		}
		r.CreatedAt = fromMS(at)
		out = append(out, r)
	}
	return out, mapErr("list revisions", rows.Err())
}

// ListWorkflows implements engine.WorkflowStore. The last execution comes
// from the (workflow_id, id) index and the count from the counters,
// so the cost does not grow with the number of stored executions.
func (d *DB) ListWorkflows(ctx context.Context) ([]engine.WorkflowSummary, error) {
	rows, err := d.pool.Query(ctx, `
SELECT w.id, w.key, w.title, w.mode, w.enabled, w.revision, w.created_at, w.updated_at,
       COALESCE((SELECT SUM(n) FROM execution_counts c WHERE c.workflow_id = w.id), 0)::bigint,
       COALESCE(e.status, ''), COALESCE(e.created_at, 0)
FROM workflows w
LEFT JOIN LATERAL (SELECT status, created_at FROM executions WHERE workflow_id = w.id ORDER BY id DESC LIMIT 1) e ON true
ORDER BY w.id DESC`)
	if err != nil {
		return nil, mapErr("list workflows", err)
	}
	defer rows.Close()
	var out []engine.WorkflowSummary
	for rows.Next() {
		var (
			s                engine.WorkflowSummary
			mode, last       string
			cre, upd, lastAt int64
		)
		if err := rows.Scan(&s.ID, &s.Key, &s.Title, &mode, &s.Enabled, &s.Revision, &cre, &upd, &s.ExecutionCount, &last, &lastAt); err != nil {
			return nil, mapErr("list workflows", err)
		}
		s.Mode, s.LastStatus = engine.Mode(mode), engine.ExecStatus(last)
		s.CreatedAt, s.UpdatedAt, s.LastAt = fromMS(cre), fromMS(upd), fromMS(lastAt)
		out = append(out, s)
	}
	return out, mapErr("list workflows", rows.Err())
}
