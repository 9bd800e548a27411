package engine

import (
	"crypto/sha256"
	"strconv"
	"time"
)

// Idempotent receive (product.md §12). A request whose dedupe key this
// workflow received within the window makes no execution: it gets the
// first execution's reply again, and the first execution counts it.
//
// The store holds one row per key and workflow, pointing at the execution
// that received the key first, so that concurrent duplicates, on one
// instance or several, make exactly one execution:
//
//   - async (and sync flows that only compute, Flow.Pure): the key is
//     claimed in the same write as the execution (InsertExecution with
//     Execution.Dedupe); a request that finds the key held stores nothing.
//     A pure sync flow may then have run twice, which changes nothing
//     outside the execution;
//   - sync flows with effects claim the key before they run
//     (ClaimDedupeKey), for the flow's timeout and a margin, so that a
//     crash does not hold the key for the whole window; the window starts
//     once the execution is stored. A duplicate that arrives while the
//     first still runs finds the key but no stored execution: 409 with
//     Retry-After: 1.

// DedupeClaim is a request's dedupe key as the store keeps it.
type DedupeClaim struct {
	WorkflowID int64
	// KeyHash is the stored form of the rendered key (HashDedupeKey).
	KeyHash []byte
	// ExecutionID is the execution that claims the key.
	ExecutionID int64
	// ExpiresAt is when the key may be received again.
	ExpiresAt time.Time
	// Claimed is set when ClaimDedupeKey gave the key to ExecutionID
	// already: InsertExecution then moves its expiry to ExpiresAt.
	Claimed bool
}

// DedupeKeyHashSize is the size of a stored dedupe key, in bytes.
const DedupeKeyHashSize = 16

// HashDedupeKey is the form a rendered dedupe key is stored in: the first
// 128 bits of its SHA-256, bounded whatever a sender puts in the key, and
// short, as the keys' index grows at a random place with every request.
// Two keys of one workflow collide with a chance of about n²/2^129 for n
// keys in the window: none in practice.
func HashDedupeKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:DedupeKeyHashSize]
}

// DedupeHolder is the execution that holds a dedupe key.
type DedupeHolder struct {
	ExecutionID int64
	// Claimed is set when the key was free and is now the claimer's.
	Claimed bool
	// Stored is set when the holder's execution is stored (and counted the
	// duplicate); Status and Response are then its status and stored reply.
	Stored   bool
	Status   ExecStatus
	Response *Response
}

// DuplicateError is what InsertExecution returns when the execution's
// dedupe key is held by another execution: nothing was stored.
type DuplicateError struct {
	Holder DedupeHolder
}

func (e *DuplicateError) Error() string {
	return "duplicate of execution " + strconv.FormatInt(e.Holder.ExecutionID, 10)
}

// DuplicateRunningError answers a sync request whose dedupe key belongs to
// an execution still running (409): the caller should try again shortly,
// and will then get that execution's reply.
type DuplicateRunningError struct {
	// Of is the execution that holds the key.
	Of  int64
	Err *Error
}

func (e *DuplicateRunningError) Error() string { return e.Err.Message }

// Unwrap returns the *Error.
func (e *DuplicateRunningError) Unwrap() error { return e.Err }

// dedupePendingMargin is added to a sync flow's timeout for the time its
// claimed key may stay without a stored execution (the run, then the
// write): past it a crashed run no longer holds the key.
const dedupePendingMargin = 30 * time.Second

// dedupeClaim renders the dedupe key of a request's execution; nil when the
// workflow has none or it renders empty.
func (s *Service) dedupeClaim(lf *liveFlow, e *Execution) *DedupeClaim {
	tr := lf.trust
	if tr.dedupe == nil {
		return nil
	}
	key := tr.dedupe.String(s.scope(lf.wf, e))
	if key == "" {
		return nil
	}
	return &DedupeClaim{WorkflowID: e.WorkflowID, KeyHash: HashDedupeKey(key), ExecutionID: e.ID, ExpiresAt: e.CreatedAt.Add(tr.window)}
}

// duplicateAsync answers an async request that duplicates holder: the
// trigger's reply rendered for this request, as the holder's.
func (s *Service) duplicateAsync(lf *liveFlow, e *Execution, holder DedupeHolder) *TriggerResult {
	e.ID = holder.ExecutionID
	status := holder.Status
	if !holder.Stored {
		status = StatusRunning
	}
	return &TriggerResult{Response: s.asyncReply(lf, e), ExecutionID: holder.ExecutionID, Status: status, DuplicateOf: holder.ExecutionID}
}

// duplicateSync answers a sync request that duplicates holder: the stored
// reply of the holder byte for byte, or 409 while the holder still runs.
func duplicateSync(holder DedupeHolder) (*TriggerResult, error) {
	if !holder.Stored {
		return nil, &DuplicateRunningError{Of: holder.ExecutionID, Err: Errorf(ECONFLICT,
			"a request with the same dedupe key is still running (execution %d); try again in a second", holder.ExecutionID)}
	}
	resp := holder.Response
	if resp == nil {
		// Only an execution of another mode (the workflow was switched)
		// has no stored reply; a sync flow without one answers this.
		resp = DefaultResponse()
	}
	return &TriggerResult{Response: resp, ExecutionID: holder.ExecutionID, Status: holder.Status, DuplicateOf: holder.ExecutionID}, nil
}
