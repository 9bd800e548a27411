package engine

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// RunnerConfig tunes the runner.
type RunnerConfig struct {
	// Workers is the number of claim-run-finish loops (default GOMAXPROCS).
	Workers int
	// Batch is how many executions a loop claims at once (default 128).
	Batch int
	// Poll is how often an idle loop looks for work queued by another
	// process (default 1 s); work queued here wakes the loops at once.
	Poll time.Duration
}

// Runner consumes queued async executions: each loop claims a batch with one
// write, runs the flows and stores their outcomes with one more. Executions
// are run at least once: a crash between claim and finish leaves them
// running, and RequeueRunning at the next start queues them again.
type Runner struct {
	svc  *Service
	cfg  RunnerConfig
	stop chan struct{}
	wg   sync.WaitGroup

	hardCtx    context.Context
	hardCancel context.CancelFunc
	once       sync.Once
}

// NewRunner returns a runner for the service's queue; Start starts it.
func (s *Service) NewRunner(cfg RunnerConfig) *Runner {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 128
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.handoff = make(chan *Execution, cfg.Workers*cfg.Batch*2)
	return &Runner{svc: s, cfg: cfg, stop: make(chan struct{}), hardCtx: ctx, hardCancel: cancel}
}

// Recover puts executions left running by a previous process back in the
// queue. Call it once at start-up, before Start.
func (s *Service) Recover(ctx context.Context) (int64, error) {
	n, err := s.executions.RequeueRunning(ctx)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.log.Info("requeued executions left running", "count", n)
	}
	return n, nil
}

// Start starts the worker loops.
func (r *Runner) Start() {
	for i := 0; i < r.cfg.Workers; i++ {
		r.wg.Add(1)
		go r.loop()
	}
	r.svc.notify()
}

// Stop stops claiming work and waits for the batches in flight to finish.
// If ctx ends first, running flows are cancelled and left running in the
// database, to run again at the next start.
func (r *Runner) Stop(ctx context.Context) error {
	r.once.Do(func() { close(r.stop) })
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		r.hardCancel()
		return nil
	case <-ctx.Done():
		r.hardCancel()
		<-done
		return ctx.Err()
	}
}

func (r *Runner) loop() {
	defer r.wg.Done()
	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	batch := make([]*Execution, 0, r.cfg.Batch)
	for {
		select {
		case <-r.stop:
			// Executions handed over are accepted and stored as running:
			// finish them before stopping (the HTTP server stopped first,
			// so no more arrive).
			r.drainHandoff(batch)
			return
		default:
		}
		// Handed-over executions first: they are claimed already.
		if batch = r.takeHandoff(batch[:0], nil); len(batch) > 0 {
			r.report(r.runBatch(batch))
			continue
		}
		claimed, err := r.svc.executions.ClaimExecutions(r.hardCtx, r.cfg.Batch)
		if err != nil {
			r.report(err)
		} else if len(claimed) > 0 {
			r.report(r.runBatch(claimed))
			if len(claimed) == r.cfg.Batch {
				r.svc.notify() // more may be waiting: wake another loop too
			}
			continue
		}
		select {
		case <-r.stop:
		case e := <-r.svc.handoff:
			r.svc.inflight.Add(-1)
			batch = r.takeHandoff(batch[:0], e)
			r.report(r.runBatch(batch))
		case <-r.svc.wake:
		case <-poll.C:
		}
	}
}

// takeHandoff appends first (if any) and whatever else is waiting in the
// handoff channel, up to a batch.
func (r *Runner) takeHandoff(batch []*Execution, first *Execution) []*Execution {
	if first != nil {
		batch = append(batch, first)
	}
	for len(batch) < r.cfg.Batch {
		select {
		case e := <-r.svc.handoff:
			r.svc.inflight.Add(-1)
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

func (r *Runner) drainHandoff(batch []*Execution) {
	for r.hardCtx.Err() == nil {
		if batch = r.takeHandoff(batch[:0], nil); len(batch) == 0 {
			return
		}
		r.report(r.runBatch(batch))
	}
}

func (r *Runner) report(err error) {
	if err != nil && r.hardCtx.Err() == nil {
		r.svc.log.Error("run executions", "error", err)
	}
}

// runBatch runs claimed executions and stores their outcomes in one write.
func (r *Runner) runBatch(batch []*Execution) error {
	ctx := r.hardCtx
	for _, e := range batch {
		r.svc.runAsync(ctx, e)
	}
	if ctx.Err() != nil {
		// Cancelled mid-batch: leave the rows running; they run again
		// after the restart rather than being recorded as aborted.
		return nil
	}
	return r.svc.executions.FinishExecutions(ctx, batch)
}

// runAsync runs one claimed execution and fills in its outcome.
func (s *Service) runAsync(ctx context.Context, e *Execution) {
	e.StartedAt = s.now()
	rf, err := s.flowFor(ctx, e.WorkflowID, e.Revision)
	if err != nil {
		e.Status, e.Error, e.FinishedAt = StatusError, "workflow revision cannot run", s.now()
		if ErrorCode(err) != ENOTFOUND {
			s.log.Error("load workflow revision", "workflow_id", e.WorkflowID, "revision", e.Revision, "execution_id", e.ID, "error", err)
		}
		return
	}
	runCtx, cancel := context.WithTimeout(ctx, rf.wf.Doc.Timeout())
	res := rf.flow.Run(runCtx, s.scope(rf.wf, e))
	cancel()
	e.FinishedAt = s.now()
	e.Status, e.Jobs, e.Error, e.Response = res.Status, res.Jobs, res.Error, res.Response
}
