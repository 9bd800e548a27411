package db

import (
	"context"
	"encoding/json"
	"sort"
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
	if err := d.InsertExecution(ctx, e, "", time.Time{}); err != nil {
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
	if err := d.InsertExecution(ctx, q, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, err = d.GetExecution(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Jobs != nil || got.Response != nil || !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() || len(got.Request.Body) != 0 {
		t.Errorf("queued execution %+v", got)
	}

	if err := d.InsertExecution(ctx, &engine.Execution{WorkflowID: w.ID}, "", time.Time{}); err == nil {
		t.Error("InsertExecution without id succeeded")
	}
	bad := newExecution(w, engine.StatusQueued)
	bad.WorkflowID = w.ID + 100
	if err := d.InsertExecution(ctx, bad, "", time.Time{}); err == nil {
		t.Error("InsertExecution for a missing workflow succeeded")
	}
	if _, err := d.GetExecution(ctx, 1); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("GetExecution(missing): %v", err)
	}
	if maxID, err := d.MaxExecutionID(ctx); err != nil || maxID != q.ID {
		t.Errorf("MaxExecutionID = %d, %v; want %d", maxID, err, q.ID)
	}
}

// TestExpireLeases: at start-up, executions a dead process left running
// are due at once, whoever held them.
func TestExpireLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	now := time.Now()
	a := newExecution(w, engine.StatusRunning)
	if err := d.InsertExecution(ctx, a, "dead", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	insertExecutions(t, d.DB, w, engine.StatusResolved, 2)
	if got, err := d.ClaimExecutions(ctx, "me", now, now.Add(time.Minute), 10); err != nil || len(got) != 0 {
		t.Fatalf("claim before expiry = %v, %v", ids(got), err)
	}
	if n, err := d.ExpireLeases(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireLeases = %d, %v; want 1", n, err)
	}
	got, err := d.ClaimExecutions(ctx, "me", time.Now().Add(time.Millisecond), now.Add(time.Minute), 10)
	if err != nil || len(got) != 1 || got[0].ID != a.ID || got[0].Attempts != 1 {
		t.Fatalf("claim after expiry = %+v, %v", got, err)
	}
}

func ids(es []*engine.Execution) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
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

// TestClaimUnreadableRow: a row whose stored jobs cannot be read is claimed
// with LoadErr set (for the runner to end it as error) instead of failing
// the claim, which would leave it at the head of every claim.
func TestClaimUnreadableRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	w := createWorkflow(t, d.DB, testDocument)
	es := insertExecutions(t, d.DB, w, engine.StatusQueued, 3)
	if _, err := d.write.Exec(`UPDATE executions SET jobs = '[{"nodeKey":' WHERE id = ?`, es[0].ID); err != nil {
		t.Fatal(err)
	}
	got, err := d.ClaimExecutions(ctx, "me", time.Now().Add(time.Second), time.Now().Add(time.Minute), 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim = %d executions, %v; want all 3", len(got), err)
	}
	for _, e := range got {
		if (e.ID == es[0].ID) != (e.LoadErr != nil) {
			t.Errorf("execution %d: LoadErr %v", e.ID, e.LoadErr)
		}
	}
}
