package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/engine"
)

// TestShutdown: SIGTERM (run's context ending) lets a sync request in
// flight finish and be stored, lets a background run finish, releases a
// run that outlasts --shutdown-timeout for the next start, checkpoints
// the database (an empty WAL) and returns within the documented bound.
func TestShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := createToken(t, dir)
	var slow atomic.Int32
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow": // longer than the sync request's wait, shorter than the timeout
			time.Sleep(700 * time.Millisecond)
		case "/stuck": // past --shutdown-timeout
			slow.Add(1)
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer sink.Close()
	srv := startServer(t, dir, token, "--shutdown-timeout", "2s")
	_, syncKey := srv.createWorkflow(t, `{"title":"sync","mode":"sync","trigger":{},"nodes":[
		{"key":"n","type":"request","config":{"method":"GET","url":"`+sink.URL+`/slow"}},
		{"key":"r","type":"response","config":{"status":201,"body":"done"}}]}`)
	stuckID, stuckKey := srv.createWorkflow(t, `{"title":"stuck","mode":"async","trigger":{},"nodes":[
		{"key":"n","type":"request","config":{"method":"GET","url":"`+sink.URL+`/stuck","timeoutSeconds":60}}]}`)

	// An async run that will still be running at the deadline.
	if r := srv.do(t, http.MethodPost, "/api/webhook:trigger/"+stuckKey, []byte(`{}`), nil); r.status != 200 {
		t.Fatalf("async: %d", r.status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for slow.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stuck call never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A sync request in flight when the signal comes.
	type reply struct {
		status int
		body   string
	}
	replied := make(chan reply, 1)
	go func() {
		r := srv.do(t, http.MethodPost, "/api/webhook:trigger/"+syncKey, []byte(`{}`), nil)
		replied <- reply{r.status, string(r.body)}
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := srv.stop(t); err != nil {
		t.Errorf("run returned %v", err)
	}
	took := time.Since(start)
	if r := <-replied; r.status != 201 || r.body != "done" {
		t.Errorf("the request in flight got %d %q, want 201 done", r.status, r.body)
	}
	// 2 s for the stuck run, then its release and the checkpoint.
	if took < 1500*time.Millisecond || took > 9*time.Second {
		t.Errorf("shutdown took %s, want about --shutdown-timeout (2s) and at most it + 5 s + the checkpoint", took)
	}
	if l, ok := srv.logs.logLine("shutting down"); !ok || l.Get("timeout").String() != "2s" {
		t.Errorf("no shutting down line with the timeout: %s", l.Raw)
	}
	if wal, err := os.Stat(filepath.Join(dir, db.FileName+"-wal")); err == nil && wal.Size() != 0 {
		t.Errorf("WAL of %d bytes after the shutdown", wal.Size())
	}

	// The sync execution was stored; the stuck one was released, due now.
	store := openDataDir(t, dir)
	defer store.Close()
	pending, err := store.CountPending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if pending.Queued+pending.Running != 1 {
		t.Errorf("pending after shutdown %+v, want the stuck run left for the next start", pending)
	}
	list, err := store.ListExecutions(context.Background(), engine.ExecutionFilter{WorkflowID: stuckID, Limit: 10})
	if err != nil || len(list) != 1 || list[0].Status.Final() {
		t.Errorf("stuck workflow's executions %+v, %v", list, err)
	}
	all, err := store.ListWorkflows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range all {
		if w.Title == "sync" && (w.ExecutionCount != 1 || w.LastStatus != engine.StatusResolved) {
			t.Errorf("sync workflow: %d executions, last %q; want the request in flight stored, resolved", w.ExecutionCount, w.LastStatus)
		}
	}
}
