// Package storetest is the behaviour every implementation of the engine's
// execution store must have, as one suite of tests: the SQLite store and the
// PostgreSQL store run it against a real database each, so that the engine
// sees one behaviour whichever it is given.
package storetest

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Store is what the suites test: every store of the engine over one empty
// database.
type Store interface {
	engine.WorkflowStore
	engine.ExecutionStore
	engine.AuthStore
	engine.Pruner
	engine.ActivityStore
}

// Open returns a store over a new, empty database; the suite runs its
// tests in parallel, each on a database of its own.
type Open func(t *testing.T) Store

// DB is a store with what the suites need to look behind it.
type DB struct {
	Store
	// Raw reaches the database itself, to look at what is stored
	// (encrypted secrets, counters) and to make states that the stores'
	// methods do not (a counter that drifted).
	Raw Raw
	// Key is the secret key the store was opened with.
	Key string
	// Reopen opens the same database again with another secret key.
	Reopen func(t *testing.T, key string) Store
	// Counter reads the number of executions a workflow's counter says it
	// has (the stores keep it as they like: a column, rows to add up);
	// SetCounter makes it say n, as an edit outside Hookflow would.
	Counter    func(t *testing.T, workflowID int64) int64
	SetCounter func(t *testing.T, workflowID, n int64)
}

// Raw runs SQL on the database beneath a store. Queries use ? for their
// parameters, whichever the database, and only SQL that both SQLite and
// PostgreSQL take.
type Raw interface {
	QueryRow(query string, args ...any) Row
	Exec(query string, args ...any) error
}

// Row is one row of Raw.QueryRow.
type Row interface {
	Scan(dest ...any) error
}

// OpenDB returns a DB over a new, empty database.
type OpenDB func(t *testing.T) *DB

// Run runs every suite: executions, workflows, auth, retention and what
// operating needs.
func Run(t *testing.T, open OpenDB) {
	t.Run("Executions", func(t *testing.T) { Executions(t, func(t *testing.T) Store { return open(t).Store }) })
	t.Run("Workflows", func(t *testing.T) { Workflows(t, open) })
	t.Run("Auth", func(t *testing.T) { Auth(t, open) })
	t.Run("Retention", func(t *testing.T) { Retention(t, open) })
	t.Run("Operate", func(t *testing.T) { Operate(t, open) })
}

// runAll runs the tests of a suite in parallel, each on a database of its
// own.
func runAll(t *testing.T, open OpenDB, tests []namedTest) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

type namedTest struct {
	name string
	fn   func(t *testing.T, d *DB)
}

// count runs a query of one integer on the database beneath d.
func count(t *testing.T, d *DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.Raw.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Executions runs the execution store suite.
func Executions(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"InsertGet", testInsertGet},
		{"Claim", testClaim},
		{"ClaimDueAndLeases", testClaimDueAndLeases},
		{"ClaimConcurrent", testClaimConcurrent},
		{"UpdateProgressWaitFinish", testUpdate},
		{"UpdateLeaseLost", testUpdateLeaseLost},
		{"CancelWhileRunning", testCancelWhileRunning},
		{"StaleClaimFenced", testStaleClaimFenced},
		{"CancelAndRetry", testCancelAndRetry},
		{"RenewAndRelease", testRenewAndRelease},
		{"NextDue", testNextDue},
		{"Replay", testReplay},
		{"List", testList},
		{"Activity", testActivity},
		{"DedupeInsert", testDedupeInsert},
		{"DedupeConcurrent", testDedupeConcurrent},
		{"DedupeClaim", testDedupeClaim},
		{"DedupePrune", testDedupePrune},
		{"Rejections", testRejections},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var ids engine.IDGenerator

const doc = `{"title":"Orders","mode":"async","trigger":{"body":[{"path":"order.id","alias":"Order"}]},"nodes":[]}`

// Workflow stores a workflow for the tests.
func Workflow(t *testing.T, s Store) *engine.Workflow {
	t.Helper()
	stored, secret, parsed, err := engine.PrepareDocument([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	w := &engine.Workflow{Key: engine.NewKey(), Stored: stored, Secrets: secret, Doc: parsed}
	if err := s.CreateWorkflow(context.Background(), w); err != nil {
		t.Fatalf("CreateWorkflow: %v", err)
	}
	return w
}

func newExecution(w *engine.Workflow, status engine.ExecStatus, created time.Time) *engine.Execution {
	return &engine.Execution{
		ID: ids.Next(), WorkflowID: w.ID, Revision: w.Revision, Status: status, Mode: engine.ModeAsync,
		Request:   engine.Request{Method: "POST", Query: "a=1", Body: []byte(`{"order":{"id":1}}`)},
		Context:   []byte(`{"headers":{},"query":{"a":"1"},"body":{"order":{"id":1}}}`),
		CreatedAt: created,
	}
}

func insert(t *testing.T, s Store, e *engine.Execution, owner string, lease time.Time) *engine.Execution {
	t.Helper()
	if err := s.InsertExecution(context.Background(), e, owner, lease); err != nil {
		t.Fatalf("InsertExecution %s: %v", e.Status, err)
	}
	return e
}

func get(t *testing.T, s Store, id int64) *engine.Execution {
	t.Helper()
	e, err := s.GetExecution(context.Background(), id)
	if err != nil {
		t.Fatalf("GetExecution %d: %v", id, err)
	}
	return e
}

func idsOf(es []*engine.Execution) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func claim(t *testing.T, s Store, owner string, now time.Time, n int) []*engine.Execution {
	t.Helper()
	es, err := s.ClaimExecutions(context.Background(), owner, now, now.Add(30*time.Second), n)
	if err != nil {
		t.Fatalf("ClaimExecutions: %v", err)
	}
	return es
}

func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

func testInsertGet(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	at := ms(time.Now().Add(-time.Second))
	e := newExecution(w, engine.StatusFailed, at)
	e.Request.Body = []byte{'{', 0xff, 0x00, '}'}
	e.StartedAt, e.FinishedAt, e.Attempts, e.Error = at, at.Add(3*time.Millisecond), 2, "workflow failed at node notify"
	e.Jobs = []engine.Job{
		{NodeKey: "shape", NodeType: "set", Status: engine.JobResolved, Result: json.RawMessage(`{"id":12345678901234567891}`), StartedAt: at},
		{NodeKey: "notify", NodeType: "request", Status: engine.JobFailed, Result: json.RawMessage(`{"ok":false,"status":503}`), StartedAt: at,
			Duration: 2 * time.Millisecond, Error: "HTTP 503 (after 2 attempts)",
			Request: &engine.SentRequest{Method: "POST", URL: "https://example.com/x", Headers: []engine.HeaderValue{{Name: "Authorization", Value: "[redacted]"}}, Body: `{"a":"<b>"}`},
			Attempts: []engine.Attempt{
				{Number: 1, StartedAt: at, Duration: time.Millisecond, Status: 503, Error: "HTTP 503", RetryAt: at.Add(2 * time.Second),
					Reply: &engine.ReceivedReply{Headers: []engine.HeaderValue{{Name: "retry-after", Value: "2"}}, Body: "busy"}},
				{Number: 2, StartedAt: at.Add(2 * time.Second), Duration: time.Millisecond, Error: "connection refused by 127.0.0.1:9"},
			}},
	}
	e.Response = &engine.Response{Status: 202, Headers: []engine.HeaderValue{{Name: "X-A", Value: "1"}}, ContentType: "text/plain", Body: []byte("ok")}
	insert(t, s, e, "", time.Time{})
	replay := newExecution(w, engine.StatusQueued, at)
	replay.ReplayOf = e.ID
	insert(t, s, replay, "", time.Time{})

	got := get(t, s, e.ID)
	if got.Status != e.Status || got.Mode != e.Mode || got.Attempts != 2 || got.Error != e.Error || string(got.Request.Body) != string(e.Request.Body) ||
		got.Request.Query != "a=1" || string(got.Context) != string(e.Context) || !got.CreatedAt.Equal(at) || got.Duration() != 3*time.Millisecond {
		t.Errorf("got %+v", got)
	}
	if len(got.Jobs) != 2 {
		t.Fatalf("jobs %+v", got.Jobs)
	}
	want, _ := json.Marshal(e.Jobs)
	have, _ := json.Marshal(got.Jobs)
	if string(want) != string(have) {
		t.Errorf("jobs round trip:\n got %s\nwant %s", have, want)
	}
	if got.Response == nil || got.Response.Status != 202 || string(got.Response.Body) != "ok" {
		t.Errorf("response %+v", got.Response)
	}
	if len(got.Replays) != 1 || got.Replays[0] != replay.ID {
		t.Errorf("replays %v, want [%d]", got.Replays, replay.ID)
	}
	if r := get(t, s, replay.ID); r.ReplayOf != e.ID || r.Status != engine.StatusQueued {
		t.Errorf("replay %+v", r)
	}
	if _, err := s.GetExecution(ctx, 1); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("missing execution: %v, want ENOTFOUND", err)
	}
}

func testClaim(t *testing.T, s Store) {
	w := Workflow(t, s)
	now := time.Now()
	insert(t, s, newExecution(w, engine.StatusResolved, now), "", time.Time{})
	var queued []*engine.Execution
	for range 5 {
		queued = append(queued, insert(t, s, newExecution(w, engine.StatusQueued, now.Add(-time.Minute)), "", time.Time{}))
	}
	first := claim(t, s, "a", now, 3)
	if got := idsOf(first); len(got) != 3 || got[0] != queued[0].ID || got[1] != queued[1].ID || got[2] != queued[2].ID {
		t.Fatalf("first claim %v, want the 3 oldest of %v", got, idsOf(queued))
	}
	for _, e := range first {
		if e.Status != engine.StatusRunning || e.Attempts != 1 || e.StartedAt.IsZero() || e.Request.Method != "POST" ||
			string(e.Request.Body) != `{"order":{"id":1}}` || string(e.Context) != string(queued[0].Context) || e.Mode != engine.ModeAsync {
			t.Errorf("claimed %+v", e)
		}
		if got := get(t, s, e.ID); got.Status != engine.StatusRunning || got.Attempts != 1 {
			t.Errorf("stored after claim: %+v", got)
		}
	}
	rest := claim(t, s, "b", now, 10)
	if got := idsOf(rest); len(got) != 2 || got[0] != queued[3].ID || got[1] != queued[4].ID {
		t.Fatalf("second claim %v", got)
	}
	if none := claim(t, s, "c", now, 10); len(none) != 0 {
		t.Errorf("third claim %v, want none: leases are live", idsOf(none))
	}
}

func testClaimDueAndLeases(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := time.Now()
	// A waiting execution, due in a minute, with the jobs it will resume
	// from.
	waiting := newExecution(w, engine.StatusWaiting, now)
	waiting.DueAt = now.Add(time.Minute)
	waiting.Jobs = []engine.Job{{NodeKey: "wait", NodeType: "delay", Status: engine.JobWaiting, Result: json.RawMessage("null"), DueAt: ms(waiting.DueAt), StartedAt: now}}
	insert(t, s, waiting, "", time.Time{})
	// A running execution leased to a live owner, and one whose owner died.
	live := insert(t, s, newExecution(w, engine.StatusRunning, now), "live", now.Add(time.Minute))
	dead := insert(t, s, newExecution(w, engine.StatusRunning, now), "dead", now.Add(-time.Second))

	if got := get(t, s, waiting.ID); got.Status != engine.StatusWaiting || !got.DueAt.Equal(ms(waiting.DueAt)) {
		t.Errorf("waiting stored as %s due %v", got.Status, got.DueAt)
	}
	got, err := s.ClaimExecutions(ctx, "me", now, now.Add(time.Hour), 10)
	if err != nil || len(got) != 1 || got[0].ID != dead.ID {
		t.Fatalf("claim now = %v, want only the expired lease %d", idsOf(got), dead.ID)
	}
	later := claim(t, s, "me", now.Add(2*time.Minute), 10)
	sort.Slice(later, func(i, j int) bool { return later[i].ID < later[j].ID })
	if len(later) != 2 || later[0].ID != waiting.ID || later[1].ID != live.ID {
		t.Fatalf("claim in two minutes = %v, want the waiting one and the expired live lease", idsOf(later))
	}
	if j := later[0].Jobs; len(j) != 1 || j[0].Status != engine.JobWaiting || j[0].NodeKey != "wait" {
		t.Errorf("claimed waiting execution without its jobs: %+v", j)
	}
	// The old owner of a taken-over lease can no longer write.
	dead.Status, dead.FinishedAt = engine.StatusResolved, now
	if out, err := s.UpdateExecutions(ctx, "dead", now.Add(time.Minute), []*engine.Execution{dead}); err != nil || out[0] != engine.LeaseLost {
		t.Errorf("update by the dead owner = %v, %v; want LeaseLost", out, err)
	}
}

func testClaimConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	const n = 300
	now := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.InsertExecution(ctx, newExecution(w, engine.StatusQueued, now), "", time.Time{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
	)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				batch, err := s.ClaimExecutions(ctx, string(rune('a'+i)), now.Add(time.Second), now.Add(time.Minute), 7)
				if err != nil {
					t.Errorf("ClaimExecutions: %v", err)
					return
				}
				if len(batch) == 0 {
					return
				}
				mu.Lock()
				for _, e := range batch {
					seen[e.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct executions, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("execution %d claimed %d times", id, c)
		}
	}
}

func testUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := time.Now()
	e := insert(t, s, newExecution(w, engine.StatusQueued, now), "", time.Time{})
	c := claim(t, s, "me", now, 1)[0]
	// Progress: one job stored, still running, lease extended.
	c.Jobs = []engine.Job{{NodeKey: "notify", NodeType: "request", Status: engine.JobResolved, Result: json.RawMessage(`{"ok":true}`), StartedAt: now}}
	if out, err := s.UpdateExecutions(ctx, "me", now.Add(time.Hour), []*engine.Execution{c}); err != nil || out[0] != engine.Updated {
		t.Fatalf("progress = %v, %v", out, err)
	}
	if got := claim(t, s, "other", now.Add(time.Minute), 10); len(got) != 0 {
		t.Errorf("claimed %v while the extended lease holds", idsOf(got))
	}
	if got := get(t, s, e.ID); got.Status != engine.StatusRunning || len(got.Jobs) != 1 {
		t.Errorf("after progress: %+v", got)
	}
	// Waiting: released, due later.
	c.Status, c.DueAt = engine.StatusWaiting, ms(now.Add(10*time.Minute))
	c.Jobs = append(c.Jobs, engine.Job{NodeKey: "wait", NodeType: "delay", Status: engine.JobWaiting, Result: json.RawMessage("null"), DueAt: c.DueAt, StartedAt: now})
	if out, err := s.UpdateExecutions(ctx, "me", now.Add(time.Hour), []*engine.Execution{c}); err != nil || out[0] != engine.Updated {
		t.Fatalf("wait = %v, %v", out, err)
	}
	if got := get(t, s, e.ID); got.Status != engine.StatusWaiting || !got.DueAt.Equal(c.DueAt) || len(got.Jobs) != 2 {
		t.Errorf("after wait: %+v", got)
	}
	if got := claim(t, s, "other", now.Add(5*time.Minute), 10); len(got) != 0 {
		t.Errorf("claimed %v before it is due", idsOf(got))
	}
	// A waiting row holds no lease: its old owner cannot write it.
	if out, _ := s.UpdateExecutions(ctx, "me", now, []*engine.Execution{c}); out[0] != engine.LeaseLost {
		t.Errorf("update of a waiting row = %v, want LeaseLost", out)
	}
	woke := claim(t, s, "other", now.Add(11*time.Minute), 10)
	if len(woke) != 1 || woke[0].Attempts != 2 || len(woke[0].Jobs) != 2 {
		t.Fatalf("wake = %+v", woke)
	}
	// Final.
	f := woke[0]
	f.Status, f.FinishedAt, f.Error = engine.StatusFailed, now.Add(11*time.Minute), "workflow failed at node x"
	f.Response = &engine.Response{Status: 500, ContentType: "application/json", Body: []byte(`{}`)}
	if out, err := s.UpdateExecutions(ctx, "other", now, []*engine.Execution{f}); err != nil || out[0] != engine.Updated {
		t.Fatalf("finish = %v, %v", out, err)
	}
	got := get(t, s, e.ID)
	if got.Status != engine.StatusFailed || got.Error != f.Error || got.FinishedAt.IsZero() || got.Response == nil || got.Response.Status != 500 {
		t.Errorf("after finish: %+v", got)
	}
	if got := claim(t, s, "third", now.Add(24*time.Hour), 10); len(got) != 0 {
		t.Errorf("claimed a finished execution: %v", idsOf(got))
	}
}

func testUpdateLeaseLost(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := time.Now()
	e := insert(t, s, newExecution(w, engine.StatusRunning, now), "me", now.Add(time.Minute))
	e.Status, e.FinishedAt = engine.StatusResolved, now
	if out, err := s.UpdateExecutions(ctx, "someone-else", now, []*engine.Execution{e}); err != nil || out[0] != engine.LeaseLost {
		t.Fatalf("update by another owner = %v, %v", out, err)
	}
	if got := get(t, s, e.ID); got.Status != engine.StatusRunning {
		t.Errorf("status %s after a refused update", got.Status)
	}
	if out, err := s.UpdateExecutions(ctx, "me", now, []*engine.Execution{e}); err != nil || out[0] != engine.Updated {
		t.Fatalf("update by the owner = %v, %v", out, err)
	}
}

func testCancelWhileRunning(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := time.Now()
	e := insert(t, s, newExecution(w, engine.StatusRunning, now), "me", now.Add(time.Minute))
	if _, err := s.CancelExecution(ctx, e.ID, engine.CancelReason, now); err != nil {
		t.Fatalf("CancelExecution: %v", err)
	}
	// The run learns of it at its next renewal or write; its jobs are kept.
	res, err := s.RenewLeases(ctx, "me", []engine.Lease{{ID: e.ID, Claim: e.Attempts}}, now.Add(time.Minute))
	if err != nil || len(res.Cancelled) != 1 || res.Cancelled[0] != e.ID || len(res.Lost) != 0 {
		t.Errorf("RenewLeases = %+v, %v; want the execution cancelled", res, err)
	}
	e.Status, e.Error = engine.StatusAborted, "workflow timed out at node x"
	e.Jobs = []engine.Job{{NodeKey: "x", NodeType: "request", Status: engine.JobAborted, Result: json.RawMessage("null"), StartedAt: now}}
	out, err := s.UpdateExecutions(ctx, "me", now, []*engine.Execution{e})
	if err != nil || out[0] != engine.Cancelled {
		t.Fatalf("update after cancel = %v, %v; want Cancelled", out, err)
	}
	got := get(t, s, e.ID)
	if got.Status != engine.StatusAborted || got.Error != engine.CancelReason || len(got.Jobs) != 1 || got.FinishedAt.IsZero() {
		t.Errorf("after cancel and update: %+v", got)
	}
	if c := claim(t, s, "other", now.Add(time.Hour), 10); len(c) != 0 {
		t.Errorf("claimed a cancelled execution: %v", idsOf(c))
	}
}

func testCancelAndRetry(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := time.Now()
	waiting := newExecution(w, engine.StatusWaiting, now)
	waiting.DueAt = now.Add(time.Hour)
	insert(t, s, waiting, "", time.Time{})
	queued := insert(t, s, newExecution(w, engine.StatusQueued, now), "", time.Time{})
	resolved := insert(t, s, newExecution(w, engine.StatusResolved, now), "", time.Time{})
	failed := newExecution(w, engine.StatusFailed, now)
	failed.Error, failed.FinishedAt = "workflow failed at node n", now
	failed.Jobs = []engine.Job{
		{NodeKey: "a", NodeType: "set", Status: engine.JobResolved, Result: json.RawMessage(`1`), StartedAt: now},
		{NodeKey: "n", NodeType: "request", Status: engine.JobFailed, Result: json.RawMessage(`{"ok":false}`), StartedAt: now},
	}
	insert(t, s, failed, "", time.Time{})

	for _, e := range []*engine.Execution{waiting, queued} {
		got, err := s.CancelExecution(ctx, e.ID, engine.CancelReason, now)
		if err != nil || got.Status != engine.StatusAborted || got.Error != engine.CancelReason {
			t.Errorf("cancel %s: %+v, %v", e.Status, got, err)
		}
	}
	if _, err := s.CancelExecution(ctx, resolved.ID, engine.CancelReason, now); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("cancel resolved: %v, want ECONFLICT", err)
	}
	if _, err := s.CancelExecution(ctx, 42, engine.CancelReason, now); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("cancel missing: %v, want ENOTFOUND", err)
	}
	if c := claim(t, s, "x", now.Add(2*time.Hour), 10); len(c) != 0 {
		t.Fatalf("claimed cancelled executions: %v", idsOf(c))
	}

	if _, err := s.RetryExecution(ctx, resolved.ID, now); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("retry resolved: %v, want ECONFLICT", err)
	}
	if _, err := s.RetryExecution(ctx, 42, now); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("retry missing: %v, want ENOTFOUND", err)
	}
	for _, e := range []*engine.Execution{failed, waiting} {
		got, err := s.RetryExecution(ctx, e.ID, now)
		if err != nil || got.Status != engine.StatusQueued || got.Error != "" || !got.FinishedAt.IsZero() {
			t.Errorf("retry %d: %+v, %v", e.ID, got, err)
		}
	}
	c := claim(t, s, "x", now.Add(time.Second), 10)
	sort.Slice(c, func(i, j int) bool { return c[i].ID < c[j].ID })
	if len(c) != 2 || c[0].ID != waiting.ID || c[1].ID != failed.ID {
		t.Fatalf("claim after retry = %v", idsOf(c))
	}
	if j := c[1].Jobs; len(j) != 2 || j[1].Status != engine.JobFailed {
		t.Errorf("retried execution's jobs %+v, want them kept", j)
	}
}

func testRenewAndRelease(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := time.Now()
	a := insert(t, s, newExecution(w, engine.StatusRunning, now), "me", now.Add(time.Second))
	b := insert(t, s, newExecution(w, engine.StatusRunning, now), "me", now.Add(time.Second))
	other := insert(t, s, newExecution(w, engine.StatusRunning, now), "other", now.Add(time.Hour))
	res, err := s.RenewLeases(ctx, "me", []engine.Lease{{ID: a.ID}, {ID: b.ID}, {ID: other.ID}}, now.Add(time.Hour))
	if err != nil || len(res.Lost) != 1 || res.Lost[0] != other.ID || len(res.Cancelled) != 0 {
		t.Fatalf("RenewLeases = %+v, %v; want only %d lost", res, err, other.ID)
	}
	if c := claim(t, s, "third", now.Add(time.Minute), 10); len(c) != 0 {
		t.Errorf("claimed %v under renewed leases", idsOf(c))
	}
	n, err := s.ReleaseLeases(ctx, "me")
	if err != nil || n != 2 {
		t.Fatalf("ReleaseLeases = %d, %v; want 2", n, err)
	}
	if got := get(t, s, a.ID); got.Status != engine.StatusQueued {
		t.Errorf("released execution is %s, want queued", got.Status)
	}
	c := claim(t, s, "third", time.Now().Add(time.Second), 10)
	if len(c) != 2 {
		t.Errorf("claim after release = %v, want %d and %d", idsOf(c), a.ID, b.ID)
	}
}

func testNextDue(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	if _, ok, err := s.NextDue(ctx); err != nil || ok {
		t.Fatalf("NextDue on an empty store = %v, %v", ok, err)
	}
	now := ms(time.Now())
	insert(t, s, newExecution(w, engine.StatusResolved, now.Add(-time.Hour)), "", time.Time{})
	e := newExecution(w, engine.StatusWaiting, now)
	e.DueAt = now.Add(90 * time.Second)
	insert(t, s, e, "", time.Time{})
	e2 := newExecution(w, engine.StatusWaiting, now)
	e2.DueAt = now.Add(30 * time.Second)
	insert(t, s, e2, "", time.Time{})
	if at, ok, err := s.NextDue(ctx); err != nil || !ok || !at.Equal(e2.DueAt) {
		t.Errorf("NextDue = %v, %v, %v; want %v", at, ok, err, e2.DueAt)
	}
}

func testReplay(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	other := Workflow(t, s)
	t0 := time.Now().Add(-time.Hour)
	var failed, all []*engine.Execution
	for i := range 6 {
		st := engine.StatusResolved
		if i%2 == 1 {
			st = engine.StatusFailed
		}
		e := newExecution(w, st, t0)
		e.Request.Body = []byte(`{"n":` + string(rune('0'+i)) + `}`)
		insert(t, s, e, "", time.Time{})
		all = append(all, e)
		if st == engine.StatusFailed {
			failed = append(failed, e)
		}
	}
	insert(t, s, newExecution(other, engine.StatusFailed, t0), "", time.Time{})
	var next []int64
	newID := func() int64 { id := ids.Next(); next = append(next, id); return id }
	now := time.Now()
	n, err := s.ReplayExecutions(ctx, engine.ReplayFilter{WorkflowID: w.ID, Status: engine.StatusFailed, Limit: 100}, 7, engine.ModeAsync, newID, now)
	if err != nil || n != 3 {
		t.Fatalf("ReplayExecutions(failed) = %d, %v; want 3", n, err)
	}
	for i, id := range next {
		r := get(t, s, id)
		if r.Status != engine.StatusQueued || r.Revision != 7 || r.ReplayOf != failed[i].ID || string(r.Request.Body) != string(failed[i].Request.Body) ||
			string(r.Context) != string(failed[i].Context) || r.Request.Query != "a=1" || r.WorkflowID != w.ID || len(r.Jobs) != 0 {
			t.Errorf("replay %d of %d: %+v", id, failed[i].ID, r)
		}
	}
	if got := get(t, s, failed[0].ID).Replays; len(got) != 1 || got[0] != next[0] {
		t.Errorf("original's replays %v, want [%d]", got, next[0])
	}
	// Bounded by the limit; an empty filter takes every execution.
	next = nil
	if n, err := s.ReplayExecutions(ctx, engine.ReplayFilter{WorkflowID: w.ID, Limit: 4}, 7, engine.ModeAsync, newID, now); err != nil || n != 4 {
		t.Errorf("ReplayExecutions(limit 4) = %d, %v", n, err)
	}
	// Time bounds.
	if n, err := s.ReplayExecutions(ctx, engine.ReplayFilter{WorkflowID: w.ID, Since: now.Add(time.Hour), Limit: 100}, 7, engine.ModeAsync, newID, now); err != nil || n != 0 {
		t.Errorf("ReplayExecutions(since in an hour) = %d, %v", n, err)
	}
	if n, err := s.ReplayExecutions(ctx, engine.ReplayFilter{WorkflowID: w.ID, Until: t0.Add(-time.Hour), Limit: 100}, 7, engine.ModeAsync, newID, now); err != nil || n != 0 {
		t.Errorf("ReplayExecutions(until before them) = %d, %v", n, err)
	}
	// The replays are queued work.
	if c := claim(t, s, "me", time.Now().Add(time.Second), 100); len(c) != 7 {
		t.Errorf("claimed %d replays, want 7", len(c))
	}
	// The counters of the workflows list count them.
	list, err := s.ListWorkflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range list {
		if it.ID == w.ID && it.ExecutionCount != int64(len(all)+7) {
			t.Errorf("execution count %d, want %d", it.ExecutionCount, len(all)+7)
		}
	}
}

func testList(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := time.Now()
	var all []int64
	for _, st := range []engine.ExecStatus{engine.StatusResolved, engine.StatusWaiting, engine.StatusFailed, engine.StatusWaiting} {
		e := newExecution(w, st, now)
		e.DueAt = now.Add(time.Hour)
		all = append(all, insert(t, s, e, "", time.Time{}).ID)
	}
	got, err := s.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: w.ID, Status: engine.StatusWaiting, Limit: 10})
	if err != nil || len(got) != 2 || got[0].ID != all[3] || got[1].ID != all[1] {
		t.Fatalf("list waiting = %v, %v", idsOf(got), err)
	}
	if got[0].DueAt.IsZero() {
		t.Errorf("waiting execution listed without its due time")
	}
	page, err := s.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: w.ID, Before: all[2], Limit: 10})
	if err != nil || len(page) != 2 || page[0].ID != all[1] {
		t.Errorf("page before %d = %v, %v", all[2], idsOf(page), err)
	}
}

// testActivity: the counters follow the writes: requests when created,
// outcomes (and durations) when finished, in the bucket of creation; a
// cancel counts as failed, a retry takes the failure back.
func testActivity(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	other := Workflow(t, s)
	hour := time.Now().Truncate(time.Hour).Add(-2 * time.Hour)
	at := hour.Add(5*time.Minute + 30*time.Second)
	fin := func(st engine.ExecStatus, d time.Duration) *engine.Execution {
		e := newExecution(w, st, at)
		e.StartedAt, e.FinishedAt = at, at.Add(d)
		return insert(t, s, e, "", time.Time{})
	}
	fin(engine.StatusResolved, 3*time.Millisecond)
	fin(engine.StatusResolved, 3*time.Millisecond)
	fin(engine.StatusResolved, 700*time.Millisecond)
	failed := fin(engine.StatusFailed, 40*time.Millisecond)
	insert(t, s, newExecution(other, engine.StatusResolved, at), "", time.Time{})
	// One queued, run and finished through the runner's writes.
	q := insert(t, s, newExecution(w, engine.StatusQueued, at), "", time.Time{})
	c := claim(t, s, "me", time.Now(), 10)
	if len(c) != 1 || c[0].ID != q.ID {
		t.Fatalf("claim %v", idsOf(c))
	}
	c[0].Status, c[0].StartedAt, c[0].FinishedAt = engine.StatusResolved, at, at.Add(8*time.Millisecond)
	if out, err := s.UpdateExecutions(ctx, "me", time.Now(), c); err != nil || out[0] != engine.Updated {
		t.Fatalf("update: %v %v", out, err)
	}
	// A waiting one cancelled counts as failed.
	wt := newExecution(w, engine.StatusWaiting, at)
	wt.DueAt = time.Now().Add(time.Hour)
	insert(t, s, wt, "", time.Time{})
	if _, err := s.CancelExecution(ctx, wt.ID, engine.CancelReason, time.Now()); err != nil {
		t.Fatal(err)
	}
	// A retried failure is no longer failed.
	if _, err := s.RetryExecution(ctx, failed.ID, time.Now()); err != nil {
		t.Fatal(err)
	}

	hours, err := s.Activity(ctx, w.ID, engine.ActivityHour, hour.Add(-time.Hour), hour.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 1 || !hours[0].Start.Equal(hour) {
		t.Fatalf("hour buckets %+v, want one at %v", hours, hour)
	}
	h := hours[0]
	if h.Requests != 6 || h.Resolved != 4 || h.Failed != 1 || h.Rejected != 0 {
		t.Errorf("hour bucket %+v, want 6 requests, 4 resolved, 1 failed (the cancel; the retried failure taken back)", h)
	}
	st := engine.SummarizeActivity(hours)
	if st.P50 <= 2*time.Millisecond || st.P50 > 10*time.Millisecond || st.P99 < 500*time.Millisecond || st.P99 > time.Second {
		t.Errorf("p50 %v p99 %v from durations %v", st.P50, st.P99, h.Durations)
	}
	minutes, err := s.Activity(ctx, w.ID, engine.ActivityMinute, hour, hour.Add(time.Hour))
	if err != nil || len(minutes) != 1 || !minutes[0].Start.Equal(hour.Add(5*time.Minute)) || minutes[0].Requests != 6 {
		t.Errorf("minute buckets %+v, %v", minutes, err)
	}
	recent, err := s.RecentActivity(ctx, hour.Add(-time.Hour))
	if err != nil || len(recent[w.ID]) != 1 || len(recent[other.ID]) != 1 || recent[other.ID][0].Resolved != 1 {
		t.Errorf("recent activity %+v, %v", recent, err)
	}
}

// testStaleClaimFenced: a run of an earlier claim holds nothing once the
// execution was cancelled, retried and claimed again by the same owner: its
// renewals find the lease lost and its writes change nothing, while the new
// claim's go through.
func testStaleClaimFenced(t *testing.T, s Store) {
	ctx := context.Background()
	w := Workflow(t, s)
	now := time.Now()
	insert(t, s, newExecution(w, engine.StatusQueued, now), "", time.Time{})
	first := claim(t, s, "me", now, 1)[0]
	stale := *first
	if _, err := s.CancelExecution(ctx, first.ID, engine.CancelReason, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetryExecution(ctx, first.ID, now); err != nil {
		t.Fatal(err)
	}
	again := claim(t, s, "me", now.Add(time.Second), 1)
	if len(again) != 1 || again[0].ID != first.ID || again[0].Attempts != first.Attempts+1 {
		t.Fatalf("claim after retry = %+v", again)
	}
	res, err := s.RenewLeases(ctx, "me", []engine.Lease{{ID: stale.ID, Claim: stale.Attempts}}, now.Add(time.Hour))
	if err != nil || len(res.Lost) != 1 || len(res.Cancelled) != 0 {
		t.Errorf("renewal of the stale claim = %+v, %v; want lost", res, err)
	}
	stale.Status, stale.FinishedAt, stale.Error = engine.StatusFailed, now, "stale outcome"
	if out, err := s.UpdateExecutions(ctx, "me", now, []*engine.Execution{&stale}); err != nil || out[0] != engine.LeaseLost {
		t.Errorf("write of the stale claim = %v, %v; want LeaseLost", out, err)
	}
	if got := get(t, s, first.ID); got.Status != engine.StatusRunning || got.Error != "" {
		t.Errorf("after the stale write: %s %q", got.Status, got.Error)
	}
	cur := again[0]
	cur.Status, cur.FinishedAt = engine.StatusResolved, now
	if out, err := s.UpdateExecutions(ctx, "me", now, []*engine.Execution{cur}); err != nil || out[0] != engine.Updated {
		t.Errorf("write of the current claim = %v, %v", out, err)
	}
}
