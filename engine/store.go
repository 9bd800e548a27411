package engine

import (
	"context"
	"time"
)

// Workflow is one revision of a workflow as stored.
type Workflow struct {
	ID       int64
	Key      string
	Revision int
	// Stored is the document as stored: compact JSON, extra fields kept,
	// without read-only fields and with every secret blanked (see
	// PrepareDocument).
	Stored []byte
	// Secrets are the document's secrets, kept encrypted at rest by the
	// store.
	Secrets Secrets
	// Doc is Stored with Secrets, decoded.
	Doc       *Document
	CreatedAt time.Time
	UpdatedAt time.Time
}

// WorkflowSummary is a row of the workflows list.
type WorkflowSummary struct {
	ID             int64
	Key            string
	Title          string
	Mode           Mode
	Enabled        bool
	Revision       int
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExecutionCount int64
	// LastStatus and LastAt describe the newest execution ("" when none).
	LastStatus ExecStatus
	LastAt     time.Time
}

// RevisionInfo describes one saved revision.
type RevisionInfo struct {
	Revision  int
	CreatedAt time.Time
}

// WorkflowStore keeps workflows and their immutable revisions.
type WorkflowStore interface {
	// CreateWorkflow stores revision 1 of a new workflow; it sets ID,
	// Revision and the timestamps. Key must be set and unique.
	CreateWorkflow(ctx context.Context, w *Workflow) error
	// UpdateWorkflow stores a new revision of w.ID and sets w.Revision.
	UpdateWorkflow(ctx context.Context, w *Workflow) error
	// DeleteWorkflow deletes a workflow, its revisions and its executions.
	DeleteWorkflow(ctx context.Context, id int64) error
	// GetWorkflow returns the current revision; ENOTFOUND if none.
	GetWorkflow(ctx context.Context, id int64) (*Workflow, error)
	// GetWorkflowByKey returns the current revision by key; ENOTFOUND if none.
	GetWorkflowByKey(ctx context.Context, key string) (*Workflow, error)
	// GetRevision returns one revision of a workflow; ENOTFOUND if none.
	GetRevision(ctx context.Context, id int64, revision int) (*Workflow, error)
	// ListRevisions lists a workflow's revisions, newest first.
	ListRevisions(ctx context.Context, id int64) ([]RevisionInfo, error)
	// ListWorkflows lists every workflow, newest first.
	ListWorkflows(ctx context.Context) ([]WorkflowSummary, error)
	// SetWorkflowEnabled turns a workflow on or off without saving a
	// revision (it is state, not an edit); ENOTFOUND if none. The
	// workflows read afterwards carry the state in Doc.Enabled.
	SetWorkflowEnabled(ctx context.Context, id int64, enabled bool) error
}

// ExecutionFilter selects executions of one workflow, newest first.
type ExecutionFilter struct {
	WorkflowID int64
	Status     ExecStatus // "" for any
	Before     int64      // only ids below this (0: no bound)
	Limit      int
}

// ReplayFilter selects the executions of one workflow that a bulk replay
// copies (§14): by status, and created at or after Since and before Until
// (zero times: no bound).
type ReplayFilter struct {
	WorkflowID int64
	Status     ExecStatus
	Since      time.Time
	Until      time.Time
	Limit      int
}

// Lease names one claim of an execution: its id and its Attempts at the
// claim.
type Lease struct {
	ID    int64
	Claim int
}

// RenewResult is what a renewal found of leases it could not extend.
type RenewResult struct {
	// Cancelled lists executions an admin cancelled while their run held
	// the claim: the run should stop and record its jobs.
	Cancelled []int64
	// Lost lists executions the owner no longer holds (the claim expired
	// and was taken over, or the execution was retried and claimed again).
	Lost []int64
}

// UpdateOutcome is what became of one execution's update.
type UpdateOutcome uint8

const (
	// Updated: the row was written.
	Updated UpdateOutcome = iota
	// Cancelled: an admin cancelled the execution meanwhile; the jobs were
	// recorded, its status stays aborted, and the run must stop.
	Cancelled
	// LeaseLost: another owner holds the execution now (its lease expired
	// and was taken over); nothing was written and the run must stop.
	LeaseLost
)

// ExecutionStore keeps executions. The executions table is also the queue
// of async work: a row that is queued, waiting or running has a due time,
// and whoever claims it when due holds a lease on it (an owner and an
// expiry, renewed while it runs). A lease that expires (its owner died) makes
// the row due again, so that any instance sharing the database takes the
// work over: executions run at least once.
type ExecutionStore interface {
	// InsertExecution stores a new execution and sets its ID. When it
	// returns nil the row is durable. A running execution is stored leased
	// to owner until leaseUntil.
	InsertExecution(ctx context.Context, e *Execution, owner string, leaseUntil time.Time) error
	// ClaimExecutions leases to owner, until leaseUntil, up to limit rows
	// that are due at now: queued, waiting and past their due time, or
	// running with an expired lease. It marks them running, counts the run
	// in Attempts, and returns them with their request, context, jobs and
	// response, oldest due first.
	ClaimExecutions(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*Execution, error)
	// UpdateExecutions stores the progress or outcome of runs leased to
	// owner, in one transaction: status (running, waiting with DueAt, or
	// final), jobs, response, error and times. A run writes only while it
	// holds its claim: the row's lease owner is owner and its Attempts is
	// still the execution's (a fencing token: a stale run of an earlier
	// claim writes nothing). A running row's lease is extended to
	// leaseUntil; other statuses release it. It returns one outcome per
	// execution.
	UpdateExecutions(ctx context.Context, owner string, leaseUntil time.Time, es []*Execution) ([]UpdateOutcome, error)
	// RenewLeases extends owner's leases on the given running executions to
	// leaseUntil. A lease is one claim of an execution: Claim is its
	// Attempts at that claim, so that a run of an earlier claim (the
	// execution was cancelled, retried and claimed again since) holds
	// nothing. It returns the executions whose claim was cancelled by an
	// admin and those it no longer holds at all (taken over, retried).
	RenewLeases(ctx context.Context, owner string, leases []Lease, leaseUntil time.Time) (RenewResult, error)
	// ReleaseLeases puts owner's running executions back in the queue, due
	// at once (for another instance, or this one's next start), and returns
	// how many. Their jobs stay: they resume where they stopped.
	ReleaseLeases(ctx context.Context, owner string) (int64, error)
	// NextDue returns the earliest due time of a queued, waiting or running
	// row, and false when there is none.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// CancelExecution makes a queued, running or waiting execution aborted
	// with the given reason. ENOTFOUND if there is none, ECONFLICT if it has
	// finished.
	CancelExecution(ctx context.Context, id int64, reason string, now time.Time) (*Execution, error)
	// RetryExecution queues a failed, error or aborted execution again, due
	// at now, keeping its jobs. ENOTFOUND if there is none, ECONFLICT for
	// any other status.
	RetryExecution(ctx context.Context, id int64, now time.Time) (*Execution, error)
	// ReplayExecutions stores one new queued execution of revision rev for
	// each execution matching f, oldest first, copying its request and
	// context and setting ReplayOf; newID gives the new ids. It returns how
	// many it stored.
	ReplayExecutions(ctx context.Context, f ReplayFilter, rev int, mode Mode, newID func() int64, now time.Time) (int, error)
	// GetExecution returns one execution with request, context, jobs and
	// the ids of its replays.
	GetExecution(ctx context.Context, id int64) (*Execution, error)
	// ListExecutions lists executions without their request bodies.
	ListExecutions(ctx context.Context, f ExecutionFilter) ([]*Execution, error)

	// Deduplication (§12). InsertExecution of an execution with a Dedupe
	// claim that is not Claimed also claims its key, in the same
	// transaction: when another execution holds the key unexpired at the
	// execution's CreatedAt, nothing is stored, that execution's
	// Duplicates grows by one, and InsertExecution returns a
	// *DuplicateError naming it. With a Claimed claim, InsertExecution sets
	// the key's expiry to the claim's ExpiresAt if the execution still
	// holds it. A key whose expiry is at or before now is free, and so is
	// a key whose execution is gone (its workflow deleted, or pruned).

	// ClaimDedupeKey gives c's key to c.ExecutionID until c.ExpiresAt
	// when no other execution holds it unexpired at now, and says so
	// (Claimed). Otherwise it returns the holder; when the holder's
	// execution is stored, its Duplicates grows by one and its status and
	// reply are returned (Stored).
	ClaimDedupeKey(ctx context.Context, c *DedupeClaim, now time.Time) (DedupeHolder, error)
	// ReleaseDedupeKey frees c's key if c.ExecutionID holds it.
	ReleaseDedupeKey(ctx context.Context, c *DedupeClaim) error

	// The rejection log (§11).

	// InsertRejection records a rejected request and keeps only the
	// newest MaxRejections of its workflow.
	InsertRejection(ctx context.Context, r *Rejection) error
	// ListRejections returns at most limit rejections of a workflow,
	// newest first.
	ListRejections(ctx context.Context, workflowID int64, limit int) ([]Rejection, error)
}

// Execution actions as the stores report them: CancelExecution and
// RetryExecution change a row only in the statuses they allow, then read
// it back.
var (
	cancelAction = executionAction{"cancelled", "only queued, running or waiting executions can be cancelled"}
	retryAction  = executionAction{"retried", "only failed, error or aborted executions can be retried"}
)

type executionAction struct{ verb, rule string }

// CancelOutcome is what a store's CancelExecution returns once it read the
// execution back (e, or the error of reading it): e when the cancel
// changed it, else ECONFLICT saying why not.
func CancelOutcome(e *Execution, changed bool, err error) (*Execution, error) {
	return cancelAction.outcome(e, changed, err)
}

// RetryOutcome is CancelOutcome for RetryExecution.
func RetryOutcome(e *Execution, changed bool, err error) (*Execution, error) {
	return retryAction.outcome(e, changed, err)
}

func (a executionAction) outcome(e *Execution, changed bool, err error) (*Execution, error) {
	if err != nil {
		return nil, err
	}
	if !changed {
		return nil, Errorf(ECONFLICT, "execution %d is %s and cannot be %s: %s", e.ID, e.Status, a.verb, a.rule)
	}
	return e, nil
}
