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
		return &storetest.DB{
			Store: d.DB, Raw: rawSQL{rawDB(t, d.path)}, Key: testKey,
			Reopen: func(t *testing.T, key string) storetest.Store { return reopen(t, d.path, key) },
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
