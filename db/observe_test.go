package db

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// recordingObserver is an engine.StoreObserver that keeps what it is told.
type recordingObserver struct {
	mu      sync.Mutex
	commits []int // ops per committed transaction
	failed  int
	pruned  int64
}

func (o *recordingObserver) Committed(ops int, d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.failed++
		return
	}
	o.commits = append(o.commits, ops)
}

func (o *recordingObserver) Pruned(n int64) {
	o.mu.Lock()
	o.pruned += n
	o.mu.Unlock()
}

// TestStoreObserver: every transaction of the group commit is reported
// with the operations it held (together, all the writes made), and so are
// the rows retention deletes.
func TestStoreObserver(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), FileName), testBox(t, testKey), WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	w := createWorkflow(t, d, testDocument)
	const rows = 400
	insertFinished(t, d, w, rows, 32)
	obs.mu.Lock()
	total, most := 0, 0
	for _, n := range obs.commits {
		total += n
		most = max(most, n)
	}
	commits := len(obs.commits)
	obs.mu.Unlock()
	// The workflow's creation, then the inserts.
	if total != rows+1 {
		t.Errorf("%d operations reported in %d commits, want %d", total, commits, rows+1)
	}
	if most < 2 {
		t.Errorf("no commit held more than one write (%d commits): group commit not reported", commits)
	}
	n, err := d.PruneExecutions(context.Background(), time.Time{}, 100, 1000)
	if err != nil || n != rows-100 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.pruned != rows-100 || obs.failed != 0 {
		t.Errorf("observer saw %d pruned, %d failed commits", obs.pruned, obs.failed)
	}
}

func TestCountPending(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	insertExecutions(t, d.DB, w, engine.StatusQueued, 3)
	insertExecutions(t, d.DB, w, engine.StatusResolved, 4)
	for i := 0; i < 2; i++ {
		e := newExecution(w, engine.StatusWaiting)
		e.DueAt = time.Now().Add(time.Hour)
		if err := d.InsertExecution(context.Background(), e, "", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	e := newExecution(w, engine.StatusRunning)
	if err := d.InsertExecution(context.Background(), e, "me", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := d.CountPending(context.Background())
	if err != nil || got != (engine.PendingCounts{Queued: 3, Running: 1, Waiting: 2}) {
		t.Errorf("CountPending = %+v, %v", got, err)
	}
}

// BenchmarkCountPending: the queue gauges' query, computed at every
// scrape, with 100,000 waiting executions among 200,000 stored.
func BenchmarkCountPending(b *testing.B) {
	d := openTest(b)
	w := createWorkflow(b, d.DB, testDocument)
	insertFinished(b, d.DB, w, 200_000, 64)
	raw := rawDB(b, d.path)
	if _, err := raw.Exec(`UPDATE executions SET status = 'waiting', due_at = ? WHERE id % 2 = 0`, time.Now().Add(time.Hour).UnixMilli()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		got, err := d.CountPending(context.Background())
		if err != nil || got.Waiting != 100_000 {
			b.Fatalf("CountPending = %+v, %v", got, err)
		}
	}
}
