package handlers

import (
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
		if !p.fail(tok) {
			t.Fatalf("dropped after %d wrong codes", i)
		}
	}
	if p.fail(tok) {
		t.Error("still open after too many wrong codes")
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
