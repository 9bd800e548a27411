package db

import (
	"database/sql"
	"testing"

	"github.com/hookflow/hookflow/engine/storetest"
)

// TestStore runs the store suites every store passes (engine/storetest),
// as the PostgreSQL store does.
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) *storetest.DB {
		d := openTest(t)
		raw := rawSQL{rawDB(t, d.path)}
		return &storetest.DB{
			Store: d.DB, Raw: raw, Key: testKey,
			Reopen: func(t *testing.T, key string) storetest.Store { return reopen(t, d.path, key) },
			Counter: func(t *testing.T, wf int64) int64 {
				var n int64
				if err := raw.QueryRow(`SELECT execution_count FROM workflows WHERE id = ?`, wf).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			},
			SetCounter: func(t *testing.T, wf, n int64) {
				if err := raw.Exec(`UPDATE workflows SET execution_count = ? WHERE id = ?`, n, wf); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// rawSQL is storetest.Raw over the SQLite file.
type rawSQL struct{ db *sql.DB }

func (r rawSQL) QueryRow(q string, args ...any) storetest.Row { return r.db.QueryRow(q, args...) }

func (r rawSQL) Exec(q string, args ...any) error {
	_, err := r.db.Exec(q, args...)
	return err
}
