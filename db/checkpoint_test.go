package db

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointsKeepTheWALShort: the write connection never checkpoints by
// itself, yet under a steady stream of group commits the background
// checkpoints (and the writer's own when the WAL passes the reset size)
// keep the WAL file far smaller than what was written through it.
func TestCheckpointsKeepTheWALShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	d, err := Open(context.Background(), path, testBox(t, testKey), withCheckpoints(5*time.Millisecond, 64))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var auto int
	if err := d.write.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("write connection wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	const rows = 6000
	insertFinished(t, d, createWorkflow(t, d, testDocument), rows, 32)
	db, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// About 6 MB went through the WAL; without checkpoints the file would
	// hold all of it.
	if wal.Size() > db.Size()/2 {
		t.Errorf("WAL file %d bytes for a %d-byte database: checkpoints do not keep up", wal.Size(), db.Size())
	}
	t.Logf("database %d bytes, WAL %d bytes", db.Size(), wal.Size())
	var n int
	if err := d.read.QueryRow("SELECT COUNT(*) FROM executions").Scan(&n); err != nil || n != rows {
		t.Errorf("%d rows (%v), want %d", n, err, rows)
	}
}

// TestCloseCheckpoints: Close copies the WAL into the database file and
// empties it, so that the file alone is the whole database, and a second
// Close is harmless; CheckWrite commits through the writer until then.
func TestCloseCheckpoints(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	// Background checkpoints far apart: only Close copies the rows.
	d, err := Open(context.Background(), path, testBox(t, testKey), withCheckpoints(time.Hour, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	insertFinished(t, d, createWorkflow(t, d, testDocument), 500, 16)
	if err := d.CheckWrite(context.Background()); err != nil {
		t.Fatalf("CheckWrite: %v", err)
	}
	if wal, err := os.Stat(path + "-wal"); err != nil || wal.Size() == 0 {
		t.Fatalf("WAL before Close: %v, %v", wal, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() != 0 {
		t.Errorf("WAL file of %d bytes after Close", wal.Size())
	}
	if err := d.CheckWrite(context.Background()); err == nil {
		t.Error("CheckWrite on a closed database succeeded")
	}
}
