package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

// TestWebhookDatabaseUnavailable (issue 12, point 10): when the database
// cannot take the write (here locked by another process past its busy
// timeout), an async webhook gets 503 with Retry-After, so that its sender
// retries, never a 200 for a request that was not stored, nor a 500.
func TestWebhookDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newLockableEnv(t)
	svc, store, other := e.svc, e.store, e.other
	w, err := svc.CreateWorkflow(ctx, []byte(`{"title":"store","mode":"async","nodes":[]}`))
	if err != nil {
		t.Fatal(err)
	}

	tx, err := other.Begin() // another process holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	r := e.trigger(t, w.Key, "", `{"a":1}`)
	if msg := apiError(t, r, http.StatusServiceUnavailable); msg != "the database cannot take the request right now; try again" {
		t.Errorf("message %q", msg)
	}
	if got := r.header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	// A sync flow runs and its reply goes out, but the reply says the
	// execution could not be stored (issue 12, point 10).
	sw, err := svc.CreateWorkflow(ctx, []byte(`{"title":"sync","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":201,"body":"made"}}]}`))
	if err == nil {
		t.Fatal("created a workflow while the database was locked")
	}
	tx.Rollback()
	if sw, err = svc.CreateWorkflow(ctx, []byte(`{"title":"sync","mode":"sync","nodes":[{"key":"r","type":"response","config":{"status":201,"body":"made"}}]}`)); err != nil {
		t.Fatal(err)
	}
	if tx, err = other.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE workflows SET title = title`); err != nil {
		t.Fatal(err)
	}
	r = e.trigger(t, sw.Key, "", `{"a":1}`)
	if r.status != 201 || string(r.body) != "made" || r.header.Get("Hookflow-Execution-Stored") != "false" {
		t.Errorf("sync with the database locked: %d %q Hookflow-Execution-Stored %q", r.status, r.body, r.header.Get("Hookflow-Execution-Stored"))
	}
	tx.Rollback()
	if r := e.trigger(t, sw.Key, "", `{"a":1}`); r.status != 201 || r.header.Get("Hookflow-Execution-Stored") != "" {
		t.Errorf("sync after the lock: %d, Hookflow-Execution-Stored %q", r.status, r.header.Get("Hookflow-Execution-Stored"))
	}
	if r := e.trigger(t, w.Key, "", `{"a":1}`); r.status != http.StatusOK {
		t.Errorf("after the lock: %d %s", r.status, r.body)
	}
	list, err := svc.ListExecutions(ctx, engine.ExecutionFilter{WorkflowID: w.ID})
	if err != nil || len(list) != 1 {
		t.Errorf("%d executions stored (%v), want the one accepted", len(list), err)
	}

	// Every 503 says when to come back: /healthz of a closed database too.
	store.Close()
	r = e.send(t, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "5" {
		t.Errorf("healthz on a closed database: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
}
