package db

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/tidwall/gjson"
)

var _ engine.ExecutionStore = (*DB)(nil)

// storedResponse is the JSON form of a reply in the response column.
type storedResponse struct {
	Status      int                  `json:"status"`
	Headers     []engine.HeaderValue `json:"headers"`
	ContentType string               `json:"contentType"`
	Body        string               `json:"body"`
}

// encodeResponse stores a reply as the JSON of storedResponse, written by
// hand: it runs once per execution, on the hot path, and gives the bytes
// encoding/json would (TestStoredEncodingMatchesEncodingJSON).
func encodeResponse(r *engine.Response) (sql.NullString, error) {
	if r == nil {
		return sql.NullString{}, nil
	}
	b := make([]byte, 0, 64+len(r.ContentType)+len(r.Body)+len(r.Headers)*32)
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"headers":[`...)
	for i, h := range r.Headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = engine.AppendJSONString(b, h.Name)
		b = append(b, `,"value":`...)
		b = engine.AppendJSONString(b, h.Value)
		b = append(b, '}')
	}
	b = append(b, `],"contentType":`...)
	b = engine.AppendJSONString(b, r.ContentType)
	b = append(b, `,"body":`...)
	b = engine.AppendJSONString(b, string(r.Body))
	b = append(b, '}')
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeResponse(s sql.NullString) (*engine.Response, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var r storedResponse
	if err := json.Unmarshal([]byte(s.String), &r); err != nil {
		return nil, err
	}
	return &engine.Response{Status: r.Status, Headers: r.Headers, ContentType: r.ContentType, Body: []byte(r.Body)}, nil
}

// encodeJobs stores jobs as the JSON array encoding/json would give for
// []engine.Job, written by hand for the hot path. A result that is not
// valid JSON (a node kind's bug) is an error, as it is for encoding/json.
func encodeJobs(jobs []engine.Job) (sql.NullString, error) {
	if jobs == nil {
		return sql.NullString{}, nil
	}
	b := make([]byte, 0, len(jobs)*200)
	b = append(b, '[')
	for i := range jobs {
		j := &jobs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"nodeKey":`...)
		b = engine.AppendJSONString(b, j.NodeKey)
		b = append(b, `,"nodeType":`...)
		b = engine.AppendJSONString(b, j.NodeType)
		b = append(b, `,"status":`...)
		b = engine.AppendJSONString(b, string(j.Status))
		b = append(b, `,"result":`...)
		switch {
		case len(j.Result) == 0:
			b = append(b, "null"...)
		case !gjson.ValidBytes(j.Result):
			return sql.NullString{}, fmt.Errorf("job %s: result is not valid JSON", j.NodeKey)
		default:
			b = appendCompactJSON(b, j.Result)
		}
		if j.Branch != "" {
			b = append(b, `,"branch":`...)
			b = engine.AppendJSONString(b, j.Branch)
		}
		if j.Error != "" {
			b = append(b, `,"error":`...)
			b = engine.AppendJSONString(b, j.Error)
		}
		b = append(b, `,"startedAt":"`...)
		b = j.StartedAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","durationNs":`...)
		b = strconv.AppendInt(b, int64(j.Duration), 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	return sql.NullString{String: string(b), Valid: true}, nil
}

// appendCompactJSON appends valid JSON as encoding/json does for a
// json.RawMessage: compacted, with <, >, &, U+2028 and U+2029 escaped.
// Results are usually compact and plain already, and are copied as they
// are; the others go through encoding/json.
func appendCompactJSON(dst, src []byte) []byte {
	if bytes.IndexAny(src, " \t\r\n<>&\xe2") < 0 {
		return append(dst, src...)
	}
	b, err := json.Marshal(json.RawMessage(src))
	if err != nil {
		return append(dst, src...)
	}
	return append(dst, b...)
}

const insertExecutionSQL = `INSERT INTO executions (id, workflow_id, revision, status, mode, method, query, body, context, jobs, response, error, attempts, created_at, started_at, finished_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const finishExecutionSQL = `UPDATE executions SET status = ?, jobs = ?, response = ?, error = ?, started_at = ?, finished_at = ? WHERE id = ?`

// claimExecutionsSQL repeats the condition of the partial index
// executions_pending (status IN ('queued', 'running')): SQLite uses a partial
// index only for queries that imply its condition, and without it the claim
// scans every stored execution.
const claimExecutionsSQL = `UPDATE executions SET status = 'running', started_at = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM executions WHERE status IN ('queued', 'running') AND status = 'queued' ORDER BY id LIMIT ?)
RETURNING id, workflow_id, revision, mode, method, query, body, context, attempts, created_at`

// requeueRunningSQL puts executions left running back in the queue; like
// the claim it repeats the partial index's condition.
const requeueRunningSQL = `UPDATE executions SET status = 'queued' WHERE status IN ('queued', 'running') AND status = 'running' AND mode = 'async'`

// countExecutionsSQL adds a batch's new executions to a workflow's counter.
const countExecutionsSQL = `UPDATE workflows SET execution_count = execution_count + ? WHERE id = ?`

// preparedSQL lists the statements of the hot paths, prepared once on the
// write connection.
var preparedSQL = []string{insertExecutionSQL, finishExecutionSQL, claimExecutionsSQL, countExecutionsSQL}

// InsertExecution implements engine.ExecutionStore. The insert shares a
// transaction with concurrent ones (group commit) and returns once durable.
func (d *DB) InsertExecution(ctx context.Context, e *engine.Execution) error {
	if e.ID == 0 {
		return fmt.Errorf("db: insert execution: no id")
	}
	jobs, err := encodeJobs(e.Jobs)
	if err != nil {
		return fmt.Errorf("db: insert execution: %w", err)
	}
	resp, err := encodeResponse(e.Response)
	if err != nil {
		return fmt.Errorf("db: insert execution: %w", err)
	}
	body := e.Request.Body
	if body == nil {
		body = []byte{}
	}
	// The arguments are converted here, in the caller's goroutine: the
	// writer's one goroutine is the serial part of every request.
	args := []any{e.ID, e.WorkflowID, e.Revision, string(e.Status), string(e.Mode), e.Request.Method, e.Request.Query, body, string(e.Context),
		jobs, resp, e.Error, e.Attempts, ms(e.CreatedAt), nullable(e.StartedAt), nullable(e.FinishedAt)}
	err = d.w.do(ctx, func(b *batch) error {
		stmt, err := b.stmt(insertExecutionSQL)
		if err != nil {
			return err
		}
		if _, err := stmt.Exec(args...); err != nil {
			return err
		}
		if b.counts == nil {
			b.counts = map[int64]int64{}
		}
		b.counts[e.WorkflowID]++
		return nil
	})
	return mapErr("insert execution", err)
}

func nullable(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// ClaimExecutions implements engine.ExecutionStore with one UPDATE ...
// RETURNING over the partial index of pending rows.
func (d *DB) ClaimExecutions(ctx context.Context, limit int) ([]*engine.Execution, error) {
	var out []*engine.Execution
	now := ms(time.Now())
	err := d.w.do(ctx, func(b *batch) error {
		out = out[:0]
		stmt, err := b.stmt(claimExecutionsSQL)
		if err != nil {
			return err
		}
		rows, err := stmt.Query(now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := &engine.Execution{Status: engine.StatusRunning, StartedAt: fromMS(now)}
			var mode, ctxJSON string
			var created int64
			if err := rows.Scan(&e.ID, &e.WorkflowID, &e.Revision, &mode, &e.Request.Method, &e.Request.Query, &e.Request.Body, &ctxJSON, &e.Attempts, &created); err != nil {
				return err
			}
			e.Mode, e.Context, e.CreatedAt = engine.Mode(mode), json.RawMessage(ctxJSON), fromMS(created)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, mapErr("claim executions", err)
	}
	// RETURNING gives no order guarantee; run oldest first.
	sortByID(out)
	return out, nil
}

func sortByID(es []*engine.Execution) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].ID < es[j-1].ID; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// FinishExecutions implements engine.ExecutionStore.
func (d *DB) FinishExecutions(ctx context.Context, es []*engine.Execution) error {
	type row struct {
		jobs, resp sql.NullString
	}
	rows := make([]row, len(es))
	for i, e := range es {
		var err error
		if rows[i].jobs, err = encodeJobs(e.Jobs); err != nil {
			return fmt.Errorf("db: finish executions: %w", err)
		}
		if rows[i].resp, err = encodeResponse(e.Response); err != nil {
			return fmt.Errorf("db: finish executions: %w", err)
		}
	}
	err := d.w.do(ctx, func(b *batch) error {
		stmt, err := b.stmt(finishExecutionSQL)
		if err != nil {
			return err
		}
		for i, e := range es {
			if _, err := stmt.Exec(string(e.Status), rows[i].jobs, rows[i].resp, e.Error, nullable(e.StartedAt), nullable(e.FinishedAt), e.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return mapErr("finish executions", err)
}

// RequeueRunning implements engine.ExecutionStore.
func (d *DB) RequeueRunning(ctx context.Context) (int64, error) {
	var n int64
	err := d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		res, err := tx.Exec(requeueRunningSQL)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, mapErr("requeue executions", err)
}

// MaxExecutionID returns the largest execution id stored (0 if none), to
// seed the id generator.
func (d *DB) MaxExecutionID(ctx context.Context) (int64, error) {
	var id int64
	err := d.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM executions`).Scan(&id)
	return id, mapErr("max execution id", err)
}

const executionColumns = `id, workflow_id, revision, status, mode, method, query, context, jobs, response, error, attempts, created_at, started_at, finished_at`

func scanExecution(scan func(...any) error, extra ...any) (*engine.Execution, error) {
	var (
		e                 engine.Execution
		status, mode, ctx string
		jobs, resp        sql.NullString
		created           int64
		started, finished sql.NullInt64
	)
	dest := append([]any{&e.ID, &e.WorkflowID, &e.Revision, &status, &mode, &e.Request.Method, &e.Request.Query, &ctx, &jobs, &resp, &e.Error, &e.Attempts, &created, &started, &finished}, extra...)
	if err := scan(dest...); err != nil {
		return nil, err
	}
	e.Status, e.Mode, e.Context = engine.ExecStatus(status), engine.Mode(mode), json.RawMessage(ctx)
	e.CreatedAt, e.StartedAt, e.FinishedAt = fromMS(created), nullMS(started), nullMS(finished)
	if jobs.Valid && jobs.String != "" {
		if err := json.Unmarshal([]byte(jobs.String), &e.Jobs); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
	}
	var err error
	if e.Response, err = decodeResponse(resp); err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	return &e, nil
}

// GetExecution implements engine.ExecutionStore.
func (d *DB) GetExecution(ctx context.Context, id int64) (*engine.Execution, error) {
	row := d.read.QueryRowContext(ctx, `SELECT `+executionColumns+`, body FROM executions WHERE id = ?`, id)
	var body []byte
	e, err := scanExecution(row.Scan, &body)
	if err == sql.ErrNoRows {
		return nil, engine.Errorf(engine.ENOTFOUND, "execution %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("db: get execution: %w", err)
	}
	e.Request.Body = body
	return e, nil
}

// ListExecutions implements engine.ExecutionStore.
func (d *DB) ListExecutions(ctx context.Context, f engine.ExecutionFilter) ([]*engine.Execution, error) {
	var (
		where = []string{"workflow_id = ?"}
		args  = []any{f.WorkflowID}
	)
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	args = append(args, f.Limit)
	rows, err := d.read.QueryContext(ctx, `SELECT `+executionColumns+` FROM executions WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, mapErr("list executions", err)
	}
	defer rows.Close()
	out := []*engine.Execution{}
	for rows.Next() {
		e, err := scanExecution(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("db: list executions: %w", err)
		}
		out = append(out, e)
	}
	return out, mapErr("list executions", rows.Err())
}
