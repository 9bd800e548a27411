package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/db/postgres"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/secretbox"
)

// store is what the commands need of a database, SQLite's or PostgreSQL's.
type store interface {
	engine.WorkflowStore
	engine.ExecutionStore
	engine.AuthStore
	engine.Pruner
	Ping(ctx context.Context) error
	MaxExecutionID(ctx context.Context) (int64, error)
	SchemaVersion(ctx context.Context) (int, error)
	Close() error
}

var (
	_ store = (*db.DB)(nil)
	_ store = (*postgres.DB)(nil)
)

// openStore opens the configured database: PostgreSQL when --database
// names one, else the SQLite file in the data directory.
func openStore(ctx context.Context, c *config, log *slog.Logger) (store, error) {
	if c.database == "" {
		var opts []db.Option
		if log != nil {
			opts = append(opts, db.WithLogger(log))
		}
		if c.storeObserver != nil {
			opts = append(opts, db.WithObserver(c.storeObserver))
		}
		return openDB(ctx, c, opts...)
	}
	if !postgres.IsURL(c.database) {
		return nil, fmt.Errorf("--database: not a postgres:// URL (SQLite, the default, needs no --database)")
	}
	// Every instance must read what the others encrypted: a key file made
	// in one machine's data directory would not do.
	if c.secretKey == "" {
		return nil, fmt.Errorf("HOOKFLOW_SECRET_KEY is required with --database: every instance sharing the database must use the same key (at least %d characters)", secretbox.MinKeyLength)
	}
	box, err := secretbox.New([]byte(c.secretKey))
	if err != nil {
		return nil, fmt.Errorf("HOOKFLOW_SECRET_KEY: %w", err)
	}
	var opts []postgres.Option
	if log != nil {
		opts = append(opts, postgres.WithLogger(log))
	}
	return postgres.Open(ctx, c.database, box, opts...)
}
