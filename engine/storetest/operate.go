package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Operate runs what operating Hookflow needs of a store (README,
// "Operating it"): the counts of the queue gauges and the write check of
// /readyz. Every store has both.
func Operate(t *testing.T, open OpenDB) {
	runAll(t, open, []namedTest{
		{"CountPending", testCountPending},
		{"CheckWrite", testCheckWrite},
	})
}

func testCountPending(t *testing.T, d *DB) {
	pc, ok := d.Store.(engine.PendingCounter)
	if !ok {
		t.Fatalf("%T does not implement engine.PendingCounter", d.Store)
	}
	ctx := context.Background()
	if got, err := pc.CountPending(ctx); err != nil || got != (engine.PendingCounts{}) {
		t.Fatalf("empty: %+v, %v", got, err)
	}
	w := Workflow(t, d.Store)
	now := time.Now()
	for i := 0; i < 3; i++ {
		insert(t, d.Store, newExecution(w, engine.StatusQueued, now), "", time.Time{})
	}
	for i := 0; i < 2; i++ {
		e := newExecution(w, engine.StatusWaiting, now)
		e.DueAt = now.Add(time.Hour)
		insert(t, d.Store, e, "", time.Time{})
	}
	insert(t, d.Store, newExecution(w, engine.StatusRunning, now), "me", now.Add(time.Minute))
	for _, st := range []engine.ExecStatus{engine.StatusResolved, engine.StatusFailed, engine.StatusAborted} {
		e := newExecution(w, st, now)
		e.FinishedAt = now
		insert(t, d.Store, e, "", time.Time{})
	}
	got, err := pc.CountPending(ctx)
	if err != nil || got != (engine.PendingCounts{Queued: 3, Running: 1, Waiting: 2}) {
		t.Errorf("CountPending = %+v, %v; want 3 queued, 1 running, 2 waiting", got, err)
	}
}

func testCheckWrite(t *testing.T, d *DB) {
	cw, ok := d.Store.(interface{ CheckWrite(context.Context) error })
	if !ok {
		t.Fatalf("%T has no CheckWrite", d.Store)
	}
	for i := 0; i < 3; i++ {
		if err := cw.CheckWrite(context.Background()); err != nil {
			t.Fatalf("CheckWrite: %v", err)
		}
	}
}
