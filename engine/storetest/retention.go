package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Retention runs the retention suite: the age and count rules of
// engine.Retention over the store's Pruner, with the workflows' counters
// kept right.
func Retention(t *testing.T, open OpenDB) {
	runAll(t, open, []namedTest{
		{"AgeAndCount", testPruneExecutions},
		{"CountKeepsTheNewest", testPruneCountKeepsTheNewest},
		{"CountRecountsADriftedCounter", testPruneCountRecountsADriftedCounter},
	})
}

// pruneInsert stores an execution of workflow wf and returns its id.
func pruneInsert(t *testing.T, s Store, wf, id int64, at time.Time, status engine.ExecStatus) int64 {
	t.Helper()
	e := &engine.Execution{ID: id, WorkflowID: wf, Revision: 1, Status: status, Mode: engine.ModeAsync,
		Request: engine.Request{Method: "POST"}, Context: []byte(`{}`), CreatedAt: at}
	if err := s.InsertExecution(context.Background(), e, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	return id
}

// countExecutions returns a workflow's stored rows and its counter.
func countExecutions(t *testing.T, d *DB, workflowID int64) (rows, counter int64) {
	t.Helper()
	return count(t, d, `SELECT COUNT(*) FROM executions WHERE workflow_id = ?`, workflowID),
		d.Counter(t, workflowID)
}

func pruneWorkflow(t *testing.T, d *DB) int64 {
	return CreateWorkflow(t, d, `{"title":"w","mode":"async","trigger":{},"nodes":[]}`).ID
}

func testPruneExecutions(t *testing.T, d *DB) {
	ctx := context.Background()
	a, b := pruneWorkflow(t, d), pruneWorkflow(t, d)
	old := time.Now().Add(-40 * 24 * time.Hour)
	var gen engine.IDGenerator
	insert := func(wf int64, at time.Time, status engine.ExecStatus) int64 {
		// Ids encode their creation time; build one for the given time.
		return pruneInsert(t, d, wf, engine.FirstIDAt(at)+gen.Next()%4096, at, status)
	}
	// Workflow a: 5 old finished, 1 old still queued (never pruned), 3 new.
	for i := range 5 {
		insert(a, old.Add(time.Duration(i)*time.Millisecond), engine.StatusResolved)
	}
	queued := insert(a, old.Add(10*time.Millisecond), engine.StatusQueued)
	for i := range 3 {
		insert(a, time.Now().Add(time.Duration(i)*time.Millisecond), engine.StatusResolved)
	}
	// Workflow b: 10 new ones, of which only the newest 4 are kept.
	var bIDs []int64
	for i := range 10 {
		bIDs = append(bIDs, insert(b, time.Now().Add(time.Duration(i+10)*time.Millisecond), engine.StatusFailed))
	}
	r := &engine.Retention{Store: d, MaxAge: 30 * 24 * time.Hour, MaxCount: 4, Batch: 3, Pause: time.Millisecond}
	n, err := r.PruneOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5+6 {
		t.Errorf("pruned %d executions, want 11", n)
	}
	if rows, counter := countExecutions(t, d, a); rows != 4 || counter != 4 {
		t.Errorf("workflow a: %d rows, counter %d; want 4 and 4", rows, counter)
	}
	if _, err := d.GetExecution(ctx, queued); err != nil {
		t.Errorf("queued execution was pruned: %v", err)
	}
	if rows, counter := countExecutions(t, d, b); rows != 4 || counter != 4 {
		t.Errorf("workflow b: %d rows, counter %d; want 4 and 4", rows, counter)
	}
	for _, id := range bIDs[6:] {
		if _, err := d.GetExecution(ctx, id); err != nil {
			t.Errorf("newest execution %d was pruned: %v", id, err)
		}
	}
	if n, err := r.PruneOnce(ctx); err != nil || n != 0 {
		t.Errorf("second prune: %d, %v; want 0, nil", n, err)
	}
}

// An old execution still queued or running counts among the rows of its
// workflow: the count rule never deletes one of the newest keep to make up
// for it.
func testPruneCountKeepsTheNewest(t *testing.T, d *DB) {
	ctx := context.Background()
	wf := pruneWorkflow(t, d)
	var gen engine.IDGenerator
	var all []int64
	for i, status := range []engine.ExecStatus{engine.StatusRunning, engine.StatusResolved, engine.StatusResolved, engine.StatusResolved} {
		all = append(all, pruneInsert(t, d, wf, gen.Next(), time.Now().Add(time.Duration(i)*time.Millisecond), status))
	}
	r := &engine.Retention{Store: d, MaxCount: 3, Batch: 10, Pause: time.Millisecond}
	if n, err := r.PruneOnce(ctx); err != nil || n != 0 {
		t.Errorf("pruned %d (%v), want 0: the one too many is still running", n, err)
	}
	for _, id := range all {
		if _, err := d.GetExecution(ctx, id); err != nil {
			t.Errorf("execution %d: %v", id, err)
		}
	}
	// Once it finished, it is the one deleted.
	if err := d.Raw.Exec(`UPDATE executions SET status = 'resolved' WHERE id = ?`, all[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := r.PruneOnce(ctx); err != nil || n != 1 {
		t.Errorf("pruned %d (%v), want 1", n, err)
	}
	if _, err := d.GetExecution(ctx, all[0]); err == nil {
		t.Error("the oldest execution was kept")
	}
	if rows, counter := countExecutions(t, d, wf); rows != 3 || counter != 3 {
		t.Errorf("%d rows, counter %d; want 3 and 3", rows, counter)
	}
}

// A counter that ran ahead of the rows (an edit outside Hookflow) is
// counted again rather than trusted.
func testPruneCountRecountsADriftedCounter(t *testing.T, d *DB) {
	ctx := context.Background()
	wf := pruneWorkflow(t, d)
	var gen engine.IDGenerator
	for range 5 {
		pruneInsert(t, d, wf, gen.Next(), time.Now(), engine.StatusResolved)
	}
	d.SetCounter(t, wf, 1000)
	r := &engine.Retention{Store: d, MaxCount: 3, Batch: 10, Pause: time.Millisecond}
	if n, err := r.PruneOnce(ctx); err != nil || n != 2 {
		t.Errorf("pruned %d (%v), want the 2 oldest", n, err)
	}
	if rows, counter := countExecutions(t, d, wf); rows != 3 || counter != 3 {
		t.Errorf("%d rows, counter %d; want 3 and 3", rows, counter)
	}
}
