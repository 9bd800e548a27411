package handlers

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Throttle slows down password guessing (sign-in, its two-factor code, and
// the password checks of the account page). State is in memory: a restart
// forgives, which is fine for a single-binary deployment.
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
	mu    sync.Mutex
	fails map[string]*failures
	// Free, AddressFree and AccountFree are the free failures of the pair,
	// the address and the account.
	Free, AddressFree, AccountFree int
	// Base and Max bound the wait (defaults 1 s and 15 min).
	Base, Max time.Duration
	// Forget is how long without a failure wipes a counter (default 24 h).
	Forget time.Duration

	gateOnce sync.Once
	gate     *checkGate
}

type failures struct {
	n    int
	last time.Time
}

// NewThrottle returns a throttle with the default limits.
func NewThrottle() *Throttle {
	return &Throttle{fails: map[string]*failures{}, Free: 5, AddressFree: 20, AccountFree: 10,
		Base: time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}
}

// maxThrottleEntries bounds the counters kept; past it, those whose wait
// is over are dropped.
const maxThrottleEntries = 100000

type throttleKeys struct{ pair, addr, account string }

func keysFor(email, ip string) throttleKeys {
	account := strings.ToLower(strings.TrimSpace(email))
	addr := addressKey(ip)
	return throttleKeys{pair: "p:" + account + "\x00" + addr, addr: "ip:" + addr, account: "a:" + account}
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
	keys    throttleKeys
	settled bool
}

// Begin reserves an attempt for email from ip. When the counters say to
// wait, it returns a nil Attempt and how long.
func (t *Throttle) Begin(email, ip string, now time.Time) (*Attempt, time.Duration) {
	keys := keysFor(email, ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.fails) >= maxThrottleEntries {
		t.prune(now)
	}
	pair := t.current(keys.pair, now)
	wait := t.wait(pair, t.Free, now)
	wait = max(wait, t.wait(t.current(keys.addr, now), t.AddressFree, now))
	if pair != nil && pair.n > 0 {
		wait = max(wait, t.wait(t.current(keys.account, now), t.AccountFree, now))
	}
	if wait > 0 {
		return nil, wait
	}
	for _, k := range []string{keys.pair, keys.addr, keys.account} {
		f := t.fails[k]
		if f == nil {
			f = &failures{}
			t.fails[k] = f
		}
		f.n++
		f.last = now
	}
	return &Attempt{t: t, keys: keys}, 0
}

// current returns the counter of k, wiping it if it is older than Forget.
func (t *Throttle) current(k string, now time.Time) *failures {
	f := t.fails[k]
	if f != nil && now.Sub(f.last) > t.Forget {
		delete(t.fails, k)
		return nil
	}
	return f
}

// wait is how long f says to wait when free failures go unpunished.
func (t *Throttle) wait(f *failures, free int, now time.Time) time.Duration {
	if f == nil || f.n < free {
		return 0
	}
	d := t.Base << min(f.n-free, 20)
	if d > t.Max || d <= 0 {
		d = t.Max
	}
	return max(f.last.Add(d).Sub(now), 0)
}

// Fail keeps the reserved attempt as a failure.
func (a *Attempt) Fail() { a.settled = true }

// Succeed gives the attempt back and forgets the pair's failures: this
// address knows the password. The address and the account keep their
// other failures, so a success does not reset the wait of an attack.
func (a *Attempt) Succeed() {
	if a.settled {
		return
	}
	a.settled = true
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	a.t.giveBack(a.keys)
	delete(a.t.fails, a.keys.pair)
}

// Cancel gives the attempt back: nothing was checked (the server was
// busy, the database failed, the form was incomplete), or a right password
// now waits for its second factor.
func (a *Attempt) Cancel() {
	if a.settled {
		return
	}
	a.settled = true
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	a.t.giveBack(a.keys)
}

func (t *Throttle) giveBack(keys throttleKeys) {
	for _, k := range []string{keys.pair, keys.addr, keys.account} {
		if f := t.fails[k]; f != nil {
			if f.n--; f.n <= 0 {
				delete(t.fails, k)
			}
		}
	}
}

func (t *Throttle) prune(now time.Time) {
	for k, f := range t.fails {
		if now.Sub(f.last) > t.Max {
			delete(t.fails, k)
		}
	}
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
