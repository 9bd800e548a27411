// Package db is Hookflow's SQLite adapter: it opens the database with the
// right pragmas (a read pool and a one-connection write pool), applies the
// embedded forward-only migrations, and implements the store interfaces
// declared in engine. Concurrent writes are batched into one transaction
// (group commit) by writer.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookflow/hookflow/engine"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the name of the database file in the data directory.
const FileName = "hookflow.db"

// DB is an open Hookflow database.
type DB struct {
	read  *sql.DB
	write *sql.DB
	ckpt  *sql.DB
	w     *writer
	c     *checkpointer
	box   *SecretBox
	path  string
	log   *slog.Logger
	// keys are the recent dedupe keys (dedupe.go); merger moves them into
	// the dedupe_keys index.
	keys   *dedupeIndex
	merger *merger
	obs    engine.StoreObserver
	// closing makes the final checkpoint run once.
	closing sync.Once

	// recountAt is when the count rule of retention last counted each
	// workflow's rows (prune.go).
	recountMu sync.Mutex
	recountAt map[int64]time.Time
}

// Option tunes Open.
type Option func(*options)

type options struct {
	log             *slog.Logger
	obs             engine.StoreObserver
	checkpointEvery time.Duration
	walResetFrames  int
	busyTimeout     time.Duration
}

// WithLogger sets where background database work (checkpoints) reports
// problems; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithObserver sets where the store reports the group commit's batches and
// the rows retention deletes (for the metrics).
func WithObserver(o engine.StoreObserver) Option { return func(o2 *options) { o2.obs = o } }

// DefaultBusyTimeout is how long a connection waits for a lock that
// another process (a backup tool, the sqlite3 shell) holds on the file.
const DefaultBusyTimeout = 10 * time.Second

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process before the operation fails as unavailable (default
// DefaultBusyTimeout).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// Open opens (creating if needed) the database file at path, applies
// pending migrations and starts the write batcher and the checkpointer.
// box encrypts webhook secrets at rest.
func Open(ctx context.Context, path string, box *SecretBox, opts ...Option) (*DB, error) {
	if box == nil {
		return nil, errors.New("db: open: no secret box")
	}
	o := options{log: slog.Default(), checkpointEvery: defaultCheckpointEvery, walResetFrames: defaultWALResetFrames, busyTimeout: DefaultBusyTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	dsn := func(extra string) string {
		// journal_size_limit: when the WAL starts over, a file that a burst
		// made larger than 32 MiB is cut back to that.
		q := "_pragma=busy_timeout(" + strconv.FormatInt(max(o.busyTimeout.Milliseconds(), 1), 10) + ")&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=journal_size_limit(33554432)" + extra
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q
	}
	// The write connection never checkpoints on its own: see checkpoint.go.
	// Its statement journals stay in memory (temp_store): a statement that
	// changes several rows inside a batch's transaction first copies each
	// page it changes there, which in a temporary file costs a system call
	// per page (a dedupe merge of 128 keys touches about as many pages of
	// the keys' index). Every statement of the running server changes a
	// bounded number of rows (claims and retention have limits, the rest go
	// by id), so the journal stays small; migrations, which may update a
	// table whole, keep it in a file (migrate).
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate&_pragma=wal_autocheckpoint(0)&_pragma=temp_store(MEMORY)"))
	if err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("db: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	ckpt, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("db: open: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	d := &DB{read: read, write: write, ckpt: ckpt, box: box, path: path, log: o.log, obs: o.obs, keys: newDedupeIndex()}
	if err := d.migrate(ctx); err != nil {
		d.closeConns()
		return nil, err
	}
	if err := d.recoverDedupe(ctx); err != nil {
		d.closeConns()
		return nil, err
	}
	if d.keys.filter, err = d.loadBloom(ctx); err != nil {
		d.closeConns()
		return nil, err
	}
	prepared := make(map[string]*sql.Stmt, len(preparedSQL))
	for _, q := range preparedSQL {
		st, err := write.PrepareContext(ctx, q)
		if err != nil {
			d.closeConns()
			return nil, fmt.Errorf("db: prepare: %w", err)
		}
		prepared[q] = st
	}
	d.w = newWriter(write, prepared, o.log, o.obs)
	d.c = startCheckpointer(ckpt, d.w, o)
	d.merger = d.startMerger()
	return d, nil
}

// Path is the database file's path.
func (d *DB) Path() string { return d.path }

// Close flushes pending writes, checkpoints the WAL into the database file
// and closes the database. After it the file alone holds everything
// (hookflow.db-wal is empty), which is what a copy of the data directory
// taken while the server is stopped needs.
func (d *DB) Close() error {
	if d.c != nil {
		d.c.close()
	}
	if d.merger != nil {
		d.merger.close()
		if d.keys.waiting.Load() > 0 {
			// The keys not merged yet: a clean stop leaves nothing for the
			// next start to recover.
			if err := d.mergeDedupe(context.Background()); err != nil && !errors.Is(err, ErrClosed) {
				d.log.Warn("merge dedupe keys", "error", err)
			}
		}
	}
	if d.w != nil {
		d.w.close()
	}
	d.closing.Do(func() {
		// TRUNCATE waits for readers to finish and empties the WAL file.
		if _, err := d.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil && d.log != nil {
			d.log.Warn("final checkpoint", "error", err)
		}
	})
	return d.closeConns()
}

func (d *DB) closeConns() error {
	return errors.Join(d.read.Close(), d.ckpt.Close(), d.write.Close())
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Backup writes a consistent copy of the database to path (VACUUM INTO),
// safe while the server runs.
func (d *DB) Backup(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	// The copy holds request bodies and encrypted secrets: it is created
	// readable by its owner only, before SQLite writes into it (VACUUM INTO
	// accepts an empty file), so that it is never readable by others, not
	// even for a moment.
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("db: backup: %w", err)
	}
	f.Close()
	// Through the write connection: the read pool is query_only, which
	// refuses VACUUM INTO.
	if _, err := d.write.ExecContext(ctx, "VACUUM INTO ?", abs); err != nil {
		os.Remove(abs)
		return fmt.Errorf("db: backup: %w", err)
	}
	return nil
}

func (d *DB) migrate(ctx context.Context) error {
	// The write connection's one connection, with its statement journals
	// in a file while migrations run: an UPDATE of a whole table would
	// otherwise copy every page it changes into memory first.
	conn, err := d.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA temp_store = FILE`); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	defer conn.ExecContext(context.Background(), `PRAGMA temp_store = MEMORY`)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	var current int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("db: migrate: bad migration name %q", base)
		}
		if version <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("db: migrate: %w", err)
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("db: migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("db: migrate %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, ms(time.Now())); err != nil {
			tx.Rollback()
			return fmt.Errorf("db: migrate %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("db: migrate %s: %w", base, err)
		}
	}
	return nil
}

// SchemaVersion returns the newest applied migration.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := d.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// ms converts a time to unix milliseconds, the unit of every time column.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// nullMS is ms for a nullable column: NULL for the zero time.
func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func fromNullMS(v sql.NullInt64) time.Time { return fromMS(v.Int64) }

// ErrClosed is the error of a write to a closed database.
var ErrClosed = errors.New("db: closed")

// errUnavailable is what a caller is told when the database cannot take a
// write right now: a full disk, a lock held too long, an I/O error, a
// database being closed. The request may succeed later, so the web layer
// answers 503 with Retry-After (never a false yes, never a vague no).
var errUnavailable = &engine.Error{Code: engine.EUNAVAILABLE, Message: "the database cannot take the request right now; try again"}

// mapErr turns driver errors into engine errors where one fits. An
// unavailable database keeps its cause in the chain, for the log; only the
// engine error's message is shown.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return engine.Errorf(engine.ENOTFOUND, "%s: not found", op)
	}
	if errors.Is(err, ErrClosed) {
		return fmt.Errorf("db: %s: %w: %w", op, errUnavailable, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return engine.Errorf(engine.ECONFLICT, "%s: already exists", op)
		}
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("db: %s: %w: %w", op, errUnavailable, err)
		}
	}
	return fmt.Errorf("db: %s: %w", op, err)
}
