package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// The store's part of product.md §11 and §12: dedupe keys and the
// rejection log.

func dedupeOf(e *engine.Execution, key string, window time.Duration) *engine.Execution {
	e.Dedupe = &engine.DedupeClaim{WorkflowID: e.WorkflowID, KeyHash: engine.HashDedupeKey(key), ExecutionID: e.ID, ExpiresAt: e.CreatedAt.Add(window)}
	return e
}

// insertDedupe inserts e with its dedupe claim and returns the holder when
// it was a duplicate (0 when e was stored).
func insertDedupe(t *testing.T, s Store, e *engine.Execution) (int64, *engine.DuplicateError) {
	t.Helper()
	err := s.InsertExecution(context.Background(), e, "", time.Time{})
	var dup *engine.DuplicateError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &dup):
		return dup.Holder.ExecutionID, dup
	}
	t.Fatalf("InsertExecution with a dedupe key: %v", err)
	return 0, nil
}

// testDedupeInsert: an execution with a dedupe key claims it in its insert;
// the next one with that key within the window stores nothing, gets the
// holder with its status and reply, and counts on it; another key, another
// workflow, or the same key once expired make executions of their own.
func testDedupeInsert(t *testing.T, s Store) {
	ctx := context.Background()
	w, other := Workflow(t, s), Workflow(t, s)
	now := ms(time.Now())
	first := newExecution(w, engine.StatusResolved, now)
	first.Response = &engine.Response{Status: 200, ContentType: "text/plain; charset=utf-8", Body: []byte("ok")}
	if holder, _ := insertDedupe(t, s, dedupeOf(first, "evt_1", time.Hour)); holder != 0 {
		t.Fatalf("first insert is a duplicate of %d", holder)
	}
	for i := range 3 {
		dup := dedupeOf(newExecution(w, engine.StatusQueued, now.Add(time.Duration(i+1)*time.Minute)), "evt_1", time.Hour)
		holder, derr := insertDedupe(t, s, dup)
		if holder != first.ID {
			t.Fatalf("duplicate %d: holder %d, want %d", i, holder, first.ID)
		}
		h := derr.Holder
		if h.Claimed || !h.Stored || h.Status != engine.StatusResolved || h.Response == nil || string(h.Response.Body) != "ok" {
			t.Errorf("duplicate %d: holder %+v", i, h)
		}
		if _, err := s.GetExecution(ctx, dup.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("duplicate %d was stored: %v", i, err)
		}
	}
	if got := get(t, s, first.ID); got.Duplicates != 3 {
		t.Errorf("first execution counts %d duplicates, want 3", got.Duplicates)
	}
	if holder, _ := insertDedupe(t, s, dedupeOf(newExecution(w, engine.StatusQueued, now), "evt_2", time.Hour)); holder != 0 {
		t.Errorf("another key is a duplicate of %d", holder)
	}
	if holder, _ := insertDedupe(t, s, dedupeOf(newExecution(other, engine.StatusQueued, now), "evt_1", time.Hour)); holder != 0 {
		t.Errorf("the same key in another workflow is a duplicate of %d", holder)
	}
	// At the expiry the key is free again: the new execution takes it.
	late := dedupeOf(newExecution(w, engine.StatusQueued, now.Add(time.Hour)), "evt_1", time.Hour)
	if holder, _ := insertDedupe(t, s, late); holder != 0 {
		t.Fatalf("expired key: duplicate of %d", holder)
	}
	again := dedupeOf(newExecution(w, engine.StatusQueued, now.Add(time.Hour+time.Minute)), "evt_1", time.Hour)
	if holder, _ := insertDedupe(t, s, again); holder != late.ID {
		t.Errorf("after the expiry the key belongs to %d, want %d", holder, late.ID)
	}
	if got := get(t, s, first.ID); got.Duplicates != 3 {
		t.Errorf("the first execution counts %d duplicates after its key expired, want 3", got.Duplicates)
	}
	// Executions without a key never count.
	plain := insert(t, s, newExecution(w, engine.StatusQueued, now), "", time.Time{})
	if got := get(t, s, plain.ID); got.Duplicates != 0 {
		t.Errorf("execution without a key: %d duplicates", got.Duplicates)
	}
	if list, err := s.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: w.ID, Limit: 100}); err != nil {
		t.Fatal(err)
	} else {
		for _, e := range list {
			if e.ID == first.ID && e.Duplicates != 3 {
				t.Errorf("listed with %d duplicates, want 3", e.Duplicates)
			}
		}
	}
}

// testDedupeConcurrent: many concurrent inserts of one key make exactly
// one execution, and every other insert names it.
func testDedupeConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	const n = 200
	now := ms(time.Now())
	var (
		wg      sync.WaitGroup
		stored  atomic.Int64
		mu      sync.Mutex
		holders = map[int64]int{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := dedupeOf(newExecution(w, engine.StatusQueued, now), "delivery-42", time.Hour)
			err := s.InsertExecution(ctx, e, "", time.Time{})
			var dup *engine.DuplicateError
			switch {
			case err == nil:
				stored.Add(1)
				mu.Lock()
				holders[e.ID]++
				mu.Unlock()
			case errors.As(err, &dup):
				mu.Lock()
				holders[dup.Holder.ExecutionID]++
				mu.Unlock()
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if stored.Load() != 1 || len(holders) != 1 {
		t.Fatalf("%d executions stored, holders %v: want one", stored.Load(), holders)
	}
	for id := range holders {
		if got := get(t, s, id); got.Duplicates != n-1 {
			t.Errorf("holder counts %d duplicates, want %d", got.Duplicates, n-1)
		}
	}
	list, err := s.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: w.ID, Limit: 1000})
	if err != nil || len(list) != 1 {
		t.Errorf("%d executions listed (%v), want 1", len(list), err)
	}
}

// testDedupeClaim: the claim of a sync request with effects, before its
// flow runs. A duplicate meanwhile finds the key but no stored execution;
// the insert then starts the window; a released claim frees the key.
func testDedupeClaim(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := ms(time.Now())
	e := newExecution(w, engine.StatusRunning, now)
	c := &engine.DedupeClaim{WorkflowID: w.ID, KeyHash: engine.HashDedupeKey("pay_1"), ExecutionID: e.ID, ExpiresAt: now.Add(time.Minute)}
	h, err := s.ClaimDedupeKey(ctx, c, now)
	if err != nil || !h.Claimed || h.ExecutionID != e.ID {
		t.Fatalf("claim = %+v, %v", h, err)
	}
	// While the first runs: the key is held, its execution not stored.
	other := *c
	other.ExecutionID = ids.Next()
	h, err = s.ClaimDedupeKey(ctx, &other, now.Add(time.Second))
	if err != nil || h.Claimed || h.Stored || h.ExecutionID != e.ID {
		t.Fatalf("claim while the first runs = %+v, %v", h, err)
	}
	// The first is stored, and its window set: a day, not the claim's
	// minute.
	e.Status, e.FinishedAt = engine.StatusResolved, now
	e.Response = &engine.Response{Status: 201, Headers: []engine.HeaderValue{{Name: "X-Order", Value: "7"}}, ContentType: "application/json", Body: []byte(`{"ok":true}`)}
	e.Dedupe = &engine.DedupeClaim{WorkflowID: w.ID, KeyHash: c.KeyHash, ExecutionID: e.ID, ExpiresAt: now.Add(24 * time.Hour), Claimed: true}
	insert(t, s, e, "", time.Time{})
	h, err = s.ClaimDedupeKey(ctx, &other, now.Add(2*time.Hour))
	if err != nil || h.Claimed || !h.Stored || h.ExecutionID != e.ID || h.Status != engine.StatusResolved {
		t.Fatalf("claim after the first was stored = %+v, %v", h, err)
	}
	if r := h.Response; r == nil || r.Status != 201 || string(r.Body) != `{"ok":true}` || r.ContentType != "application/json" ||
		len(r.Headers) != 1 || r.Headers[0].Value != "7" {
		t.Errorf("holder's reply %+v", r)
	}
	if got := get(t, s, e.ID); got.Duplicates != 1 {
		t.Errorf("duplicates %d, want 1 (the claim while it ran does not count)", got.Duplicates)
	}
	// Releasing needs the holder: another execution's release changes
	// nothing; the holder's frees the key.
	if err := s.ReleaseDedupeKey(ctx, &other); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.ClaimDedupeKey(ctx, &other, now.Add(3*time.Hour)); h.Claimed {
		t.Fatal("a release by another execution freed the key")
	}
	if err := s.ReleaseDedupeKey(ctx, c); err != nil {
		t.Fatal(err)
	}
	if h, err := s.ClaimDedupeKey(ctx, &other, now.Add(3*time.Hour)); err != nil || !h.Claimed || h.ExecutionID != other.ExecutionID {
		t.Fatalf("claim after release = %+v, %v", h, err)
	}
	// A claim that was never stored expires: a crashed run does not hold
	// the key for the window.
	if h, err := s.ClaimDedupeKey(ctx, c, now.Add(3*time.Hour+2*time.Minute)); err != nil || !h.Claimed {
		t.Fatalf("claim after the pending one expired = %+v, %v", h, err)
	}
}

// testDedupePrune: expired keys are pruned oldest first in batches, live
// ones stay; a key goes with its execution when that is pruned.
func testDedupePrune(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := ms(time.Now())
	for i := range 5 {
		insertDedupe(t, s, dedupeOf(newExecution(w, engine.StatusResolved, now.Add(-2*time.Hour)), fmt.Sprint("old-", i), time.Hour))
	}
	live := dedupeOf(newExecution(w, engine.StatusResolved, now), "live", time.Hour)
	insertDedupe(t, s, live)
	n, err := s.PruneDedupeKeys(ctx, now, 3)
	if err != nil || n != 3 {
		t.Fatalf("PruneDedupeKeys batch of 3 = %d, %v", n, err)
	}
	if n, err = s.PruneDedupeKeys(ctx, now, 100); err != nil || n != 2 {
		t.Fatalf("PruneDedupeKeys rest = %d, %v; want 2", n, err)
	}
	if n, _ = s.PruneDedupeKeys(ctx, now, 100); n != 0 {
		t.Errorf("PruneDedupeKeys again = %d, want 0", n)
	}
	if holder, _ := insertDedupe(t, s, dedupeOf(newExecution(w, engine.StatusQueued, now), "live", time.Hour)); holder != live.ID {
		t.Errorf("live key: holder %d, want %d", holder, live.ID)
	}
	// Pruning executions (here by count: keep the newest) deletes their
	// keys with them.
	insert(t, s, newExecution(w, engine.StatusResolved, now), "", time.Time{})
	if _, err := s.PruneExecutions(ctx, time.Time{}, 1, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetExecution(ctx, live.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("live execution not pruned: %v", err)
	}
	if holder, _ := insertDedupe(t, s, dedupeOf(newExecution(w, engine.StatusQueued, now), "live", time.Hour)); holder != 0 {
		t.Errorf("the key of a pruned execution still names %d", holder)
	}
}

// testRejections: the log keeps the newest MaxRejections of each workflow,
// lists them newest first, and keeps workflows apart.
func testRejections(t *testing.T, s Store) {
	ctx := context.Background()
	w, other := Workflow(t, s), Workflow(t, s)
	if got, err := s.ListRejections(ctx, w.ID, engine.MaxRejections); err != nil || len(got) != 0 {
		t.Fatalf("empty log = %v, %v", got, err)
	}
	base := ms(time.Now().Add(-time.Hour))
	reasons := engine.RejectReasons
	const n = engine.MaxRejections + 20
	for i := range n {
		r := &engine.Rejection{WorkflowID: w.ID, At: base.Add(time.Duration(i) * time.Second), ClientAddress: "203.0.113.7",
			Status: 401, Reason: reasons[i%len(reasons)], Message: fmt.Sprint("rejection ", i)}
		if err := s.InsertRejection(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertRejection(ctx, &engine.Rejection{WorkflowID: other.ID, At: base, ClientAddress: "2001:db8::1", Status: 413,
		Reason: engine.RejectSize, Message: "request body larger than 1 KiB", Count: 7}); err != nil {
		t.Fatal(err)
	}
	// The activity counters count the refusals each entry stands for.
	hours, err := s.Activity(ctx, other.ID, engine.ActivityHour, base.Add(-time.Hour), base.Add(time.Hour))
	if err != nil || len(hours) != 1 || hours[0].Rejected != 7 || hours[0].Requests != 0 {
		t.Errorf("activity of the refusals: %+v, %v", hours, err)
	}
	mine, err := s.Activity(ctx, w.ID, engine.ActivityHour, base.Add(-time.Hour), base.Add(3*time.Hour))
	var refused int64
	for _, h := range mine {
		refused += h.Rejected
	}
	if err != nil || refused != n {
		t.Errorf("activity counts %d refusals, want %d (%v)", refused, n, err)
	}
	got, err := s.ListRejections(ctx, w.ID, engine.MaxRejections+50)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != engine.MaxRejections {
		t.Fatalf("%d rejections kept, want %d", len(got), engine.MaxRejections)
	}
	for i, r := range got {
		want := n - 1 - i
		if r.Message != fmt.Sprint("rejection ", want) || !r.At.Equal(base.Add(time.Duration(want)*time.Second)) ||
			r.Reason != reasons[want%len(reasons)] || r.Status != 401 || r.ClientAddress != "203.0.113.7" || r.WorkflowID != w.ID || r.Count != 1 {
			t.Fatalf("rejection %d = %+v, want number %d", i, r, want)
		}
	}
	if few, _ := s.ListRejections(ctx, w.ID, 5); len(few) != 5 || few[0].Message != got[0].Message {
		t.Errorf("limit 5: %d rows", len(few))
	}
	o, err := s.ListRejections(ctx, other.ID, 10)
	if err != nil || len(o) != 1 || o[0].Status != 413 || o[0].Reason != engine.RejectSize || o[0].ClientAddress != "2001:db8::1" || o[0].Count != 7 {
		t.Errorf("other workflow's log = %+v, %v", o, err)
	}
	// Deleting a workflow deletes its log.
	if err := s.DeleteWorkflow(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.ListRejections(ctx, other.ID, 10); len(o) != 0 {
		t.Errorf("log of a deleted workflow: %+v", o)
	}
}
