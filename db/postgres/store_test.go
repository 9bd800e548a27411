package postgres

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/db/postgres/pgtest"
	"github.com/hookflow/hookflow/engine/secretbox"
	"github.com/hookflow/hookflow/engine/storetest"
)

const testKey = "postgres-test-key-0123456789"

// openURL opens a store on url with key; it is closed at cleanup.
func openURL(t *testing.T, url, key string) *DB {
	t.Helper()
	box, err := secretbox.New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), url, box)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// open opens a store over a schema of its own.
func open(t *testing.T) *DB {
	t.Helper()
	return openURL(t, pgtest.Schema(t), testKey)
}

// TestStore runs the store suites every store passes (engine/storetest),
// as the SQLite store does.
func TestStore(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Run(t, func(t *testing.T) *storetest.DB {
		url := pgtest.Schema(t)
		d := openURL(t, url, testKey)
		return &storetest.DB{
			Store: d, Raw: rawPG{d}, Key: testKey,
			Reopen:  func(t *testing.T, key string) storetest.Store { return openURL(t, url, key) },
			Counter: func(t *testing.T, wf int64) int64 { return counter(t, d, wf) },
			SetCounter: func(t *testing.T, wf, n int64) {
				// An edit outside Hookflow: another slot made wrong.
				if _, err := d.pool.Exec(context.Background(), `INSERT INTO execution_counts (workflow_id, slot, n) VALUES ($1, 7, $2 - (SELECT COALESCE(SUM(n), 0) FROM execution_counts WHERE workflow_id = $1))
ON CONFLICT (workflow_id, slot) DO UPDATE SET n = execution_counts.n + EXCLUDED.n`, wf, n); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// counter is the sum of a workflow's counter slots.
func counter(t *testing.T, d *DB, wf int64) int64 {
	t.Helper()
	var n int64
	if err := d.pool.QueryRow(context.Background(), `SELECT COALESCE(SUM(n), 0)::bigint FROM execution_counts WHERE workflow_id = $1`, wf).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rawPG is storetest.Raw over the pool, with ? placeholders numbered.
type rawPG struct{ d *DB }

func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r rawPG) QueryRow(q string, args ...any) storetest.Row {
	return r.d.pool.QueryRow(context.Background(), numbered(q), args...)
}

func (r rawPG) Exec(q string, args ...any) error {
	_, err := r.d.pool.Exec(context.Background(), numbered(q), args...)
	return err
}
