package handlers

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Throttle slows down password guessing (sign-in, its two-factor code, and
// the password checks of the account page). Its counters are in memory
// (a restart forgives, which is fine for one instance), or in the database
// that several instances share (Store), so that it holds across them.
//
// Three counters of failures, each with a number of free failures after
// which every further attempt must wait, the wait doubling with every
// failure from Base up to Max:
//
//   - the pair (account, address): Free failures (default 5);
//   - the address, whatever the account: AddressFree (default 20), against
//     one address trying many accounts;
//   - the account, whatever the address: AccountFree (default 10). This
//     one slows down, it never shuts out: it applies only to addresses
//     that have failed on that account already, so anyone may lock
//     themselves out, but the right password from an address that has not
//     failed is always checked, however many wrong ones came from
//     elsewhere. Spread over many addresses, guessing gets one try per
//     fresh address while the account is under attack.
//
// An attempt is reserved (counted as a failure) before the password is
// checked and given back if it was right, so that concurrent attempts
// cannot all pass the check of the counters (issue 12, point 3). The
// bcrypt checks themselves go through a gate that runs a few at a time.
type Throttle struct {
	// Store keeps the counters in the shared database; nil keeps them in
	// this process.
	Store engine.ThrottleStore
	// Free, AddressFree and AccountFree are the free failures of the pair,
	// the address and the account.
	Free, AddressFree, AccountFree int
	// Base and Max bound the wait (defaults 1 s and 15 min).
	Base, Max time.Duration
	// Forget is how long without a failure wipes a counter (default 24 h).
	Forget time.Duration

	memOnce sync.Once
	mem     *memoryCounters

	gateOnce sync.Once
	gate     *checkGate
}

// NewThrottle returns a throttle with the default limits, its counters in
// memory.
func NewThrottle() *Throttle {
	return &Throttle{Free: 5, AddressFree: 20, AccountFree: 10, Base: time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}
}

// maxThrottleEntries bounds the counters kept in memory; past it, those
// whose wait is over are dropped.
const maxThrottleEntries = 100000

// keysFor returns the counters of an attempt: the pair, the address, the
// account, in that order.
func keysFor(email, ip string) []string {
	account := strings.ToLower(strings.TrimSpace(email))
	addr := addressKey(ip)
	return []string{"p:" + account + "\x00" + addr, "ip:" + addr, "a:" + account}
}

// addressKey is the unit of an address: an IPv4 address, or the /64 of an
// IPv6 one (a single host commonly holds a whole /64, so counting its
// addresses one by one would let it try 2^64 times).
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return a.String()
}

// Attempt is a reserved password (or code) check: it counts as a failure
// until Succeed or Cancel gives it back. The first of Fail, Succeed and
// Cancel settles it and the others then do nothing, so that a deferred
// Cancel covers every early return. An Attempt belongs to one request.
type Attempt struct {
	t       *Throttle
	keys    []string
	settled bool
}

func (t *Throttle) counters() engine.ThrottleStore {
	if t.Store != nil {
		return t.Store
	}
	t.memOnce.Do(func() { t.mem = &memoryCounters{fails: map[string]*engine.Failures{}, max: t.Max} })
	return t.mem
}

// Begin reserves an attempt for email from ip. When the counters say to
// wait, it returns a nil Attempt and how long. An error (the shared
// counters cannot be reached) reserves nothing: the caller answers 503.
func (t *Throttle) Begin(ctx context.Context, email, ip string, now time.Time) (*Attempt, time.Duration, error) {
	keys := keysFor(email, ip)
	wait, err := t.counters().ReserveAttempt(ctx, keys, now, t.Forget, func(f []engine.Failures) time.Duration {
		wait := max(t.wait(f[0], t.Free, now), t.wait(f[1], t.AddressFree, now))
		if f[0].N > 0 {
			wait = max(wait, t.wait(f[2], t.AccountFree, now))
		}
		return wait
	})
	if err != nil {
		return nil, 0, err
	}
	if wait > 0 {
		return nil, wait, nil
	}
	return &Attempt{t: t, keys: keys}, 0, nil
}

// wait is how long f says to wait when free failures go unpunished.
func (t *Throttle) wait(f engine.Failures, free int, now time.Time) time.Duration {
	if f.N < free {
		return 0
	}
	d := t.Base << min(f.N-free, 20)
	if d > t.Max || d <= 0 {
		d = t.Max
	}
	return max(f.Last.Add(d).Sub(now), 0)
}

// Fail keeps the reserved attempt as a failure.
func (a *Attempt) Fail() { a.settled = true }

// Succeed gives the attempt back and forgets the pair's failures: this
// address knows the password. The address and the account keep their
// other failures, so a success does not reset the wait of an attack.
func (a *Attempt) Succeed() { a.giveBack(a.keys[0]) }

// Cancel gives the attempt back: nothing was checked (the server was
// busy, the database failed, the form was incomplete), or a right password
// now waits for its second factor.
func (a *Attempt) Cancel() { a.giveBack("") }

// giveBack settles the attempt by giving it back. It runs in deferred
// calls, after the request's context may have ended, so it has a context
// of its own; should the shared counters fail, the attempt stays counted
// as a failure, which errs on the side of the throttle.
func (a *Attempt) giveBack(forget string) {
	if a.settled {
		return
	}
	a.settled = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.t.counters().GiveBackAttempt(ctx, a.keys, forget)
}

// memoryCounters is the throttle's store in one process.
type memoryCounters struct {
	mu    sync.Mutex
	fails map[string]*engine.Failures
	max   time.Duration
}

// ReserveAttempt implements engine.ThrottleStore.
func (m *memoryCounters) ReserveAttempt(_ context.Context, keys []string, now time.Time, forget time.Duration, decide func([]engine.Failures) time.Duration) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.fails) >= maxThrottleEntries {
		for k, f := range m.fails {
			if now.Sub(f.Last) > m.max {
				delete(m.fails, k)
			}
		}
	}
	cur := make([]engine.Failures, len(keys))
	for i, k := range keys {
		f := m.fails[k]
		if f != nil && now.Sub(f.Last) > forget {
			delete(m.fails, k)
			f = nil
		}
		if f != nil {
			cur[i] = *f
		}
	}
	if wait := decide(cur); wait > 0 {
		return wait, nil
	}
	for _, k := range keys {
		f := m.fails[k]
		if f == nil {
			f = &engine.Failures{}
			m.fails[k] = f
		}
		f.N++
		f.Last = now
	}
	return 0, nil
}

// GiveBackAttempt implements engine.ThrottleStore.
func (m *memoryCounters) GiveBackAttempt(_ context.Context, keys []string, forget string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if f := m.fails[k]; f != nil {
			if f.N--; f.N <= 0 {
				delete(m.fails, k)
			}
		}
	}
	if forget != "" {
		delete(m.fails, forget)
	}
	return nil
}

// Bounds of the password-check gate: bcrypt at cost 12 takes a quarter
// second of a core, so a burst of sign-ins could hold every core for
// seconds. A few checks run at once; a few more wait their turn, briefly;
// beyond that the caller is told to come back (503 with Retry-After)
// rather than queued without bound.
const (
	maxPasswordChecks  = 4
	maxPasswordWaiting = 8
	passwordCheckWait  = 2 * time.Second
)

// checkGate bounds the password checks in flight.
type checkGate struct {
	run  chan struct{}
	wait chan struct{}
}

func (t *Throttle) checks() *checkGate {
	t.gateOnce.Do(func() {
		t.gate = &checkGate{run: make(chan struct{}, maxPasswordChecks), wait: make(chan struct{}, maxPasswordWaiting)}
	})
	return t.gate
}

// AcquireCheck takes a place for one password check; it reports false,
// quickly, when the server is too busy. A true must be paired with
// ReleaseCheck.
func (t *Throttle) AcquireCheck(ctx context.Context) bool {
	g := t.checks()
	select {
	case g.run <- struct{}{}:
		return true
	default:
	}
	select {
	case g.wait <- struct{}{}:
	default:
		return false
	}
	defer func() { <-g.wait }()
	timer := time.NewTimer(passwordCheckWait)
	defer timer.Stop()
	select {
	case g.run <- struct{}{}:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	return false
}

// ReleaseCheck gives back the place of a finished password check.
func (t *Throttle) ReleaseCheck() { <-t.checks().run }
