package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakePruner deletes from counts of rows, at most batch per call, and
// records the calls.
type fakePruner struct {
	executions, keys int64
	execErr          error
	execCalls        int
	keyCalls         int
	keep             int
	cutoffs          []time.Time
}

func (p *fakePruner) PruneExecutions(_ context.Context, cutoff time.Time, keep, batch int) (int64, error) {
	p.execCalls++
	p.keep = keep
	p.cutoffs = append(p.cutoffs, cutoff)
	if p.execErr != nil {
		return 0, p.execErr
	}
	n := min(p.executions, int64(batch))
	p.executions -= n
	return n, nil
}

func (p *fakePruner) PruneDedupeKeys(_ context.Context, _ time.Time, batch int) (int64, error) {
	p.keyCalls++
	n := min(p.keys, int64(batch))
	p.keys -= n
	return n, nil
}

func TestRetentionPruneOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Executions kept forever: expired dedupe keys are pruned all the same,
	// batch by batch until a batch comes back short.
	p := &fakePruner{executions: 7, keys: 25}
	r := &Retention{Store: p, Batch: 10, Pause: time.Nanosecond}
	if n, err := r.PruneOnce(ctx); err != nil || n != 0 {
		t.Fatalf("PruneOnce without limits = %d, %v; want 0, nil", n, err)
	}
	if p.execCalls != 0 || p.keys != 0 || p.keyCalls != 3 {
		t.Errorf("without limits: %d execution calls, %d keys left after %d calls; want 0, 0 after 3", p.execCalls, p.keys, p.keyCalls)
	}

	// A count rule: executions first, in batches, then the keys.
	p = &fakePruner{executions: 20, keys: 3}
	r = &Retention{Store: p, MaxCount: 5, Batch: 10, Pause: time.Nanosecond}
	if n, err := r.PruneOnce(ctx); err != nil || n != 20 {
		t.Fatalf("PruneOnce with a count = %d, %v; want 20, nil", n, err)
	}
	if p.execCalls != 3 || p.keep != 5 || p.keys != 0 || p.keyCalls != 1 {
		t.Errorf("with a count: %d execution calls keeping %d, %d keys left after %d calls", p.execCalls, p.keep, p.keys, p.keyCalls)
	}
	for _, c := range p.cutoffs {
		if !c.IsZero() {
			t.Errorf("cutoff %v without an age rule, want zero", c)
		}
	}

	// An age rule gives a cutoff that far back.
	p = &fakePruner{executions: 1}
	r = &Retention{Store: p, MaxAge: time.Hour, Batch: 10, Pause: time.Nanosecond}
	before := time.Now().Add(-time.Hour)
	if _, err := r.PruneOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(p.cutoffs) != 1 || p.cutoffs[0].Before(before) || p.cutoffs[0].After(time.Now().Add(-time.Hour)) {
		t.Errorf("cutoffs %v, want one an hour ago", p.cutoffs)
	}

	// A failure stops the run before the keys.
	boom := errors.New("boom")
	p = &fakePruner{keys: 3, execErr: boom}
	r = &Retention{Store: p, MaxCount: 5, Batch: 10, Pause: time.Nanosecond}
	if _, err := r.PruneOnce(ctx); !errors.Is(err, boom) {
		t.Fatalf("PruneOnce = %v, want the store's error", err)
	}
	if p.keyCalls != 0 {
		t.Errorf("%d dedupe key calls after a failure, want 0", p.keyCalls)
	}
}
