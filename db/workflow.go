package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine"
)

var _ engine.WorkflowStore = (*DB)(nil)

// CreateWorkflow implements engine.WorkflowStore.
func (d *DB) CreateWorkflow(ctx context.Context, w *engine.Workflow) error {
	now := time.Now()
	sealed, err := d.sealSecrets(w.Secrets)
	if err != nil {
		return fmt.Errorf("db: create workflow: %w", err)
	}
	err = d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		res, err := tx.Exec(`INSERT INTO workflows (key, title, mode, enabled, revision, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)`,
			w.Key, w.Doc.Title, string(w.Doc.Mode), w.Doc.IsEnabled(), ms(now), ms(now))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO workflow_revisions (workflow_id, revision, document, secrets, created_at) VALUES (?, 1, ?, ?, ?)`,
			id, string(w.Stored), sealed, ms(now)); err != nil {
			return err
		}
		w.ID = id
		return nil
	})
	if err != nil {
		return mapErr("create workflow", err)
	}
	w.Revision, w.CreatedAt, w.UpdatedAt = 1, now, now
	return nil
}

// UpdateWorkflow implements engine.WorkflowStore. A document that does not
// say whether the workflow is enabled leaves the state as it is: enabled is
// state, set by SetWorkflowEnabled or by a document that names it.
func (d *DB) UpdateWorkflow(ctx context.Context, w *engine.Workflow) error {
	now := time.Now()
	sealed, err := d.sealSecrets(w.Secrets)
	if err != nil {
		return fmt.Errorf("db: update workflow: %w", err)
	}
	var enabled any // NULL keeps the column
	if w.Doc.Enabled != nil {
		enabled = *w.Doc.Enabled
	}
	var rev int
	err = d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		if err := tx.QueryRow(`UPDATE workflows SET title = ?, mode = ?, enabled = COALESCE(?, enabled), revision = revision + 1, updated_at = ? WHERE id = ? RETURNING revision`,
			w.Doc.Title, string(w.Doc.Mode), enabled, ms(now), w.ID).Scan(&rev); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO workflow_revisions (workflow_id, revision, document, secrets, created_at) VALUES (?, ?, ?, ?, ?)`,
			w.ID, rev, string(w.Stored), sealed, ms(now))
		return err
	})
	if err != nil {
		return mapErr("update workflow", err)
	}
	w.Revision, w.UpdatedAt = rev, now
	return nil
}

// SetWorkflowEnabled implements engine.WorkflowStore.
func (d *DB) SetWorkflowEnabled(ctx context.Context, id int64, enabled bool) error {
	return d.execOne(ctx, "set workflow enabled", fmt.Sprintf("workflow %d", id), `UPDATE workflows SET enabled = ? WHERE id = ?`, enabled, id)
}

// DeleteWorkflow implements engine.WorkflowStore.
func (d *DB) DeleteWorkflow(ctx context.Context, id int64) error {
	return d.execOne(ctx, "delete workflow", fmt.Sprintf("workflow %d", id), `DELETE FROM workflows WHERE id = ?`, id)
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
// revision written before schema version 5, the Basic Auth password alone
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

func (d *DB) scanWorkflow(row *sql.Row, what string) (*engine.Workflow, error) {
	var (
		w              engine.Workflow
		doc            string
		legacy, sealed []byte
		cre, upd       int64
		enabled        bool
	)
	if err := row.Scan(&w.ID, &w.Key, &w.Revision, &doc, &legacy, &sealed, &cre, &upd, &enabled); err != nil {
		if err == sql.ErrNoRows {
			return nil, engine.Errorf(engine.ENOTFOUND, "%s not found", what)
		}
		return nil, fmt.Errorf("db: get workflow: %w", err)
	}
	secrets, err := d.openSecrets(legacy, sealed)
	if err != nil {
		return nil, fmt.Errorf("db: workflow %d: %w", w.ID, err)
	}
	w.Stored, w.Secrets = []byte(doc), secrets
	w.CreatedAt, w.UpdatedAt = fromMS(cre), fromMS(upd)
	w.Doc, err = engine.DecodeDocument(w.Stored, secrets)
	if err != nil {
		return nil, fmt.Errorf("db: workflow %d revision %d: stored document invalid: %w", w.ID, w.Revision, err)
	}
	// The workflow's state, whatever the revision's document said when it
	// was saved.
	w.Doc.Enabled = &enabled
	return &w, nil
}

// GetWorkflow implements engine.WorkflowStore.
func (d *DB) GetWorkflow(ctx context.Context, id int64) (*engine.Workflow, error) {
	row := d.read.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows w JOIN workflow_revisions r ON r.workflow_id = w.id AND r.revision = w.revision WHERE w.id = ?`, id)
	return d.scanWorkflow(row, fmt.Sprintf("workflow %d", id))
}

// GetWorkflowByKey implements engine.WorkflowStore.
func (d *DB) GetWorkflowByKey(ctx context.Context, key string) (*engine.Workflow, error) {
	row := d.read.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows w JOIN workflow_revisions r ON r.workflow_id = w.id AND r.revision = w.revision WHERE w.key = ?`, key)
	return d.scanWorkflow(row, "workflow")
}

// GetRevision implements engine.WorkflowStore.
func (d *DB) GetRevision(ctx context.Context, id int64, revision int) (*engine.Workflow, error) {
	row := d.read.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows w JOIN workflow_revisions r ON r.workflow_id = w.id WHERE w.id = ? AND r.revision = ?`, id, revision)
	return d.scanWorkflow(row, fmt.Sprintf("workflow %d revision %d", id, revision))
}

// ListRevisions implements engine.WorkflowStore.
func (d *DB) ListRevisions(ctx context.Context, id int64) ([]engine.RevisionInfo, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT revision, created_at FROM workflow_revisions WHERE workflow_id = ? ORDER BY revision DESC`, id)
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
// from the (workflow_id, id) index and the count from a counter column, so
// the cost does not grow with the number of stored executions.
func (d *DB) ListWorkflows(ctx context.Context) ([]engine.WorkflowSummary, error) {
	rows, err := d.read.QueryContext(ctx, `
SELECT w.id, w.key, w.title, w.mode, w.enabled, w.revision, w.created_at, w.updated_at, w.execution_count,
       COALESCE(e.status, ''), COALESCE(e.created_at, 0)
FROM workflows w
LEFT JOIN executions e ON e.id = (SELECT id FROM executions WHERE workflow_id = w.id ORDER BY id DESC LIMIT 1)
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

var _ engine.WorkflowVersions = (*DB)(nil)

// WorkflowsFingerprint implements engine.WorkflowVersions: one pass over
// the workflows table (a few milliseconds for 10,000 workflows). A create
// changes the count, the largest id or the sum of the update times, an
// update the sum of the revisions, turning one on or off the sum of the
// ids of those on, a delete the count.
func (d *DB) WorkflowsFingerprint(ctx context.Context) (string, error) {
	var n, maxID, revs, updated, on int64
	err := d.read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(revision), 0), COALESCE(SUM(updated_at), 0), COALESCE(SUM(enabled * id), 0) FROM workflows`).
		Scan(&n, &maxID, &revs, &updated, &on)
	if err != nil {
		return "", mapErr("workflows fingerprint", err)
	}
	return fmt.Sprintf("%d/%d/%d/%d/%d", n, maxID, revs, updated, on), nil
}

// WorkflowVersions implements engine.WorkflowVersions.
func (d *DB) WorkflowVersions(ctx context.Context) (map[string]engine.WorkflowVersion, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT key, revision, enabled FROM workflows`)
	if err != nil {
		return nil, mapErr("workflow versions", err)
	}
	defer rows.Close()
	out := map[string]engine.WorkflowVersion{}
	for rows.Next() {
		var key string
		var v engine.WorkflowVersion
		if err := rows.Scan(&key, &v.Revision, &v.Enabled); err != nil {
			return nil, mapErr("workflow versions", err)
		}
		out[key] = v
	}
	return out, mapErr("workflow versions", rows.Err())
}
