package engine

import (
	"context"
	"time"
)

// Observer receives what the engine measures, for the metrics of
// product.md §15. engine/metrics implements it with Prometheus; without one
// (Service.UseObserver never called) nothing is measured.
//
// Its methods run on the hot path of every webhook request: they must be
// cheap (no lookup by label values per call where a handle can be kept),
// safe for concurrent use, and never block.
//
// Test runs (product.md §17) are never counted: they must not go through
// Service.finished, and they run with a RunEnv whose Observer is nil.
type Observer interface {
	// Webhook returns the recorder of one workflow's webhook requests. The
	// service asks once per compiled flow and keeps the recorder beside
	// it, so that a request costs no lookup. workflowID 0 (and mode "")
	// stands for requests that match no workflow.
	Webhook(workflowID int64, mode Mode) WebhookRecorder
	// WorkflowDeleted drops the series of a deleted workflow.
	WorkflowDeleted(workflowID int64)
	// Rejected counts a webhook request refused before it became an
	// execution, by reason (rejection.go: the same place records it in the
	// workflow's rejection log).
	Rejected(reason RejectReason)
	// ExecutionFinished counts an execution that reached a final status.
	ExecutionFinished(status ExecStatus)
	// OutboundRequest records one attempt of a request node: the status of
	// the reply, or 0 and the Outbound* failure kind when none came, and
	// how long it took.
	OutboundRequest(status int, failure string, d time.Duration)
	// OutboundRetry counts a failed attempt that will be tried again.
	OutboundRetry()
}

// WebhookRecorder records the webhook requests of one workflow.
type WebhookRecorder interface {
	// Done records a request answered with status after d (d 0: not
	// measured, as for a request refused before it was read).
	Done(status int, d time.Duration)
}

// StoreObserver receives what a store measures: the group commit and
// retention.
type StoreObserver interface {
	// Committed records one write transaction: how many write operations
	// shared it, how long the transaction took, and its error (nil when it
	// committed).
	Committed(ops int, d time.Duration, err error)
	// Pruned counts executions deleted by retention.
	Pruned(n int64)
}

// PendingCounts are the executions not finished yet, by status.
type PendingCounts struct {
	Queued, Running, Waiting int64
}

// PendingCounter counts the pending executions, for the queue gauges; it
// is called at every scrape.
type PendingCounter interface {
	CountPending(ctx context.Context) (PendingCounts, error)
}

// nopObserver measures nothing.
type nopObserver struct{}

func (nopObserver) Webhook(int64, Mode) WebhookRecorder        { return nopRecorder{} }
func (nopObserver) WorkflowDeleted(int64)                      {}
func (nopObserver) Rejected(RejectReason)                      {}
func (nopObserver) ExecutionFinished(ExecStatus)               {}
func (nopObserver) OutboundRequest(int, string, time.Duration) {}
func (nopObserver) OutboundRetry()                             {}

type nopRecorder struct{}

func (nopRecorder) Done(int, time.Duration) {}

// UseObserver sets where the service reports its measurements. Call it
// before serving requests.
func (s *Service) UseObserver(o Observer) {
	if o == nil {
		o = nopObserver{}
	}
	s.obs = o
	s.env.Observer, s.envInline.Observer = o, o
	s.unknownRec = o.Webhook(0, "")
}

// WebhookRecorder returns the recorder of the workflow with key, for a
// request that ended before Trigger returned a result (an error): the one
// of its compiled flow when it is in the cache, else the recorder of
// requests that match no workflow. It costs a map lookup: the path of a
// refused request, not of an accepted one.
func (s *Service) WebhookRecorder(key string) WebhookRecorder {
	s.mu.RLock()
	lf := s.cache[key]
	s.mu.RUnlock()
	if lf != nil {
		return lf.rec
	}
	return s.unknownRec
}

// finished counts executions that reached a final status: the one place
// where they are counted. A test run (§17) must not come through here.
func (s *Service) finished(e *Execution) {
	if e.Status.Final() {
		s.obs.ExecutionFinished(e.Status)
	}
}

// observe returns the observer of a run's environment; test runs (§17)
// are not counted, whatever their environment holds.
func (env *RunEnv) observe() Observer {
	if env == nil || env.Observer == nil || env.Test {
		return nopObserver{}
	}
	return env.Observer
}
