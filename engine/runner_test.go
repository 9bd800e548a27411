package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// countingStore counts the runner's looks at the queue.
type countingStore struct {
	flowTestStore
	claims, nextDues atomic.Int64
}

func (c *countingStore) ClaimExecutions(context.Context, string, time.Time, time.Time, int) ([]*Execution, error) {
	c.claims.Add(1)
	return nil, nil
}

func (c *countingStore) NextDue(context.Context) (time.Time, bool, error) {
	c.nextDues.Add(1)
	return time.Time{}, false, nil
}

// TestRunnerIdle: with nothing to do, the runner looks at the queue once per
// Poll interval, not in a loop (an idle server must cost no CPU).
func TestRunnerIdle(t *testing.T) {
	t.Parallel()
	store := &countingStore{flowTestStore: flowTestStore{unused: errors.New("unused")}}
	svc := NewService(store, store, nil)
	r := svc.NewRunner(RunnerConfig{Poll: 200 * time.Millisecond})
	r.Start()
	time.Sleep(700 * time.Millisecond)
	r.Stop(context.Background())
	if c, n := store.claims.Load(), store.nextDues.Load(); c > 6 || n > 6 {
		t.Errorf("%d claims and %d next-due lookups in 0.7 s with a 0.2 s poll: the idle runner spins", c, n)
	}
	// Work queued in this process wakes it at once.
	before := store.claims.Load()
	r2 := svc.NewRunner(RunnerConfig{Poll: time.Hour})
	r2.Start()
	time.Sleep(50 * time.Millisecond)
	mid := store.claims.Load()
	svc.notify()
	time.Sleep(50 * time.Millisecond)
	r2.Stop(context.Background())
	if store.claims.Load() <= mid || mid <= before {
		t.Errorf("claims %d at start, %d before and %d after a notify: want one more each time", before, mid, store.claims.Load())
	}
}
