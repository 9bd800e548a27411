package handlers

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPendingSignIns(t *testing.T) {
	t.Parallel()
	p := &pendingSignIns{m: map[string]*pendingSignIn{}}
	now := time.Now()
	tok := p.add(1, "a@example.com", "/x", now)
	if got, ok := p.get(tok, now.Add(PendingSignInLifetime-time.Second)); !ok || got.userID != 1 || got.next != "/x" {
		t.Fatalf("get = %+v, %v", got, ok)
	}
	// Expired after five minutes.
	if _, ok := p.get(tok, now.Add(PendingSignInLifetime)); ok {
		t.Error("expired sign-in still pending")
	}
	// Single use.
	tok = p.add(1, "a@example.com", "", now)
	if !p.take(tok) || p.take(tok) {
		t.Error("take is not single-use")
	}
	// A few wrong codes, then the password again.
	tok = p.add(1, "a@example.com", "", now)
	for i := 1; i < maxCodeAttempts; i++ {
		if !p.reserve(tok, now) || !p.fail(tok) {
			t.Fatalf("dropped after %d wrong codes", i)
		}
	}
	if !p.reserve(tok, now) || p.fail(tok) {
		t.Error("still open after too many wrong codes")
	}
	if p.reserve(tok, now) {
		t.Error("a code attempt after too many wrong ones")
	}
	// Attempts are reserved before the code is checked: of many at once,
	// no more than maxCodeAttempts get to check theirs.
	tok = p.add(1, "a@example.com", "", now)
	var wg sync.WaitGroup
	var reserved atomic.Int32
	for range 40 {
		wg.Go(func() {
			if p.reserve(tok, now) {
				reserved.Add(1)
			}
		})
	}
	wg.Wait()
	if n := reserved.Load(); n != maxCodeAttempts {
		t.Errorf("%d concurrent code attempts reserved, want %d", n, maxCodeAttempts)
	}
	if p.reserve(tok, now.Add(PendingSignInLifetime)) {
		t.Error("reserved on an expired sign-in")
	}
	// Bounded: the oldest goes.
	first := p.add(1, "a@example.com", "", now.Add(-time.Minute))
	for i := range maxPendingSignIns + 10 {
		p.add(2, "b@example.com", "", now.Add(time.Duration(i)*time.Millisecond))
	}
	if len(p.m) > maxPendingSignIns {
		t.Errorf("%d pending sign-ins, bound %d", len(p.m), maxPendingSignIns)
	}
	if _, ok := p.get(first, now); ok {
		t.Error("the oldest pending sign-in was kept")
	}
}
