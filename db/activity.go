package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/hookflow/hookflow/engine"
)

var _ engine.ActivityStore = (*DB)(nil)

// Activity counters are kept by the writes: each operation of a batch adds
// to the batch's deltas, and the batch adds them to the table with one
// upsert per workflow and bucket before it commits (like the execution
// counters of the workflows list).

const upsertActivitySQL = `INSERT INTO activity (workflow_id, span, start, requests, resolved, failed, rejected, durations)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (workflow_id, span, start) DO UPDATE SET
	requests = requests + excluded.requests, resolved = resolved + excluded.resolved,
	failed = failed + excluded.failed, rejected = rejected + excluded.rejected,
	durations = CASE WHEN excluded.durations = '' THEN durations ELSE excluded.durations END`

// activityDeltas are a batch's additions to the activity counters: the
// engine's accumulator, which the PostgreSQL store shares (its Request,
// Finish and Reject count), with the flush of this store.
type activityDeltas struct{ engine.ActivityDeltas }

// flush adds the deltas to the table. Duration counts are merged in Go:
// read, add, write back (a batch touches few hour buckets).
func (a activityDeltas) flush(b *batch) error {
	if len(a.ActivityDeltas) == 0 {
		return nil
	}
	stmt, err := b.stmt(upsertActivitySQL)
	if err != nil {
		return err
	}
	for _, k := range a.Keys() {
		d, span := a.ActivityDeltas[k], int64(k.Span/time.Second)
		durations := ""
		if d.Durations != nil {
			var cur string
			err := b.tx.QueryRow(`SELECT durations FROM activity WHERE workflow_id = ? AND span = ? AND start = ?`, k.Workflow, span, k.Start).Scan(&cur)
			if err != nil && err != sql.ErrNoRows {
				return err
			}
			sum := engine.DecodeDurations(cur)
			for i, c := range d.Durations {
				sum[i] += c
			}
			durations = engine.EncodeDurations(sum)
		}
		if _, err := stmt.Exec(k.Workflow, span, k.Start, d.Requests, d.Resolved, d.Failed, d.Rejected, durations); err != nil {
			return err
		}
	}
	return nil
}

// Activity implements engine.ActivityStore.
func (d *DB) Activity(ctx context.Context, workflowID int64, span time.Duration, from, to time.Time) ([]engine.ActivityBucket, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT workflow_id, start, requests, resolved, failed, rejected, durations FROM activity
WHERE workflow_id = ? AND span = ? AND start >= ? AND start < ? ORDER BY start`, workflowID, int64(span/time.Second), ms(from), ms(to))
	if err != nil {
		return nil, mapErr("activity", err)
	}
	out := []engine.ActivityBucket{}
	err = scanActivity(rows, func(_ int64, b engine.ActivityBucket) { out = append(out, b) })
	return out, mapErr("activity", err)
}

// RecentActivity implements engine.ActivityStore.
func (d *DB) RecentActivity(ctx context.Context, from time.Time) (map[int64][]engine.ActivityBucket, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT workflow_id, start, requests, resolved, failed, rejected, durations FROM activity
WHERE span = 3600 AND start >= ? ORDER BY start`, ms(from))
	if err != nil {
		return nil, mapErr("recent activity", err)
	}
	out := map[int64][]engine.ActivityBucket{}
	err = scanActivity(rows, func(wf int64, b engine.ActivityBucket) { out[wf] = append(out[wf], b) })
	return out, mapErr("recent activity", err)
}

func scanActivity(rows *sql.Rows, add func(int64, engine.ActivityBucket)) error {
	defer rows.Close()
	for rows.Next() {
		var (
			wf, start int64
			b         engine.ActivityBucket
			durations string
		)
		if err := rows.Scan(&wf, &start, &b.Requests, &b.Resolved, &b.Failed, &b.Rejected, &durations); err != nil {
			return err
		}
		b.Start = fromMS(start)
		if durations != "" {
			b.Durations = engine.DecodeDurations(durations)
		}
		add(wf, b)
	}
	return rows.Err()
}

// pruneActivity deletes the buckets past what each span keeps.
func pruneActivity(tx *sql.Tx, now time.Time) error {
	if _, err := tx.Exec(`DELETE FROM activity WHERE span = 60 AND start < ?`, ms(now.Add(-engine.ActivityMinutesKept))); err != nil {
		return err
	}
	_, err := tx.Exec(`DELETE FROM activity WHERE span = 3600 AND start < ?`, ms(now.Add(-engine.ActivityHoursKept)))
	return err
}
