package db

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// wantUnavailable checks that err is the EUNAVAILABLE error a caller may
// act on (retry later), with its cause kept for the log.
func wantUnavailable(t *testing.T, label string, err error, cause string) {
	t.Helper()
	if engine.ErrorCode(err) != engine.EUNAVAILABLE {
		t.Fatalf("%s: %v (%s), want %s", label, err, engine.ErrorCode(err), engine.EUNAVAILABLE)
	}
	if msg := engine.ErrorMessage(err); msg != "the database cannot take the request right now; try again" {
		t.Errorf("%s: message %q", label, msg)
	}
	if !strings.Contains(err.Error(), cause) {
		t.Errorf("%s: %q does not keep the cause %q for the log", label, err.Error(), cause)
	}
}

// TestWriteFullDisk: a database that cannot grow (a full disk, simulated
// with max_page_count on the write connection) refuses writes as
// unavailable, not as an internal error (issue 12, point 10).
func TestWriteFullDisk(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	ctx := context.Background()
	var pages int64
	if err := d.write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := d.write.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.write.Exec("PRAGMA max_page_count = 1073741823") })
	var err error
	for i := 0; i < 50 && err == nil; i++ {
		e := newExecution(w, engine.StatusQueued)
		e.Request.Body = []byte(strings.Repeat("x", 64<<10))
		err = d.InsertExecution(ctx, e, "", time.Time{})
	}
	wantUnavailable(t, "insert on a full disk", err, "database or disk is full")
}

// TestWriteLocked: a lock held by another process past the busy timeout
// makes writes unavailable, quickly.
func TestWriteLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	d, err := Open(context.Background(), path, testBox(t, testKey), WithBusyTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	w := createWorkflow(t, d, testDocument)

	other, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	tx, err := other.Begin() // holds the write lock until rolled back
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = d.InsertExecution(context.Background(), newExecution(w, engine.StatusQueued), "", time.Time{})
	wantUnavailable(t, "insert while locked", err, "SQLITE_BUSY")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the locked write failed after %v", elapsed)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := d.InsertExecution(context.Background(), newExecution(w, engine.StatusQueued), "", time.Time{}); err != nil {
		t.Errorf("insert once the lock is gone: %v", err)
	}
}

// TestWriteClosed: a write to a closed database is unavailable (the
// process is shutting down), not an internal error.
func TestWriteClosed(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	err := d.InsertExecution(context.Background(), newExecution(w, engine.StatusQueued), "", time.Time{})
	wantUnavailable(t, "insert after Close", err, "closed")
	err = d.CreateSession(context.Background(), &engine.Session{TokenHash: "h", UserID: 1, CSRFToken: "c", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour), SeenAt: time.Now()})
	wantUnavailable(t, "session after Close", err, "closed")
}
