package handlers

import (
	"strings"
	"sync"
	"time"
)

// Throttle slows down password guessing: after a few failures for an
// account or from a client address, each further attempt must wait, the
// wait doubling with every failure up to a cap. State is in memory: a
// restart forgives, which is fine for a single-binary deployment.
type Throttle struct {
	mu    sync.Mutex
	fails map[string]*failures
	// Free is how many failures go unpunished (default 5).
	Free int
	// Base and Max bound the wait (defaults 1 s and 15 min).
	Base, Max time.Duration
}

type failures struct {
	n    int
	last time.Time
}

// NewThrottle returns a throttle with the default limits.
func NewThrottle() *Throttle {
	return &Throttle{fails: map[string]*failures{}, Free: 5, Base: time.Second, Max: 15 * time.Minute}
}

func throttleKeys(email, ip string) [2]string {
	return [2]string{"a:" + strings.ToLower(email), "ip:" + ip}
}

// Wait returns how long the caller must wait before trying again (0: go).
func (t *Throttle) Wait(email, ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range throttleKeys(email, ip) {
		f := t.fails[k]
		if f == nil || f.n < t.Free {
			continue
		}
		d := t.Base << min(f.n-t.Free, 20)
		if d > t.Max || d <= 0 {
			d = t.Max
		}
		if left := f.last.Add(d).Sub(now); left > wait {
			wait = left
		}
	}
	return wait
}

// Fail records a failed attempt.
func (t *Throttle) Fail(email, ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.fails) > 100000 {
		t.prune(now)
	}
	for _, k := range throttleKeys(email, ip) {
		f := t.fails[k]
		if f == nil {
			f = &failures{}
			t.fails[k] = f
		}
		f.n++
		f.last = now
	}
}

// Succeed forgets the account's failures (the address keeps its own).
func (t *Throttle) Succeed(email, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, throttleKeys(email, ip)[0])
}

func (t *Throttle) prune(now time.Time) {
	for k, f := range t.fails {
		if now.Sub(f.last) > t.Max {
			delete(t.fails, k)
		}
	}
}
