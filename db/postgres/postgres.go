// Package postgres is Hookflow's PostgreSQL adapter, for several instances
// of Hookflow sharing one database (product.md §16). It implements the same
// store interfaces of engine as the SQLite adapter (package db), passes the
// same store suite (engine/storetest), and adds what several instances
// need: leases on executions claimed with FOR UPDATE SKIP LOCKED, wake-ups
// and cache invalidations through LISTEN/NOTIFY (Member), instance numbers
// for execution ids, migrations and retention under advisory locks, and the
// sign-in throttle's counters.
//
// Everything lives in the connection's current schema (search_path): one
// database can hold several Hookflow deployments, or the tests' throwaway
// schemas, side by side; notification channels and advisory locks are
// named after the schema too.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/secretbox"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is an open Hookflow database on PostgreSQL.
type DB struct {
	pool   *pgxpool.Pool
	box    *secretbox.Box
	log    *slog.Logger
	w      *writer
	schema string
	// workChannel and workflowChannel are the NOTIFY channels of this
	// schema: work made due, and workflows changed (payload: the key).
	workChannel, workflowChannel string
	// lockKey names the advisory locks of this schema.
	lockKey func(purpose string) int64

	// slot is this instance's counter slot in execution_counts: its
	// instance number once it joined (Member), 0 before.
	slot atomic.Int32

	// recountAt is when the count rule of retention last counted each
	// workflow's rows (prune.go).
	recountMu sync.Mutex
	recountAt map[int64]time.Time
}

// Option tunes Open.
type Option func(*options)

type options struct {
	log *slog.Logger
}

// WithLogger sets where background work reports problems; the default is
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://), as --database takes it.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database at url (postgres://user:pass@host/db, with
// any libpq parameter; pool_max_conns sets the pool's size), applies the
// pending migrations under an advisory lock, and starts the group-commit
// writer. box encrypts secrets at rest: every instance must use the same
// key.
func Open(ctx context.Context, url string, box *secretbox.Box, opts ...Option) (*DB, error) {
	if box == nil {
		return nil, errors.New("postgres: open: no secret box")
	}
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", redactURLError(err))
	}
	if !strings.Contains(url, "pool_max_conns") {
		// Runs hold a connection only while they write; request goroutines
		// share the group-commit writer's few.
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "hookflow"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	d := &DB{pool: pool, box: box, log: o.log}
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&d.schema); err != nil {
		pool.Close()
		return nil, mapErr("open", err)
	}
	d.workChannel, d.workflowChannel = d.schema+".hookflow_work", d.schema+".hookflow_workflow"
	schema := d.schema
	d.lockKey = func(purpose string) int64 {
		h := fnv.New64a()
		h.Write([]byte("hookflow\x00" + schema + "\x00" + purpose))
		return int64(h.Sum64())
	}
	if err := d.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	d.w = newWriter(d)
	return d, nil
}

// redactURLError keeps a password in a malformed URL out of the error.
func redactURLError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid database URL: " + strings.TrimPrefix(pe.Error(), "cannot parse `"+pe.ConnString+"`: "))
	}
	return err
}

// Schema is the schema that holds Hookflow's tables.
func (d *DB) Schema() string { return d.schema }

// Close flushes pending writes and closes the pool.
func (d *DB) Close() error {
	if d.w != nil {
		d.w.close()
	}
	d.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return mapErr("ping", err)
	}
	return nil
}

// ms converts a time to unix milliseconds, the unit of every time column
// (as in the SQLite store, so that both round alike).
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// nullMS is ms for a nullable column: nil for the zero time.
func nullMS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func fromNullMS(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMS(*v)
}

// text makes a string storable in a text column: PostgreSQL refuses NUL
// bytes and invalid UTF-8 in text, which SQLite stores as they come. Free
// text (titles, names, reasons) goes through it; raw request bytes are
// stored as bytea instead.
func text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// errUnavailable is what a caller is told when the database cannot take
// the request right now (connection refused or lost, too many connections,
// a server shutting down): the web layer answers 503 with Retry-After.
var errUnavailable = &engine.Error{Code: engine.EUNAVAILABLE, Message: "the database cannot take the request right now; try again"}

// errClosed is the error of a write to a closed database.
var errClosed = errors.New("postgres: closed")

// mapErr turns driver errors into engine errors where one fits; an
// unavailable database keeps its cause in the chain, for the log.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.Errorf(engine.ENOTFOUND, "%s: not found", op)
	}
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, errUnavailable, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return engine.Errorf(engine.ECONFLICT, "%s: already exists", op)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unavailable reports whether err says the database cannot serve now but
// may later.
func unavailable(err error) bool {
	// A closed pool says so in its error's text alone (puddle's
	// ErrClosedPool, not exported by pgxpool).
	if errors.Is(err, errClosed) || strings.Contains(err.Error(), "closed pool") {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),                           // insufficient resources: disk full, too many connections
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutting down, cannot connect now
			pe.Code == "40001", pe.Code == "40P01", // serialization failure, deadlock: try again
			pe.Code == "25006": // read-only transaction: a standby, during a failover
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// lockTx takes the transaction-level advisory lock of purpose, waiting.
func (d *DB) lockTx(ctx context.Context, tx pgx.Tx, purpose string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, d.lockKey(purpose))
	return err
}
