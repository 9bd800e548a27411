package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// testKey is the secret key of test databases.
const testKey = "test-key-0123456789abcdef"

func testBox(tb testing.TB, key string) *SecretBox {
	tb.Helper()
	box, err := NewSecretBox([]byte(key))
	if err != nil {
		tb.Fatal(err)
	}
	return box
}

// testDB is a database in a fresh temporary directory.
type testDB struct {
	*DB
	path string
}

// openTest opens a new database under t.TempDir(), closed at cleanup.
func openTest(tb testing.TB) *testDB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), FileName)
	return &testDB{DB: reopen(tb, path, testKey), path: path}
}

// reopen opens the database at path; it is closed at cleanup (closing
// twice is harmless).
func reopen(tb testing.TB, path, key string) *DB {
	tb.Helper()
	d, err := Open(context.Background(), path, testBox(tb, key))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// rawDB opens the file with database/sql alone, to look at what is stored.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

func countRows(tb testing.TB, raw *sql.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := raw.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

const testDocument = `{"title":"Orders","mode":"async","trigger":{"basicAuth":{"enabled":true,"username":"hook","password":"pl4intext-s3cret"},` +
	`"body":[{"path":"order.id","alias":"Order"}]},"nodes":[],"x-extra":{"kept":true}}`

// createWorkflow stores a workflow from a document and returns it.
func createWorkflow(tb testing.TB, d *DB, doc string) *engine.Workflow {
	tb.Helper()
	stored, secret, parsed, err := engine.PrepareDocument([]byte(doc))
	if err != nil {
		tb.Fatalf("PrepareDocument: %v", err)
	}
	w := &engine.Workflow{Key: engine.NewKey(), Stored: stored, Secrets: secret, Doc: parsed}
	if err := d.CreateWorkflow(context.Background(), w); err != nil {
		tb.Fatalf("CreateWorkflow: %v", err)
	}
	return w
}

var testIDs engine.IDGenerator

// newExecution returns an unsaved execution of w with a fresh id.
func newExecution(w *engine.Workflow, status engine.ExecStatus) *engine.Execution {
	return &engine.Execution{
		ID: testIDs.Next(), WorkflowID: w.ID, Revision: w.Revision, Status: status, Mode: engine.ModeAsync,
		Request:   engine.Request{Method: "POST", Query: "a=1", Body: []byte(`{"order":{"id":1}}`)},
		Context:   []byte(`{"headers":{},"query":{"a":"1"},"body":{"order":{"id":1}}}`),
		CreatedAt: time.Now(),
	}
}

func insertExecutions(tb testing.TB, d *DB, w *engine.Workflow, status engine.ExecStatus, n int) []*engine.Execution {
	tb.Helper()
	out := make([]*engine.Execution, n)
	for i := range out {
		out[i] = newExecution(w, status) // ids ascending in slice order
	}
	// Inserted concurrently, so that group commit keeps this fast.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, e := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.InsertExecution(context.Background(), e, "", time.Time{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatalf("InsertExecution: %v", err)
		}
	}
	return out
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) < 3 {
		t.Fatalf("embedded migrations %v, %v", files, err)
	}
	latest := len(files) // numbered 1, 2, 3, ... without gaps
	if v, err := d.SchemaVersion(ctx); err != nil || v != latest {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, latest)
	}
	if err := d.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if d.Path() != d.path {
		t.Errorf("Path() = %q, want %q", d.Path(), d.path)
	}
	w := createWorkflow(t, d.DB, testDocument)
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Reopening applies nothing twice and keeps the data.
	for i := range 2 {
		d2 := reopen(t, d.path, testKey)
		if v, err := d2.SchemaVersion(ctx); err != nil || v != latest {
			t.Fatalf("reopen %d: SchemaVersion = %d, %v", i, v, err)
		}
		if _, err := d2.GetWorkflow(ctx, w.ID); err != nil {
			t.Fatalf("reopen %d: GetWorkflow: %v", i, err)
		}
		if err := d2.Close(); err != nil {
			t.Fatal(err)
		}
	}
	raw := rawDB(t, d.path)
	if n := countRows(t, raw, `SELECT COUNT(*) FROM schema_migrations`); n != latest {
		t.Errorf("%d rows in schema_migrations, want %d", n, latest)
	}
	for _, table := range []string{"workflows", "workflow_revisions", "executions", "users", "sessions", "api_tokens"} {
		if n := countRows(t, raw, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table); n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), FileName), nil); err == nil {
		t.Error("Open without a secret box succeeded")
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "missing-dir", FileName), testBox(t, testKey)); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	if _, err := NewSecretBox([]byte("short")); err == nil {
		t.Error("NewSecretBox accepted a 5-byte key")
	}
}

func TestClosedWrites(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.InsertExecution(context.Background(), newExecution(w, engine.StatusQueued), "", time.Time{}); err == nil {
		t.Error("InsertExecution after Close succeeded")
	}
}

// TestGroupCommit inserts concurrently: every insert that returned nil is
// durable, which Close and reopen show.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	ids := make(chan int64, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newExecution(w, engine.StatusQueued)
			if err := d.InsertExecution(ctx, e, "", time.Time{}); err != nil {
				errs <- err
				return
			}
			ids <- e.ID
		}()
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Errorf("InsertExecution: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := reopen(t, d.path, testKey)
	raw := rawDB(t, d.path)
	if got := countRows(t, raw, `SELECT COUNT(*) FROM executions`); got != n {
		t.Errorf("%d executions after reopen, want %d", got, n)
	}
	for id := range ids {
		if _, err := d2.GetExecution(ctx, id); err != nil {
			t.Errorf("GetExecution(%d): %v", id, err)
		}
	}
	list, err := d2.ListWorkflows(ctx)
	if err != nil || len(list) != 1 || list[0].ExecutionCount != n {
		t.Errorf("ListWorkflows = %+v, %v; want execution count %d", list, err, n)
	}
}

// TestGroupCommitFailureIsolated: a write that fails inside a shared batch
// does not fail the writes batched with it.
func TestGroupCommitFailureIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	dup := newExecution(w, engine.StatusQueued)
	if err := d.InsertExecution(ctx, dup, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]error, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newExecution(w, engine.StatusQueued)
			if i%10 == 0 {
				e.ID = dup.ID // primary key conflict
			}
			results[i] = d.InsertExecution(ctx, e, "", time.Time{})
		}()
	}
	wg.Wait()
	for i, err := range results {
		switch {
		case i%10 == 0 && engine.ErrorCode(err) != engine.ECONFLICT:
			t.Errorf("insert %d with a duplicate id: %v, want %s", i, err, engine.ECONFLICT)
		case i%10 != 0 && err != nil:
			t.Errorf("insert %d: %v", i, err)
		}
	}
	if got := countRows(t, rawDB(t, d.path), `SELECT COUNT(*) FROM executions`); got != 1+45 {
		t.Errorf("%d executions, want 46", got)
	}
}

func TestBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	es := insertExecutions(t, d.DB, w, engine.StatusQueued, 3)
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := d.Backup(ctx, dest); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	// It holds request bodies and encrypted secrets: owner only.
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	// Writes after the backup are not in it.
	insertExecutions(t, d.DB, w, engine.StatusQueued, 1)

	b := reopen(t, dest, testKey)
	got, err := b.GetWorkflow(ctx, w.ID)
	if err != nil {
		t.Fatalf("GetWorkflow from backup: %v", err)
	}
	if got.Key != w.Key || string(got.Stored) != string(w.Stored) || got.Secrets.BasicAuthPassword != w.Secrets.BasicAuthPassword {
		t.Errorf("backup workflow %+v, want %+v", got, w)
	}
	for _, e := range es {
		ge, err := b.GetExecution(ctx, e.ID)
		if err != nil || string(ge.Request.Body) != string(e.Request.Body) {
			t.Errorf("GetExecution(%d) from backup: %v", e.ID, err)
		}
	}
	if n := countRows(t, rawDB(t, dest), `SELECT COUNT(*) FROM executions`); n != 3 {
		t.Errorf("%d executions in backup, want 3", n)
	}
	// A backup never overwrites a file.
	if err := d.Backup(ctx, dest); err == nil {
		t.Error("Backup over an existing file succeeded")
	}
}

func TestMapErr(t *testing.T) {
	t.Parallel()
	if err := mapErr("x", nil); err != nil {
		t.Errorf("mapErr(nil) = %v", err)
	}
	if err := mapErr("thing", sql.ErrNoRows); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("mapErr(ErrNoRows) = %v", err)
	}
	err := mapErr("op", fmt.Errorf("boom"))
	if engine.ErrorCode(err) != engine.EINTERNAL || err.Error() != "db: op: boom" {
		t.Errorf("mapErr(other) = %v", err)
	}
}

// The write connection keeps its statement journals in memory, also after
// migrations (which run with them in a file); the read connections keep
// SQLite's default, so that a large sort for a page can spill to a file.
func TestStatementJournalsOfTheWriteConnection(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	tempStore := func(db *sql.DB) int {
		t.Helper()
		var v int
		if err := db.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	const memory = 2
	if got := tempStore(d.write); got != memory {
		t.Errorf("write connection temp_store = %d, want %d (memory)", got, memory)
	}
	if got := tempStore(d.read); got == memory {
		t.Errorf("read connections keep their statement journals and sorts in memory (temp_store = %d)", got)
	}
	if err := d.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := tempStore(d.write); got != memory {
		t.Errorf("after migrate, write connection temp_store = %d, want %d (memory)", got, memory)
	}
}
