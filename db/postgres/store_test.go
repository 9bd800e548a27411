package postgres

import (
	"context"
	"testing"

	"github.com/hookflow/hookflow/db/postgres/pgtest"
	"github.com/hookflow/hookflow/engine/secretbox"
	"github.com/hookflow/hookflow/engine/storetest"
)

// open opens a store over a schema of its own.
func open(t *testing.T) *DB {
	t.Helper()
	box, err := secretbox.New([]byte("postgres-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), pgtest.Schema(t), box)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestExecutionStore(t *testing.T) {
	pgtest.ServerURL(t)
	storetest.Executions(t, func(t *testing.T) storetest.Store { return open(t) })
}
