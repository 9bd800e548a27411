package db

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func insertKeyed(t *testing.T, d *DB, w *engine.Workflow, key string, created time.Time) (*engine.Execution, int64) {
	t.Helper()
	e := newExecution(w, engine.StatusResolved)
	e.CreatedAt = created
	e.Dedupe = &engine.DedupeClaim{WorkflowID: w.ID, KeyHash: engine.HashDedupeKey(key), ExecutionID: e.ID, ExpiresAt: created.Add(time.Hour)}
	err := d.InsertExecution(context.Background(), e, "", time.Time{})
	var dup *engine.DuplicateError
	switch {
	case err == nil:
		return e, 0
	case errors.As(err, &dup):
		return e, dup.Holder.ExecutionID
	}
	t.Fatalf("insert %s: %v", key, err)
	return nil, 0
}

// TestDedupeMerge: recent keys are merged into dedupe_keys in bulk, in
// memory until then, and found either way; a clean close merges what is
// left; a key whose execution is gone is free.
func TestDedupeMerge(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	d.merger.close() // merges happen when this test says
	w := createWorkflow(t, d.DB, testDocument)
	now := time.Now()
	first := map[string]int64{}
	for i := range 50 {
		e, holder := insertKeyed(t, d.DB, w, fmt.Sprint("k", i), now)
		if holder != 0 {
			t.Fatalf("fresh key %d is a duplicate of %d", i, holder)
		}
		first[fmt.Sprint("k", i)] = e.ID
	}
	raw := rawDB(t, d.path)
	if n := countRows(t, raw, `SELECT COUNT(*) FROM dedupe_keys`); n != 0 {
		t.Errorf("%d keys merged before any merge", n)
	}
	if _, holder := insertKeyed(t, d.DB, w, "k7", now.Add(time.Second)); holder != first["k7"] {
		t.Errorf("duplicate found in memory: holder %d, want %d", holder, first["k7"])
	}
	if err := d.mergeDedupe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, raw, `SELECT COUNT(*) FROM dedupe_keys`); n != 50 {
		t.Errorf("%d keys merged, want 50", n)
	}
	if n := len(d.keys.recent); n != 0 {
		t.Errorf("%d keys left in memory after the merge", n)
	}
	if _, holder := insertKeyed(t, d.DB, w, "k8", now.Add(time.Second)); holder != first["k8"] {
		t.Errorf("duplicate found in the index: holder %d, want %d", holder, first["k8"])
	}
	if got, err := d.GetExecution(context.Background(), first["k8"]); err != nil || got.Duplicates != 1 {
		t.Errorf("duplicates counted: %+v, %v", got, err)
	}
	// A key whose execution is gone is free, and taken.
	if _, err := d.write.Exec(`DELETE FROM executions WHERE id = ?`, first["k9"]); err != nil {
		t.Fatal(err)
	}
	if e, holder := insertKeyed(t, d.DB, w, "k9", now.Add(time.Second)); holder != 0 {
		t.Errorf("key of a deleted execution still held by %d", holder)
	} else if _, holder := insertKeyed(t, d.DB, w, "k9", now.Add(2*time.Second)); holder != e.ID {
		t.Errorf("the key taken over is held by %d, want %d", holder, e.ID)
	}
	// Close merges what is left.
	insertKeyed(t, d.DB, w, "late", now)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, raw, `SELECT COUNT(*) FROM dedupe_keys WHERE execution_id IN (SELECT id FROM executions)`); n != 51 {
		t.Errorf("%d live keys merged after close, want 51", n)
	}
}

// TestDedupeRecovery: after a crash before the merge, the keys stored with
// their executions are read back at start-up; duplicates stay duplicates.
func TestDedupeRecovery(t *testing.T) {
	t.Parallel()
	d := openTest(t)
	d.merger.close()
	w := createWorkflow(t, d.DB, testDocument)
	now := time.Now()
	e, _ := insertKeyed(t, d.DB, w, "delivery-1", now)
	if err := d.mergeDedupe(context.Background()); err != nil {
		t.Fatal(err)
	}
	unmerged, _ := insertKeyed(t, d.DB, w, "delivery-2", now)
	// The "crash": another process opens the file without the first
	// having merged or closed.
	d2 := reopen(t, d.path, testKey)
	if n := len(d2.keys.recent); n != 1 {
		t.Errorf("%d keys recovered, want 1 (delivery-2)", n)
	}
	for key, want := range map[string]int64{"delivery-1": e.ID, "delivery-2": unmerged.ID} {
		if _, holder := insertKeyed(t, d2, w, key, now.Add(time.Second)); holder != want {
			t.Errorf("%s after restart: holder %d, want %d", key, holder, want)
		}
	}
}

// TestDedupeBloom: the filter never misses a merged key, says "absent" for
// nearly every other, and a rebuild keeps the keys merged meanwhile.
func TestDedupeBloom(t *testing.T) {
	t.Parallel()
	f := newBloom(1000)
	var in []dedupeKey
	for i := range 5000 {
		k := dedupeKey{workflow: int64(i % 3)}
		copy(k.hash[:], engine.HashDedupeKey(fmt.Sprint("in-", i)))
		f.add(k)
		in = append(in, k)
	}
	for _, k := range in {
		if !f.mayHave(k) {
			t.Fatalf("a key added is absent: %v", k)
		}
	}
	fp := 0
	for i := range 100000 {
		k := dedupeKey{workflow: int64(i % 3)}
		copy(k.hash[:], engine.HashDedupeKey(fmt.Sprint("out-", i)))
		if f.mayHave(k) {
			fp++
		}
	}
	if fp > 2000 {
		t.Errorf("%d false positives in 100,000, want about 1%% or less at this load", fp)
	}

	d := openTest(t)
	d.merger.close()
	w := createWorkflow(t, d.DB, testDocument)
	now := time.Now()
	first, _ := insertKeyed(t, d.DB, w, "before", now)
	if err := d.mergeDedupe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := d.rebuildBloom(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, holder := insertKeyed(t, d.DB, w, "before", now); holder != first.ID {
		t.Errorf("after a rebuild: holder %d, want %d", holder, first.ID)
	}
	// A reopened store loads the filter from the table.
	d2 := reopen(t, d.path, testKey)
	if _, holder := insertKeyed(t, d2, w, "before", now); holder != first.ID {
		t.Errorf("after reopening: holder %d, want %d", holder, first.ID)
	}
}
