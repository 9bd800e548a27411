package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// Health answers 200 when the server is up and its database answers.
func (h *Handlers) Health(c *fiber.Ctx) error {
	if err := h.Ping(c.UserContext()); err != nil {
		h.Log.Error("health check", "error", err)
		return engine.Errorf(engine.EUNAVAILABLE, "database unavailable")
	}
	return c.JSON(fiber.Map{"status": "ok"})
}

// Ready is GET /readyz (product.md §15): 200 when the server accepts
// webhooks (its database takes writes), else 503 with Retry-After, also
// from the moment it starts shutting down. A load balancer sends webhooks
// elsewhere meanwhile; /healthz stays 200 while the process is alive.
func (h *Handlers) Ready(c *fiber.Ctx) error {
	if h.Readiness == nil {
		return c.JSON(fiber.Map{"status": "ready"})
	}
	if err := h.Readiness.Check(c.UserContext()); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// Readiness answers whether the server accepts webhooks. Its check is a
// real write through the database's one write connection, so its outcome
// is kept for TTL and at most one check runs at a time: probes, however
// many and frequent, cost the writer at most one small write per TTL.
type Readiness struct {
	check   func(ctx context.Context) error
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	mu       sync.Mutex
	at       time.Time // when err was found
	err      error
	running  bool
	draining bool
}

// NewReadiness returns a Readiness over check (typically db.DB.CheckWrite),
// whose outcome is kept for ttl (1 s when 0). A check that takes longer
// than 2 s counts as not ready: a writer stuck behind a lock or a full disk
// must not hold the probe, and the next probe does not queue another
// write behind the stuck one.
func NewReadiness(check func(ctx context.Context) error, ttl time.Duration) *Readiness {
	if ttl <= 0 {
		ttl = time.Second
	}
	return &Readiness{check: check, ttl: ttl, timeout: 2 * time.Second, now: time.Now}
}

// errNotReady is the reply while a check fails or the server drains.
var (
	errNotReady = &engine.Error{Code: engine.EUNAVAILABLE, Message: "not ready: the database does not take writes right now"}
	errDraining = &engine.Error{Code: engine.EUNAVAILABLE, Message: "not ready: shutting down"}
)

// Drain makes every later check fail: the server is shutting down.
func (r *Readiness) Drain() {
	r.mu.Lock()
	r.draining = true
	r.mu.Unlock()
}

// Check returns nil when the server is ready, else an EUNAVAILABLE error.
func (r *Readiness) Check(ctx context.Context) error {
	r.mu.Lock()
	switch {
	case r.draining:
		r.mu.Unlock()
		return errDraining
	case r.running || (!r.at.IsZero() && r.now().Sub(r.at) < r.ttl):
		// A check in flight (possibly stuck) or a fresh outcome: no new
		// write.
		err := r.err
		r.mu.Unlock()
		return err
	}
	r.running = true
	r.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		// Not the probe's context: a check cut short would say nothing
		// about the database, and its write is queued anyway.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := r.check(cctx)
		if err != nil {
			err = errNotReady
		}
		r.mu.Lock()
		r.err, r.at, r.running = err, r.now(), false
		r.mu.Unlock()
		done <- err
	}()
	t := time.NewTimer(r.timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		r.mu.Lock()
		r.err = errNotReady
		r.mu.Unlock()
		return errNotReady
	case <-ctx.Done():
		return errNotReady
	}
}
