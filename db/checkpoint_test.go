package db

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointsKeepTheWALShort: the write connection never checkpoints by
// itself; the background checkpoints copy the WAL into the database beside
// the writes, and once the WAL is past the reset length the writer runs a
// checkpoint between two batches, after which the WAL starts over instead of
// growing with everything written through it. The checkpoints are stepped
// by hand here: how fast they keep up under load is a matter for the
// benchmarks (a machine busy with other work slows them down).
func TestCheckpointsKeepTheWALShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	const resetFrames = 64
	d, err := Open(context.Background(), path, testBox(t, testKey), withCheckpoints(time.Hour, resetFrames))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var auto int
	if err := d.write.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("write connection wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	w := createWorkflow(t, d, testDocument)
	// Without checkpoints, the WAL holds everything written.
	insertFinished(t, d, w, 1000, 16)
	frames, copied, err := d.c.step()
	if err != nil {
		t.Fatal(err)
	}
	if frames < 4*resetFrames {
		t.Fatalf("%d frames in the WAL after 1,000 rows: too few for this test", frames)
	}
	if copied != frames {
		t.Errorf("a PASSIVE checkpoint with no writer copied %d of %d frames", copied, frames)
	}
	if !d.w.checkpointWanted.Load() {
		t.Errorf("%d frames, past the reset length %d, did not ask the writer for a checkpoint", frames, resetFrames)
	}
	// The next batch runs the writer's checkpoint, and the one after it
	// starts the WAL over: it holds only the new rows.
	insertFinished(t, d, w, 1, 1)
	insertFinished(t, d, w, 10, 1)
	after, _, err := d.c.step()
	if err != nil {
		t.Fatal(err)
	}
	if after >= frames || after > resetFrames {
		t.Errorf("%d frames in the WAL after 11 more rows (%d before): it did not start over", after, frames)
	}
	var n int
	if err := d.read.QueryRow("SELECT COUNT(*) FROM executions").Scan(&n); err != nil || n != 1011 {
		t.Errorf("%d rows (%v), want 1011", n, err)
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
