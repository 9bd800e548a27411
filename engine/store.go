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
	// without read-only fields and without the Basic Auth password.
	Stored []byte
	// Secret is the Basic Auth password, kept encrypted at rest by the store.
	Secret string
	// Doc is Stored with Secret, decoded.
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

// ExecutionStore keeps executions. The executions table is also the queue
// of async work.
type ExecutionStore interface {
	// InsertExecution stores a new execution and sets its ID. When it
	// returns nil the row is durable.
	InsertExecution(ctx context.Context, e *Execution) error
	// ClaimExecutions marks up to limit queued executions running and
	// returns them, oldest first.
	ClaimExecutions(ctx context.Context, limit int) ([]*Execution, error)
	// FinishExecutions stores the outcome of runs (status, jobs, response,
	// error, times) in one transaction.
	FinishExecutions(ctx context.Context, es []*Execution) error
	// RequeueRunning puts executions left running by a dead process back in
	// the queue and returns how many.
	RequeueRunning(ctx context.Context) (int64, error)
	// GetExecution returns one execution with request, context and jobs.
	GetExecution(ctx context.Context, id int64) (*Execution, error)
	// ListExecutions lists executions without their request bodies.
	ListExecutions(ctx context.Context, f ExecutionFilter) ([]*Execution, error)
}
