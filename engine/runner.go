package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
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

// maxRuns is how many times an execution is claimed before the runner
// gives up on it (error): only an execution that kills its process or
// never stores its outcome gets there, each wake-up of a wait and each
// retry being one run.
const maxRuns = 1000

// writeTimeout bounds a run's writes: a database that does not answer must
// not hold a run (or the shutdown) forever; the lease then lapses and the
// execution runs again.
const writeTimeout = 30 * time.Second

// Runner runs async executions: those accepted by this process (handed
// over at once), and those it claims from the store when they are due
// (queued, waiting executions whose time came, running ones whose lease
// expired, retried and replayed ones). Each run holds a lease on its
// execution, renewed while it runs; progress is stored after every node
// that acted, so a run taken over after a crash resumes at the node that was
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

	mu sync.Mutex
	// stopping refuses new runs once Stop began (a handler that took a
	// slot just before may still try to start one).
	stopping bool
	inflight map[int64]*inflightRun
}

// inflightRun is one run in flight: its claim of the execution, and how to
// stop it.
type inflightRun struct {
	claim  int
	cancel context.CancelCauseFunc
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
		hardCtx: ctx, hardCancel: cancel, inflight: map[int64]*inflightRun{},
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
// ctx ends first, they are cancelled. Either way the executions it still
// holds (a run refused after the stop began, one cancelled) are released:
// due at once, for another instance or the next start, where they resume
// at the node that was running.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
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
	rel, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if n, rerr := r.svc.executions.ReleaseLeases(rel, r.svc.owner); rerr != nil {
		r.svc.log.Error("release leases", "error", rerr)
	} else if n > 0 {
		r.svc.log.Info("released executions for the next run", "count", n)
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
// with tryAcquire. Once Stop began it runs nothing: the execution stays
// leased, and Stop releases it.
func (r *Runner) start(e *Execution) {
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		r.release(1)
		return
	}
	r.wg.Add(1)
	r.mu.Unlock()
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
		if e.LoadErr == nil && !e.Test {
			if rf, err := r.svc.flowFor(r.hardCtx, e.WorkflowID, e.Revision); err == nil && rf.flow.Pure {
				pure = append(pure, e)
				continue
			}
		}
		r.start(e)
	}
	if len(pure) > 0 {
		r.mu.Lock()
		if r.stopping {
			r.mu.Unlock()
			r.release(len(pure))
			return len(es), false
		}
		r.wg.Add(1)
		r.mu.Unlock()
		// Flows that only compute run one after another and are stored
		// with one write.
		go func() {
			defer r.wg.Done()
			defer r.release(len(pure))
			r.runBatch(pure)
		}()
	}
	return len(es), len(es) == n
}

// track registers a run so that a cancel or a lost lease can stop it. A run
// of an earlier claim of the same execution still in flight here is stale
// (its lease expired, or the execution was cancelled, retried and claimed
// again): it is stopped, and the store refuses its writes.
func (r *Runner) track(e *Execution) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(r.hardCtx)
	run := &inflightRun{claim: e.Attempts, cancel: cancel}
	r.mu.Lock()
	if old := r.inflight[e.ID]; old != nil {
		old.cancel(errLeaseLost)
	}
	r.inflight[e.ID] = run
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		if r.inflight[e.ID] == run {
			delete(r.inflight, e.ID)
		}
		r.mu.Unlock()
		cancel(nil)
	}
}

// cancelLocal stops the run of an execution in this process, if any; with
// claim > 0, only the run of that claim.
func (r *Runner) cancelLocal(id int64, claim int, cause error) {
	r.mu.Lock()
	run := r.inflight[id]
	r.mu.Unlock()
	if run != nil && (claim == 0 || run.claim == claim) {
		run.cancel(cause)
	}
}

func (r *Runner) runOne(e *Execution) {
	ctx, done := r.track(e)
	ok := r.guarded(ctx, e)
	// No longer in flight once its outcome is decided: the write below may
	// make it due again at once (a wait already over), and the claim that
	// follows must not take it for a run still going on here.
	done()
	if ok {
		r.store(ctx, []*Execution{e})
	}
}

func (r *Runner) runBatch(es []*Execution) {
	// Tracked together from the start: the ones still to run are renewed
	// and protected like the one running.
	ctxs, dones := make([]context.Context, len(es)), make([]func(), len(es))
	for i, e := range es {
		ctxs[i], dones[i] = r.track(e)
	}
	out := es[:0:0]
	for i, e := range es {
		if r.guarded(ctxs[i], e) {
			out = append(out, e)
		}
		dones[i]()
	}
	if len(out) > 0 {
		r.store(r.hardCtx, out)
	}
}

// guarded runs execute, turning a panic of a node (a bug) into an error
// outcome of its execution rather than a crash of the process, which would
// run it again at every start.
func (r *Runner) guarded(ctx context.Context, e *Execution) (store bool) {
	defer func() {
		if p := recover(); p != nil {
			r.svc.log.Error("execution panicked", "workflow_id", e.WorkflowID, "execution_id", e.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			e.Status, e.Error, e.FinishedAt, e.DueAt = StatusError, "internal error", r.svc.now(), time.Time{}
			store = true
		}
	}()
	return r.svc.execute(ctx, e, r.cfg.Lease)
}

// store writes the outcome of runs. A run whose execution was cancelled
// meanwhile has its jobs recorded, its status staying aborted.
func (r *Runner) store(ctx context.Context, es []*Execution) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	out, err := r.svc.executions.UpdateExecutions(wctx, r.svc.owner, time.Now().Add(r.cfg.Lease), es)
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
// lease, and stops the runs whose lease it no longer holds, or which an
// admin cancelled. When renewals fail for a whole lease, every run is
// stopped: another owner may have taken them over, and a run past its lease
// must not act.
func (r *Runner) renewLoop() {
	defer r.renewWG.Done()
	t := time.NewTicker(r.cfg.Lease / 3)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-r.hardCtx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		leases := make([]Lease, 0, len(r.inflight))
		for id, run := range r.inflight {
			leases = append(leases, Lease{ID: id, Claim: run.claim})
		}
		r.mu.Unlock()
		if len(leases) == 0 {
			lastOK = time.Now()
			continue
		}
		res, err := r.svc.executions.RenewLeases(r.hardCtx, r.svc.owner, leases, time.Now().Add(r.cfg.Lease))
		if err != nil {
			r.report(err)
			if time.Since(lastOK) >= r.cfg.Lease {
				r.svc.log.Error("leases not renewed for a whole lease: stopping the runs in flight", "count", len(leases))
				for _, l := range leases {
					r.cancelLocal(l.ID, l.Claim, errLeaseLost)
				}
			}
			continue
		}
		lastOK = time.Now()
		claims := make(map[int64]int, len(leases))
		for _, l := range leases {
			claims[l.ID] = l.Claim
		}
		for _, id := range res.Cancelled {
			r.cancelLocal(id, claims[id], errCancelled)
		}
		for _, id := range res.Lost {
			r.cancelLocal(id, claims[id], errLeaseLost)
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
// the run was cut short by the runner's shutdown or a lost lease (it
// resumes from its last checkpoint, here after a restart or elsewhere), nor
// when a checkpoint found the execution cancelled (its jobs are stored
// already), nor when its flow cannot be read right now (the store failed:
// the lease lapses and it runs again).
func (s *Service) execute(ctx context.Context, e *Execution, lease time.Duration) bool {
	if e.StartedAt.IsZero() {
		e.StartedAt = s.now()
	}
	fail := func(msg string) bool {
		e.Status, e.Error, e.FinishedAt, e.DueAt = StatusError, msg, s.now(), time.Time{}
		return true
	}
	switch {
	case e.LoadErr != nil:
		s.log.Error("stored execution cannot be read", "workflow_id", e.WorkflowID, "execution_id", e.ID, "error", e.LoadErr)
		return fail("the stored execution cannot be read")
	case e.Attempts > maxRuns:
		s.log.Error("execution given up", "workflow_id", e.WorkflowID, "execution_id", e.ID, "runs", e.Attempts)
		return fail("given up after " + itoa(maxRuns) + " runs")
	}
	rf, err := s.flowFor(ctx, e.WorkflowID, e.Revision)
	if err != nil {
		switch ErrorCode(err) {
		case ENOTFOUND, EINVALID:
			if ErrorCode(err) == EINVALID {
				s.log.Error("stored workflow revision does not compile", "workflow_id", e.WorkflowID, "revision", e.Revision, "execution_id", e.ID, "error", err)
			}
			return fail("workflow revision cannot run")
		}
		if context.Cause(ctx) == nil {
			s.log.Error("load workflow revision", "workflow_id", e.WorkflowID, "revision", e.Revision, "execution_id", e.ID, "error", err)
		}
		return false
	}
	sc := s.scope(rf.wf, e)
	sc.Env = s.env
	stored := false
	// In the background nobody waits for a reply: the workflow's timeout
	// bounds each node rather than the whole run (a request node's call is
	// bounded by its own timeout), and waits do not count.
	res := rf.flow.RunFrom(ctx, sc, RunOptions{Prior: e.Jobs, NodeTimeout: rf.wf.Doc.Timeout(), Checkpoint: func(jobs []Job) error {
		e.Jobs, e.Status = jobs, StatusRunning
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		defer cancel()
		out, err := s.executions.UpdateExecutions(wctx, s.owner, time.Now().Add(lease), []*Execution{e})
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
	s.logPanic(&res, e)
	if res.Stopped != nil {
		if !stored && !errors.Is(res.Stopped, errCancelled) && !errors.Is(res.Stopped, errLeaseLost) {
			s.log.Error("store execution progress", "workflow_id", e.WorkflowID, "execution_id", e.ID, "error", res.Stopped)
		}
		return false
	}
	if res.Status == StatusAborted {
		switch context.Cause(ctx) {
		case errShutdown, errLeaseLost:
			// Cut short, not finished: it resumes elsewhere, or after the
			// restart, from the last checkpoint.
			return false
		}
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
