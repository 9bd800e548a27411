package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db/postgres/pgtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/secretbox"
	"github.com/hookflow/hookflow/engine/storetest"
	"github.com/jackc/pgx/v5"
)

// Instances starting together on an empty schema apply each migration
// once, under the migration lock.
func TestMigrationsOnceUnderLock(t *testing.T) {
	pgtest.ServerURL(t)
	url := pgtest.Schema(t)
	box, _ := secretbox.New([]byte(testKey))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			d, err := Open(context.Background(), url, box)
			if err == nil {
				d.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	d := openURL(t, url, testKey)
	var rows, versions int
	if err := d.pool.QueryRow(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	v, err := d.SchemaVersion(context.Background())
	if err != nil || rows != versions || v != versions {
		t.Errorf("schema_migrations: %d rows, %d versions, SchemaVersion %d (%v)", rows, versions, v, err)
	}
}

// Retention runs on one instance at a time: while another holds the
// retention lock, a prune deletes nothing and reports 0, which ends that
// instance's pass.
func TestRetentionOneInstanceAtATime(t *testing.T) {
	pgtest.ServerURL(t)
	ctx := context.Background()
	url := pgtest.Schema(t)
	a, b := openURL(t, url, testKey), openURL(t, url, testKey)
	w := storetest.CreateWorkflow(t, a, `{"title":"w","mode":"async","nodes":[]}`)
	var ids engine.IDGenerator
	for range 5 {
		e := &engine.Execution{ID: ids.Next(), WorkflowID: w.ID, Revision: 1, Status: engine.StatusResolved, Mode: engine.ModeAsync,
			Request: engine.Request{Method: "POST"}, Context: []byte(`{}`), CreatedAt: time.Now()}
		if err := a.InsertExecution(ctx, e, "", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.lockTx(ctx, tx, "retention"); err != nil {
		t.Fatal(err)
	}
	if n, err := b.PruneExecutions(ctx, time.Time{}, 2, 100); err != nil || n != 0 {
		t.Errorf("prune while another instance prunes = %d, %v; want 0", n, err)
	}
	tx.Rollback(ctx)
	if n, err := b.PruneExecutions(ctx, time.Time{}, 2, 100); err != nil || n != 3 {
		t.Errorf("prune = %d, %v; want 3", n, err)
	}
}

// A database that cannot be reached, or a store that was closed, is
// unavailable (503 with Retry-After), never an internal error; a bad URL
// says what is wrong without showing its password.
func TestUnavailable(t *testing.T) {
	box, _ := secretbox.New([]byte(testKey))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 of loopback: nothing listens there, the dial is refused.
	_, err := Open(ctx, "postgres://hookflow:pa55word@127.0.0.1:1/hookflow?connect_timeout=2", box)
	if engine.ErrorCode(err) != engine.EUNAVAILABLE {
		t.Errorf("Open on a closed port: %v (code %s), want %s", err, engine.ErrorCode(err), engine.EUNAVAILABLE)
	}
	_, err = Open(ctx, "postgres://hookflow:pa55word@127.0.0.1:bad/x", box)
	if err == nil || strings.Contains(err.Error(), "pa55word") {
		t.Errorf("Open with a bad URL: %v", err)
	}
	if !IsURL("postgres://x") || !IsURL("postgresql://x") || IsURL("/var/lib/hookflow") {
		t.Error("IsURL")
	}

	pgtest.ServerURL(t)
	d := open(t)
	w := storetest.CreateWorkflow(t, d, `{"title":"w","mode":"async","nodes":[]}`)
	d.Close()
	var ids engine.IDGenerator
	e := &engine.Execution{ID: ids.Next(), WorkflowID: w.ID, Revision: 1, Status: engine.StatusQueued, Mode: engine.ModeAsync,
		Request: engine.Request{Method: "POST"}, Context: []byte(`{}`), CreatedAt: time.Now()}
	if err := d.InsertExecution(context.Background(), e, "", time.Time{}); engine.ErrorCode(err) != engine.EUNAVAILABLE {
		t.Errorf("insert into a closed store: %v, want %s", err, engine.EUNAVAILABLE)
	}
	if _, err := d.GetWorkflow(context.Background(), w.ID); engine.ErrorCode(err) != engine.EUNAVAILABLE {
		t.Errorf("read from a closed store: %v, want %s", err, engine.EUNAVAILABLE)
	}
}

// Concurrent accepts share commits: a burst of inserts takes far fewer
// transactions than rows.
func TestGroupCommit(t *testing.T) {
	pgtest.ServerURL(t)
	ctx := context.Background()
	d := open(t)
	w := storetest.CreateWorkflow(t, d, `{"title":"w","mode":"async","nodes":[]}`)
	before := d.w.commits.Load()
	const n = 400
	var wg sync.WaitGroup
	var ids engine.IDGenerator
	for range n {
		wg.Go(func() {
			e := &engine.Execution{ID: ids.Next(), WorkflowID: w.ID, Revision: 1, Status: engine.StatusQueued, Mode: engine.ModeAsync,
				Request: engine.Request{Method: "POST"}, Context: []byte(`{}`), CreatedAt: time.Now()}
			if err := d.InsertExecution(ctx, e, "", time.Time{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var rows int64
	if err := d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM executions`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if c := counter(t, d, w.ID); rows != n || c != n {
		t.Errorf("%d rows, counter %d; want %d", rows, c, n)
	}
	if c := d.w.commits.Load() - before; c >= n/2 {
		t.Errorf("%d transactions for %d inserts: no group commit", c, n)
	} else {
		t.Logf("%d transactions for %d inserts", c, n)
	}
}

// A recount while instances commit new executions leaves the counters
// exact: commits waiting for their counter are counted after it.
func TestRecountUnderLoad(t *testing.T) {
	pgtest.ServerURL(t)
	ctx := context.Background()
	url := pgtest.Schema(t)
	a, b := openURL(t, url, testKey), openURL(t, url, testKey)
	a.slot.Store(1)
	b.slot.Store(2)
	w := storetest.CreateWorkflow(t, a, `{"title":"w","mode":"async","nodes":[]}`)
	var ids engine.IDGenerator
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		d := []*DB{a, b}[i%2]
		wg.Go(func() {
			for range 60 {
				e := &engine.Execution{ID: ids.Next(), WorkflowID: w.ID, Revision: 1, Status: engine.StatusResolved, Mode: engine.ModeAsync,
					Request: engine.Request{Method: "POST"}, Context: []byte(`{}`), CreatedAt: time.Now()}
				if err := d.InsertExecution(ctx, e, "", time.Time{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	recounts := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error { _, err := recount(ctx, tx, w.ID); return err }); err != nil {
				t.Error(err)
				return
			}
			recounts++
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	var rows int64
	if err := a.pool.QueryRow(ctx, `SELECT COUNT(*) FROM executions WHERE workflow_id = $1`, w.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if c := counter(t, a, w.ID); c != rows || rows != 480 {
		t.Errorf("counter %d, rows %d (want 480) after %d recounts under load", c, rows, recounts)
	}
	// The activity counters of both instances, written by concurrent
	// commits, add up too (duration classes included).
	hours, err := b.Activity(ctx, w.ID, engine.ActivityHour, time.Now().Add(-2*time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var req, res, durs int64
	for _, h := range hours {
		req, res = req+h.Requests, res+h.Resolved
		for _, c := range h.Durations {
			durs += c
		}
	}
	if req != 480 || res != 480 || durs != 480 {
		t.Errorf("activity: %d requests, %d resolved, %d durations; want 480 each", req, res, durs)
	}
}

// PostgreSQL refuses NUL bytes and invalid UTF-8 in text columns, which
// SQLite stores as they come: free text is made storable (text) rather
// than failing the write.
func TestFreeTextStorable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        "plain",
		"":             "",
		"nul\x00byte":  "nul\uFFFDbyte",
		"bad\xffutf8":  "bad\uFFFDutf8",
		"both\x00\xfe": "both\uFFFD\uFFFD",
		"ünïcödé ✓":    "ünïcödé ✓",
	} {
		if got := text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}

	pgtest.ServerURL(t)
	ctx := context.Background()
	d := open(t)
	w := storetest.CreateWorkflow(t, d, `{"title":"w","mode":"async","nodes":[]}`).ID
	r := &engine.Rejection{WorkflowID: w, At: time.Now(), ClientAddress: "203.0.113.7\x00", Status: 400,
		Reason: engine.RejectReasons[0], Message: "body: invalid byte \xff and \x00"}
	if err := d.InsertRejection(ctx, r); err != nil {
		t.Fatalf("InsertRejection with NUL and invalid UTF-8: %v", err)
	}
	got, err := d.ListRejections(ctx, w, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("ListRejections = %+v, %v", got, err)
	}
	if got[0].Message != "body: invalid byte \uFFFD and \uFFFD" || got[0].ClientAddress != "203.0.113.7\uFFFD" {
		t.Errorf("stored %q from %q, %q", got[0].Message, got[0].ClientAddress, r.Message)
	}
}
