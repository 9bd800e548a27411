package engine

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// RunnerConfig tunes the runner.
type RunnerConfig struct {
	// Workers is how many executions run at once (default 32 per CPU):
	// flows that call other systems spend most of their time waiting for
	// replies, so this is well above the number of CPUs.
	Workers int
	// Batch is how many executions one claim takes at most (default 128).
	Batch int
	// Poll is the longest the runner sleeps between two looks at the
	// earliest due time (default 1 s): work queued or made due by another
	// process is picked up within it; work queued here wakes it at once.
	Poll time.Duration
	// Lease is how long a claim holds an execution before another owner may
	// take it over (default 30 s); leases of running executions are renewed
	// every third of it.
	Lease time.Duration
}

// Errors that end a run early, as the cause of its context.
var (
	errShutdown  = errors.New("runner stopped")
	errCancelled = errors.New("cancelled by an admin")
	errLeaseLost = errors.New("lease lost to another owner")
)

// Runner runs async executions: those accepted by this process (handed
// over at once), and those it claims from the store when they are due
// (queued, waiting executions whose time came, running ones whose lease
// expired, retried and replayed ones). Each run holds a lease on its
// execution, renewed while it runs; progress is stored at every node that
// acted, so a run taken over after a crash resumes at the node that was
// running. Executions run at least once.
type Runner struct {
	svc   *Service
	cfg   RunnerConfig
	slots chan struct{}
	stop  chan struct{}
	// freed wakes the claimer when a slot frees up while all were taken.
	freed chan struct{}
	// wg counts the claimer and the runs; renewing stops after them.
	wg      sync.WaitGroup
	renewWG sync.WaitGroup
	once    sync.Once

	hardCtx    context.Context
	hardCancel context.CancelCauseFunc

	mu       sync.Mutex
	inflight map[int64]context.CancelCauseFunc
}

// NewRunner returns a runner for the service's executions; Start starts it.
func (s *Service) NewRunner(cfg RunnerConfig) *Runner {
	if cfg.Workers <= 0 {
		cfg.Workers = 32 * runtime.GOMAXPROCS(0)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 128
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &Runner{
		svc: s, cfg: cfg, slots: make(chan struct{}, cfg.Workers), stop: make(chan struct{}), freed: make(chan struct{}, 1),
		hardCtx: ctx, hardCancel: cancel, inflight: map[int64]context.CancelCauseFunc{},
	}
	s.lease = cfg.Lease
	s.runner = r
	return r
}

// Start starts claiming and running executions.
func (r *Runner) Start() {
	r.wg.Add(1)
	go r.claimLoop()
	r.renewWG.Add(1)
	go r.renewLoop()
	r.svc.notify()
}

// Stop stops claiming work and waits for the runs in flight to finish. If
// ctx ends first, they are cancelled and their executions released: due at
// once, for another instance or the next start, where they resume at the
// node that was running.
func (r *Runner) Stop(ctx context.Context) error {
	r.once.Do(func() { close(r.stop) })
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	r.hardCancel(errShutdown)
	<-done
	r.renewWG.Wait()
	if err != nil {
		rel, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, rerr := r.svc.executions.ReleaseLeases(rel, r.svc.owner); rerr != nil {
			r.svc.log.Error("release leases", "error", rerr)
		}
	}
	return err
}

// tryAcquire takes a run slot if one is free.
func (r *Runner) tryAcquire() bool {
	select {
	case <-r.stop:
		return false
	default:
	}
	select {
	case r.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// release gives back the slots of runs that ended, and wakes the claimer,
// which may be waiting for a free slot.
func (r *Runner) release(n int) {
	r.giveBack(n)
	select {
	case r.freed <- struct{}{}:
	default:
	}
}

// giveBack returns slots the claimer took but did not use: no wake-up, or
// an idle claimer would wake itself forever.
func (r *Runner) giveBack(n int) {
	for i := 0; i < n; i++ {
		<-r.slots
	}
}

// start runs one execution, leased to this process, whose slot was taken
// with tryAcquire.
func (r *Runner) start(e *Execution) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.release(1)
		r.runOne(e)
	}()
}

func (r *Runner) claimLoop() {
	defer r.wg.Done()
	timer := time.NewTimer(r.cfg.Poll)
	defer timer.Stop()
	// A claim is a write: when runs end one by one, claiming for each freed
	// slot alone would make one write per execution. The claimer waits
	// until a quarter of the slots (or of a batch) are free, unless the
	// queue was just added to.
	minClaim := max(1, min(r.cfg.Batch, r.cfg.Workers)/4)
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		claimed, full := r.claim()
		if full {
			continue // more may be due
		}
		wait := r.cfg.Poll
		if claimed >= 0 {
			if next, ok, err := r.svc.executions.NextDue(r.hardCtx); err != nil {
				r.report(err)
			} else if ok {
				wait = min(wait, max(time.Until(next), time.Millisecond))
			}
		}
		timer.Reset(wait)
	sleep:
		select {
		case <-r.stop:
			return
		case <-r.svc.wake:
		case <-r.freed:
			if claimed == -1 && r.cfg.Workers-len(r.slots) < minClaim {
				goto sleep
			}
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// claim takes free slots, claims up to that many due executions and starts
// them. It returns how many it claimed (-1 when no slot was free) and
// whether it got all it asked for.
func (r *Runner) claim() (int, bool) {
	n := 0
	for n < r.cfg.Batch && r.tryAcquire() {
		n++
	}
	if n == 0 {
		return -1, false
	}
	now := time.Now()
	es, err := r.svc.executions.ClaimExecutions(r.hardCtx, r.svc.owner, now, now.Add(r.cfg.Lease), n)
	if err != nil {
		r.giveBack(n)
		r.report(err)
		return 0, false
	}
	r.giveBack(n - len(es))
	var pure []*Execution
	for _, e := range es {
		if r.running(e.ID) {
			// Its lease expired while it still runs here (the store was
			// slow to renew it): the run in flight goes on.
			r.giveBack(1)
			continue
		}
		if rf, err := r.svc.flowFor(r.hardCtx, e.WorkflowID, e.Revision); err == nil && rf.flow.Pure {
			pure = append(pure, e)
			continue
		}
		r.start(e)
	}
	if len(pure) > 0 {
		// Flows that only compute run one after another and are stored
		// with one write.
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer r.release(len(pure))
			r.runBatch(pure)
		}()
	}
	return len(es), len(es) == n
}

func (r *Runner) running(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.inflight[id]
	return ok
}

// track registers a run so that a cancel or a lost lease can stop it.
func (r *Runner) track(id int64) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(r.hardCtx)
	r.mu.Lock()
	r.inflight[id] = cancel
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		delete(r.inflight, id)
		r.mu.Unlock()
		cancel(nil)
	}
}

// cancelLocal stops the run of an execution in this process, if any.
func (r *Runner) cancelLocal(id int64, cause error) {
	r.mu.Lock()
	cancel := r.inflight[id]
	r.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

func (r *Runner) runOne(e *Execution) {
	ctx, done := r.track(e.ID)
	ok := r.svc.execute(ctx, e, r.cfg.Lease)
	// No longer in flight once its outcome is decided: the write below may
	// make it due again at once (a wait already over), and the claim that
	// follows must not take it for a run still going on here.
	done()
	if ok {
		r.store(ctx, []*Execution{e})
	}
}

func (r *Runner) runBatch(es []*Execution) {
	out := es[:0:0]
	for _, e := range es {
		ctx, done := r.track(e.ID)
		if r.svc.execute(ctx, e, r.cfg.Lease) {
			out = append(out, e)
		}
		done()
	}
	if len(out) > 0 {
		r.store(r.hardCtx, out)
	}
}

// store writes the outcome of runs. A run whose execution was cancelled
// meanwhile has its jobs recorded, its status staying aborted.
func (r *Runner) store(ctx context.Context, es []*Execution) {
	out, err := r.svc.executions.UpdateExecutions(context.WithoutCancel(ctx), r.svc.owner, time.Now().Add(r.cfg.Lease), es)
	if err != nil {
		r.report(err)
	}
	for i, e := range es {
		// Counted once stored as this run's outcome: not when an admin
		// cancelled it meanwhile (counted then) or another owner has it.
		if i < len(out) && out[i] == Updated {
			r.svc.finished(e)
		}
	}
	for _, e := range es {
		if e.Status == StatusWaiting {
			r.svc.notify() // the claimer's next look at the due time
			break
		}
	}
}

// renewLoop extends the leases of the runs in flight every third of the
// lease, and stops the runs whose lease it no longer holds.
func (r *Runner) renewLoop() {
	defer r.renewWG.Done()
	t := time.NewTicker(r.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-r.hardCtx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		ids := make([]int64, 0, len(r.inflight))
		for id := range r.inflight {
			ids = append(ids, id)
		}
		r.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		lost, err := r.svc.executions.RenewLeases(r.hardCtx, r.svc.owner, ids, time.Now().Add(r.cfg.Lease))
		if err != nil {
			r.report(err)
			continue
		}
		for _, id := range lost {
			r.cancelLocal(id, errLeaseLost)
		}
	}
}

func (r *Runner) report(err error) {
	if err != nil && r.hardCtx.Err() == nil {
		r.svc.log.Error("run executions", "error", err)
	}
}

// execute runs (or resumes) one execution leased to this process and fills
// in its outcome. It reports whether that outcome is to be stored: not when
// the run stopped because the runner is shutting down or the lease was
// lost, nor when a checkpoint found the execution cancelled (then its jobs
// are stored already).
func (s *Service) execute(ctx context.Context, e *Execution, lease time.Duration) bool {
	if e.StartedAt.IsZero() {
		e.StartedAt = s.now()
	}
	rf, err := s.flowFor(ctx, e.WorkflowID, e.Revision)
	if err != nil {
		if context.Cause(ctx) == errShutdown {
			return false
		}
		e.Status, e.Error, e.FinishedAt = StatusError, "workflow revision cannot run", s.now()
		if ErrorCode(err) != ENOTFOUND {
			s.log.Error("load workflow revision", "workflow_id", e.WorkflowID, "revision", e.Revision, "execution_id", e.ID, "error", err)
		}
		return true
	}
	runCtx, cancel := context.WithTimeout(ctx, rf.wf.Doc.Timeout())
	defer cancel()
	sc := s.scope(rf.wf, e)
	sc.Env = s.env
	stored := false
	res := rf.flow.RunFrom(runCtx, sc, RunOptions{Prior: e.Jobs, Checkpoint: func(jobs []Job) error {
		e.Jobs, e.Status = jobs, StatusRunning
		out, err := s.executions.UpdateExecutions(context.WithoutCancel(ctx), s.owner, time.Now().Add(lease), []*Execution{e})
		switch {
		case err != nil:
			return err
		case out[0] == Cancelled:
			stored = true
			return errCancelled
		case out[0] == LeaseLost:
			return errLeaseLost
		}
		return nil
	}})
	if res.Stopped != nil {
		if !stored && !errors.Is(res.Stopped, errCancelled) && !errors.Is(res.Stopped, errLeaseLost) {
			s.log.Error("store execution progress", "workflow_id", e.WorkflowID, "execution_id", e.ID, "error", res.Stopped)
		}
		return false
	}
	switch context.Cause(ctx) {
	case errShutdown, errLeaseLost:
		// Not this run's outcome to record: it resumes elsewhere, or
		// after the restart, from the last checkpoint.
		return false
	}
	e.Jobs, e.Error = res.Jobs, res.Error
	e.Status = res.Status
	if e.Response == nil {
		e.Response = res.Response
	}
	e.DueAt = time.Time{}
	switch {
	case res.Status == StatusWaiting:
		e.DueAt = res.WaitUntil
	case res.Status.Final():
		e.FinishedAt = s.now()
	}
	return true
}
