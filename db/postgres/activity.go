package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/jackc/pgx/v5"
)

var _ engine.ActivityStore = (*DB)(nil)

// Activity counters are kept by the writes, as in the SQLite store: each
// transaction gathers its additions (engine.ActivityDeltas) and adds them
// with one upsert per bucket, into this instance's slot, before it commits.
// Duration classes are added element by element inside PostgreSQL, under
// the row's lock, so that concurrent commits of one instance never lose
// each other's counts.
const upsertActivitySQL = `INSERT INTO activity (workflow_id, span, start, slot, requests, resolved, failed, rejected, durations)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (workflow_id, span, start, slot) DO UPDATE SET
	requests = activity.requests + EXCLUDED.requests, resolved = activity.resolved + EXCLUDED.resolved,
	failed = activity.failed + EXCLUDED.failed, rejected = activity.rejected + EXCLUDED.rejected,
	durations = CASE WHEN cardinality(EXCLUDED.durations) = 0 THEN activity.durations ELSE ARRAY(
		SELECT COALESCE(a, 0) + COALESCE(b, 0) FROM unnest(activity.durations, EXCLUDED.durations) WITH ORDINALITY AS u(a, b, i) ORDER BY i) END`

// queueActivity adds the upserts of deltas to a batch, in the buckets'
// lock order.
func (d *DB) queueActivity(b *pgx.Batch, deltas engine.ActivityDeltas) {
	slot := d.slot.Load()
	for _, k := range deltas.Keys() {
		x := deltas[k]
		durations := x.Durations
		if durations == nil {
			durations = []int64{}
		}
		b.Queue(upsertActivitySQL, k.Workflow, int32(k.Span/time.Second), k.Start, slot, x.Requests, x.Resolved, x.Failed, x.Rejected, durations)
	}
}

// Activity implements engine.ActivityStore.
func (d *DB) Activity(ctx context.Context, workflowID int64, span time.Duration, from, to time.Time) ([]engine.ActivityBucket, error) {
	rows, err := d.pool.Query(ctx, `SELECT workflow_id, start, requests, resolved, failed, rejected, durations FROM activity
WHERE workflow_id = $1 AND span = $2 AND start >= $3 AND start < $4 ORDER BY start`, workflowID, int32(span/time.Second), ms(from), ms(to))
	if err != nil {
		return nil, mapErr("activity", err)
	}
	all, err := scanActivity(rows)
	if err != nil {
		return nil, mapErr("activity", err)
	}
	if out := all[workflowID]; out != nil {
		return out, nil
	}
	return []engine.ActivityBucket{}, nil
}

// RecentActivity implements engine.ActivityStore.
func (d *DB) RecentActivity(ctx context.Context, from time.Time) (map[int64][]engine.ActivityBucket, error) {
	rows, err := d.pool.Query(ctx, `SELECT workflow_id, start, requests, resolved, failed, rejected, durations FROM activity
WHERE span = 3600 AND start >= $1 ORDER BY workflow_id, start`, ms(from))
	if err != nil {
		return nil, mapErr("recent activity", err)
	}
	out, err := scanActivity(rows)
	return out, mapErr("recent activity", err)
}

// scanActivity reads rows ordered by workflow and start, adding up the
// slots of each bucket.
func scanActivity(rows pgx.Rows) (map[int64][]engine.ActivityBucket, error) {
	defer rows.Close()
	out := map[int64][]engine.ActivityBucket{}
	for rows.Next() {
		var (
			wf, start int64
			b         engine.ActivityBucket
			durations []int64
		)
		if err := rows.Scan(&wf, &start, &b.Requests, &b.Resolved, &b.Failed, &b.Rejected, &durations); err != nil {
			return nil, err
		}
		list := out[wf]
		if n := len(list); n > 0 && list[n-1].Start.UnixMilli() == start {
			cur := &list[n-1]
			cur.Requests += b.Requests
			cur.Resolved += b.Resolved
			cur.Failed += b.Failed
			cur.Rejected += b.Rejected
			cur.Durations = addDurations(cur.Durations, durations)
			continue
		}
		b.Start, b.Durations = fromMS(start), addDurations(nil, durations)
		out[wf] = append(list, b)
	}
	return out, rows.Err()
}

// addDurations adds class counts to sum (nil while there are none), in the
// form the stores return: one count per class.
func addDurations(sum, add []int64) []int64 {
	if !slices.ContainsFunc(add, func(c int64) bool { return c != 0 }) {
		return sum
	}
	if sum == nil {
		sum = make([]int64, len(engine.DurationBounds)+1)
	}
	for i, c := range add {
		if i < len(sum) {
			sum[i] += c
		}
	}
	return sum
}

// pruneActivity deletes the buckets past what each span keeps.
func pruneActivity(ctx context.Context, tx pgx.Tx, now time.Time) error {
	_, err := tx.Exec(ctx, `DELETE FROM activity WHERE (span = 60 AND start < $1) OR (span = 3600 AND start < $2)`,
		ms(now.Add(-engine.ActivityMinutesKept)), ms(now.Add(-engine.ActivityHoursKept)))
	return err
}
