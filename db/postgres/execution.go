package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/jackc/pgx/v5"
)

var _ engine.ExecutionStore = (*DB)(nil)

// pending is the condition of the partial index executions_due; the queue
// queries repeat it so that the planner uses that index.
const pending = `status IN ('queued', 'running', 'waiting')`

func textPtr(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

func idPtr(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// InsertExecution implements engine.ExecutionStore. The insert shares a
// commit with concurrent ones (group commit) and returns once durable.
func (d *DB) InsertExecution(ctx context.Context, e *engine.Execution, owner string, leaseUntil time.Time) error {
	if e.ID == 0 {
		return fmt.Errorf("postgres: insert execution: no id")
	}
	jobs, err := engine.EncodeJobs(e.Jobs)
	if err != nil {
		return fmt.Errorf("postgres: insert execution: %w", err)
	}
	body := e.Request.Body
	if body == nil {
		body = []byte{}
	}
	r := &insertRow{
		id: e.ID, workflowID: e.WorkflowID, revision: int32(e.Revision), attempts: int32(e.Attempts),
		status: string(e.Status), mode: string(e.Mode), method: text(e.Request.Method),
		query: []byte(e.Request.Query), body: body, context: string(e.Context),
		jobs: textPtr(jobs), response: textPtr(engine.EncodeResponse(e.Response)), errText: text(e.Error),
		created: ms(e.CreatedAt), started: nullMS(e.StartedAt), finished: nullMS(e.FinishedAt), replayOf: idPtr(e.ReplayOf),
		dur: e.Duration(),
	}
	switch e.Status {
	case engine.StatusQueued:
		r.due, r.wake = nullMS(e.CreatedAt), true
		if r.due == nil {
			r.due = nullMS(time.Now())
		}
	case engine.StatusRunning:
		r.due = nullMS(leaseUntil)
		if owner != "" {
			r.leaseOwner = &owner
		}
	case engine.StatusWaiting:
		r.due, r.wake = nullMS(e.DueAt), true
	}
	if e.Dedupe != nil {
		// Claimed with the execution, in a transaction of its own.
		return d.insertDeduped(ctx, e, r)
	}
	return mapErr("insert execution", d.w.insert(ctx, r))
}

// claimSQL leases the rows due at a time, oldest due first: queued ones,
// waiting ones whose time came and running ones whose lease expired. FOR
// UPDATE SKIP LOCKED lets instances claim at once without waiting for each
// other, and re-checks each row it locks against the condition, so that a
// row claimed by another instance since the scan began is passed over.
const claimSQL = `WITH due AS (
	SELECT id FROM executions WHERE ` + pending + ` AND due_at <= $3 ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
UPDATE executions e SET status = 'running', lease_owner = $1, due_at = $2, started_at = COALESCE(e.started_at, $3), attempts = e.attempts + 1
FROM due WHERE e.id = due.id
RETURNING e.id, e.workflow_id, e.revision, e.mode, e.method, e.query, e.body, e.context, e.jobs, e.response, e.attempts, e.created_at, e.started_at, e.replay_of`

// ClaimExecutions implements engine.ExecutionStore.
func (d *DB) ClaimExecutions(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*engine.Execution, error) {
	rows, err := d.pool.Query(ctx, claimSQL, owner, ms(leaseUntil), ms(now), limit)
	if err != nil {
		return nil, mapErr("claim executions", err)
	}
	defer rows.Close()
	var out []*engine.Execution
	for rows.Next() {
		e := &engine.Execution{Status: engine.StatusRunning}
		var (
			mode, ctxJSON    string
			query            []byte
			jobs, resp       *string
			created, started int64
			replayOf         *int64
		)
		if err := rows.Scan(&e.ID, &e.WorkflowID, &e.Revision, &mode, &e.Request.Method, &query, &e.Request.Body, &ctxJSON,
			&jobs, &resp, &e.Attempts, &created, &started, &replayOf); err != nil {
			return nil, mapErr("claim executions", err)
		}
		e.Mode, e.Request.Query, e.Context = engine.Mode(mode), string(query), json.RawMessage(ctxJSON)
		e.CreatedAt, e.StartedAt = fromMS(created), fromMS(started)
		if replayOf != nil {
			e.ReplayOf = *replayOf
		}
		// The batch is leased already: a row that cannot be read is
		// returned all the same, for the runner to end it as error.
		if err := decodeStored(e, jobs, resp); err != nil {
			e.Jobs, e.Response, e.LoadErr = nil, nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("claim executions", err)
	}
	// RETURNING gives no order; run oldest first.
	slices.SortFunc(out, func(a, b *engine.Execution) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func decodeStored(e *engine.Execution, jobs, resp *string) error {
	var err error
	if jobs != nil {
		if e.Jobs, err = engine.DecodeJobs([]byte(*jobs)); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
	}
	if resp != nil {
		if e.Response, err = engine.DecodeResponse([]byte(*resp)); err != nil {
			return fmt.Errorf("response: %w", err)
		}
	}
	return nil
}

// updateSQL stores the progress or outcome of runs that still hold their
// lease, locking the rows in id order (as renewSQL does) so that a renewal
// and an update of the same owner never deadlock. An execution cancelled
// meanwhile keeps its aborted status and reason; its jobs are recorded, and
// RETURNING tells the run to stop. In a PostgreSQL UPDATE, expressions read
// the row as it was and RETURNING the row as written.
const updateSQL = `WITH v AS (
	SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::int[])
		AS v(id, status, jobs, response, error, started_at, finished_at, due_at, lease_owner, claim)),
held AS (
	SELECT e.id FROM executions e JOIN v ON v.id = e.id
	WHERE e.lease_owner = $1 AND e.attempts = v.claim AND e.status IN ('running', 'aborted') ORDER BY e.id FOR UPDATE OF e)
UPDATE executions e SET
	status = CASE WHEN e.status = 'aborted' THEN 'aborted' ELSE v.status END,
	jobs = v.jobs, response = v.response,
	error = CASE WHEN e.status = 'aborted' THEN e.error ELSE v.error END,
	started_at = v.started_at,
	finished_at = CASE WHEN e.status = 'aborted' THEN e.finished_at ELSE v.finished_at END,
	due_at = CASE WHEN e.status = 'aborted' THEN NULL ELSE v.due_at END,
	lease_owner = CASE WHEN e.status = 'aborted' THEN NULL ELSE v.lease_owner END
FROM v JOIN held ON held.id = v.id
WHERE e.id = v.id
RETURNING e.id, e.status, e.finished_at`

// UpdateExecutions implements engine.ExecutionStore, in one statement.
func (d *DB) UpdateExecutions(ctx context.Context, owner string, leaseUntil time.Time, es []*engine.Execution) ([]engine.UpdateOutcome, error) {
	n := len(es)
	ids, due, started, finished := make([]int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n)
	status, errs, claims := make([]string, n), make([]string, n), make([]int32, n)
	jobs, resps, owners := make([]*string, n), make([]*string, n), make([]*string, n)
	requeued := false
	for i, e := range es {
		b, err := engine.EncodeJobs(e.Jobs)
		if err != nil {
			return nil, fmt.Errorf("postgres: update executions: %w", err)
		}
		ids[i], status[i], errs[i], claims[i] = e.ID, string(e.Status), text(e.Error), int32(e.Attempts)
		jobs[i], resps[i] = textPtr(b), textPtr(engine.EncodeResponse(e.Response))
		started[i], finished[i] = nullMS(e.StartedAt), nullMS(e.FinishedAt)
		switch e.Status {
		case engine.StatusRunning:
			due[i], owners[i] = nullMS(leaseUntil), &owner
		case engine.StatusWaiting, engine.StatusQueued:
			due[i] = nullMS(e.DueAt)
			requeued = requeued || e.Status == engine.StatusQueued
		}
	}
	args := []any{owner, ids, status, jobs, resps, errs, started, finished, due, owners, claims}
	if !slices.ContainsFunc(es, func(e *engine.Execution) bool { return e.Status.Final() }) {
		// Progress only: one round trip, no counters to keep.
		b := &pgx.Batch{}
		b.Queue(updateSQL, args...)
		if requeued {
			b.Queue(`SELECT pg_notify($1, '')`, d.workChannel)
		}
		res := d.pool.SendBatch(ctx, b)
		written, err := scanUpdated(res.Query())
		if cerr := res.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, mapErr("update executions", err)
		}
		return outcomes(es, finished, written), nil
	}
	// Outcomes: the activity counters count the executions that finished
	// here, in the same transaction.
	var out []engine.UpdateOutcome
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		written, err := scanUpdated(tx.Query(ctx, updateSQL, args...))
		if err != nil {
			return err
		}
		out = outcomes(es, finished, written)
		var act engine.ActivityDeltas
		for i, e := range es {
			if out[i] == engine.Updated && e.Status.Final() {
				act.Finish(e.WorkflowID, e.CreatedAt, e.Status, e.Duration(), 1)
			}
		}
		b := &pgx.Batch{}
		d.queueActivity(b, act)
		if requeued {
			b.Queue(`SELECT pg_notify($1, '')`, d.workChannel)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, mapErr("update executions", err)
	}
	return out, nil
}

// updated is what updateSQL wrote to one row.
type updated struct {
	status   string
	finished *int64
}

func scanUpdated(rows pgx.Rows, err error) (map[int64]updated, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	written := map[int64]updated{}
	for rows.Next() {
		var id int64
		var u updated
		if err := rows.Scan(&id, &u.status, &u.finished); err != nil {
			return nil, err
		}
		written[id] = u
	}
	return written, rows.Err()
}

// outcomes tells each run what became of its update. A row found aborted
// was cancelled meanwhile, unless the run itself stored it aborted (then
// the finish time is the run's): the cancel kept its status, reason and
// time, and was counted then.
func outcomes(es []*engine.Execution, finished []*int64, written map[int64]updated) []engine.UpdateOutcome {
	out := make([]engine.UpdateOutcome, len(es))
	for i, e := range es {
		u, ok := written[e.ID]
		switch {
		case !ok:
			out[i] = engine.LeaseLost
		case u.status == string(engine.StatusAborted) && (e.Status != engine.StatusAborted || !sameMS(u.finished, finished[i])):
			out[i] = engine.Cancelled
		default:
			out[i] = engine.Updated
		}
	}
	return out
}

func sameMS(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// renewSQL extends the leases an owner still holds among the given
// claims (id and attempts), and finds those an admin cancelled (the cancel
// keeps the lease owner, so that the run records its jobs).
const renewSQL = `WITH c AS (SELECT * FROM unnest($1::bigint[], $2::int[]) AS c(id, claim)),
renewed AS (
	UPDATE executions SET due_at = $4 WHERE id IN (
		SELECT e.id FROM executions e JOIN c ON c.id = e.id AND c.claim = e.attempts
		WHERE e.lease_owner = $3 AND e.status = 'running' ORDER BY e.id FOR UPDATE OF e)
	RETURNING id)
SELECT id, true FROM renewed
UNION ALL
SELECT e.id, false FROM executions e JOIN c ON c.id = e.id AND c.claim = e.attempts WHERE e.lease_owner = $3 AND e.status = 'aborted'`

// RenewLeases implements engine.ExecutionStore.
func (d *DB) RenewLeases(ctx context.Context, owner string, leases []engine.Lease, leaseUntil time.Time) (engine.RenewResult, error) {
	ids, claims := make([]int64, len(leases)), make([]int32, len(leases))
	for i, l := range leases {
		ids[i], claims[i] = l.ID, int32(l.Claim)
	}
	rows, err := d.pool.Query(ctx, renewSQL, ids, claims, owner, ms(leaseUntil))
	if err != nil {
		return engine.RenewResult{}, mapErr("renew leases", err)
	}
	held, cancelled := map[int64]bool{}, map[int64]bool{}
	for rows.Next() {
		var id int64
		var renewed bool
		if err := rows.Scan(&id, &renewed); err != nil {
			rows.Close()
			return engine.RenewResult{}, mapErr("renew leases", err)
		}
		if renewed {
			held[id] = true
		} else {
			cancelled[id] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
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

// ReleaseLeases implements engine.ExecutionStore: the rows become due at
// once and the other instances are woken to take them.
func (d *DB) ReleaseLeases(ctx context.Context, owner string) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE executions SET status = 'queued', due_at = $1, lease_owner = NULL WHERE id IN (
	SELECT id FROM executions WHERE `+pending+` AND status = 'running' AND lease_owner = $2 ORDER BY id FOR UPDATE)`, time.Now().UnixMilli(), owner)
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n > 0 {
			_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, d.workChannel)
		}
		return err
	})
	return n, mapErr("release leases", err)
}

// NextDue implements engine.ExecutionStore.
func (d *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	var v *int64
	if err := d.pool.QueryRow(ctx, `SELECT MIN(due_at) FROM executions WHERE `+pending).Scan(&v); err != nil {
		return time.Time{}, false, mapErr("next due", err)
	}
	return fromNullMS(v), v != nil, nil
}

// CancelExecution implements engine.ExecutionStore. A running execution's
// run learns of it at its next write or lease renewal. The cancel counts as
// a failure in the activity counters.
func (d *DB) CancelExecution(ctx context.Context, id int64, reason string, now time.Time) (*engine.Execution, error) {
	changed := false
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var wf, created int64
		var started *int64
		err := tx.QueryRow(ctx, `UPDATE executions SET status = 'aborted', error = $1, finished_at = $2, due_at = NULL WHERE id = $3 AND `+pending+`
RETURNING workflow_id, created_at, started_at`, text(reason), ms(now), id).Scan(&wf, &created, &started)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		ran := time.Duration(0)
		if started != nil {
			ran = now.Sub(fromMS(*started))
		}
		var act engine.ActivityDeltas
		act.Finish(wf, fromMS(created), engine.StatusAborted, ran, 1)
		b := &pgx.Batch{}
		d.queueActivity(b, act)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, mapErr("cancel execution", err)
	}
	e, err := d.GetExecution(ctx, id)
	return engine.CancelOutcome(e, changed, err)
}

// RetryExecution implements engine.ExecutionStore. The execution no longer
// counts as failed in the activity counters: it will finish again.
func (d *DB) RetryExecution(ctx context.Context, id int64, now time.Time) (*engine.Execution, error) {
	changed := false
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var wf, created int64
		err := tx.QueryRow(ctx, `UPDATE executions SET status = 'queued', error = '', finished_at = NULL, due_at = $1, lease_owner = NULL
WHERE id = $2 AND status IN ('failed', 'error', 'aborted') RETURNING workflow_id, created_at`, ms(now), id).Scan(&wf, &created)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		var act engine.ActivityDeltas
		act.Finish(wf, fromMS(created), engine.StatusFailed, 0, -1)
		b := &pgx.Batch{}
		d.queueActivity(b, act)
		b.Queue(`SELECT pg_notify($1, '')`, d.workChannel)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, mapErr("retry execution", err)
	}
	e, err := d.GetExecution(ctx, id)
	return engine.RetryOutcome(e, changed, err)
}

// replaySQL copies executions' requests and contexts into new queued
// executions inside PostgreSQL: the bodies never pass through Go.
const replaySQL = `INSERT INTO executions (id, workflow_id, revision, status, mode, method, query, body, context, error, attempts, created_at, due_at, replay_of)
SELECT v.new_id, e.workflow_id, $3, 'queued', $4, e.method, e.query, e.body, e.context, '', 0, $5, $5, e.id
FROM unnest($1::bigint[], $2::bigint[]) AS v(new_id, old_id) JOIN executions e ON e.id = v.old_id AND e.workflow_id = $6
ORDER BY v.new_id`

// ReplayExecutions implements engine.ExecutionStore: the matching ids are
// read first, then copied in transactions of replayChunk rows.
func (d *DB) ReplayExecutions(ctx context.Context, f engine.ReplayFilter, rev int, mode engine.Mode, newID func() int64, now time.Time) (int, error) {
	where, args := []string{"workflow_id = $1"}, []any{f.WorkflowID}
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if f.Status != "" {
		arg("status = ?", string(f.Status))
	}
	// Ids grow with creation time: the time bounds are id bounds, which
	// the workflow's index serves.
	if !f.Since.IsZero() {
		arg("id >= ?", engine.FirstIDAt(f.Since))
	}
	if !f.Until.IsZero() {
		arg("id < ?", engine.FirstIDAt(f.Until))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = engine.MaxBulkReplay
	}
	args = append(args, limit)
	rows, err := d.pool.Query(ctx, `SELECT id FROM executions WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return 0, mapErr("replay executions", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, mapErr("replay executions", err)
	}
	const replayChunk = 500
	done := 0
	for len(ids) > 0 {
		chunk := ids[:min(replayChunk, len(ids))]
		ids = ids[len(chunk):]
		fresh := make([]int64, len(chunk))
		for i := range chunk {
			fresh[i] = newID()
		}
		var inserted int64
		err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, replaySQL, fresh, chunk, rev, string(mode), ms(now), f.WorkflowID)
			if err != nil {
				return err
			}
			inserted = tag.RowsAffected()
			b := &pgx.Batch{}
			b.Queue(countSQL, f.WorkflowID, d.slot.Load(), tag.RowsAffected())
			var act engine.ActivityDeltas
			for range tag.RowsAffected() {
				act.Request(f.WorkflowID, now)
			}
			d.queueActivity(b, act)
			b.Queue(`SELECT pg_notify($1, '')`, d.workChannel)
			return tx.SendBatch(ctx, b).Close()
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
	err := d.pool.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM executions`).Scan(&id)
	return id, mapErr("max execution id", err)
}

const executionColumns = `id, workflow_id, revision, status, mode, method, query, context, jobs, response, error, attempts, created_at, started_at, finished_at, due_at, replay_of, duplicates`

func scanExecution(row pgx.Row, extra ...any) (*engine.Execution, error) {
	var (
		e                      engine.Execution
		status, mode, ctx      string
		query                  []byte
		jobs, resp             *string
		created                int64
		started, finished, due *int64
		replayOf               *int64
	)
	dest := append([]any{&e.ID, &e.WorkflowID, &e.Revision, &status, &mode, &e.Request.Method, &query, &ctx, &jobs, &resp, &e.Error, &e.Attempts,
		&created, &started, &finished, &due, &replayOf, &e.Duplicates}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	e.Status, e.Mode, e.Context, e.Request.Query = engine.ExecStatus(status), engine.Mode(mode), json.RawMessage(ctx), string(query)
	e.CreatedAt, e.StartedAt, e.FinishedAt = fromMS(created), fromNullMS(started), fromNullMS(finished)
	if replayOf != nil {
		e.ReplayOf = *replayOf
	}
	if e.Status == engine.StatusWaiting {
		e.DueAt = fromNullMS(due)
	}
	if err := decodeStored(&e, jobs, resp); err != nil {
		return nil, err
	}
	return &e, nil
}

// GetExecution implements engine.ExecutionStore.
func (d *DB) GetExecution(ctx context.Context, id int64) (*engine.Execution, error) {
	var body []byte
	e, err := scanExecution(d.pool.QueryRow(ctx, `SELECT `+executionColumns+`, body FROM executions WHERE id = $1`, id), &body)
	if err == pgx.ErrNoRows {
		return nil, engine.Errorf(engine.ENOTFOUND, "execution %d not found", id)
	}
	if err != nil {
		return nil, mapErr("get execution", err)
	}
	e.Request.Body = body
	rows, err := d.pool.Query(ctx, `SELECT id FROM executions WHERE replay_of = $1 ORDER BY id LIMIT 100`, id)
	if err != nil {
		return nil, mapErr("get execution replays", err)
	}
	if e.Replays, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return nil, mapErr("get execution replays", err)
	}
	if len(e.Replays) == 0 {
		e.Replays = nil
	}
	return e, nil
}

// ListExecutions implements engine.ExecutionStore.
func (d *DB) ListExecutions(ctx context.Context, f engine.ExecutionFilter) ([]*engine.Execution, error) {
	where, args := []string{"workflow_id = $1"}, []any{f.WorkflowID}
	if f.Status != "" {
		args = append(args, string(f.Status))
		where = append(where, "status = $"+strconv.Itoa(len(args)))
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		where = append(where, "id < $"+strconv.Itoa(len(args)))
	}
	args = append(args, f.Limit)
	rows, err := d.pool.Query(ctx, `SELECT `+executionColumns+` FROM executions WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, mapErr("list executions", err)
	}
	defer rows.Close()
	out := []*engine.Execution{}
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, mapErr("list executions", err)
		}
		out = append(out, e)
	}
	return out, mapErr("list executions", rows.Err())
}
