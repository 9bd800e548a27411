package handlers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// TestReadinessCached: many probes at once cost one check per TTL; a
// failing check is a 503-coded error; draining is final.
func TestReadinessCached(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var fail atomic.Bool
	r := NewReadiness(func(context.Context) error {
		calls.Add(1)
		time.Sleep(5 * time.Millisecond)
		if fail.Load() {
			return errors.New("disk full")
		}
		return nil
	}, time.Hour)
	now := time.Now()
	var mu sync.Mutex
	r.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.Check(context.Background()) }()
	}
	wg.Wait()
	if err := r.Check(context.Background()); err != nil {
		t.Fatalf("ready: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d checks for 51 probes within the TTL, want 1", n)
	}
	fail.Store(true)
	if err := r.Check(context.Background()); err != nil {
		t.Error("the outcome was not kept for the TTL")
	}
	advance(2 * time.Hour)
	err := r.Check(context.Background())
	if engine.ErrorCode(err) != engine.EUNAVAILABLE || engine.ErrorMessage(err) != "not ready: the database does not take writes right now" {
		t.Errorf("failing check: %v", err)
	}
	fail.Store(false)
	advance(2 * time.Hour)
	if err := r.Check(context.Background()); err != nil {
		t.Errorf("recovered: %v", err)
	}
	r.Drain()
	if err := r.Check(context.Background()); engine.ErrorMessage(err) != "not ready: shutting down" {
		t.Errorf("draining: %v", err)
	}
}

// TestReadinessStuck: a check that does not return in time is not ready,
// and no second check is queued behind it.
func TestReadinessStuck(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var calls atomic.Int32
	r := NewReadiness(func(context.Context) error {
		calls.Add(1)
		<-release
		return nil
	}, time.Millisecond)
	r.timeout = 20 * time.Millisecond
	start := time.Now()
	if err := r.Check(context.Background()); engine.ErrorCode(err) != engine.EUNAVAILABLE {
		t.Fatalf("stuck check: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the probe waited %s", d)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(2 * time.Millisecond)
		if err := r.Check(context.Background()); engine.ErrorCode(err) != engine.EUNAVAILABLE {
			t.Errorf("while stuck: %v", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d checks while the first was stuck, want 1", n)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for r.Check(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("not ready after the check returned")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
