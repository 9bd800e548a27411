package engine

import (
	"context"
	"time"
)

// MaxBulkReplay is how many executions one bulk replay copies at most (§14).
const MaxBulkReplay = 10000

// CancelReason is the error recorded on an execution an admin cancelled.
const CancelReason = "cancelled by an admin"

// CancelExecution makes a queued, running or waiting execution aborted
// (§14). A run in flight in this process stops at once; one in another
// process stops when it next renews its lease or stores its progress.
// Errors: ENOTFOUND, ECONFLICT when it has finished.
func (s *Service) CancelExecution(ctx context.Context, id int64) (*Execution, error) {
	e, err := s.executions.CancelExecution(ctx, id, CancelReason, s.now())
	if err != nil {
		return nil, err
	}
	if s.runner != nil {
		s.runner.cancelLocal(id, 0, errCancelled)
	}
	s.finished(e)
	s.log.Info("execution cancelled", "execution_id", id, "workflow_id", e.WorkflowID)
	return e, nil
}

// RetryExecution makes a failed, error or aborted execution go on from the
// node that stopped it, with the same revision: the jobs before it are kept
// as they were, and that node runs again (a request node keeps its
// Idempotency-Key and adds to its attempts). Errors: ENOTFOUND, ECONFLICT
// for an execution in another status.
func (s *Service) RetryExecution(ctx context.Context, id int64) (*Execution, error) {
	e, err := s.executions.RetryExecution(ctx, id, s.now())
	if err != nil {
		return nil, err
	}
	s.notify()
	return e, nil
}

// ReplayExecution runs the workflow's current revision again on the request
// of execution id, as a new queued execution that points back to it
// (ReplayOf). Authentication, verification and deduplication are not
// applied: the request was accepted once already.
func (s *Service) ReplayExecution(ctx context.Context, id int64) (*Execution, error) {
	orig, err := s.executions.GetExecution(ctx, id)
	if err != nil {
		return nil, err
	}
	w, err := s.workflows.GetWorkflow(ctx, orig.WorkflowID)
	if err != nil {
		return nil, err
	}
	e := &Execution{
		ID: s.ids.Next(), WorkflowID: w.ID, Revision: w.Revision, Mode: w.Doc.Mode, Status: StatusQueued,
		Request: orig.Request, Context: orig.Context, ReplayOf: orig.ID, CreatedAt: s.now(),
	}
	if err := s.executions.InsertExecution(ctx, e, "", time.Time{}); err != nil {
		return nil, err
	}
	s.notify()
	return e, nil
}

// ReplayExecutions replays every execution of a workflow that matches f,
// at most MaxBulkReplay, oldest first, and returns how many it queued.
func (s *Service) ReplayExecutions(ctx context.Context, f ReplayFilter) (int, error) {
	if f.Status != "" && !f.Status.Valid() {
		return 0, Errorf(EINVALID, "status: unknown status %q", f.Status)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return 0, Errorf(EINVALID, "since: must be before until")
	}
	w, err := s.workflows.GetWorkflow(ctx, f.WorkflowID)
	if err != nil {
		return 0, err
	}
	f.Limit = MaxBulkReplay
	n, err := s.executions.ReplayExecutions(ctx, f, w.Revision, w.Doc.Mode, s.ids.Next, s.now())
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.notify()
		s.log.Info("executions replayed", "workflow_id", w.ID, "count", n)
	}
	return n, nil
}
