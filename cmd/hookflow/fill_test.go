package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db"
)

// fillBatch is a run of copies of a workflow's first execution: N of them,
// created evenly over [From, To), newest first, one in FailEvery failed
// (0: none).
type fillBatch struct {
	N         int
	From, To  time.Time
	FailEvery int
}

// fillExecutions stores batches of copies of the workflow's oldest
// execution straight into its SQLite file, each batch in one transaction
// made inside SQLite by a recursive CTE (like hookbench's cloneExecutions:
// a million rows take seconds). The copies get ids below every id stored,
// going down as they go back in time, so that the list keeps its order
// (newest first). Then it adds the activity counters the copies would have
// left (the server's writes keep them; here they are summed once from the
// rows: hours for 8 days, minutes for 3 hours, every flow 1–2 ms) and
// their number to the workflow's count. The server may run meanwhile.
func fillExecutions(tb testing.TB, srv *browserServer, workflow string, batches []fillBatch) {
	tb.Helper()
	ctx := context.Background()
	d, err := sql.Open("sqlite", "file:"+filepath.Join(srv.dir, db.FileName)+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	d.SetMaxOpenConns(1)
	var tmpl, minID int64
	if err := d.QueryRowContext(ctx, `SELECT MIN(id) FROM executions WHERE workflow_id = ?`, workflow).Scan(&tmpl); err != nil {
		tb.Fatal(err)
	}
	if err := d.QueryRowContext(ctx, `SELECT MIN(id) FROM executions`).Scan(&minID); err != nil {
		tb.Fatal(err)
	}
	const q = `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?)
INSERT INTO executions (id, workflow_id, revision, mode, method, query, body, context, status, jobs, response, error, attempts, created_at, started_at, finished_at)
SELECT ? - seq.n, t.workflow_id, t.revision, t.mode, t.method, t.query, t.body, t.context,
	CASE WHEN ? > 0 AND seq.n % ? = 0 THEN 'failed' ELSE 'resolved' END, t.jobs, t.response,
	CASE WHEN ? > 0 AND seq.n % ? = 0 THEN 'workflow failed at node paid' ELSE '' END, 1,
	? - CAST(seq.n * ? AS INTEGER), ? - CAST(seq.n * ? AS INTEGER), ? - CAST(seq.n * ? AS INTEGER) + 2
FROM seq, (SELECT * FROM executions WHERE id = ?) AS t`
	next, total := minID-1, 0
	for _, b := range batches {
		if b.N <= 0 {
			continue
		}
		to := b.To.UnixMilli() - 1
		step := float64(b.To.Sub(b.From).Milliseconds()) / float64(b.N)
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, q, b.N, next, b.FailEvery, b.FailEvery, b.FailEvery, b.FailEvery, to, step, to, step, to, step, tmpl); err != nil {
			tb.Fatalf("fill: %v", err)
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
		next -= int64(b.N)
		total += b.N
	}
	now := time.Now().UnixMilli()
	for _, s := range []struct {
		span, keep int64
		durations  string
	}{{3600, 8 * 24 * 3600, `'0,' || COUNT(*)`}, {60, 3 * 3600, `''`}} {
		_, err := d.ExecContext(ctx, `INSERT INTO activity (workflow_id, span, start, requests, resolved, failed, rejected, durations)
SELECT workflow_id, ?, created_at / (? * 1000) * (? * 1000), COUNT(*), SUM(status = 'resolved'), SUM(status <> 'resolved'), 0, `+s.durations+`
FROM executions WHERE workflow_id = ? AND id < ? AND created_at >= ? GROUP BY 1, 2, 3 ORDER BY 3
ON CONFLICT (workflow_id, span, start) DO UPDATE SET requests = requests + excluded.requests,
	resolved = resolved + excluded.resolved, failed = failed + excluded.failed`, s.span, s.span, s.span, workflow, minID, now-s.keep*1000)
		if err != nil {
			tb.Fatalf("activity: %v", err)
		}
	}
	if _, err := d.ExecContext(ctx, `UPDATE workflows SET execution_count = execution_count + ? WHERE id = ?`, total, workflow); err != nil {
		tb.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		tb.Fatal(err)
	}
}
