package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine"
)

var _ engine.ExecutionStore = (*DB)(nil)

// encodeResponse stores a reply in the response column (engine's stored
// form; NULL for none).
func encodeResponse(r *engine.Response) sql.NullString {
	b := engine.EncodeResponse(r)
	return sql.NullString{String: string(b), Valid: b != nil}
}

func decodeResponse(s sql.NullString) (*engine.Response, error) {
	return engine.DecodeResponse([]byte(s.String))
}

// encodeJobs stores jobs in the jobs column (engine's stored form; NULL for
// none).
func encodeJobs(jobs []engine.Job) (sql.NullString, error) {
	b, err := engine.EncodeJobs(jobs)
	return sql.NullString{String: string(b), Valid: b != nil}, err
}

const insertExecutionSQL = `INSERT INTO executions (id, workflow_id, revision, status, mode, method, query, body, context, jobs, response, error, attempts, created_at, started_at, finished_at, due_at, lease_owner, replay_of, dedupe_key, dedupe_expires)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// pendingCondition repeats the condition of the partial index
// executions_due: SQLite uses a partial index only for queries that imply
// its condition, and without it the queue queries scan every stored
// execution.
const pendingCondition = `status IN ('queued', 'running', 'waiting')`

// claimExecutionsSQL leases the rows due at a time: queued ones, waiting
// ones whose time came and running ones whose lease expired, oldest due
// first.
const claimExecutionsSQL = `UPDATE executions SET status = 'running', lease_owner = ?, due_at = ?, started_at = COALESCE(started_at, ?), attempts = attempts + 1
WHERE id IN (SELECT id FROM executions WHERE ` + pendingCondition + ` AND due_at <= ? ORDER BY due_at LIMIT ?)
RETURNING id, workflow_id, revision, mode, method, query, body, context, jobs, response, attempts, created_at, started_at, replay_of`

// updateExecutionSQL stores a run's progress or outcome if the run still
// holds the lease. An execution cancelled meanwhile keeps its aborted
// status and reason; its jobs are recorded, and RETURNING tells the run to
// stop. (In an UPDATE, every expression reads the row as it was.)
const updateExecutionSQL = `UPDATE executions SET
	status = CASE WHEN status = 'aborted' THEN 'aborted' ELSE ? END,
	jobs = ?, response = ?,
	error = CASE WHEN status = 'aborted' THEN error ELSE ? END,
	started_at = ?,
	finished_at = CASE WHEN status = 'aborted' THEN finished_at ELSE ? END,
	due_at = CASE WHEN status = 'aborted' THEN NULL ELSE ? END,
	lease_owner = CASE WHEN status = 'aborted' THEN NULL ELSE ? END
WHERE id = ? AND lease_owner = ? AND attempts = ? AND status IN ('running', 'aborted')
RETURNING status, finished_at`

// renewLeasesSQL extends the leases an owner still holds among a JSON
// array of [id, claim] pairs.
const renewLeasesSQL = `UPDATE executions SET due_at = ?
WHERE (id, attempts) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)) AND lease_owner = ? AND status = 'running'
RETURNING id`

// cancelledLeasesSQL finds, among [id, claim] pairs, the claims an admin
// cancelled (the cancel keeps the lease owner, so that the run records its
// jobs).
const cancelledLeasesSQL = `SELECT id FROM executions
WHERE (id, attempts) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)) AND lease_owner = ? AND status = 'aborted'`

// releaseLeasesSQL puts an owner's running rows back in the queue, due at
// once.
const releaseLeasesSQL = `UPDATE executions SET status = 'queued', due_at = ?, lease_owner = NULL WHERE ` + pendingCondition + ` AND status = 'running' AND lease_owner = ?`

// expireLeasesSQL makes every running row due at once, whoever holds it.
const expireLeasesSQL = `UPDATE executions SET due_at = ?, lease_owner = NULL WHERE ` + pendingCondition + ` AND status = 'running'`

const nextDueSQL = `SELECT MIN(due_at) FROM executions WHERE ` + pendingCondition

const cancelExecutionSQL = `UPDATE executions SET status = 'aborted', error = ?, finished_at = ?, due_at = NULL
WHERE id = ? AND ` + pendingCondition + `
RETURNING workflow_id, created_at, started_at`

const retryExecutionSQL = `UPDATE executions SET status = 'queued', error = '', finished_at = NULL, due_at = ?, lease_owner = NULL
WHERE id = ? AND status IN ('failed', 'error', 'aborted')
RETURNING workflow_id, created_at`

// replayExecutionSQL copies one execution's request and context into a new
// queued execution, inside SQLite: the bodies never pass through Go.
const replayExecutionSQL = `INSERT INTO executions (id, workflow_id, revision, status, mode, method, query, body, context, error, attempts, created_at, due_at, replay_of)
SELECT ?, workflow_id, ?, 'queued', ?, method, query, body, context, '', 0, ?, ?, id FROM executions WHERE id = ? AND workflow_id = ?`

// countExecutionsSQL adds a batch's new executions to a workflow's counter.
const countExecutionsSQL = `UPDATE workflows SET execution_count = execution_count + ? WHERE id = ?`

// preparedSQL lists the statements of the hot paths, prepared once on the
// write connection.
var preparedSQL = []string{insertExecutionSQL, updateExecutionSQL, claimExecutionsSQL, countExecutionsSQL, renewLeasesSQL, replayExecutionSQL, upsertActivitySQL,
	dedupeLookupSQL, countDuplicateSQL, mergeDedupeManySQL, mergeDedupeOneSQL}

// InsertExecution implements engine.ExecutionStore. The insert shares a
// transaction with concurrent ones (group commit) and returns once durable.
// An execution with a dedupe key claims it in the same transaction (see
// engine.ExecutionStore): a duplicate stores nothing and does not fail the
// batch.
func (d *DB) InsertExecution(ctx context.Context, e *engine.Execution, owner string, leaseUntil time.Time) error {
	if e.ID == 0 {
		return fmt.Errorf("db: insert execution: no id")
	}
	jobs, err := encodeJobs(e.Jobs)
	if err != nil {
		return fmt.Errorf("db: insert execution: %w", err)
	}
	resp := encodeResponse(e.Response)
	body := e.Request.Body
	if body == nil {
		body = []byte{}
	}
	var (
		due   sql.NullInt64
		lease sql.NullString
	)
	switch e.Status {
	case engine.StatusQueued:
		due = sql.NullInt64{Int64: ms(e.CreatedAt), Valid: true}
	case engine.StatusRunning:
		due = sql.NullInt64{Int64: ms(leaseUntil), Valid: true}
		lease = sql.NullString{String: owner, Valid: owner != ""}
	case engine.StatusWaiting:
		due = sql.NullInt64{Int64: ms(e.DueAt), Valid: true}
	}
	// The arguments are converted here, in the caller's goroutine: the
	// writer's one goroutine is the serial part of every request.
	args := []any{e.ID, e.WorkflowID, e.Revision, string(e.Status), string(e.Mode), e.Request.Method, e.Request.Query, body, string(e.Context),
		jobs, resp, e.Error, e.Attempts, ms(e.CreatedAt), nullMS(e.StartedAt), nullMS(e.FinishedAt), due, lease, nullID(e.ReplayOf), nil, nil}
	var dup *engine.DuplicateError
	err = d.w.do(ctx, func(b *batch) error {
		// The op may run again, alone, if its batch fails.
		key, expires, held, err := d.storedKey(b, e)
		if dup = held; err != nil || dup != nil {
			return err
		}
		args[len(args)-2], args[len(args)-1] = key, expires
		stmt, err := b.stmt(insertExecutionSQL)
		if err != nil {
			return err
		}
		if _, err := stmt.Exec(args...); err != nil {
			return err
		}
		b.count(e.WorkflowID, 1)
		b.activity.Request(e.WorkflowID, e.CreatedAt)
		if e.Status.Final() {
			b.activity.Finish(e.WorkflowID, e.CreatedAt, e.Status, e.Duration(), 1)
		}
		return nil
	})
	if err == nil && dup != nil {
		return dup
	}
	return mapErr("insert execution", err)
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// ClaimExecutions implements engine.ExecutionStore with one UPDATE ...
// RETURNING over the partial index of pending rows.
func (d *DB) ClaimExecutions(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*engine.Execution, error) {
	var out []*engine.Execution
	err := d.w.do(ctx, func(b *batch) error {
		out = out[:0]
		stmt, err := b.stmt(claimExecutionsSQL)
		if err != nil {
			return err
		}
		rows, err := stmt.Query(owner, ms(leaseUntil), ms(now), ms(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e := &engine.Execution{Status: engine.StatusRunning}
			var (
				mode, ctxJSON    string
				jobs, resp       sql.NullString
				created, started int64
				replayOf         sql.NullInt64
			)
			if err := rows.Scan(&e.ID, &e.WorkflowID, &e.Revision, &mode, &e.Request.Method, &e.Request.Query, &e.Request.Body, &ctxJSON,
				&jobs, &resp, &e.Attempts, &created, &started, &replayOf); err != nil {
				return err
			}
			e.Mode, e.Context, e.CreatedAt, e.StartedAt, e.ReplayOf = engine.Mode(mode), json.RawMessage(ctxJSON), fromMS(created), fromMS(started), replayOf.Int64
			// A row that cannot be read is claimed all the same, for the
			// runner to end it as error: left in the queue, it would head
			// every claim.
			if err := decodeJobs(jobs, &e.Jobs); err != nil {
				e.Jobs, e.LoadErr = nil, fmt.Errorf("jobs: %w", err)
			} else if e.Response, err = decodeResponse(resp); err != nil {
				e.Response, e.LoadErr = nil, fmt.Errorf("response: %w", err)
			}
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

// UpdateExecutions implements engine.ExecutionStore.
func (d *DB) UpdateExecutions(ctx context.Context, owner string, leaseUntil time.Time, es []*engine.Execution) ([]engine.UpdateOutcome, error) {
	type row struct {
		jobs, resp sql.NullString
		due        sql.NullInt64
		lease      sql.NullString
	}
	rows := make([]row, len(es))
	for i, e := range es {
		var err error
		if rows[i].jobs, err = encodeJobs(e.Jobs); err != nil {
			return nil, fmt.Errorf("db: update executions: %w", err)
		}
		rows[i].resp = encodeResponse(e.Response)
		switch e.Status {
		case engine.StatusRunning:
			rows[i].due = sql.NullInt64{Int64: ms(leaseUntil), Valid: true}
			rows[i].lease = sql.NullString{String: owner, Valid: true}
		case engine.StatusWaiting, engine.StatusQueued:
			rows[i].due = sql.NullInt64{Int64: ms(e.DueAt), Valid: true}
		}
	}
	out := make([]engine.UpdateOutcome, len(es))
	err := d.w.do(ctx, func(b *batch) error {
		stmt, err := b.stmt(updateExecutionSQL)
		if err != nil {
			return err
		}
		for i, e := range es {
			var (
				status   string
				finished sql.NullInt64
			)
			fin := nullMS(e.FinishedAt)
			err := stmt.QueryRow(string(e.Status), rows[i].jobs, rows[i].resp, e.Error, nullMS(e.StartedAt), fin,
				rows[i].due, rows[i].lease, e.ID, owner, e.Attempts).Scan(&status, &finished)
			switch {
			case err == sql.ErrNoRows:
				out[i] = engine.LeaseLost
			case err != nil:
				return err
			case status == string(engine.StatusAborted) && (e.Status != engine.StatusAborted || finished != fin):
				// Cancelled meanwhile: the row kept the cancel's status,
				// reason and time (and was counted then).
				out[i] = engine.Cancelled
			default:
				out[i] = engine.Updated
				if e.Status.Final() {
					b.activity.Finish(e.WorkflowID, e.CreatedAt, e.Status, e.Duration(), 1)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, mapErr("update executions", err)
	}
	return out, nil
}

// RenewLeases implements engine.ExecutionStore.
func (d *DB) RenewLeases(ctx context.Context, owner string, leases []engine.Lease, leaseUntil time.Time) (engine.RenewResult, error) {
	pairs := make([][2]int64, len(leases))
	for i, l := range leases {
		pairs[i] = [2]int64{l.ID, int64(l.Claim)}
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return engine.RenewResult{}, fmt.Errorf("db: renew leases: %w", err)
	}
	held := make(map[int64]bool, len(leases))
	cancelled := map[int64]bool{}
	err = d.w.do(ctx, func(b *batch) error {
		clear(held)
		clear(cancelled)
		stmt, err := b.stmt(renewLeasesSQL)
		if err != nil {
			return err
		}
		if err := collectIDs(stmt.Query(ms(leaseUntil), string(list), owner))(held); err != nil {
			return err
		}
		if len(held) == len(leases) {
			return nil
		}
		return collectIDs(b.tx.Query(cancelledLeasesSQL, string(list), owner))(cancelled)
	})
	if err != nil {
		return engine.RenewResult{}, mapErr("renew leases", err)
	}
	var res engine.RenewResult
	for _, l := range leases {
		switch {
		case held[l.ID]:
		case cancelled[l.ID]:
			res.Cancelled = append(res.Cancelled, l.ID)
		default:
			res.Lost = append(res.Lost, l.ID)
		}
	}
	return res, nil
}

// collectIDs reads a column of ids into a set.
func collectIDs(rows *sql.Rows, err error) func(map[int64]bool) error {
	return func(set map[int64]bool) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			set[id] = true
		}
		return rows.Err()
	}
}

// ReleaseLeases implements engine.ExecutionStore.
func (d *DB) ReleaseLeases(ctx context.Context, owner string) (int64, error) {
	return d.execCount(ctx, "release leases", releaseLeasesSQL, ms(time.Now()), owner)
}

// ExpireLeases makes every running execution due at once, whoever holds
// it: at start-up, executions left running by a dead process resume without
// waiting for their leases to expire. Only for a database that one process
// uses, as SQLite's is; with several instances, leases expire on their own.
func (d *DB) ExpireLeases(ctx context.Context) (int64, error) {
	return d.execCount(ctx, "expire leases", expireLeasesSQL, ms(time.Now()))
}

// execCount runs one statement through the writer and returns how many
// rows it changed.
func (d *DB) execCount(ctx context.Context, op, q string, args ...any) (int64, error) {
	var n int64
	err := d.w.do(ctx, func(b *batch) error {
		res, err := b.tx.Exec(q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, mapErr(op, err)
}

// execOne runs one statement that must change a row: ENOTFOUND ("what not
// found") when it changes none.
func (d *DB) execOne(ctx context.Context, op, what, q string, args ...any) error {
	n, err := d.execCount(ctx, op, q, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return engine.Errorf(engine.ENOTFOUND, "%s not found", what)
	}
	return nil
}

// NextDue implements engine.ExecutionStore.
func (d *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	var v sql.NullInt64
	if err := d.read.QueryRowContext(ctx, nextDueSQL).Scan(&v); err != nil {
		return time.Time{}, false, mapErr("next due", err)
	}
	return fromMS(v.Int64), v.Valid, nil
}

// CancelExecution implements engine.ExecutionStore.
func (d *DB) CancelExecution(ctx context.Context, id int64, reason string, now time.Time) (*engine.Execution, error) {
	var changed int64
	err := d.w.do(ctx, func(b *batch) error {
		changed = 0
		var wf, created int64
		var started sql.NullInt64
		err := b.tx.QueryRow(cancelExecutionSQL, reason, ms(now), id).Scan(&wf, &created, &started)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		changed = 1
		ran := time.Duration(0)
		if started.Valid {
			ran = now.Sub(fromMS(started.Int64))
		}
		b.activity.Finish(wf, fromMS(created), engine.StatusAborted, ran, 1)
		return nil
	})
	if err != nil {
		return nil, mapErr("cancel execution", err)
	}
	e, err := d.GetExecution(ctx, id)
	return engine.CancelOutcome(e, changed > 0, err)
}

// RetryExecution implements engine.ExecutionStore. The execution no longer
// counts as failed in the activity counters: it will finish again.
func (d *DB) RetryExecution(ctx context.Context, id int64, now time.Time) (*engine.Execution, error) {
	var changed int64
	err := d.w.do(ctx, func(b *batch) error {
		changed = 0
		var wf, created int64
		err := b.tx.QueryRow(retryExecutionSQL, ms(now), id).Scan(&wf, &created)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		changed = 1
		b.activity.Finish(wf, fromMS(created), engine.StatusFailed, 0, -1)
		return nil
	})
	if err != nil {
		return nil, mapErr("retry execution", err)
	}
	e, err := d.GetExecution(ctx, id)
	return engine.RetryOutcome(e, changed > 0, err)
}

// ReplayExecutions implements engine.ExecutionStore: the matching ids are
// read first, then copied in transactions of replayChunk rows.
func (d *DB) ReplayExecutions(ctx context.Context, f engine.ReplayFilter, rev int, mode engine.Mode, newID func() int64, now time.Time) (int, error) {
	where, args := []string{"workflow_id = ?"}, []any{f.WorkflowID}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	// Ids grow with creation time: the time bounds are id bounds, which
	// the workflow's index serves.
	if !f.Since.IsZero() {
		where, args = append(where, "id >= ?"), append(args, engine.FirstIDAt(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "id < ?"), append(args, engine.FirstIDAt(f.Until))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = engine.MaxBulkReplay
	}
	args = append(args, limit)
	rows, err := d.read.QueryContext(ctx, `SELECT id FROM executions WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return 0, mapErr("replay executions", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, mapErr("replay executions", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, mapErr("replay executions", err)
	}
	const replayChunk = 500
	done := 0
	for len(ids) > 0 {
		chunk := ids[:min(replayChunk, len(ids))]
		ids = ids[len(chunk):]
		pairs := make([][2]int64, len(chunk))
		for i, id := range chunk {
			pairs[i] = [2]int64{newID(), id}
		}
		at := ms(now)
		var inserted int64
		err := d.w.do(ctx, func(b *batch) error {
			stmt, err := b.stmt(replayExecutionSQL)
			if err != nil {
				return err
			}
			n := int64(0)
			for _, p := range pairs {
				res, err := stmt.Exec(p[0], rev, string(mode), at, at, p[1], f.WorkflowID)
				if err != nil {
					return err
				}
				k, _ := res.RowsAffected()
				n += k
			}
			b.count(f.WorkflowID, n)
			inserted = n
			for range n {
				b.activity.Request(f.WorkflowID, now)
			}
			return nil
		})
		if err != nil {
			return done, mapErr("replay executions", err)
		}
		done += int(inserted)
	}
	return done, nil
}

// MaxExecutionID returns the largest execution id stored (0 if none), to
// seed the id generator.
func (d *DB) MaxExecutionID(ctx context.Context) (int64, error) {
	var id int64
	err := d.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM executions`).Scan(&id)
	return id, mapErr("max execution id", err)
}

const executionColumns = `id, workflow_id, revision, status, mode, method, query, context, jobs, response, error, attempts, created_at, started_at, finished_at, due_at, replay_of, duplicates`

func scanExecution(scan func(...any) error, extra ...any) (*engine.Execution, error) {
	var (
		e                 engine.Execution
		status, mode, ctx string
		jobs, resp        sql.NullString
		created           int64
		started, finished sql.NullInt64
		due, replayOf     sql.NullInt64
	)
	dest := append([]any{&e.ID, &e.WorkflowID, &e.Revision, &status, &mode, &e.Request.Method, &e.Request.Query, &ctx, &jobs, &resp, &e.Error, &e.Attempts,
		&created, &started, &finished, &due, &replayOf, &e.Duplicates}, extra...)
	if err := scan(dest...); err != nil {
		return nil, err
	}
	e.Status, e.Mode, e.Context = engine.ExecStatus(status), engine.Mode(mode), json.RawMessage(ctx)
	e.CreatedAt, e.StartedAt, e.FinishedAt = fromMS(created), fromNullMS(started), fromNullMS(finished)
	e.ReplayOf = replayOf.Int64
	if e.Status == engine.StatusWaiting {
		e.DueAt = fromNullMS(due)
	}
	if err := decodeJobs(jobs, &e.Jobs); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
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
	rows, err := d.read.QueryContext(ctx, `SELECT id FROM executions WHERE replay_of = ? ORDER BY id LIMIT 100`, id)
	if err != nil {
		return nil, mapErr("get execution replays", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r int64
		if err := rows.Scan(&r); err != nil {
			return nil, mapErr("get execution replays", err)
		}
		e.Replays = append(e.Replays, r)
	}
	return e, mapErr("get execution replays", rows.Err())
}

func decodeJobs(s sql.NullString, dst *[]engine.Job) error {
	jobs, err := engine.DecodeJobs([]byte(s.String))
	*dst = jobs
	return err
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
