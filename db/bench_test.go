package db

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

// benchExecution is a finished execution of the size the load benchmark
// stores: the §9 paid order, six request headers, two jobs and a reply.
func benchExecution(w *engine.Workflow, id int64) *engine.Execution {
	now := time.Now()
	return &engine.Execution{
		ID: id, WorkflowID: w.ID, Revision: w.Revision, Status: engine.StatusResolved, Mode: engine.ModeAsync,
		Request: engine.Request{Method: "POST", Body: []byte(`{"order":{"id":12345,"status":"paid","amount":"49.90","currency":"EUR"},"source":"bench"}`)},
		Context: []byte(`{"headers":{"host":"127.0.0.1:41335","content-length":"89","content-type":"application/json","user-agent":"Go-http-client/1.1","accept-encoding":"gzip"},"query":{},"body":{"order":{"id":12345,"status":"paid","amount":"49.90","currency":"EUR"},"source":"bench"}}`),
		Jobs: []engine.Job{
			{NodeKey: "paid", NodeType: "condition", Status: engine.JobResolved, Result: []byte("true"), Branch: "yes", StartedAt: now, Duration: 3996},
			{NodeKey: "ok", NodeType: "response", Status: engine.JobResolved, Result: []byte(`{"status":200}`), StartedAt: now, Duration: 3545},
		},
		Response:  &engine.Response{Status: 200, Headers: []engine.HeaderValue{{Name: "X-Order", Value: "12345"}}, ContentType: "application/json", Body: []byte(`{"ok":true,"id":12345}`)},
		Attempts:  1,
		CreatedAt: now, StartedAt: now, FinishedAt: now,
	}
}

// BenchmarkInsertExecution measures the stored cost of one finished
// execution when 1, 16 or 64 callers insert concurrently, as that many
// connections do: ns/op is the writer's time per row, group commit included
// (with one caller, every row pays a commit of its own).
func BenchmarkInsertExecution(b *testing.B) {
	for _, callers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			d := openTest(b)
			w := createWorkflow(b, d.DB, testDocument)
			b.ReportAllocs()
			b.ResetTimer()
			insertFinished(b, d.DB, w, b.N, callers)
		})
	}
}

// insertFinished stores rows finished executions (benchExecution) from
// callers goroutines at once, as that many connections would.
func insertFinished(tb testing.TB, d *DB, w *engine.Workflow, rows, callers int) {
	tb.Helper()
	var next atomic.Int64
	next.Store(testIDs.Next())
	var left atomic.Int64
	left.Store(int64(rows))
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := d.InsertExecution(context.Background(), benchExecution(w, next.Add(1)), "", time.Time{}); err != nil {
					tb.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkInsertExecutionDedupe is BenchmarkInsertExecution at 64 callers
// with a dedupe key per row: "fresh" claims a new key each time (the
// cost of deduplication on the hot path), "seq" new keys in increasing
// order (fresh keys land at random places of the keys' index; these at its
// end: the difference is what that randomness costs), "duplicate" one key
// for all (the cost of a duplicate: a claim that fails and a count on the
// first).
func BenchmarkInsertExecutionDedupe(b *testing.B) {
	for _, mode := range []string{"none", "fresh", "seq", "duplicate"} {
		b.Run(mode, func(b *testing.B) {
			d := openTest(b)
			w := createWorkflow(b, d.DB, testDocument)
			var next, left atomic.Int64
			next.Store(testIDs.Next())
			left.Store(int64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						e := benchExecution(w, next.Add(1))
						key := "the-same"
						if mode == "fresh" || mode == "seq" {
							key = fmt.Sprint("delivery-", e.ID)
						}
						if mode != "none" {
							kh := engine.HashDedupeKey(key)
							if mode == "seq" {
								// The same size, in order: what the keys'
								// index costs when it grows at one end.
								kh = []byte(fmt.Sprintf("%016d", e.ID))[:engine.DedupeKeyHashSize]
							}
							e.Dedupe = &engine.DedupeClaim{WorkflowID: w.ID, KeyHash: kh, ExecutionID: e.ID, ExpiresAt: e.CreatedAt.Add(24 * time.Hour)}
						}
						err := d.InsertExecution(context.Background(), e, "", time.Time{})
						var dup *engine.DuplicateError
						if err != nil && !errors.As(err, &dup) {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
