package db

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

func TestExecutionInsertGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	started := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	e := &engine.Execution{
		ID: testIDs.Next(), WorkflowID: w.ID, Revision: 1, Status: engine.StatusResolved, Mode: engine.ModeSync,
		Request: engine.Request{
			Method: "POST", Query: "a[b]=1&c=%20",
			// Not UTF-8, with a NUL: the raw body is stored as received.
			Body: []byte{'{', 0xff, 0x00, '}', '\n'},
		},
		Context: []byte(`{"headers":{"x-a":"1"},"query":{"a":{"b":"1"},"c":" "},"body":{"id":12345678901234567891}}`),
		Jobs: []engine.Job{
			{NodeKey: "paid", NodeType: "condition", Status: engine.JobResolved, Result: []byte(`true`), Branch: "yes", StartedAt: started, Duration: 1500 * time.Microsecond},
			{NodeKey: "ok", NodeType: "response", Status: engine.JobResolved, Result: []byte(`{"status":200}`), StartedAt: started},
		},
		Response:  &engine.Response{Status: 200, Headers: []engine.HeaderValue{{Name: "X-Order", Value: "123"}}, ContentType: "application/json", Body: []byte(`{"ok":true,"id":123}`)},
		Error:     "",
		Attempts:  1,
		CreatedAt: started, StartedAt: started, FinishedAt: started.Add(2 * time.Millisecond),
	}
	if err := d.InsertExecution(ctx, e); err != nil {
		t.Fatalf("InsertExecution: %v", err)
	}
	got, err := d.GetExecution(ctx, e.ID)
	if err != nil {
		t.Fatalf("GetExecution: %v", err)
	}
	if got.ID != e.ID || got.WorkflowID != w.ID || got.Revision != 1 || got.Status != engine.StatusResolved || got.Mode != engine.ModeSync ||
		got.Request.Method != "POST" || got.Request.Query != e.Request.Query || string(got.Request.Body) != string(e.Request.Body) ||
		string(got.Context) != string(e.Context) || got.Attempts != 1 {
		t.Errorf("got %+v\nwant %+v", got, e)
	}
	if !got.CreatedAt.Equal(started) || !got.StartedAt.Equal(started) || got.Duration() != 2*time.Millisecond {
		t.Errorf("times %v %v %v", got.CreatedAt, got.StartedAt, got.FinishedAt)
	}
	if len(got.Jobs) != 2 || got.Jobs[0].NodeKey != "paid" || got.Jobs[0].Branch != "yes" || string(got.Jobs[0].Result) != "true" ||
		got.Jobs[0].Duration != 1500*time.Microsecond || !got.Jobs[0].StartedAt.Equal(started) || string(got.Jobs[1].Result) != `{"status":200}` {
		t.Errorf("jobs %+v", got.Jobs)
	}
	if r := got.Response; r == nil || r.Status != 200 || r.ContentType != "application/json" || string(r.Body) != `{"ok":true,"id":123}` ||
		len(r.Headers) != 1 || r.Headers[0].Name != "X-Order" || r.Headers[0].Value != "123" {
		t.Errorf("response %+v", got.Response)
	}

	// A queued execution has no jobs, response or run times yet.
	q := newExecution(w, engine.StatusQueued)
	q.Request.Body = nil
	if err := d.InsertExecution(ctx, q); err != nil {
		t.Fatal(err)
	}
	got, err = d.GetExecution(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Jobs != nil || got.Response != nil || !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() || len(got.Request.Body) != 0 {
		t.Errorf("queued execution %+v", got)
	}

	if err := d.InsertExecution(ctx, &engine.Execution{WorkflowID: w.ID}); err == nil {
		t.Error("InsertExecution without id succeeded")
	}
	bad := newExecution(w, engine.StatusQueued)
	bad.WorkflowID = w.ID + 100
	if err := d.InsertExecution(ctx, bad); err == nil {
		t.Error("InsertExecution for a missing workflow succeeded")
	}
	if _, err := d.GetExecution(ctx, 1); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("GetExecution(missing): %v", err)
	}
	if maxID, err := d.MaxExecutionID(ctx); err != nil || maxID != q.ID {
		t.Errorf("MaxExecutionID = %d, %v; want %d", maxID, err, q.ID)
	}
}

func TestExecutionClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	done := insertExecutions(t, d.DB, w, engine.StatusResolved, 1)
	queued := insertExecutions(t, d.DB, w, engine.StatusQueued, 5)

	before := time.Now().Add(-time.Second)
	batch, err := d.ClaimExecutions(ctx, 3)
	if err != nil {
		t.Fatalf("ClaimExecutions: %v", err)
	}
	if len(batch) != 3 {
		t.Fatalf("claimed %d, want 3", len(batch))
	}
	for i, e := range batch {
		if e.ID != queued[i].ID {
			t.Errorf("claim %d: id %d, want oldest first %d", i, e.ID, queued[i].ID)
		}
		if e.Status != engine.StatusRunning || e.Attempts != 1 || e.StartedAt.Before(before) || e.WorkflowID != w.ID || e.Revision != 1 ||
			e.Mode != engine.ModeAsync || e.Request.Method != "POST" || e.Request.Query != "a=1" || string(e.Request.Body) != `{"order":{"id":1}}` ||
			string(e.Context) != string(queued[i].Context) {
			t.Errorf("claimed %+v", e)
		}
		stored, err := d.GetExecution(ctx, e.ID)
		if err != nil || stored.Status != engine.StatusRunning || stored.Attempts != 1 || stored.StartedAt.IsZero() {
			t.Errorf("stored after claim %+v, %v", stored, err)
		}
	}
	rest, err := d.ClaimExecutions(ctx, 10)
	if err != nil || len(rest) != 2 || rest[0].ID != queued[3].ID || rest[1].ID != queued[4].ID {
		t.Fatalf("second claim = %v, %v", ids(rest), err)
	}
	if none, err := d.ClaimExecutions(ctx, 10); err != nil || len(none) != 0 {
		t.Errorf("third claim = %v, %v; want none", ids(none), err)
	}
	if got, _ := d.GetExecution(ctx, done[0].ID); got.Status != engine.StatusResolved || got.Attempts != 0 {
		t.Errorf("resolved execution touched by claim: %+v", got)
	}
}

func ids(es []*engine.Execution) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// TestExecutionClaimConcurrent: claimers racing over one queue never get
// the same row twice, and together they get every row.
func TestExecutionClaimConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	const n = 500
	want := make(map[int64]bool, n)
	for _, e := range insertExecutions(t, d.DB, w, engine.StatusQueued, n) {
		want[e.ID] = true
	}
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				batch, err := d.ClaimExecutions(ctx, 7)
				if err != nil {
					t.Errorf("ClaimExecutions: %v", err)
					return
				}
				if len(batch) == 0 {
					return
				}
				for i := 1; i < len(batch); i++ {
					if batch[i].ID <= batch[i-1].ID {
						t.Errorf("batch not oldest first: %v", ids(batch))
					}
				}
				mu.Lock()
				total := 0
				for _, e := range batch {
					seen[e.ID]++
				}
				for _, c := range seen {
					total += c
				}
				mu.Unlock()
				if total > n {
					t.Errorf("%d claims of %d executions", total, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct executions, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 || !want[id] {
			t.Errorf("execution %d claimed %d times (known: %v)", id, c, want[id])
		}
	}
}

func TestExecutionFinishAndRequeue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	insertExecutions(t, d.DB, w, engine.StatusQueued, 3)
	syncRunning := newExecution(w, engine.StatusRunning)
	syncRunning.Mode = engine.ModeSync
	if err := d.InsertExecution(ctx, syncRunning); err != nil {
		t.Fatal(err)
	}
	batch, err := d.ClaimExecutions(ctx, 10)
	if err != nil || len(batch) != 3 {
		t.Fatalf("claim = %v, %v", ids(batch), err)
	}
	// The first finishes; the others are left running, as by a crash.
	fin := batch[0]
	fin.Status, fin.Error, fin.FinishedAt = engine.StatusFailed, "workflow failed at node c", fin.StartedAt.Add(5*time.Millisecond)
	fin.Jobs = []engine.Job{{NodeKey: "c", NodeType: "condition", Status: engine.JobFailed, Result: []byte("false")}}
	if err := d.FinishExecutions(ctx, batch[:1]); err != nil {
		t.Fatalf("FinishExecutions: %v", err)
	}
	got, err := d.GetExecution(ctx, fin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != engine.StatusFailed || got.Error != "workflow failed at node c" || len(got.Jobs) != 1 || got.Jobs[0].Status != engine.JobFailed ||
		got.Response != nil || got.Duration() != 5*time.Millisecond {
		t.Errorf("finished %+v", got)
	}

	n, err := d.RequeueRunning(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RequeueRunning = %d, %v; want 2 (sync executions are not requeued)", n, err)
	}
	if got, _ := d.GetExecution(ctx, syncRunning.ID); got.Status != engine.StatusRunning {
		t.Errorf("sync execution requeued: %s", got.Status)
	}
	again, err := d.ClaimExecutions(ctx, 10)
	if err != nil || len(again) != 2 || again[0].ID != batch[1].ID || again[1].ID != batch[2].ID {
		t.Fatalf("claim after requeue = %v, %v", ids(again), err)
	}
	for _, e := range again {
		if e.Attempts != 2 {
			t.Errorf("execution %d: attempts %d, want 2", e.ID, e.Attempts)
		}
	}
	// Finishing several in one call.
	for _, e := range again {
		e.Status, e.FinishedAt = engine.StatusResolved, time.Now()
		e.Response = &engine.Response{Status: 202, ContentType: "text/plain; charset=utf-8", Body: []byte("ok")}
	}
	if err := d.FinishExecutions(ctx, again); err != nil {
		t.Fatal(err)
	}
	for _, e := range again {
		got, err := d.GetExecution(ctx, e.ID)
		if err != nil || got.Status != engine.StatusResolved || got.Response == nil || got.Response.Status != 202 || got.Response.Headers == nil {
			t.Errorf("finished %+v, %v", got, err)
		}
	}
	if n, err := d.RequeueRunning(ctx); err != nil || n != 0 {
		t.Errorf("RequeueRunning with nothing left = %d, %v", n, err)
	}
}

func TestExecutionList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	other := createWorkflow(t, d.DB, testDocument)
	statuses := []engine.ExecStatus{engine.StatusResolved, engine.StatusFailed, engine.StatusQueued}
	var all []int64
	byStatus := map[engine.ExecStatus][]int64{}
	for i := range 10 {
		s := statuses[i%3]
		e := insertExecutions(t, d.DB, w, s, 1)[0]
		all = append(all, e.ID)
		byStatus[s] = append(byStatus[s], e.ID)
	}
	insertExecutions(t, d.DB, other, engine.StatusFailed, 3)
	newestFirst := func(s []int64) []int64 {
		out := append([]int64(nil), s...)
		sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
		return out
	}

	for _, tc := range []struct {
		name   string
		filter engine.ExecutionFilter
		want   []int64
	}{
		{"all", engine.ExecutionFilter{Limit: 50}, newestFirst(all)},
		{"limit", engine.ExecutionFilter{Limit: 4}, newestFirst(all)[:4]},
		{"before", engine.ExecutionFilter{Limit: 4, Before: newestFirst(all)[3]}, newestFirst(all)[4:8]},
		{"last page", engine.ExecutionFilter{Limit: 4, Before: newestFirst(all)[7]}, newestFirst(all)[8:]},
		{"status", engine.ExecutionFilter{Limit: 50, Status: engine.StatusFailed}, newestFirst(byStatus[engine.StatusFailed])},
		{"status and before", engine.ExecutionFilter{Limit: 2, Status: engine.StatusResolved, Before: newestFirst(byStatus[engine.StatusResolved])[0]},
			newestFirst(byStatus[engine.StatusResolved])[1:3]},
		{"no match", engine.ExecutionFilter{Limit: 50, Status: engine.StatusAborted}, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.filter
			f.WorkflowID = w.ID
			list, err := d.ListExecutions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got := ids(list)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			for _, e := range list {
				if e.WorkflowID != w.ID || (f.Status != "" && e.Status != f.Status) || e.Request.Body != nil || !json.Valid(e.Context) {
					t.Errorf("item %+v", e)
				}
			}
		})
	}
}
