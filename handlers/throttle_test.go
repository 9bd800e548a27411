package handlers_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/db/postgres"
	"github.com/hookflow/hookflow/db/postgres/pgtest"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/secretbox"
	"github.com/hookflow/hookflow/handlers"
	"golang.org/x/crypto/bcrypt"
)

// fail records one failed attempt of email from ip.
func fail(t *testing.T, th *handlers.Throttle, email, ip string, now time.Time) {
	t.Helper()
	a, wait, err := th.Begin(context.Background(), email, ip, now)
	if err != nil {
		t.Fatal(err)
	}
	if a == nil {
		t.Fatalf("%s from %s: told to wait %v before failing", email, ip, wait)
	}
	a.Fail()
}

func mayTry(th *handlers.Throttle, email, ip string, now time.Time) bool {
	a, _, _ := th.Begin(context.Background(), email, ip, now)
	if a != nil {
		a.Cancel()
	}
	return a != nil
}

// TestThrottleKeys: the pair (account, address) and the address shut out;
// the account slows down only the addresses that failed on it, so wrong
// passwords from elsewhere never lock the right one out (issue 12,
// point 4).
func TestThrottleKeys(t *testing.T) {
	t.Parallel()
	throttleKeys(t, func() *handlers.Throttle { return handlers.NewThrottle() })
}

// The same, with the counters in PostgreSQL, as several instances keep
// them.
func TestThrottleKeysPostgres(t *testing.T) {
	pgtest.ServerURL(t)
	t.Parallel()
	throttleKeys(t, func() *handlers.Throttle {
		th := handlers.NewThrottle()
		th.Store = openPostgres(t, pgtest.Schema(t))
		return th
	})
}

// Failures through one instance count on the others: guessing through
// several instances is as slow as through one.
func TestThrottleAcrossInstances(t *testing.T) {
	pgtest.ServerURL(t)
	t.Parallel()
	url := pgtest.Schema(t)
	one, two := handlers.NewThrottle(), handlers.NewThrottle()
	one.Store, two.Store = openPostgres(t, url), openPostgres(t, url)
	now := time.Now()
	const admin = "admin@example.com"
	for i := range one.Free {
		th := one
		if i%2 == 1 {
			th = two
		}
		fail(t, th, admin, "198.51.100.7", now)
	}
	for _, th := range []*handlers.Throttle{one, two} {
		if mayTry(th, admin, "198.51.100.7", now) {
			t.Error("an instance lets the guessing address go on")
		}
	}
	// Concurrent attempts on both instances: each reserves its own.
	var wg sync.WaitGroup
	var granted atomic.Int32
	for i := range 2 * one.Free {
		th := []*handlers.Throttle{one, two}[i%2]
		wg.Go(func() {
			a, _, err := th.Begin(context.Background(), admin, "203.0.113.5", now)
			if err != nil {
				t.Error(err)
				return
			}
			if a != nil {
				granted.Add(1)
				a.Fail()
			}
		})
	}
	wg.Wait()
	if g := granted.Load(); g != int32(one.Free) {
		t.Errorf("%d concurrent attempts granted across instances, want %d", g, one.Free)
	}
}

func openPostgres(t *testing.T, url string) *postgres.DB {
	t.Helper()
	box, err := secretbox.New([]byte("throttle-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := postgres.Open(context.Background(), url, box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func throttleKeys(t *testing.T, newThrottle func() *handlers.Throttle) {
	now := time.Now()
	const admin = "admin@example.com"

	th := newThrottle()
	for range th.Free {
		fail(t, th, admin, "198.51.100.7", now)
	}
	if mayTry(th, admin, "198.51.100.7", now) {
		t.Error("the guessing address may go on")
	}
	if !mayTry(th, "ADMIN@example.com ", "203.0.113.1", now) {
		t.Error("five wrong passwords from one address locked the account out everywhere")
	}
	if !mayTry(th, admin, "198.51.100.7", now.Add(th.Base+time.Millisecond)) {
		t.Error("the wait does not end")
	}

	// Spread over many addresses: each that failed waits for the account's
	// wait, while a new address is still let in.
	th = newThrottle()
	for i := range th.AccountFree {
		fail(t, th, admin, fmt.Sprintf("198.51.100.%d", i+1), now)
	}
	if mayTry(th, admin, "198.51.100.1", now) {
		t.Error("an address that failed on a targeted account may go on at once")
	}
	if !mayTry(th, admin, "203.0.113.9", now) {
		t.Error("a new address is shut out by failures elsewhere")
	}
	a, _, _ := th.Begin(context.Background(), admin, "203.0.113.9", now)
	a.Succeed()
	if !mayTry(th, admin, "203.0.113.9", now) {
		t.Error("a signed-in address is slowed after its success")
	}
	if mayTry(th, admin, "198.51.100.2", now) {
		t.Error("a success elsewhere reset the account's wait for the guessing addresses")
	}

	// One address trying many accounts.
	th = newThrottle()
	for i := range th.AddressFree {
		fail(t, th, fmt.Sprintf("user%d@example.com", i), "198.51.100.7", now)
	}
	if mayTry(th, "another@example.com", "198.51.100.7", now) {
		t.Error("one address may try accounts without end")
	}
	// IPv6: a /64 is one address.
	th = newThrottle()
	for i := range th.Free {
		fail(t, th, admin, fmt.Sprintf("2001:db8:1:2::%x", i+1), now)
	}
	if mayTry(th, admin, "2001:db8:1:2:ffff::1", now) {
		t.Error("a host changes its IPv6 address within its /64 to go on guessing")
	}
	if !mayTry(th, admin, "2001:db8:1:3::1", now) {
		t.Error("another /64 is shut out")
	}

	// Cancel gives the attempt back; counters are forgotten after a quiet day.
	th = newThrottle()
	for range 3 * th.Free {
		a, _, _ := th.Begin(context.Background(), admin, "198.51.100.7", now)
		if a == nil {
			t.Fatal("cancelled attempts were counted")
		}
		a.Cancel()
		a.Fail() // settled already: nothing
	}
	for range th.Free {
		fail(t, th, admin, "198.51.100.7", now)
	}
	if !mayTry(th, admin, "198.51.100.7", now.Add(th.Forget+time.Second)) {
		t.Error("failures of yesterday still count")
	}
}

// TestThrottleCheckGate: at most four password checks run at once; a few
// more wait their turn; the others are refused at once, not queued.
func TestThrottleCheckGate(t *testing.T) {
	t.Parallel()
	th := handlers.NewThrottle()
	var inFlight, most, refused atomic.Int32
	var wg sync.WaitGroup
	start := time.Now()
	for range 40 {
		wg.Go(func() {
			if !th.AcquireCheck(context.Background()) {
				refused.Add(1)
				return
			}
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			inFlight.Add(-1)
			th.ReleaseCheck()
		})
	}
	wg.Wait()
	if m := most.Load(); m != 4 {
		t.Errorf("%d checks ran at once, want 4", m)
	}
	if r := refused.Load(); r < 40-4-8 {
		t.Errorf("%d of 40 refused, want at least %d (4 running, 8 waiting)", r, 40-4-8)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("40 attempts took %v", d)
	}
}

// TestSignInConcurrent: 40 concurrent wrong passwords from one address
// are not all checked (issue 12, point 3): the attempts are reserved
// before the password check, so no more than Free of them get to bcrypt.
func TestSignInConcurrent(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	// A slower hash than the other tests', so that the checks overlap.
	hash, err := bcrypt.GenerateFromPassword([]byte("the-real-passphrase"), 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.store.CreateUser(context.Background(), &engine.User{Email: "ops@example.com", PasswordHash: string(hash)}); err != nil {
		t.Fatal(err)
	}
	res, body := send(t, srv.app, httptest.NewRequest(http.MethodGet, "/signin", nil))
	pre := cookieValue(res, "hookflow_csrf")
	m := csrfInputRE.FindStringSubmatch(body)
	if pre == "" || m == nil {
		t.Fatal("no CSRF cookie or field")
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			form := url.Values{"email": {"ops@example.com"}, "password": {fmt.Sprintf("wrong-password-%d", i)}, "_csrf": {html.UnescapeString(m[1])}}
			req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", "hookflow_csrf="+pre)
			res, err := srv.app.Test(req, -1)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			mu.Lock()
			statuses[res.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[http.StatusUnauthorized] > srv.h.Throttle.Free {
		t.Errorf("%d wrong passwords checked (statuses %v), want at most %d", statuses[http.StatusUnauthorized], statuses, srv.h.Throttle.Free)
	}
	if n := statuses[http.StatusUnauthorized] + statuses[http.StatusTooManyRequests] + statuses[http.StatusServiceUnavailable]; n != 40 {
		t.Errorf("statuses %v: want only 401, 429 and 503", statuses)
	}
}

// TestSignInBusy: when the password checks are all taken, a sign-in is
// answered 503 at once, with Retry-After, and is not counted as a failure.
func TestSignInBusy(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	var held sync.WaitGroup
	for range 4 {
		if !srv.h.Throttle.AcquireCheck(ctx) {
			t.Fatal("gate full before the test")
		}
	}
	waiting := make(chan struct{}, 8)
	for range 8 { // fill the waiting room: they give up when ctx ends
		held.Go(func() {
			waiting <- struct{}{}
			if srv.h.Throttle.AcquireCheck(ctx) {
				srv.h.Throttle.ReleaseCheck()
			}
		})
	}
	for range 8 {
		<-waiting
	}
	time.Sleep(20 * time.Millisecond) // let them reach the waiting room
	for range srv.h.Throttle.Free + 1 {
		start := time.Now()
		res, body := signInAttempt(t, srv.app, testEmail, testPassword, "", "")
		wantStatus(t, res, http.StatusServiceUnavailable)
		if res.Header.Get("Retry-After") != "1" || !strings.Contains(body, "The server is busy") {
			t.Errorf("busy reply: Retry-After %q, body without the message", res.Header.Get("Retry-After"))
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("the busy reply took %v", d)
		}
	}
	cancel()
	held.Wait()
	for range 4 {
		srv.h.Throttle.ReleaseCheck()
	}
	// Not counted: the right password signs in at once.
	res, _ := signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	wantStatus(t, res, http.StatusSeeOther)
}

// TestSignInNotLockedOut: over real sockets from different loopback
// addresses, wrong passwords for the admin's email from one address lock
// that address, not the admin signing in from another (issue 12, point 4).
func TestSignInNotLockedOut(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.app.Listener(ln)
	t.Cleanup(func() { srv.app.ShutdownWithTimeout(5 * time.Second) })
	base := "http://" + ln.Addr().String()

	for i := range srv.h.Throttle.Free {
		if got := signInFrom(t, base, "127.0.0.2", testEmail, fmt.Sprintf("wrong-password-%d", i)); got != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d", i, got)
		}
	}
	if got := signInFrom(t, base, "127.0.0.2", testEmail, testPassword); got != http.StatusTooManyRequests {
		t.Errorf("the guessing address: status %d, want 429", got)
	}
	if got := signInFrom(t, base, "127.0.0.3", testEmail, testPassword); got != http.StatusSeeOther {
		t.Errorf("the admin from another address: status %d, want 303 (signed in)", got)
	}
	// Spread over more addresses until the account is under attack: the
	// addresses that guessed are slowed, a new one still signs in.
	for i := range srv.h.Throttle.AccountFree {
		signInFrom(t, base, fmt.Sprintf("127.0.1.%d", i+1), testEmail, "wrong-password")
	}
	if got := signInFrom(t, base, "127.0.1.1", testEmail, "wrong-password-again"); got != http.StatusTooManyRequests {
		t.Errorf("a guessing address of a targeted account: status %d, want 429", got)
	}
	if got := signInFrom(t, base, "127.0.0.4", testEmail, testPassword); got != http.StatusSeeOther {
		t.Errorf("the admin from a new address during the attack: status %d, want 303", got)
	}
}

// signInFrom runs the sign-in form from a loopback source address and
// returns the status of the POST.
func signInFrom(t *testing.T, base, ip, email, password string) int {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	client := &http.Client{
		Transport:     &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	res, err := client.Get(base + "/signin")
	if err != nil {
		t.Fatalf("GET /signin from %s: %v", ip, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	pre := cookieValue(res, "hookflow_csrf")
	m := csrfInputRE.FindStringSubmatch(string(b))
	if pre == "" || m == nil {
		t.Fatalf("GET /signin from %s: no CSRF cookie or field", ip)
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {html.UnescapeString(m[1])}}
	req, _ := http.NewRequest(http.MethodPost, base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "hookflow_csrf="+pre)
	res, err = client.Do(req)
	if err != nil {
		t.Fatalf("POST /signin from %s: %v", ip, err)
	}
	res.Body.Close()
	return res.StatusCode
}
