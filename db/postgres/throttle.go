package postgres

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/jackc/pgx/v5"
)

var _ engine.ThrottleStore = (*DB)(nil)

// throttleKeys returns the keys as bytea values, sorted: every attempt
// locks its counters in the same order, so two never deadlock.
func throttleKeys(keys []string) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = []byte(k)
	}
	slices.SortFunc(out, bytes.Compare)
	return out
}

// ReserveAttempt implements engine.ThrottleStore: the counters are created
// if missing, then locked (FOR UPDATE), so that concurrent attempts on any
// instances are decided one after another.
func (d *DB) ReserveAttempt(ctx context.Context, keys []string, now time.Time, forget time.Duration, decide func([]engine.Failures) time.Duration) (time.Duration, error) {
	sorted := throttleKeys(keys)
	forgetBefore := ms(now.Add(-forget))
	var wait time.Duration
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO throttle (key, failures, last_at) SELECT k, 0, 0 FROM unnest($1::bytea[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING`, sorted); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT key, failures, last_at FROM throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE`, sorted)
		if err != nil {
			return err
		}
		byKey := map[string]engine.Failures{}
		for rows.Next() {
			var k []byte
			var n int
			var last int64
			if err := rows.Scan(&k, &n, &last); err != nil {
				rows.Close()
				return err
			}
			if n > 0 && last >= forgetBefore {
				byKey[string(k)] = engine.Failures{N: n, Last: fromMS(last)}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		cur := make([]engine.Failures, len(keys))
		for i, k := range keys {
			cur[i] = byKey[k]
		}
		if wait = decide(cur); wait > 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE throttle SET failures = CASE WHEN failures > 0 AND last_at >= $2 THEN failures + 1 ELSE 1 END, last_at = $3
WHERE key = ANY($1)`, sorted, forgetBefore, ms(now)); err != nil {
			return err
		}
		// Now and then, drop the counters nobody failed on for long.
		if rand.IntN(100) == 0 {
			_, err := tx.Exec(ctx, `DELETE FROM throttle WHERE last_at < $1`, forgetBefore)
			return err
		}
		return nil
	})
	if err != nil {
		return 0, mapErr("throttle", err)
	}
	return wait, nil
}

// GiveBackAttempt implements engine.ThrottleStore.
func (d *DB) GiveBackAttempt(ctx context.Context, keys []string, forget string) error {
	sorted := throttleKeys(keys)
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE throttle SET failures = failures - 1 WHERE key IN (SELECT key FROM throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE)`, sorted); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM throttle WHERE (key = ANY($1) AND failures <= 0) OR key = $2`, sorted, []byte(forget))
		return err
	})
	return mapErr("throttle", err)
}
