package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestReady: /readyz is 200 while the database takes writes, 503 with
// Retry-After (JSON) while another process holds its write lock, 200 again
// once it is released, and 503 from the moment the server drains; /healthz
// stays 200 meanwhile.
func TestReady(t *testing.T) {
	t.Parallel()
	e := newLockableEnv(t)
	probe := func() apiReply { return e.send(t, httptest.NewRequest(http.MethodGet, "/readyz", nil)) }

	if r := probe(); r.status != 200 || string(r.body) != `{"status":"ready"}` {
		t.Fatalf("readyz: %d %s", r.status, r.body)
	}
	tx, err := e.other.Begin() // another process holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // past the TTL
	r := probe()
	if msg := apiError(t, r, http.StatusServiceUnavailable); msg != "not ready: the database does not take writes right now" {
		t.Errorf("message %q", msg)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if r := e.send(t, httptest.NewRequest(http.MethodGet, "/healthz", nil)); r.status != 200 {
		t.Errorf("healthz while not ready: %d", r.status)
	}
	tx.Rollback()
	deadline := time.Now().Add(5 * time.Second)
	for probe().status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("still not ready after the lock was released")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.ready.Drain()
	if msg := apiError(t, probe(), http.StatusServiceUnavailable); msg != "not ready: shutting down" {
		t.Errorf("draining: %q", msg)
	}
}
